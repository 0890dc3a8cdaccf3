#!/usr/bin/env bash
# The whole test suite: static checks, unit and render tests, then the end-to-end
# tests with the real Pulumi engine on the local cluster. Builds the toolchain if
# needed (seconds when cached) and starts a test cluster of its own if it is not
# running (and stops it again at the end if it started it). Ends with one line
# `N passed, N failed` counting every check and every test.
#
# Usage: scripts/test.sh [--no-cluster]   (--no-cluster: static, unit and render only)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The tests get a cluster of their own, so they never touch the one `npm run up`
# made (nor a stack deployed to it).
export ISTIO_MESH_CLUSTER_DIR="${ISTIO_MESH_TEST_CLUSTER_DIR:-$here/../.cluster-test}"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
# The suites create only stacks they declare local (harness.ts, freshStack): the empty passphrase.
use_local_passphrase
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# The end-to-end tests run the program as users do: built to bin/ (npm ci builds it too).
npm run --silent build

with_cluster=true
[[ "${1:-}" == "--no-cluster" ]] && with_cluster=false

passed=0
failed=0
mkdir -p artifacts

# check NAME COMMAND...: one static check, counted as one test.
check() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@" >"artifacts/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "check $name: passed ($((SECONDS - start))s)"
  else
    failed=$((failed + 1)); echo "check $name: FAILED ($((SECONDS - start))s)"; tail -n 40 "artifacts/$name.log"
  fi
}

check typecheck npx tsc --noEmit
check lint npx eslint .
check format npx prettier --check .
# The CI workflows (.github/workflows): actionlint, built by the toolchain (seconds
# when cached); it also runs shellcheck on their `run:` scripts if one is on PATH.
check actionlint bash -c "bash '$here/toolchain.sh' actionlint >/dev/null && actionlint"

# helm renders the charts in the render tests (a second when cached).
bash "$here/toolchain.sh" helm-kubectl >/dev/null
projects=(--selectProjects unit render)
started_cluster=false
if $with_cluster; then
  if ! bash "$here/toolchain.sh"; then
    echo "toolchain failed: the end-to-end tests cannot run"
    failed=$((failed + 1))
    with_cluster=false
  elif ! bash "$here/cluster.sh" status >/dev/null 2>&1; then
    if bash "$here/cluster.sh" up >/dev/null; then
      started_cluster=true
    else
      echo "the local cluster did not start: the end-to-end tests cannot run"
      failed=$((failed + 1))
      with_cluster=false
    fi
  fi
  $with_cluster && projects+=(e2e)
fi

# One jest run for every suite, one at a time: the e2e tests share one cluster.
npx jest "${projects[@]}" --runInBand --json --outputFile=artifacts/jest.json
counts="$(node -e '
  const r = require("./artifacts/jest.json");
  // A suite that failed to run counts as a failure even though it ran no test.
  console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites);
' 2>/dev/null)" || counts="0 1"
read -r jest_passed jest_failed <<<"$counts"
passed=$((passed + jest_passed))
failed=$((failed + jest_failed))

if $started_cluster; then bash "$here/cluster.sh" down >/dev/null 2>&1; fi
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
