#!/usr/bin/env bash
# Applies the stack: `pulumi up --refresh` with the policy pack enforced (a
# mandatory violation stops it before anything changes), then
# scripts/status.sh checks that every component runs and is ready. --refresh
# reads the live objects first, so an update also takes back hand edits of what
# the stack owns. Writes up-STACK.{txt,events.jsonl,md} in $ISTIO_MESH_CI_OUT
# (default artifacts/ci) and appends the summary to the GitHub job summary.
# Exit status: pulumi's, or status.sh's (1: not ready); 2 when the script cannot
# run (no stack, no passphrase, no policy pack).
#
# Usage: scripts/ci/up.sh STACK
set -uo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
stack="${1:-}"
ci_gated "$stack"

ci_pulumi up "$stack" up --yes --refresh --policy-pack "$CI_POLICY_PACK"
code=$?
read -r changes violations errors <<<"$(ci_summarize up "$stack" "$code")"
echo "up of $stack: $changes resources changed, $violations policy violations, $errors errors (pulumi exit $code); $CI_OUT/up-$stack.{txt,md}"
if [[ $code -ne 0 ]]; then
  tail -n 30 "$CI_OUT/up-$stack.txt" >&2
  exit "$code"
fi
bash "$PROJECT_DIR/scripts/status.sh" --stack "$stack"
