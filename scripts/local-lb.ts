// The local cluster's load-balancer stand-in. On a cloud, a controller gives each
// Service of type LoadBalancer an address and writes it into the Service's
// `status.loadBalancer.ingress`; the provider's await, and so `pulumi up`, waits for
// that address. The local cluster has no cloud, so this loop does the bookkeeping:
// every LoadBalancer Service without a `loadBalancerClass` (those belong to the
// cluster's default balancer) gets the lowest free address of a loopback pool
// (127.0.240.0/24 by default), and loses it when it stops being one. Nothing
// listens on those addresses and no traffic is routed: the address is a record, as
// kind's cloud-provider-kind makes one without a cloud. No finalizer is added, so a
// Service is deleted whether or not this loop runs.
//
// Started and stopped by scripts/cluster.sh; its pid in <cluster>/pids/local-lb,
// its log in <cluster>/logs/local-lb.log.
//
// Usage: node local-lb.js --cluster-dir DIR [--pool CIDR]
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import { DEFAULT_POOL, Pending, planStatus, poolAddresses, ServiceObject, StatusChange } from "./local-lb-lib";

const POLL_MS = 1000;

function arg(name: string, fallback?: string): string {
    const i = process.argv.indexOf(`--${name}`);
    const v = i >= 0 ? process.argv[i + 1] : fallback;
    if (!v) throw new Error(`local-lb: --${name} is required`);
    return v;
}

const clusterDir = path.resolve(arg("cluster-dir"));
const pool = poolAddresses(arg("pool", DEFAULT_POOL));
const pki = path.join(clusterDir, "pki");
const apiServer = new URL(
    /server:\s*(\S+)/.exec(fs.readFileSync(path.join(clusterDir, "kubeconfig"), "utf8"))?.[1] ?? "",
);
const agent = new https.Agent({
    keepAlive: true,
    ca: fs.readFileSync(path.join(pki, "ca.crt")),
    cert: fs.readFileSync(path.join(pki, "admin.crt")),
    key: fs.readFileSync(path.join(pki, "admin.key")),
});

function log(msg: string): void {
    console.log(`${new Date().toISOString()} ${msg}`);
}

/** One request to the API server: its status code and body text. */
function api(method: string, urlPath: string, body?: object): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
            {
                method,
                hostname: apiServer.hostname,
                port: apiServer.port,
                path: urlPath,
                agent,
                timeout: 10000,
                headers: payload ? { "Content-Type": "application/merge-patch+json" } : {},
            },
            (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (text += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
        req.on("error", reject);
        req.end(payload);
    });
}

async function write(change: StatusChange): Promise<void> {
    const url = `/api/v1/namespaces/${change.namespace}/services/${change.name}/status`;
    // merge-patch: a list replaces the old one; null removes the field.
    const ingress = change.ingress.length > 0 ? change.ingress : null;
    const res = await api("PATCH", url, { status: { loadBalancer: { ingress } } });
    const what = change.ingress.length > 0 ? `gave ${change.ingress[0].ip}` : "took its address back";
    if (res.status === 200) log(`Service ${change.namespace}/${change.name}: ${what} (${change.reason})`);
    // A Service deleted since the list: nothing to do. Anything else is retried next pass.
    else if (res.status !== 404) {
        log(
            `Service ${change.namespace}/${change.name}: could not write its status (${res.status}): ${res.text.trim()}`,
        );
    }
}

/** The Services left without an address at the last pass, so each one is logged once, not every second. */
let lastPending = new Set<string>();

function reportPending(pending: Pending[]): void {
    const now = new Set(pending.map((p) => `Service ${p.namespace}/${p.name}: no address: ${p.reason}`));
    for (const line of now) if (!lastPending.has(line)) log(line);
    lastPending = now;
}

async function pass(): Promise<void> {
    const res = await api("GET", "/api/v1/services");
    // An API server that does not answer says nothing about the Services: change nothing.
    if (res.status !== 200) return;
    const { items } = JSON.parse(res.text) as { items: ServiceObject[] };
    const plan = planStatus(items, pool);
    for (const change of plan.changes) await write(change);
    reportPending(plan.pending);
}

async function main(): Promise<void> {
    log(`assigning LoadBalancer addresses from ${pool[0]}-${pool[pool.length - 1]} (bookkeeping only)`);
    let stopping = false;
    const stop = (signal: string) => {
        stopping = true;
        log(`${signal}: stopping`);
        process.exit(0);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
    while (!stopping) {
        try {
            await pass();
        } catch (err) {
            log(`pass: ${String(err)}`);
        }
        await sleep(POLL_MS);
    }
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
});
