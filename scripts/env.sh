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

# stack_declares_local STACK: the stack file Pulumi.STACK.yaml declares the stack
# local (`istio-mesh:environment: local`, as `pulumi config set` writes it), which
# only the local cluster's stacks do. Nothing else counts: not the stack's name.
stack_declares_local() {
  local file="$PROJECT_DIR/Pulumi.$1.yaml"
  [[ -f "$file" ]] && grep -Eq '^  istio-mesh:environment: *("local"|'"'"'local'"'"'|local) *(#.*)?$' "$file"
}

# use_stack_passphrase STACK: a stack that declares itself local (stack_declares_local)
# is encrypted with the empty passphrase. Any other stack must bring its own
# passphrase (or use another secrets provider): a script must never encrypt a real
# environment's secrets, such as the Grafana password, with an empty one. Returns
# non-zero, with the fix, when that is missing.
use_stack_passphrase() {
  local stack="$1" file="$PROJECT_DIR/Pulumi.$1.yaml"
  [[ -n "${PULUMI_CONFIG_PASSPHRASE+set}" || -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]] && return 0
  if stack_declares_local "$stack"; then
    export PULUMI_CONFIG_PASSPHRASE=""
    return 0
  fi
  # A stack with a KMS or vault secrets provider needs no passphrase.
  if [[ -f "$file" ]] && grep -Eq '^secretsprovider: *[a-z]' "$file" && ! grep -Eq '^secretsprovider: *passphrase' "$file"; then
    return 0
  fi
  echo "istio-mesh: stack $stack: no secrets passphrase; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or give the stack a secrets provider (pulumi stack change-secrets-provider). Only stacks whose Pulumi.$stack.yaml declares istio-mesh:environment: local use the empty passphrase." >&2
  return 1
}

# use_local_passphrase: for scripts that create only stacks they declare local
# themselves, before those stacks (or their files) exist: the test suites (their
# harness writes istio-mesh:environment: local into every stack it creates) and the
# benchmarks (their stacks copy Pulumi.local.yaml). The empty passphrase, unless
# one is set.
use_local_passphrase() {
  [[ -n "${PULUMI_CONFIG_PASSPHRASE+set}" || -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]] && return 0
  export PULUMI_CONFIG_PASSPHRASE=""
}
mkdir -p "$PROJECT_DIR/.pulumi-state"

# Release data (charts, addon manifests): a mirror of the official locations beside
# the project, as on the machines without network this is built on, is used when it
# is there. Set ISTIO_MESH_RELEASE_MIRROR yourself to name another one, or to the
# empty string to download from the official locations even so.
if [[ -z "${ISTIO_MESH_RELEASE_MIRROR+set}" && -d "$PROJECT_DIR/../shared/istio" ]]; then
  ISTIO_MESH_RELEASE_MIRROR="$(cd "$PROJECT_DIR/../shared" && pwd)"
  export ISTIO_MESH_RELEASE_MIRROR
fi

# build_program: the npm packages and the program built ahead of time. npm ci
# builds the program (prepare); a later build catches up with edits.
build_program() {
  (cd "$PROJECT_DIR" && { [[ -d node_modules ]] || npm ci --no-audit --no-fund; } && npm run --silent build)
}

# What `npm run up` and `npm run bench` need before they touch the cluster: the
# npm packages, the toolchain (seconds when cached) and a running local cluster.
# With a stack name, its release data (charts, addon manifests) is made local right
# after the build: a failed download stops the script in seconds, before a toolchain
# build or a cluster start.
prepare_local_cluster() {
  build_program
  if [[ -n "${1:-}" ]]; then node "$PROJECT_DIR/bin/scripts/release-data.js" "$1" || return 1; fi
  bash "$PROJECT_DIR/scripts/toolchain.sh" up
  bash "$PROJECT_DIR/scripts/cluster.sh" up >/dev/null
}
