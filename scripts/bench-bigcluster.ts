// `npm run bench -- --scale --big-cluster`: the stack on a cluster the size of a
// platform team's, most of it not the stack's. On one local cluster with enough
// simulated nodes it creates, for each pod count P of BENCH_BIG_PODS (default
// "0,2500,10000", ascending), P bare pods in namespaces `foreign-<j>`
// (BENCH_BIG_PODS_PER_NAMESPACE each, default 20) that the stack neither labels
// nor names, then deploys the local stack with its own N namespaces and workloads
// (BENCH_BIG_N, default 10, as in the scale mode) and times:
//
//   - a fresh `pulumi up` and a no-op preview, with the CPU-seconds of each process
//     and the program's peak memory;
//   - each cluster read the program makes, called as the program calls it: the
//     ownership inventory (every run), the users of a revision (a run that removes
//     one) and the migration plan of the N namespaces (a run that moves sidecars).
//
// The pods are created directly on the nodes (spec.nodeName: no scheduler, no
// controller), many requests at once, so 10,000 take a minute or two, not an hour.
// BENCH_CLUSTER_DIR runs everything on a cluster that is already up (the test
// suite's smoke run, at tiny sizes) instead of a cluster of its own; BENCH_DOC=none
// leaves docs/performance.md alone; BENCH_STACK_CONFIG goes over the stack's
// settings (bench-lib.ts, writeBenchStackFile). Figures only: nothing here asserts a time.
import * as fs from "fs";
import * as path from "path";
import { KubeClient, KubeError } from "../components/cluster/kube";
import { readOwnershipInventory } from "../components/preflight/ownership";
import { describeMigrations, revisionUsers } from "../components/preflight/revisionUsage";
import {
    benchCluster,
    cpuByProcess,
    cpuOf,
    createAppNamespaces,
    inParallel,
    median,
    projectDir,
    pulumiWithPeakMemory,
    writeBenchStackFile,
    writeDocSection,
} from "./bench-lib";

const STACK = "bench-big";
const VERSION = "1.29.6";
const PROGRAM = "node (the Pulumi program)";
const podCounts = (process.env.BENCH_BIG_PODS ?? "0,2500,10000")
    .split(",")
    .map(Number)
    .sort((a, b) => a - b);
const stackN = Number(process.env.BENCH_BIG_N ?? "10");
const perNamespace = Number(process.env.BENCH_BIG_PODS_PER_NAMESPACE ?? "20");
/** Pods per simulated node: the nodes' advertised capacity is 110 (scripts/cluster.sh). */
const PODS_PER_NODE = 100;
const ownCluster = process.env.BENCH_CLUSTER_DIR === undefined;
const cluster = benchCluster(process.env.BENCH_CLUSTER_DIR ?? path.join(projectDir, ".cluster-scale"));

interface ReadTiming {
    /** Median milliseconds of three calls. */
    ms: number;
    /** What the read found, for the table. */
    found: string;
}

interface BigRow {
    pods: number;
    namespaces: number;
    up: number;
    upProgramCpu: number;
    upPeakMiB: number;
    noop: number;
    noopCpu: [string, number][];
    noopPeakMiB: number;
    reads: Record<"ownership" | "revisionUsers" | "migrationPlan", ReadTiming>;
}

const foreignNamespace = (j: number) => `foreign-${j}`;

/** Grows the cluster's foreign pods from `have` to `want`: namespaces as needed, then the pods, many at once. */
async function growForeignPods(kube: KubeClient, have: number, want: number, nodes: number): Promise<void> {
    const namespaces = new Set<number>();
    for (let k = have; k < want; k++) namespaces.add(Math.floor(k / perNamespace));
    await inParallel([...namespaces], 16, async (j) => {
        try {
            await kube.create("/api/v1/namespaces", {
                apiVersion: "v1",
                kind: "Namespace",
                metadata: { name: foreignNamespace(j), labels: { "bench.istio-mesh.io/foreign": "true" } },
            });
        } catch (e) {
            // A namespace the last size began is filled up now.
            if (!(e instanceof KubeError && e.status === 409)) throw e;
        }
    });
    const pods = Array.from({ length: want - have }, (_, i) => have + i);
    await inParallel(pods, 16, (k) =>
        createRetrying(kube, `/api/v1/namespaces/${foreignNamespace(Math.floor(k / perNamespace))}/pods`, {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: `pod-${k}`, labels: { app: `team-${k % 7}`, tier: "web" } },
            spec: {
                nodeName: `kwok-node-${k % nodes}`,
                containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
            },
        }),
    );
    // KWOK marks them Running soon after; until then it keeps the API server busy.
    for (;;) {
        // One page of one item: whether any is left, not how many.
        const pending = await kube.get<{ items: unknown[] }>(
            "/api/v1/pods?fieldSelector=status.phase%21%3DRunning&limit=1",
        );
        if ((pending?.items.length ?? 0) === 0) return;
        await new Promise((r) => setTimeout(r, 2000));
    }
}

/**
 * Creates an object, again after a dropped connection (an API server busy with
 * thousands of creations closes some): one that the dropped request did create
 * answers 409 the second time, which counts as done.
 */
async function createRetrying(kube: KubeClient, apiPath: string, body: object): Promise<void> {
    for (let attempt = 1; ; attempt++) {
        try {
            await kube.create(apiPath, body);
            return;
        } catch (e) {
            if (e instanceof KubeError && e.status === 409 && attempt > 1) return;
            if (e instanceof KubeError || attempt >= 5) throw e;
            await new Promise((r) => setTimeout(r, 1000 * attempt));
        }
    }
}

/** Median milliseconds of three calls of `read`, and what the last one found. */
async function timeRead<T>(read: () => Promise<T>, describe: (result: T) => string): Promise<ReadTiming> {
    const ms: number[] = [];
    let result: T | undefined;
    for (let i = 0; i < 3; i++) {
        const start = process.hrtime.bigint();
        result = await read();
        ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return { ms: median(ms), found: describe(result as T) };
}

async function measure(kube: KubeClient, pods: number, own: ReturnType<typeof createAppNamespaces>): Promise<BigRow> {
    const pulumi = (...args: string[]) => cluster.sh("pulumi", [...args, "--stack", STACK], { quiet: true });
    // Written for every size: `pulumi stack rm` takes the stack file with it.
    writeBenchStackFile(STACK, {
        "kubernetes:kubeconfig": cluster.kubeconfig,
        "istio-mesh:version": VERSION,
        "istio-mesh:injectionNamespaces": own.namespaces,
        "istio-mesh:sidecarRollout": own.workloads,
    });
    cluster.sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
    try {
        console.error(`bench-big: ${pods} foreign pods: up`);
        const [up, upCpu] = await cpuByProcess(
            () => pulumiWithPeakMemory(STACK, ["up", "--yes", "--skip-preview"]),
            cluster.clusterDir,
        );
        console.error(`bench-big: ${pods} foreign pods: preview`);
        const [noop, noopCpu] = await cpuByProcess(
            () => pulumiWithPeakMemory(STACK, ["preview", "--expect-no-changes"]),
            cluster.clusterDir,
        );
        console.error(`bench-big: ${pods} foreign pods: the program's reads`);
        const enrollments = own.namespaces.map((name) => ({
            name,
            revision: "",
            follows: "",
            restartOnChange: true,
        }));
        const reads = {
            ownership: await timeRead(
                () => readOwnershipInventory(kube, "istio-system"),
                (inv) =>
                    `${Object.values(inv.cluster).reduce((n, l) => n + l.length, 0)} cluster-wide objects, ${inv.stackNamespaces.length} stack namespaces`,
            ),
            revisionUsers: await timeRead(
                () => revisionUsers(kube, ["", "canary"]),
                (users) => `${[...users.values()].reduce((n, u) => n + u.length, 0)} users`,
            ),
            migrationPlan: await timeRead(
                () => describeMigrations(kube, enrollments, [], 50),
                (plan) => `${plan.info.length + plan.warnings.length} lines`,
            ),
        };
        return {
            pods,
            namespaces: Math.ceil(pods / perNamespace),
            up: up.seconds,
            upProgramCpu: cpuOf(upCpu, PROGRAM),
            upPeakMiB: up.peakKb / 1024,
            noop: noop.seconds,
            noopCpu,
            noopPeakMiB: noop.peakKb / 1024,
            reads,
        };
    } finally {
        pulumi("destroy", "--yes");
        cluster.purgeCrds();
        cluster.sh("pulumi", ["stack", "rm", "--yes", "--force", STACK], { quiet: true });
    }
}

function table(rows: BigRow[]): string {
    const s = (x: number) => x.toFixed(1);
    const none = rows.find((r) => r.pods === 0);
    const lines = [
        `The local stack (Istio ${VERSION}, ${stackN} namespaces labelled and ${stackN} workloads restarted) on a cluster with P pods in P/${perNamespace} namespaces it does not manage (one run each):`,
        "",
        "| foreign pods | namespaces | pulumi up (s) | program CPU-s in up | peak MiB in up | no-op preview (s) | ÷ preview without them | CPU-s in the preview: program, CLI, provider, API server | peak MiB in preview |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
        ...rows.map((r) => {
            const cpu = ["node (the Pulumi program)", "pulumi", "pulumi-resource-kubernetes", "kube-apiserver"]
                .map((l) => s(cpuOf(r.noopCpu, l)))
                .join(" / ");
            const ratio = none ? (r.noop / none.noop).toFixed(2) : "";
            return `| ${r.pods} | ${r.namespaces} | ${s(r.up)} | ${s(r.upProgramCpu)} | ${r.upPeakMiB.toFixed(0)} | ${s(r.noop)} | ${ratio} | ${cpu} | ${r.noopPeakMiB.toFixed(0)} |`;
        }),
        "",
        "The program's cluster reads, called as the program calls them (median of 3, milliseconds):",
        "",
        "| foreign pods | ownership inventory (every run) | users of a revision (a run that removes one) | migration plan of the N namespaces (a run that moves sidecars) |",
        "| ---: | ---: | ---: | ---: |",
        ...rows.map(
            (r) =>
                `| ${r.pods} | ${r.reads.ownership.ms.toFixed(0)} (${r.reads.ownership.found}) | ${r.reads.revisionUsers.ms.toFixed(0)} (${r.reads.revisionUsers.found}) | ${r.reads.migrationPlan.ms.toFixed(0)} (${r.reads.migrationPlan.found}) |`,
        ),
    ];
    return lines.join("\n");
}

async function main(): Promise<void> {
    const maxPods = podCounts[podCounts.length - 1] ?? 0;
    const nodes = Math.max(3, Math.ceil((maxPods + stackN) / PODS_PER_NODE));
    if (ownCluster) {
        process.env.ISTIO_MESH_CLUSTER_DIR = cluster.clusterDir;
        process.env.ISTIO_MESH_CLUSTER_NODES = String(nodes);
        cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "down"], { quiet: true });
        cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "up"], { quiet: true });
    } else if (!fs.existsSync(cluster.kubeconfig)) {
        throw new Error(`BENCH_CLUSTER_DIR=${cluster.clusterDir} has no kubeconfig: start that cluster first`);
    }
    const clusterNodes = ownCluster
        ? nodes
        : cluster.kubectl("get", "nodes", "-l", "type=kwok", "-o", "name").trim().split("\n").filter(Boolean).length;
    const kube = new KubeClient({ kubeconfig: cluster.kubeconfig, workDir: projectDir });
    const own = createAppNamespaces(cluster, "big-", stackN);
    const rows: BigRow[] = [];
    let have = 0;
    try {
        for (const pods of podCounts) {
            console.error(`bench-big: growing to ${pods} foreign pods on ${clusterNodes} nodes`);
            const start = Date.now();
            await growForeignPods(kube, have, pods, clusterNodes);
            console.error(`bench-big: ${pods - have} pods created in ${((Date.now() - start) / 1000).toFixed(0)} s`);
            have = pods;
            rows.push(await measure(kube, pods, own));
            // After every size: a later size that fails still leaves these figures.
            report(rows, clusterNodes);
        }
    } finally {
        fs.rmSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), { force: true });
        if (ownCluster) {
            cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "down"], { quiet: true });
        } else {
            const foreign = Array.from({ length: Math.ceil(have / perNamespace) }, (_, j) => foreignNamespace(j));
            const names = [...own.namespaces, ...foreign];
            if (names.length > 0) cluster.kubectl("delete", "namespace", "--wait=true", ...names);
        }
    }
    console.log(table(rows));
}

/** Writes the figures so far: artifacts/bench-big.{md,json} and the doc's section. */
function report(rows: BigRow[], clusterNodes: number): void {
    const text = table(rows);
    const artifacts = path.join(projectDir, "artifacts");
    fs.mkdirSync(artifacts, { recursive: true });
    fs.writeFileSync(path.join(artifacts, "bench-big.md"), text + "\n");
    fs.writeFileSync(path.join(artifacts, "bench-big.json"), JSON.stringify(rows, null, 2));
    writeDocSection(
        "big-cluster",
        `Measured ${new Date().toISOString().slice(0, 16)} UTC on ${clusterNodes} simulated nodes.\n\n${text}`,
    );
}

main().catch((e: Error) => {
    console.error(`bench-big: ${e.message}`);
    process.exit(1);
});
