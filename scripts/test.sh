#!/usr/bin/env bash
# The whole test suite: the build, static checks, unit and render tests, then the
# end-to-end tests with the real Pulumi engine on local clusters of their own. Builds
# the toolchain if needed (seconds when cached). Ends with one line
# `N passed, N failed` counting every check and every test, and exits non-zero
# unless every one passed.
#
# A run never reports what it did not see: a failed build stops the run (the
# end-to-end suites would run a stale bin/) and counts as a failure; each jest run
# writes a fresh report (the old one is deleted first), and a run that writes none
# (it crashed, it was killed) or exits non-zero without a failed test in it counts
# as a failure.
#
# The end-to-end suites run in lanes side by side, each lane on a fresh cluster of
# its own (its folder is the lane's ISTIO_MESH_CLUSTER_DIR, and also holds its
# stacks' state), stopped after it. Suites go to lanes by the seconds they took in
# the last run (artifacts/e2e-seconds.json, written by every run), else by the
# figures in test/support/e2e-seconds.json; a suite in neither goes to the shorter
# lane. Each lane's output goes to artifacts/e2e-lane-N.log.
#
# Usage: scripts/test.sh [--no-cluster]   (--no-cluster: build, static, unit and render only)
# Env:   ISTIO_MESH_TEST_LANES        end-to-end lanes side by side (default 2: a lane is mostly
#                                     one busy core, the engine and the API server taking turns)
#        ISTIO_MESH_TEST_CLUSTER_DIR  lane N's cluster is <this>-N (default <project>/.cluster-test)
#        ISTIO_MESH_TEST_ORDER        "reverse": each lane runs its suites shortest first instead of
#                                     longest first (with ISTIO_MESH_TEST_LANES=1: every suite, in
#                                     the reverse of the one-lane order), to show that order does not matter
#        ISTIO_MESH_TEST_KEEP_CLUSTERS=1  leave the lanes' clusters running, for inspection
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
# The suites create only stacks they declare local (harness.ts, freshStack): the empty passphrase.
use_local_passphrase
[[ -d node_modules ]] || npm ci --no-audit --no-fund

with_cluster=true
[[ "${1:-}" == "--no-cluster" ]] && with_cluster=false
lanes="${ISTIO_MESH_TEST_LANES:-2}"
[[ "$lanes" =~ ^[1-9][0-9]?$ ]] || { echo "ISTIO_MESH_TEST_LANES=$lanes is not a number of lanes from 1 to 99" >&2; exit 2; }
order="${ISTIO_MESH_TEST_ORDER:-}"
[[ -z "$order" || "$order" == reverse ]] || { echo "ISTIO_MESH_TEST_ORDER=$order: only \"reverse\" is known" >&2; exit 2; }
cluster_base="${ISTIO_MESH_TEST_CLUSTER_DIR:-$PROJECT_DIR/.cluster-test}"
# What the e2e harness looks for before it touches a cluster (test/e2e/harness.ts).
marker=e2e-test-cluster

passed=0
failed=0
mkdir -p artifacts

summary() {
  echo "${passed} passed, ${failed} failed"
  [[ $failed -eq 0 ]]
}

# check NAME COMMAND...: one check, counted as one test.
check() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@" >"artifacts/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "check $name: passed ($((SECONDS - start))s)"
    return 0
  fi
  failed=$((failed + 1)); echo "check $name: FAILED ($((SECONDS - start))s)"; tail -n 40 "artifacts/$name.log"
  return 1
}

# The end-to-end tests run the program as users do: built to bin/ (npm ci builds it
# too). tsc writes its output even when it reports errors, so a failed build leaves
# a bin/ that is not the sources: nothing runs on it.
if ! check build npm run --silent build; then
  echo "the build failed: no test runs on a stale bin/"
  summary
  exit 1
fi

check typecheck npx tsc --noEmit
check lint npx eslint .
check format npx prettier --check .
# The CI workflows (.github/workflows): actionlint, built by the toolchain (seconds
# when cached); it also runs shellcheck on their `run:` scripts if one is on PATH.
check actionlint bash -c "bash '$here/toolchain.sh' actionlint >/dev/null && actionlint"

# count_report NAME RC: adds the counts of artifacts/jest-NAME.json, written by a jest
# run that exited RC.
count_report() {
  local name="$1" rc="$2" report="artifacts/jest-$1.json" counts p f
  if [[ ! -s "$report" ]]; then
    echo "jest ($name) exited $rc and wrote no report: counted as a failure"
    failed=$((failed + 1))
    return
  fi
  if ! counts="$(node bin/scripts/test-lanes.js counts "$report")"; then
    echo "jest ($name): $report is not a jest report: counted as a failure"
    failed=$((failed + 1))
    return
  fi
  read -r p f <<<"$counts"
  passed=$((passed + p))
  failed=$((failed + f))
  if [[ "$rc" -ne 0 && "$f" -eq 0 ]]; then
    echo "jest ($name) exited $rc with no failure in its report: counted as a failure"
    failed=$((failed + 1))
  fi
}

# helm renders the charts in the render tests (a second when cached).
bash "$here/toolchain.sh" helm-kubectl >/dev/null
rm -f artifacts/jest-unit.json
npx jest --selectProjects unit render --json --outputFile=artifacts/jest-unit.json
count_report unit $?

if $with_cluster && ! bash "$here/toolchain.sh"; then
  echo "toolchain failed: the end-to-end tests cannot run"
  failed=$((failed + 1))
  with_cluster=false
fi
if ! $with_cluster; then
  summary
  exit
fi

# ---------------------------------------------------------------- end to end

# Lane N's cluster, fresh: whatever an earlier run left goes with the old one.
start_cluster() {
  local dir="$cluster_base-$1"
  ISTIO_MESH_CLUSTER_DIR="$dir" bash "$here/cluster.sh" down >/dev/null 2>&1
  ISTIO_MESH_CLUSTER_DIR="$dir" bash "$here/cluster.sh" up >/dev/null 2>"artifacts/e2e-cluster-$1.log" || return 1
  echo "started by scripts/test.sh for the end-to-end suites, which may change anything in it" >"$dir/$marker"
}

stop_cluster() {
  [[ "${ISTIO_MESH_TEST_KEEP_CLUSTERS:-}" == 1 ]] && return
  ISTIO_MESH_CLUSTER_DIR="$cluster_base-$1" bash "$here/cluster.sh" down >/dev/null 2>&1
}

# run_lane N SUITE...: the lane's suites, one at a time in the given order, on its cluster.
run_lane() {
  local n="$1"; shift
  local IFS=:
  ISTIO_MESH_CLUSTER_DIR="$cluster_base-$n" ISTIO_MESH_SUITE_ORDER="$*" \
    npx jest --selectProjects e2e --runInBand --runTestsByPath "$@" \
    --json --outputFile="artifacts/jest-e2e-$n.json" >"artifacts/e2e-lane-$n.log" 2>&1
}

mapfile -t suites < <(cd "$PROJECT_DIR" && ls test/e2e/*.test.ts)
mapfile -t assignment < <(node bin/scripts/test-lanes.js lanes "$lanes" \
  test/support/e2e-seconds.json artifacts/e2e-seconds.json -- "${suites[@]}")
if [[ ${#assignment[@]} -ne ${#suites[@]} ]]; then
  echo "no lane assignment for the end-to-end suites: counted as a failure"
  failed=$((failed + 1))
  summary
  exit 1
fi
used_lanes=0
declare -A lane_suites=()
for line in "${assignment[@]}"; do
  lane="${line%% *}"
  lane_suites[$lane]+="${line#* } "
  ((lane > used_lanes)) && used_lanes=$lane
done

rm -f artifacts/jest-e2e-*.json artifacts/e2e-lane-*.log
e2e_start=$SECONDS
declare -A pids=() started=()
# One cluster at a time: cluster.sh picks free ports by looking, so two starting at
# once could pick the same. A lane starts its suites as soon as its cluster is up.
for ((n = 1; n <= used_lanes; n++)); do
  read -r -a list <<<"${lane_suites[$n]}"
  [[ "$order" == reverse ]] && mapfile -t list < <(printf '%s\n' "${list[@]}" | tac)
  if ! start_cluster "$n"; then
    echo "lane $n: the local cluster did not start (artifacts/e2e-cluster-$n.log): its suites cannot run: ${list[*]}"
    tail -n 20 "artifacts/e2e-cluster-$n.log"
    failed=$((failed + 1))
    continue
  fi
  started[$n]=1
  echo "lane $n: ${list[*]}"
  run_lane "$n" "${list[@]}" &
  pids[$n]=$!
done

for n in "${!pids[@]}"; do
  wait "${pids[$n]}"
  rc=$?
  echo "lane $n: jest exited $rc ($((SECONDS - e2e_start))s since the lanes started); its output: artifacts/e2e-lane-$n.log"
  grep -E '^(PASS|FAIL) |^Tests:' "artifacts/e2e-lane-$n.log"
  [[ $rc -ne 0 ]] && grep -A 70 '●' "artifacts/e2e-lane-$n.log" | head -n 200
  count_report "e2e-$n" "$rc"
done
for n in "${!started[@]}"; do stop_cluster "$n"; done
echo "end-to-end: $((SECONDS - e2e_start))s in $used_lanes lane(s)"

# The seconds each suite took, for the next run's lanes.
reports=(artifacts/jest-e2e-*.json)
[[ -e "${reports[0]}" ]] && node bin/scripts/test-lanes.js record artifacts/e2e-seconds.json "${reports[@]}"

summary
