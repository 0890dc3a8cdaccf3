#!/usr/bin/env bash
# What `up.sh STACK` would do, for review: `pulumi preview --refresh --diff` of
# the stack with the policy pack enforced. Writes, in $ISTIO_MESH_CI_OUT
# (default artifacts/ci):
#   preview-STACK.txt           the full text diff (the artifact a reviewer reads)
#   preview-STACK.events.jsonl  the engine's events
#   preview-STACK.md            a markdown summary: planned changes per resource,
#                               policy violations, errors (the PR comment)
# Exit status: pulumi's (non-zero on an error or a mandatory policy violation),
# 2 when the script cannot run (no stack, no passphrase, no policy pack).
# --refresh reads the live objects first (kept in memory, the state is not
# written), so the diff is what an update would change in the cluster, hand
# edits included.
#
# Usage: scripts/ci/preview.sh STACK
set -uo pipefail
# shellcheck source=scripts/ci/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
stack="${1:-}"
ci_gated "$stack"

ci_pulumi preview "$stack" preview --refresh --policy-pack "$CI_POLICY_PACK"
code=$?
read -r changes violations errors <<<"$(ci_summarize preview "$stack" "$code")"
echo "preview of $stack: $changes resources to change, $violations policy violations, $errors errors (pulumi exit $code); $CI_OUT/preview-$stack.{txt,md}"
exit "$code"
