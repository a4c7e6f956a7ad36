#!/usr/bin/env bash
# Regenerates the tiny vision checkpoints (ViT, DeiT, DINOv2 with and without registers, CLIP)
# and their references from Hugging Face transformers (float64) and its PIL image processors,
# in tests/fixtures/hub/qkviz-test/. Tests use the committed results and need none of this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/reference-venv.sh
"$venv/bin/python" scripts/make-vision-references.py "$@"
