#!/usr/bin/env bash
# `npm start`: install, fetch and convert the default model, build, and serve QKViz.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure.sh
ensure_node_modules
ensure_setup
build_app
say "QKViz is starting on http://localhost:${PORT:-3000}"
exec npx next start -p "${PORT:-3000}"
