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
# `npm run cluster:down` deletes the cluster; the stack's state still describes the
# objects it had. When the cluster is not the one the stack was last brought up on
# (its kube-system namespace has another uid), the up reads the cluster first
# (--refresh), so it re-creates what is gone instead of failing on objects that are
# not there. On the cluster it knows, it skips that read.
cluster_uid="$(kubectl --kubeconfig "$CLUSTER_DIR/kubeconfig" get namespace kube-system -o jsonpath='{.metadata.uid}')"
known_cluster="$PROJECT_DIR/.pulumi-state/local-stack-cluster-uid"
refresh=()
if [[ "$(cat "$known_cluster" 2>/dev/null)" != "$cluster_uid" ]]; then refresh=(--refresh); fi
pulumi up --stack local --yes "${refresh[@]}" "$@"
echo "$cluster_uid" >"$known_cluster"
bash "$here/status.sh" --stack local
