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
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import { localClusterApi, log, processArg } from "./local-cluster-api";
import { DEFAULT_POOL, Pending, planStatus, poolAddresses, ServiceObject, StatusChange } from "./local-lb-lib";

const POLL_MS = 1000;

const clusterDir = path.resolve(processArg("local-lb", "cluster-dir"));
const pool = poolAddresses(processArg("local-lb", "pool", DEFAULT_POOL));
const { request: api } = localClusterApi(clusterDir);

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
