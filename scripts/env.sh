# Sourced by every script: where the toolchain, the local cluster and the Pulumi
# state live, and the settings that keep Pulumi offline. Nothing here is needed
# from the user; a laptop with its own pulumi/helm/kubeconfig can skip it.
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN_DIR="${ISTIO_MESH_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/istio-mesh-toolchain}"
TOOLCHAIN_BIN="$TOOLCHAIN_DIR/bin"
# The local cluster's state (certificates, etcd data, logs, pids, kubeconfig).
CLUSTER_DIR="${ISTIO_MESH_CLUSTER_DIR:-$PROJECT_DIR/.cluster}"
export PATH="$TOOLCHAIN_BIN:$PATH"
export PULUMI_HOME="${PULUMI_HOME:-$TOOLCHAIN_DIR/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
# A file backend inside the project (git-ignored) unless the user picked one.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PROJECT_DIR/.pulumi-state}"
# Local stacks are encrypted with a passphrase; the empty one is accepted and is
# what the local stack uses. Set PULUMI_CONFIG_PASSPHRASE for real environments.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p "$PROJECT_DIR/.pulumi-state"

# What `npm run up` and `npm run bench` need before they touch the cluster: the
# npm packages, the toolchain (seconds when cached) and a running local cluster.
prepare_local_cluster() {
  # npm ci builds the program (prepare); a later build catches up with edits.
  (cd "$PROJECT_DIR" && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run --silent build)
  bash "$PROJECT_DIR/scripts/toolchain.sh"
  bash "$PROJECT_DIR/scripts/cluster.sh" up >/dev/null
}
