#!/usr/bin/env bash
# Writes .cache/scale-models/*: random-weight checkpoints with Qwen3-0.6B's, Llama-3.2-1B's and
# GPT-2 medium's configurations, initialised by transformers itself (for `npm run bench:scale`).
# Uses the virtualenv scripts/make-reference-models.sh makes (torch, transformers; CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reference-venv.sh
"$venv/bin/python" scripts/make-scale-models.py "$@"
