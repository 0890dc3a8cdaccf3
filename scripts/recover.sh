#!/usr/bin/env bash
# Recovery after an interrupted `pulumi up` (killed CI job, lost laptop lid):
#   1. remove the stack's lock, left behind by the dead process (only run this
#      once you are sure no other pulumi process is working on the stack);
#   2. refresh: read every resource back from the cluster and drop operations the
#      dead process had started but not recorded (a half-created object is
#      adopted again by the next apply, which is server-side);
#   3. up: converge on the stack's config.
# Usage: scripts/recover.sh STACK
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"
stack="${1:?usage: scripts/recover.sh STACK}"
use_stack_passphrase "$stack"

pulumi cancel --yes --stack "$stack" || echo "recover: no lock to remove"
pulumi refresh --yes --clear-pending-creates --stack "$stack"
pulumi up --yes --stack "$stack"
