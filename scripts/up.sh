#!/usr/bin/env bash
# The main job on a fresh machine: install the npm packages, build (or reuse) the
# toolchain, start the local cluster, and bring the `local` stack up on it, then
# verify the installation. Re-running it converges and changes nothing.
#
# Usage: scripts/up.sh [extra pulumi up flags]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"

use_stack_passphrase local
prepare_local_cluster local
pulumi stack select local --create >/dev/null
pulumi up --stack local --yes "$@"
bash "$here/status.sh" --stack local
