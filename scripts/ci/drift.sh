#!/usr/bin/env bash
# Drift check: does the cluster still hold what the stack last applied?
# `pulumi preview --refresh --expect-no-changes`: the refresh reads every object
# the stack owns back from the cluster (in memory; the state is not written), and
# the preview then plans what an update would change to bring them back. Any
# planned change is drift: a hand `kubectl scale`, a deleted object, an edited
# label. The policy pack is not run here: its verdict on the config belongs to the
# preview of the change that introduced it, not to a report on the cluster.
# Writes drift-STACK.{txt,events.jsonl,md} in $ISTIO_MESH_CI_OUT (default
# artifacts/ci); the summary names every drifted resource and what differs.
# Exit status: 0 no drift; 1 drift (the resources are named on stderr and in the
# summary); 2 the check itself failed (cluster or state unreachable, bad stack).
#
# Usage: scripts/ci/drift.sh STACK
set -uo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
stack="${1:-}"
ci_stack "$stack"
ci_build || exit 2

ci_pulumi drift "$stack" preview --refresh --expect-no-changes
code=$?
read -r changes _violations errors <<<"$(ci_summarize drift "$stack" "$code")"
if [[ $code -eq 0 ]]; then
  echo "drift check of $stack: no drift"
  exit 0
fi
if [[ $changes -gt 0 ]]; then
  echo "drift check of $stack: DRIFT in $changes resources (details: $CI_OUT/drift-$stack.md):" >&2
  node "$PROJECT_DIR/bin/scripts/ci/summarize.js" --list-changes --events "$CI_OUT/drift-$stack.events.jsonl" >&2
  exit 1
fi
echo "drift check of $stack: the check failed ($errors errors, pulumi exit $code); last lines of $CI_OUT/drift-$stack.txt:" >&2
tail -n 30 "$CI_OUT/drift-$stack.txt" >&2
exit 2
