#!/usr/bin/env bash
# Writes .cache/scale-models/*: random-weight checkpoints with Qwen3-0.6B's, Llama-3.2-1B's and
# GPT-2 medium's configurations, initialised by transformers itself (for `npm run bench:scale`).
# Uses the virtualenv scripts/make-reference-models.sh makes (torch, transformers; CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/reference-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, transformers' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch transformers tokenizers safetensors numpy
fi
"$venv/bin/python" scripts/make-scale-models.py "$@"
