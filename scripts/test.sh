#!/usr/bin/env bash
# `npm test`: every QKViz test from a fresh machine. Installs what is missing (npm packages,
# Chromium, the default model), type-checks, builds, runs the unit tests (vitest) and the
# end-to-end tests (vitest + Chromium), and ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure.sh

passed=0
failed=0
mkdir -p test-results

finish() {
  echo
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0 || exit 1
}

# A stage that cannot run counts as one failure, so the summary never reads all-green.
stage() {
  local name=$1; shift
  say "$name"
  if ! "$@"; then
    say "FAILED: $name"
    failed=$((failed + 1))
    return 1
  fi
}

stage "npm packages" ensure_node_modules || finish
stage "chromium" ensure_chromium
stage "numpy" ensure_numpy
stage "model and assets setup" ensure_setup || finish
stage "type-check (tsc --noEmit)" npx tsc --noEmit -p . && passed=$((passed + 1))
# lib/ runs in Node and in workers: compiled without the DOM library, a DOM use there fails
# (lib/browser, the IndexedDB and Origin Private File System stores, is the one folder that needs it).
stage "type-check lib/ without the DOM (tsconfig.lib.json)" npx tsc --noEmit -p tsconfig.lib.json && passed=$((passed + 1))
# The floors of lib/ (each imports only those below; protocol/ is the roof), no import circles,
# no React folder in workers (.dependency-cruiser.cjs).
stage "dependency rules (depcruise)" npm run --silent deps && passed=$((passed + 1))
stage "formatting (prettier --check)" npx prettier --check --log-level warn . && passed=$((passed + 1))
# The notebook widget ships built (python/qkviz/static, so pip install ./python needs no npm): it must
# be the build of the code in this checkout (run npm run build:widget after changing components/ or lib/).
stage "notebook widget built from this code (widget/build.mjs --check)" node widget/build.mjs --check && passed=$((passed + 1))

# Adds a vitest JSON report's counts to the totals; a missing report is one failure.
count() {
  local report=$1
  if [ ! -s "$report" ]; then
    failed=$((failed + 1))
    return
  fi
  # A file that fails outside any test (import error, failing beforeAll) counts once;
  # failing tests are not counted again through their files and describe blocks.
  read -r p f < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, Math.max(r.numFailedTests, r.numFailedTestSuites > 0 ? 1 : 0))' "$PWD/$report")
  passed=$((passed + p))
  failed=$((failed + f))
}

# Adds a unittest log's counts ("Ran N tests", then "OK" or "FAILED (failures=F, errors=E)").
count_unittest() {
  local ran bad
  ran=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\}.*/\1/p' "$1" | tail -1)
  if [ -z "$ran" ]; then
    failed=$((failed + 1))
    return
  fi
  bad=0
  for n in $(sed -n 's/^FAILED (\(.*\))/\1/p' "$1" | grep -o '[0-9]\+'); do bad=$((bad + n)); done
  passed=$((passed + ran - bad))
  failed=$((failed + bad))
}

say "unit tests (vitest)"
rm -f test-results/unit.json test-results/e2e.json
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/unit.json
count test-results/unit.json

# The Python package (python/, pip install ./python into a venv of its own) against the page's readers.
say "python tests (unittest, qkviz installed with pip)"
if ensure_python_package; then
  .cache/python-venv/bin/python -m unittest discover -s tests/python 2>&1 | tee test-results/python.log
  count_unittest test-results/python.log
else
  failed=$((failed + 1))
fi

if stage "build" build_app; then
  say "end-to-end tests (vitest + Chromium)"
  npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json=test-results/e2e.json
  count test-results/e2e.json
fi
finish
