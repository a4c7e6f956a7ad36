# Shared by scripts/start.sh and scripts/test.sh: bring a fresh machine to the state the
# app and the tests need. Every step is idempotent and skipped when already done.

export NEXT_TELEMETRY_DISABLED=1
export ONNXRUNTIME_NODE_INSTALL=skip

say() { printf '\033[1m[qkviz]\033[0m %s\n' "$*"; }

ensure_node_modules() {
  local want have=""
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  [ -f node_modules/.qkviz-lock-sha ] && have=$(cat node_modules/.qkviz-lock-sha)
  if [ "$want" != "$have" ]; then
    say "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund || return 1
    echo "$want" > node_modules/.qkviz-lock-sha
  fi
}

ensure_chromium() {
  local chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
  [ -x "$chromium" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the end-to-end tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || return 1
  else
    say "Chromium not found at $chromium: install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH"
    return 1
  fi
}

# The CLI tests read its .npy files with numpy.
ensure_numpy() {
  python3 -c 'import numpy' 2>/dev/null && return 0
  say "installing numpy for the CLI tests (pip)"
  python3 -m pip install --quiet --disable-pip-version-check numpy
}

# A virtualenv with the Python package installed the way a user installs it (pip install ./python),
# with every extra the Python tests exercise: torch + transformers and TransformerLens (the capture
# adapters), Ray + onnxruntime (runs past one machine), anywidget + JupyterLab (the notebook widget).
# torch from PyPI is a few GB: the first install takes minutes, later ones only check.
ensure_python_package() {
  if [ ! -x .cache/python-venv/bin/python ]; then
    python3 -m venv .cache/python-venv || return 1
  fi
  say "installing the Python package and its extras into .cache/python-venv (pip)"
  .cache/python-venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps ./python &&
    .cache/python-venv/bin/python -m pip install --quiet --disable-pip-version-check "./python[torch,lens,ray,jupyter,test]"
}

# Converts the default model into public/models/ and self-hosts onnxruntime-web's wasm.
ensure_setup() {
  npm run --silent setup || return 1
}

build_app() {
  say "building the app (next build)"
  npx next build >/tmp/qkviz-build.log 2>&1 || { cat /tmp/qkviz-build.log; return 1; }
  tail -n 12 /tmp/qkviz-build.log
}
