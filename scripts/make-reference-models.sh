#!/usr/bin/env bash
# Regenerates tests/fixtures/hub/qkviz-test/*: tiny random-weight checkpoints of every
# architecture QKViz converts, and reference outputs from Hugging Face transformers (float64).
# Installs torch, transformers and tokenizers into .cache/reference-venv first (CPU; ~6 GB,
# a few minutes). Tests use the committed results and need none of this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reference-venv.sh
"$venv/bin/python" scripts/make-reference-models.py "$@"
