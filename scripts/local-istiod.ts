// The real istiod for the local cluster. On a real cluster the kubelet runs
// istiod's container and the API server reaches its webhooks over the pod
// network; here there is no container runtime and no pod network, so this
// process does both jobs on loopback:
//
//  - supervisor: for every istiod Deployment in the cluster (whoever created it:
//    the stack, Helm or istioctl) it runs one local `pilot-discovery` process,
//    started once the revision's injector ConfigMap exists, restarted when the
//    Deployment's pod template changes, stopped only once the Deployment is gone.
//    Each listens on 127.0.0.1 only and talks to the API server as the
//    Deployment's service account (impersonation), so it has the chart's RBAC.
//  - egress proxy: the API server's `cluster` and `controlplane` egress contexts
//    (webhook calls, pod proxy) are HTTP CONNECT over a unix socket served here.
//    A CONNECT to an istiod pod's address and port is forwarded to that pod's
//    local process; every other address is refused with 403, so no packet the
//    API server sends into the "cluster" leaves the machine.
//
//  - proxy stand-ins: for injected pods that ask for one (annotation
//    `istio-mesh.dev/proxy-standin: "true"`), or for every injected pod when
//    the cluster's stand-in mode is `all` (<cluster>/standin-mode, set from
//    ISTIO_MESH_CLUSTER_STANDINS by cluster.sh), it runs one `istio-standin`
//    (docs/proxy-standin.md) against the local istiod the pod names, restarted
//    when the pod is replaced or that istiod moves, stopped when the pod goes.
//    A stand-in dials only that istiod's loopback port, never the pod's IP.
//
// Started and stopped by scripts/cluster.sh; its pid and each istiod's and
// stand-in's pid are recorded in <cluster>/pids, its state per istiod in
// <cluster>/istiod/, per stand-in in <cluster>/standins/.
//
// Usage: node local-istiod.js --cluster-dir DIR --pilot-discovery BIN [--standin BIN]
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import { localClusterApi, log, optionalArg, processArg } from "./local-cluster-api";
import * as net from "net";
import * as path from "path";
import {
    CONNECT_REFUSED,
    connectResponse,
    istiodCommand,
    IstiodPorts,
    LOCAL_PORT_OF_POD_PORT,
    parseConnectRequest,
    podKey,
    revisionOf,
    injectorConfigMapName,
    DeploymentObject,
    PodObject,
    discoveryAddressOf,
    parseStandinMode,
    ProxyPodObject,
    selects,
    serviceOfAddress,
    standinArgs,
    standinKey,
    StandinMode,
    wantsStandin,
} from "./local-istiod-lib";
import { labelSelector } from "../components/status/installation";
import { materializeCacerts } from "./local-istiod-cacerts";

const POLL_MS = 1000;
/** How long a webhook call may wait for a just-started istiod to listen (kwok marks its pod Ready first). */
const LISTEN_WAIT_MS = 20000;
/**
 * How long a webhook call to an istiod port of a pod address no local istiod
 * serves yet waits for the reconcile loop to start that istiod or learn its pod's
 * address: kwok marks a new istiod pod Ready at once, so a stack may call its
 * webhook before the next pass. Less than the API server's 10 s webhook timeout.
 */
const UNKNOWN_POD_WAIT_MS = 8000;

const arg = (name: string) => processArg("local-istiod", name);
const clusterDir = path.resolve(arg("cluster-dir"));
const pilotDiscovery = arg("pilot-discovery");
const standinBinary = optionalArg("standin");
const pki = path.join(clusterDir, "pki");
const { server: apiServer, get: apiGet } = localClusterApi(clusterDir);

function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const port = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(port));
        });
    });
}

interface Running {
    key: string;
    deployment: DeploymentObject;
    templateHash: string;
    ports: IstiodPorts;
    child: ChildProcess;
    startedAt: number;
    readyAt?: number;
    /** Pod IPs of this Deployment's pods, refreshed every poll. */
    podIps: Set<string>;
    stopping: boolean;
}

const running = new Map<string, Running>();
/** Deployments whose process exited on its own: when it may be started again. */
const backoffUntil = new Map<string, number>();

function templateHash(d: DeploymentObject): string {
    return crypto.createHash("sha256").update(JSON.stringify(d.spec.template)).digest("hex").slice(0, 16);
}

function stateDir(key: string): string {
    return path.join(clusterDir, "istiod", key);
}

function writeState(r: Running): void {
    const state = {
        namespace: r.deployment.metadata.namespace,
        deployment: r.deployment.metadata.name,
        revision: revisionOf(r.deployment),
        image: r.deployment.spec.template.spec.containers[0]?.image,
        pid: r.child.pid,
        ports: r.ports,
        startedAt: new Date(r.startedAt).toISOString(),
        readyAt: r.readyAt ? new Date(r.readyAt).toISOString() : null,
        startToReadySeconds: r.readyAt ? (r.readyAt - r.startedAt) / 1000 : null,
    };
    fs.writeFileSync(path.join(stateDir(r.key), "state.json"), JSON.stringify(state, null, 2));
}

/** A kubeconfig that authenticates as the cluster admin and acts as istiod's service account. */
function writeKubeconfig(file: string, namespace: string, serviceAccount: string): void {
    const b64 = (f: string) => fs.readFileSync(path.join(pki, f)).toString("base64");
    fs.writeFileSync(
        file,
        [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            "- name: local",
            `  cluster: {server: "${apiServer.origin}", certificate-authority-data: ${b64("ca.crt")}}`,
            "users:",
            "- name: istiod",
            "  user:",
            `    client-certificate-data: ${b64("admin.crt")}`,
            `    client-key-data: ${b64("admin.key")}`,
            `    as: "system:serviceaccount:${namespace}:${serviceAccount}"`,
            `    as-groups: ["system:serviceaccounts", "system:serviceaccounts:${namespace}", "system:authenticated"]`,
            "contexts:",
            "- name: local",
            "  context: {cluster: local, user: istiod}",
            "current-context: local",
            "",
        ].join("\n"),
        { mode: 0o600 },
    );
}

async function start(key: string, d: DeploymentObject): Promise<void> {
    const dir = stateDir(key);
    const work = path.join(dir, "work");
    // An empty working directory: istiod's in-pod file paths are relative to it,
    // so with none present it reads mesh config and injector templates from the cluster.
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    // Except Istio's plug-in CA: the cacerts Secret, where the istiod pod mounts it.
    const cacerts = await materializeCacerts(d, work, getSecret);
    if (cacerts.length > 0) log(`istiod ${key}: cacerts Secret at ./etc/cacerts (${cacerts.join(", ")})`);
    const ports: IstiodPorts = {
        http: await freePort(),
        https: await freePort(),
        grpc: await freePort(),
        secureGrpc: await freePort(),
        monitoring: await freePort(),
        ctrlz: await freePort(),
    };
    const kubeconfig = path.join(dir, "kubeconfig");
    const ns = d.metadata.namespace;
    writeKubeconfig(kubeconfig, ns, d.spec.template.spec.serviceAccountName ?? "default");
    const podName = `${d.metadata.name}-local`;
    const cmd = istiodCommand(d, { kubeconfig, ports, podName, baseEnv: process.env });
    const out = fs.openSync(path.join(clusterDir, "logs", `istiod-${key}.log`), "a");
    const child = spawn(pilotDiscovery, cmd.args, { cwd: work, env: cmd.env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    const r: Running = {
        key,
        deployment: d,
        templateHash: templateHash(d),
        ports,
        child,
        startedAt: Date.now(),
        podIps: new Set(),
        stopping: false,
    };
    running.set(key, r);
    fs.writeFileSync(path.join(clusterDir, "pids", `istiod-${key}`), `${child.pid}\n`);
    writeState(r);
    log(`started istiod ${key} (revision ${revisionOf(d)}, pid ${child.pid}, webhooks on 127.0.0.1:${ports.https})`);
    child.on("exit", (code, signal) => {
        fs.rmSync(path.join(clusterDir, "pids", `istiod-${key}`), { force: true });
        if (running.get(key) === r) running.delete(key);
        if (!r.stopping) {
            log(`istiod ${key} exited unexpectedly (code ${code}, signal ${signal}); restarting in 5s`);
            backoffUntil.set(key, Date.now() + 5000);
        }
    });
    void waitReady(r);
}

async function waitReady(r: Running): Promise<void> {
    while (!r.stopping && running.get(r.key) === r) {
        const ok = await new Promise<boolean>((resolve) => {
            const req = http.get({ host: "127.0.0.1", port: r.ports.http, path: "/ready", timeout: 1000 }, (res) => {
                res.resume();
                resolve(res.statusCode === 200);
            });
            req.on("error", () => resolve(false));
            req.on("timeout", () => req.destroy());
        });
        if (ok) {
            r.readyAt = Date.now();
            writeState(r);
            log(`istiod ${r.key} ready after ${((r.readyAt - r.startedAt) / 1000).toFixed(2)}s`);
            return;
        }
        await sleep(100);
    }
}

function stop(r: Running, why: string): Promise<void> {
    r.stopping = true;
    log(`stopping istiod ${r.key}: ${why}`);
    return new Promise((resolve) => {
        if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
        const timer = setTimeout(() => r.child.kill("SIGKILL"), 10000);
        r.child.once("exit", () => {
            clearTimeout(timer);
            running.delete(r.key);
            resolve();
        });
        r.child.kill("SIGTERM");
    });
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function configMapExists(namespace: string, name: string): Promise<boolean> {
    const res = await apiGet(`/api/v1/namespaces/${namespace}/configmaps/${name}`);
    return res.status === 200;
}

async function refreshPodIps(r: Running): Promise<void> {
    const selector = labelSelector(r.deployment.spec.selector.matchLabels);
    const res = await apiGet<{ items: PodObject[] }>(
        `/api/v1/namespaces/${r.deployment.metadata.namespace}/pods?labelSelector=${encodeURIComponent(selector)}`,
    );
    if (res.status !== 200 || !res.body) return;
    r.podIps = new Set(res.body.items.map((p) => p.status?.podIP).filter((ip): ip is string => !!ip));
}

/** A Secret, undefined when it does not exist; any other answer is an error (it says nothing about the Secret). */
async function getSecret(namespace: string, name: string): Promise<{ data?: Record<string, string> } | undefined> {
    const res = await apiGet<{ data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200 || !res.body) throw new Error(`GET Secret ${namespace}/${name}: HTTP ${res.status}`);
    return res.body;
}

/** The kubelet updates a mounted Secret in place: so does this, for a running istiod's cacerts. */
async function refreshCacerts(r: Running): Promise<void> {
    try {
        const changed = await materializeCacerts(r.deployment, path.join(stateDir(r.key), "work"), getSecret);
        if (changed.length > 0) log(`istiod ${r.key}: cacerts Secret changed at ./etc/cacerts (${changed.join(", ")})`);
    } catch (err) {
        log(`istiod ${r.key}: cacerts: ${String(err)}`);
    }
}

/** One pass: bring the local processes in line with the istiod Deployments in the cluster. */
async function reconcile(): Promise<void> {
    const res = await apiGet<{ items: DeploymentObject[] }>("/apis/apps/v1/deployments?labelSelector=app%3Distiod");
    // An API server that does not answer says nothing about istiod: change nothing.
    if (res.status !== 200 || !res.body) return;
    const seen = new Set<string>();
    for (const d of res.body.items) {
        const key = podKey(d);
        seen.add(key);
        const r = running.get(key);
        if (r && !r.stopping) {
            if (r.templateHash !== templateHash(d)) {
                await stop(r, "its Deployment's pod template changed");
            } else {
                r.deployment = d;
                await refreshPodIps(r);
                await refreshCacerts(r);
                continue;
            }
        }
        if ((backoffUntil.get(key) ?? 0) > Date.now()) continue;
        // Without its injector ConfigMap at start, istiod never injects for its lifetime.
        if (!(await configMapExists(d.metadata.namespace, injectorConfigMapName(d)))) continue;
        fs.mkdirSync(stateDir(key), { recursive: true });
        await start(key, d);
        const started = running.get(key);
        if (started) await refreshPodIps(started);
    }
    for (const r of [...running.values()]) {
        if (seen.has(r.key) || r.stopping) continue;
        // Stop only when the Deployment is really gone, not on an API hiccup.
        const one = await apiGet(
            `/apis/apps/v1/namespaces/${r.deployment.metadata.namespace}/deployments/${r.deployment.metadata.name}`,
        );
        if (one.status === 404) {
            await stop(r, "its Deployment is gone");
            fs.rmSync(stateDir(r.key), { recursive: true, force: true });
        }
    }
}

// ------------------------------------------------------------ proxy stand-ins

interface Standin {
    key: string;
    namespace: string;
    pod: string;
    uid: string;
    istiod: string;
    xdsPort: number;
    child: ChildProcess;
    startedAt: number;
    restarts: number;
    stopping: boolean;
}

const standins = new Map<string, Standin>();
/** Stand-ins that exited on their own: when they may start again, and how often they have (for that pod UID). */
const standinBackoff = new Map<string, { until: number; restarts: number; uid: string }>();

/** How often the stand-in of this pod (this UID, not an earlier pod of the same name) has been restarted. */
function restartsOf(key: string, uid: string | undefined): number {
    const b = standinBackoff.get(key);
    return b && b.uid === (uid ?? "") ? b.restarts : 0;
}
const STANDIN_MODE_FILE = path.join(clusterDir, "standin-mode");
let lastModeError = "";

function standinDir(key: string): string {
    return path.join(clusterDir, "standins", key);
}

/** What the supervisor knows of one stand-in; the stand-in writes its own state.json beside it. */
function writeStandinSupervision(
    key: string,
    pod: ProxyPodObject,
    fields: { status: "running" | "waiting" | "restarting"; reason?: string; s?: Standin },
): void {
    fs.mkdirSync(standinDir(key), { recursive: true });
    const s = fields.s;
    const doc = {
        namespace: pod.metadata.namespace,
        pod: pod.metadata.name,
        uid: pod.metadata.uid,
        status: fields.status,
        reason: fields.reason ?? null,
        pid: s?.child.pid ?? null,
        istiod: s?.istiod ?? null,
        xdsAddress: s ? `127.0.0.1:${s.xdsPort}` : null,
        startedAt: s ? new Date(s.startedAt).toISOString() : null,
        restarts: s?.restarts ?? restartsOf(key, pod.metadata.uid),
    };
    fs.writeFileSync(path.join(standinDir(key), "supervisor.json"), JSON.stringify(doc, null, 2));
}

function readStandinMode(): StandinMode | undefined {
    const value = fs.existsSync(STANDIN_MODE_FILE) ? fs.readFileSync(STANDIN_MODE_FILE, "utf8") : undefined;
    try {
        const mode = parseStandinMode(value, `ISTIO_MESH_CLUSTER_STANDINS (${STANDIN_MODE_FILE})`);
        lastModeError = "";
        return mode;
    } catch (err) {
        // A bad mode changes nothing (neither starts nor stops stand-ins); said once.
        if (String(err) !== lastModeError) log(`stand-ins: ${String(err)}`);
        lastModeError = String(err);
        return undefined;
    }
}

/** The running, ready local istiod behind the Service a pod's proxy names, or why there is none. */
async function istiodFor(
    pod: ProxyPodObject,
    services: Map<string, { spec?: { selector?: Record<string, string> } } | undefined>,
): Promise<{ r: Running } | { reason: string }> {
    const address = discoveryAddressOf(pod);
    const svc = serviceOfAddress(address);
    if (!svc || svc.port !== 15012)
        return { reason: `discovery address ${address} is not <service>.<namespace>.svc:15012` };
    const svcKey = `${svc.namespace}/${svc.name}`;
    if (!services.has(svcKey)) {
        const res = await apiGet<{ spec?: { selector?: Record<string, string> } }>(
            `/api/v1/namespaces/${svc.namespace}/services/${svc.name}`,
        );
        services.set(svcKey, res.status === 200 ? res.body : undefined);
    }
    const service = services.get(svcKey);
    if (!service) return { reason: `Service ${svcKey} (from discovery address ${address}) not found` };
    for (const r of running.values()) {
        if (r.stopping || !r.readyAt || r.deployment.metadata.namespace !== svc.namespace) continue;
        if (selects(service.spec?.selector, r.deployment.spec.template.metadata?.labels)) return { r };
    }
    return { reason: `no ready local istiod behind Service ${svcKey}` };
}

function startStandin(key: string, pod: ProxyPodObject, r: Running): void {
    const dir = standinDir(key);
    fs.mkdirSync(dir, { recursive: true });
    // A fresh state file: the previous run's phase must not be read as this one's.
    fs.rmSync(path.join(dir, "state.json"), { force: true });
    const args = standinArgs({
        pod,
        kubeconfig: path.join(clusterDir, "kubeconfig"),
        xdsPort: r.ports.secureGrpc,
        dir,
    });
    const out = fs.openSync(path.join(clusterDir, "logs", `standin-${key}.log`), "a");
    const child = spawn(standinBinary as string, args, {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    const s: Standin = {
        key,
        namespace: pod.metadata.namespace,
        pod: pod.metadata.name,
        uid: pod.metadata.uid ?? "",
        istiod: r.key,
        xdsPort: r.ports.secureGrpc,
        child,
        startedAt: Date.now(),
        restarts: restartsOf(key, pod.metadata.uid),
        stopping: false,
    };
    standins.set(key, s);
    fs.writeFileSync(path.join(clusterDir, "pids", `standin-${key}`), `${child.pid}\n`);
    writeStandinSupervision(key, pod, { status: "running", s });
    log(`started stand-in ${key} (pod uid ${s.uid}, istiod ${r.key} on 127.0.0.1:${s.xdsPort}, pid ${child.pid})`);
    child.on("exit", (code, signal) => {
        fs.rmSync(path.join(clusterDir, "pids", `standin-${key}`), { force: true });
        if (standins.get(key) === s) standins.delete(key);
        if (!s.stopping) {
            log(`stand-in ${key} exited unexpectedly (code ${code}, signal ${signal}); restarting in 5s`);
            standinBackoff.set(key, { until: Date.now() + 5000, restarts: s.restarts + 1, uid: s.uid });
            writeStandinSupervision(key, pod, {
                status: "restarting",
                reason: `exited with code ${code}, signal ${signal}`,
            });
        }
    });
}

function stopStandin(s: Standin, why: string): Promise<void> {
    s.stopping = true;
    log(`stopping stand-in ${s.key}: ${why}`);
    return new Promise((resolve) => {
        const done = () => {
            if (standins.get(s.key) === s) standins.delete(s.key);
            resolve();
        };
        if (s.child.exitCode !== null || s.child.signalCode !== null) return done();
        const timer = setTimeout(() => s.child.kill("SIGKILL"), 5000);
        s.child.once("exit", () => {
            clearTimeout(timer);
            done();
        });
        s.child.kill("SIGTERM");
    });
}

/** One pass: a stand-in for every pod the mode selects, each against the istiod its pod names. */
async function reconcileStandins(): Promise<void> {
    const mode = readStandinMode();
    if (!mode) return;
    const res = await apiGet<{ items: ProxyPodObject[] }>("/api/v1/pods");
    // An API server that does not answer says nothing about pods: change nothing.
    if (res.status !== 200 || !res.body) return;
    const wanted = new Map<string, ProxyPodObject>();
    for (const pod of res.body.items) if (wantsStandin(pod, mode)) wanted.set(standinKey(pod), pod);
    for (const s of [...standins.values()]) {
        if (s.stopping) continue;
        const pod = wanted.get(s.key);
        if (!pod) {
            await stopStandin(s, "its pod is gone, not running or no longer selected");
            fs.rmSync(standinDir(s.key), { recursive: true, force: true });
        } else if ((pod.metadata.uid ?? "") !== s.uid) {
            await stopStandin(s, `its pod was replaced (uid ${s.uid} -> ${pod.metadata.uid})`);
        }
    }
    // Folders of stand-ins that are neither running nor wanted (their pod went while they were backing off).
    for (const key of fs.existsSync(path.join(clusterDir, "standins"))
        ? fs.readdirSync(path.join(clusterDir, "standins"))
        : []) {
        if (!wanted.has(key) && !standins.has(key)) {
            fs.rmSync(standinDir(key), { recursive: true, force: true });
            standinBackoff.delete(key);
        }
    }
    const services = new Map<string, { spec?: { selector?: Record<string, string> } } | undefined>();
    for (const [key, pod] of wanted) {
        const target = await istiodFor(pod, services);
        const s = standins.get(key);
        if (s && !s.stopping) {
            if ("r" in target && target.r.ports.secureGrpc !== s.xdsPort) {
                await stopStandin(s, `the istiod it talks to now listens on 127.0.0.1:${target.r.ports.secureGrpc}`);
            } else {
                continue;
            }
        }
        const backoff = standinBackoff.get(key);
        if (backoff && backoff.uid === (pod.metadata.uid ?? "") && backoff.until > Date.now()) continue;
        if (!("r" in target)) {
            writeStandinSupervision(key, pod, { status: "waiting", reason: target.reason });
            continue;
        }
        if (!standinBinary || !fs.existsSync(standinBinary)) {
            writeStandinSupervision(key, pod, {
                status: "waiting",
                reason: `no stand-in binary at ${standinBinary ?? "(none given)"}; run: scripts/toolchain.sh standin`,
            });
            continue;
        }
        startStandin(key, pod, target.r);
    }
}

// ------------------------------------------------------------------ egress proxy

function findTarget(host: string, podPort: number): { r: Running; port: number } | undefined {
    const field = LOCAL_PORT_OF_POD_PORT[podPort];
    if (!field) return undefined;
    for (const r of running.values()) {
        if (!r.stopping && r.podIps.has(host)) return { r, port: r.ports[field] };
    }
    return undefined;
}

function dialWhenListening(port: number, deadline: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
        const s = net.connect({ host: "127.0.0.1", port });
        s.once("connect", () => resolve(s));
        s.once("error", (err) => {
            s.destroy();
            if (Date.now() > deadline) return reject(err);
            setTimeout(() => dialWhenListening(port, deadline).then(resolve, reject), 200);
        });
    });
}

function handleConnection(client: net.Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
            if (head.length > 8192) client.destroy();
            return;
        }
        client.off("data", onData);
        client.pause();
        const rest = head.subarray(end + 4);
        void route(client, head.subarray(0, end).toString("latin1"), rest);
    };
    client.on("data", onData);
    client.on("error", () => client.destroy());
}

async function route(client: net.Socket, header: string, rest: Buffer): Promise<void> {
    const req = parseConnectRequest(header);
    let target = req ? findTarget(req.host, req.port) : undefined;
    // A pod that just appeared, on one of istiod's ports: wait for the reconcile
    // loop to start its istiod or learn its address before refusing.
    const deadline = Date.now() + UNKNOWN_POD_WAIT_MS;
    while (req && !target && LOCAL_PORT_OF_POD_PORT[req.port] && Date.now() < deadline) {
        for (const r of running.values()) await refreshPodIps(r);
        target = findTarget(req.host, req.port);
        if (!target) await sleep(250);
    }
    if (!req || !target) {
        log(`egress: refused ${req ? `${req.host}:${req.port}` : JSON.stringify(header.split("\r\n")[0])}`);
        client.end(CONNECT_REFUSED);
        return;
    }
    let upstream: net.Socket;
    try {
        upstream = await dialWhenListening(target.port, Date.now() + LISTEN_WAIT_MS);
    } catch (err) {
        log(`egress: istiod ${target.r.key} not listening on 127.0.0.1:${target.port}: ${String(err)}`);
        client.end(connectResponse(503, "Service Unavailable"));
        return;
    }
    client.write(connectResponse(200, "Connection established"));
    if (rest.length > 0) upstream.write(rest);
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
}

// ------------------------------------------------------------------------ main

async function main(): Promise<void> {
    const socket = path.join(clusterDir, "egress.sock");
    fs.rmSync(socket, { force: true });
    const server = net.createServer(handleConnection);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    log(`egress proxy on ${socket}; istiod from ${pilotDiscovery}`);

    let shuttingDown = false;
    const shutdown = async (signal: string) => {
        if (shuttingDown) return;
        shuttingDown = true;
        log(`${signal}: stopping every istiod`);
        server.close();
        await Promise.all([...standins.values()].map((s) => stopStandin(s, "the local cluster is stopping")));
        await Promise.all([...running.values()].map((r) => stop(r, "the local cluster is stopping")));
        process.exit(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));

    for (;;) {
        if (shuttingDown) return;
        try {
            await reconcile();
        } catch (err) {
            log(`reconcile: ${String(err)}`);
        }
        try {
            await reconcileStandins();
        } catch (err) {
            log(`stand-ins: ${String(err)}`);
        }
        await sleep(POLL_MS);
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
