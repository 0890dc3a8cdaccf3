#!/usr/bin/env bash
# A local Kubernetes control plane with three simulated (KWOK) nodes, for running
# the Pulumi program against a real API server without containers or internet.
#
#   etcd -> kube-apiserver -> kube-controller-manager, kube-scheduler, kwok,
#           local-istiod (the real istiod per istiod Deployment + egress proxy),
#           local-lb (LoadBalancer Services' addresses from a loopback pool)
#
# Every process is started by this script, listens on 127.0.0.1 only, and keeps
# its pid in $CLUSTER_DIR/pids and its output in $CLUSTER_DIR/logs. kwok plays the
# kubelet: it keeps the fake nodes' leases fresh and moves scheduled pods to
# Running/Ready, so Deployments become Available and DaemonSets ready. No
# container ever runs; pod and service IPs are bookkeeping only. istiod is the
# exception: local-istiod (scripts/local-istiod.ts) runs the real pilot-discovery
# on loopback for every istiod Deployment, and the API server reaches its webhooks
# through local-istiod's egress proxy, which forwards only to those processes.
#
# Usage: scripts/cluster.sh up|down|status
# Env:   ISTIO_MESH_CLUSTER_DIR   state folder (default <project>/.cluster)
#        ISTIO_MESH_CLUSTER_PORT  API server port (default: 6443, or the next free one)
#        ISTIO_MESH_CLUSTER_NODES number of simulated nodes (default 3)
#        ISTIO_MESH_CLUSTER_STANDINS which injected pods get a proxy stand-in
#                                 (docs/proxy-standin.md): annotated (default:
#                                 those annotated istio-mesh.dev/proxy-standin: "true"),
#                                 all, or off
# Needs: scripts/toolchain.sh etcd kube kwok (binaries), kubectl, openssl.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/env.sh
source "$here/env.sh"
# Absolute, because it ends up in command lines (see is_ours) and kubeconfigs.
CLUSTER_DIR="$(realpath -m "$CLUSTER_DIR")"

PKI="$CLUSTER_DIR/pki"
KUBECONFIG_FILE="$CLUSTER_DIR/kubeconfig"
# A file that marks the folder as ours, so that `down` never deletes a folder
# that ISTIO_MESH_CLUSTER_DIR happens to point at by mistake.
MARKER="$CLUSTER_DIR/.istio-mesh-cluster"
# Start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok local-istiod local-lb)
# Simulated nodes are cheap: the benchmark's scale mode asks for hundreds.
# A running cluster keeps the count it was started with (status, health checks).
NODE_COUNT="${ISTIO_MESH_CLUSTER_NODES:-$(cat "$CLUSTER_DIR/node-count" 2>/dev/null || echo 3)}"
STANDIN_MODE="${ISTIO_MESH_CLUSTER_STANDINS:-$(cat "$CLUSTER_DIR/standin-mode" 2>/dev/null || echo annotated)}"
case "$STANDIN_MODE" in
  annotated | all | off) ;;
  *) echo "cluster: ISTIO_MESH_CLUSTER_STANDINS=$STANDIN_MODE is not a stand-in mode (allowed: annotated, all, off)" >&2; exit 2 ;;
esac
[[ "$NODE_COUNT" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "cluster: ISTIO_MESH_CLUSTER_NODES=$NODE_COUNT is not a node count from 1 to 9999" >&2; exit 2; }
NODES=()
for ((i = 0; i < NODE_COUNT; i++)); do NODES+=("kwok-node-$i"); done
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.244.0.0/16
STAGES_DIR="$TOOLCHAIN_DIR/kwok-stages"

# Messages go to stderr, so that the only stdout of `up` is the kubeconfig path:
#   export KUBECONFIG="$(scripts/cluster.sh up)"
log() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }

kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" --request-timeout=10s "$@"; }

# ---------------------------------------------------------------- processes

pid_of() { cat "$CLUSTER_DIR/pids/$1" 2>/dev/null || true; }

# A recorded pid only counts as ours if that process still exists and its command
# line mentions our state folder (every component gets a path inside it). This
# keeps `down` from signalling an unrelated process that reused the pid.
is_ours() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CLUSTER_DIR/"
}

running() { is_ours "$(pid_of "$1")"; }

# start NAME COMMAND...: runs COMMAND in the background in its own session (so
# that Ctrl-C or the end of the calling shell does not take it down), with no
# terminal attached, logging to logs/NAME.log. The component writes its own pid
# (a shell that records $$ and execs the command): setsid forks when its caller
# leads a process group, and then $! would be setsid's short-lived pid, not the
# component's.
start() {
  local name="$1" i; shift
  rm -f "$CLUSTER_DIR/pids/$name"
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$CLUSTER_DIR/pids/$name" "$@" \
    </dev/null >"$CLUSTER_DIR/logs/$name.log" 2>&1 &
  for ((i = 0; i < 100; i++)); do
    [[ -s "$CLUSTER_DIR/pids/$name" ]] && return 0
    sleep 0.05
  done
  die "$name did not start (no pid after 5s); see $CLUSTER_DIR/logs/$name.log"
}

# stop NAME: TERM, up to 10s grace, then KILL; only for a pid that is still ours.
stop() {
  local name="$1" pid i
  pid="$(pid_of "$name")"
  if is_ours "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      is_ours "$pid" || break
      sleep 0.1
    done
    if is_ours "$pid"; then
      log "$name (pid $pid) ignored TERM for 10s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$CLUSTER_DIR/pids/$name"
}

# wait_until DESCRIPTION SECONDS COMMAND...: polls COMMAND; gives up early, with
# the log of the culprit, as soon as a started component has exited.
wait_until() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout)) c
  until "$@" >/dev/null 2>&1; do
    for c in "${COMPONENTS[@]}"; do
      if [[ -f "$CLUSTER_DIR/pids/$c" ]] && ! running "$c"; then
        echo "cluster: $c exited while waiting for $what; last lines of $CLUSTER_DIR/logs/$c.log:" >&2
        tail -n 20 "$CLUSTER_DIR/logs/$c.log" >&2
        exit 1
      fi
    done
    ((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what (logs in $CLUSTER_DIR/logs)"
    sleep 0.5
  done
}

# --------------------------------------------------------------------- ports

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port FROM: the first port from FROM on that nothing listens on.
free_port() {
  local p="$1"
  until port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

# ---------------------------------------------------------------------- pki

# All of it is throwaway: EC keys because they are instant to generate, except
# the service-account key, which is RSA as most JWT consumers expect RS256.
make_pki() {
  mkdir -p "$PKI"
  local days=3650
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kwok-ca" -days "$days" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$PKI/ca.crt"

  # cert NAME SUBJECT EXTENSIONS: a leaf key and certificate signed by the CA.
  cert() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null
    openssl req -new -key "$PKI/$1.key" -subj "$2" |
      openssl x509 -req -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days "$days" -sha256 -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" \
          "keyUsage=critical,digitalSignature" "$3") -out "$PKI/$1.crt" 2>/dev/null
  }
  # The names clients may use for the API server; 10.96.0.1 is the `kubernetes`
  # Service IP, which in-cluster clients would dial (none does here).
  cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1"
  # system:masters bypasses RBAC: the user's (and kwok's) identity.
  cert admin "/O=system:masters/CN=kwok-admin" "extendedKeyUsage=clientAuth"
  # The identities the built-in RBAC roles are written for.
  cert kube-controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  cert kube-scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"

  # Signs and verifies ServiceAccount tokens.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  chmod 600 "$PKI"/*.key
}

# kubeconfig FILE IDENTITY: credentials embedded, so the file can be copied.
write_kubeconfig() {
  local file="$1" who="$2"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kwok
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $who
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$who.crt")
    client-key-data: $(base64 -w0 "$PKI/$who.key")
contexts:
- name: kwok
  context: {cluster: kwok, user: $who}
current-context: kwok
EOF
  chmod 600 "$file"
}

# -------------------------------------------------------------------- health

nodes_ready() {
  local ready
  ready="$(kc get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}{end}' | grep -c '^True$')" || true
  [[ "$ready" -eq "${#NODES[@]}" ]]
}

# healthy: every process alive, the API server ready, every node Ready.
healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do running "$c" || return 1; done
  [[ -f "$KUBECONFIG_FILE" ]] && kc get --raw /readyz >/dev/null 2>&1 && nodes_ready
}

require_tools() {
  local b missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok pilot-discovery; do
    [[ -x "$TOOLCHAIN_BIN/$b" ]] || missing+=("$b")
  done
  ((${#missing[@]} == 0)) || die "missing in $TOOLCHAIN_BIN: ${missing[*]}; run: scripts/toolchain.sh etcd kube kwok istiod"
  compgen -G "$STAGES_DIR/*.yaml" >/dev/null || die "no kwok stages in $STAGES_DIR; run: scripts/toolchain.sh kwok"
  command -v kubectl >/dev/null || die "kubectl not found; run: scripts/toolchain.sh helm-kubectl"
  command -v openssl >/dev/null || die "openssl not found"
}

# ------------------------------------------------------------------- commands

cmd_up() {
  local t0="$EPOCHREALTIME"
  require_tools

  if healthy; then
    log "already running and healthy"
    echo "$KUBECONFIG_FILE"
    return 0
  fi
  # Anything left over (a crashed component, a reboot, a failed `up`) is not
  # worth repairing piecemeal: the cluster is disposable, start it afresh.
  if [[ -f "$MARKER" ]]; then
    log "found an unhealthy cluster in $CLUSTER_DIR; recreating it"
    cmd_down 2>/dev/null
  elif [[ -d "$CLUSTER_DIR" ]] && [[ -n "$(ls -A "$CLUSTER_DIR")" ]]; then
    die "$CLUSTER_DIR exists and was not created by this script; refusing to use it"
  fi

  # An explicit port must be free; otherwise take 6443 or the next free one.
  if [[ -n "${ISTIO_MESH_CLUSTER_PORT:-}" ]]; then
    API_PORT="$ISTIO_MESH_CLUSTER_PORT"
    port_free "$API_PORT" || die "port $API_PORT (ISTIO_MESH_CLUSTER_PORT) is already in use"
  else
    API_PORT="$(free_port 6443)"
  fi
  local etcd_port etcd_peer_port
  etcd_port="$(free_port 2379)"
  etcd_peer_port="$(free_port $((etcd_port + 1)))"

  mkdir -p "$CLUSTER_DIR"/{pids,logs,kwok}
  touch "$MARKER"
  echo "$NODE_COUNT" >"$CLUSTER_DIR/node-count"
  # Read by local-istiod on every pass: writing another mode here takes effect within a second.
  echo "$STANDIN_MODE" >"$CLUSTER_DIR/standin-mode"
  # A failed `up` stops what it started but keeps the folder, for its logs; the
  # next `up` (or `down`) clears it.
  trap up_failed EXIT
  make_pki
  write_kubeconfig "$KUBECONFIG_FILE" admin
  write_kubeconfig "$CLUSTER_DIR/kube-controller-manager.kubeconfig" kube-controller-manager
  write_kubeconfig "$CLUSTER_DIR/kube-scheduler.kubeconfig" kube-scheduler

  # Plain HTTP is fine for a loopback-only etcd. No fsync: the data is disposable
  # and fsync dominates etcd latency on slow disks.
  start etcd "$TOOLCHAIN_BIN/etcd" --name=kwok --data-dir="$CLUSTER_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$etcd_port" \
    --advertise-client-urls="http://127.0.0.1:$etcd_port" \
    --listen-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster="kwok=http://127.0.0.1:$etcd_peer_port" \
    --unsafe-no-fsync --log-level=warn

  # No traffic may leave this machine, yet pods here have made-up IPs (kwok
  # assigns them from POD_CIDR) and a webhook's Service points at them. Every
  # connection the API server makes into the cluster (webhooks and the pod proxy
  # through "cluster", URL webhooks through "controlplane") is an HTTP CONNECT on
  # local-istiod's unix socket. It forwards a CONNECT to an istiod pod's address
  # to that istiod's loopback listener and refuses every other address, so the
  # charts' webhooks work exactly as on a real cluster and nothing leaves loopback.
  # An unconfigured context would dial directly: both are configured.
  cat >"$CLUSTER_DIR/egress-selector.yaml" <<EOS
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $CLUSTER_DIR/egress.sock
- name: controlplane
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $CLUSTER_DIR/egress.sock
EOS

  # --endpoint-reconciler-type=none: the API server would publish its
  #   advertise address as the `kubernetes` Endpoints, and 127.0.0.1 is not a
  #   valid endpoint IP; nothing in this cluster dials that Service anyway.
  # --enable-aggregator-routing: webhooks and aggregated APIs are reached via
  #   their Service's endpoints rather than its (purely virtual) ClusterIP, so a
  #   Service without ready pods fails at once instead of sending packets out.
  start kube-apiserver "$TOOLCHAIN_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --enable-aggregator-routing=true \
    --egress-selector-config-file="$CLUSTER_DIR/egress-selector.yaml" \
    --profiling=false
  wait_until "the API server's /readyz" 120 kc get --raw /readyz

  # --secure-port=0 on the controller manager and scheduler: they serve only
  # health/metrics, which we judge from their pid and from the cluster's state,
  # and a port less is a collision less. No leader election: one replica.
  # --flex-volume-plugin-dir: the default is under /usr/libexec, which the
  # controller manager would otherwise create on the host.
  start kube-controller-manager "$TOOLCHAIN_BIN/kube-controller-manager" \
    --kubeconfig="$CLUSTER_DIR/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
    --flex-volume-plugin-dir="$CLUSTER_DIR/flexvolume"
  start kube-scheduler "$TOOLCHAIN_BIN/kube-scheduler" \
    --kubeconfig="$CLUSTER_DIR/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false --profiling=false

  # kwok manages only nodes annotated as fake, and its stages (the built-in
  # kubelet behaviour) come from --config files. It must renew node Leases as a
  # kubelet does (--node-lease-duration-seconds; off by default in kwok): the
  # heartbeat stage refreshes node status only every ~10 minutes, so without
  # Leases the node lifecycle controller marks the nodes NotReady every 50s.
  # KWOK_WORKDIR keeps it away from a ~/.kwok/kwok.yaml the user may have.
  # Without --server-address and --node-ip it opens no port and nodes advertise
  # no address, so the API server has nothing to dial for logs/exec.
  local stage_args=() f
  for f in "$STAGES_DIR"/*.yaml; do stage_args+=("--config=$f"); done
  KWOK_WORKDIR="$CLUSTER_DIR/kwok" start kwok "$TOOLCHAIN_BIN/kwok" \
    --kubeconfig="$KUBECONFIG_FILE" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds=40 --cidr="$POD_CIDR" "${stage_args[@]}"

  # istiod runs as the Deployment's service account, so it needs the admin
  # identity only to impersonate; it never listens beyond 127.0.0.1.
  local runner="$PROJECT_DIR/bin/scripts/local-istiod.js" src
  for src in "$PROJECT_DIR"/scripts/local-istiod*.ts "$PROJECT_DIR"/scripts/local-lb*.ts; do
    [[ "$runner" -nt "$src" ]] || { (cd "$PROJECT_DIR" && npm run --silent build) >&2; break; }
  done
  # The stand-in binary is optional (scripts/toolchain.sh standin); without it,
  # pods that ask for a stand-in are listed as waiting for it by `status`.
  start local-istiod node "$runner" \
    --cluster-dir "$CLUSTER_DIR/" --pilot-discovery "$TOOLCHAIN_BIN/pilot-discovery" \
    --standin "$TOOLCHAIN_BIN/istio-standin"
  wait_until "the egress proxy" 60 test -S "$CLUSTER_DIR/egress.sock"
  # No cloud gives LoadBalancer Services an address here, and the provider waits
  # for one: local-lb writes one from 127.0.240.0/24 into their status
  # (bookkeeping only, nothing listens there; scripts/local-lb.ts).
  start local-lb node "$PROJECT_DIR/bin/scripts/local-lb.js" --cluster-dir "$CLUSTER_DIR/"

  create_nodes
  wait_until "${#NODES[@]} Ready nodes" 120 nodes_ready
  # Pods need their namespace's `default` ServiceAccount (the ServiceAccount
  # admission plugin rejects them until the controller manager has made it).
  wait_until "the default ServiceAccount" 60 kc -n default get serviceaccount default

  trap - EXIT
  echo "$KUBECONFIG_FILE"
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "cluster: up in %.1fs\n", b - a }' >&2
}

# local-istiod stops its istiod and stand-in processes itself; any it could not
# (it was killed) are still recorded in pids/istiod-* and pids/standin-*, and
# stopped here by pid.
stop_istiods() {
  local f
  for f in "$CLUSTER_DIR"/pids/standin-* "$CLUSTER_DIR"/pids/istiod-*; do
    [[ -e "$f" ]] && stop "${f##*/}"
  done
  return 0
}

up_failed() {
  local i
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop "${COMPONENTS[i]}"; done
  stop_istiods
  log "up failed; processes stopped, logs kept in $CLUSTER_DIR/logs"
}

# The nodes carry their capacity in .status, which kwok's node-initialize stage
# keeps. No taints: they are ordinary schedulable nodes. The os/arch labels are
# the ones a kubelet would set and charts select on.
create_nodes() {
  local n
  for n in "${NODES[@]}"; do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
  done | kc apply -f - >/dev/null
}

cmd_down() {
  local i
  if [[ -d "$CLUSTER_DIR" && ! -f "$MARKER" ]] && [[ -n "$(ls -A "$CLUSTER_DIR")" ]]; then
    die "$CLUSTER_DIR was not created by this script; not touching it"
  fi
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop "${COMPONENTS[i]}"
  done
  stop_istiods
  rm -rf "$CLUSTER_DIR"
  log "down"
}

cmd_status() {
  local c ok=0
  for c in "${COMPONENTS[@]}"; do
    if running "$c"; then
      printf '%-24s running (pid %s)\n' "$c" "$(pid_of "$c")"
    else
      printf '%-24s not running\n' "$c"; ok=1
    fi
  done
  if [[ ! -f "$KUBECONFIG_FILE" ]]; then
    echo "kubeconfig: none at $KUBECONFIG_FILE (run: scripts/cluster.sh up)"
    return 1
  fi
  echo "kubeconfig: $KUBECONFIG_FILE"
  if kc get --raw /readyz >/dev/null 2>&1; then
    echo "API server: ready"
    kc get nodes -o wide || ok=1
    nodes_ready || { echo "not all ${#NODES[@]} nodes are Ready"; ok=1; }
    istiod_status || ok=1
    standin_status || ok=1
  else
    echo "API server: not ready"; ok=1
  fi
  return "$ok"
}

# One line per local istiod (one per istiod Deployment, so one per revision):
# revision, process, listening ports, and whether its /ready answers.
istiod_status() {
  local f ok=0 count=0
  for f in "$CLUSTER_DIR"/istiod/*/state.json; do
    [[ -e "$f" ]] || continue
    count=$((count + 1))
    node -e '
      const s = require(process.argv[1]);
      const http = require("http");
      const alive = (() => { try { process.kill(s.pid, 0); return true; } catch { return false; } })();
      const req = http.get({ host: "127.0.0.1", port: s.ports.http, path: "/ready", timeout: 2000 }, (res) => {
        res.resume(); done(res.statusCode === 200);
      });
      req.on("error", () => done(false));
      req.on("timeout", () => req.destroy());
      function done(ready) {
        console.log(`istiod ${s.namespace}/${s.deployment}  revision ${s.revision}  pid ${s.pid} ${alive ? "running" : "NOT RUNNING"}  ` +
          `webhooks 127.0.0.1:${s.ports.https}  xds 127.0.0.1:${s.ports.secureGrpc}  ${ready ? "ready" : "NOT READY"}`);
        process.exit(alive && ready ? 0 : 1);
      }' "$f" || ok=1
  done
  ((count > 0)) || echo "istiod: none (no istiod Deployment in the cluster)"
  return "$ok"
}

# One line per proxy stand-in (docs/proxy-standin.md): its pod, process, the
# istiod it talks to, its phase (synced once istiod's first complete
# configuration arrived), its certificate's identity and what it holds.
standin_status() {
  echo "stand-ins: mode $(cat "$CLUSTER_DIR/standin-mode" 2>/dev/null || echo annotated)"
  # One node process for all of them: the `all` mode runs hundreds.
  node -e '
    const fs = require("fs");
    const path = require("path");
    const dir = process.argv[1];
    const keys = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    const read = (f) => { try { return JSON.parse(fs.readFileSync(f, "utf8")); } catch { return undefined; } };
    let ok = true, count = 0;
    for (const key of keys) {
      const sup = read(path.join(dir, key, "supervisor.json"));
      if (!sup) continue;
      count++;
      const st = read(path.join(dir, key, "state.json")) || {};
      const alive = sup.pid !== null && (() => { try { process.kill(sup.pid, 0); return true; } catch { return false; } })();
      const what = sup.status !== "running" ? `${sup.status.toUpperCase()}: ${sup.reason}`
        : !alive ? "NOT RUNNING"
        : st.phase === "synced" ? `synced  ${st.certificate.spiffe}  ` +
            Object.entries(st.resources || {}).map(([k, v]) => `${k.toLowerCase()}=${v}`).join(" ")
        : `${(st.phase || "starting").toUpperCase()}${st.error ? ": " + st.error : ""}`;
      console.log(`standin ${sup.namespace}/${sup.pod}  pid ${sup.pid ?? "-"}  istiod ${sup.istiod ?? "-"}  restarts ${sup.restarts}  ${what}`);
      if (!(sup.status === "running" && alive && st.phase !== "failed")) ok = false;
    }
    if (count === 0) console.log("stand-ins: none");
    process.exit(ok ? 0 : 1);' "$CLUSTER_DIR/standins"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
