# The virtualenv the reference-model scripts run in (torch, transformers, tokenizers, Pillow for the
# image processors; CPU):
# made once under .cache/reference-venv. Sourced by make-reference-models.sh and make-scale-models.sh.
venv=.cache/reference-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, transformers, tokenizers, PIL' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch transformers tokenizers safetensors numpy pillow
fi
