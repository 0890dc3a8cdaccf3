#!/usr/bin/env bash
# `npm run down`: the reverse of `npm run up`. Destroys the `local` stack on the
# local cluster (the stack's state stays, empty), then stops the cluster: every
# process scripts/cluster.sh started, by the pid it recorded, and its state folder.
# A failed destroy leaves the cluster running, to look at, and exits non-zero;
# without a running cluster there is nothing to destroy on, and only the cluster's
# leftovers are stopped (the stack's state then still lists what that cluster had:
# the next `npm run up` refreshes it against its new cluster).
#
# Usage: scripts/down.sh [extra pulumi destroy flags]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
cd "$PROJECT_DIR"

use_stack_passphrase local
if bash "$here/cluster.sh" status >/dev/null 2>&1; then
  if pulumi stack ls --json 2>/dev/null | grep -q '"name": *"local"'; then
    pulumi destroy --stack local --yes "$@"
  else
    echo "down: no stack local; nothing to destroy"
  fi
else
  echo "down: the local cluster is not running; nothing to destroy on it"
fi
bash "$here/cluster.sh" down
