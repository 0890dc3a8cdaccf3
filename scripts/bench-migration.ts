// `npm run bench -- --scale --migration`: how fast a canary upgrade moves workloads.
// For each N of BENCH_MIGRATION_SIZES (default "100,500"), on a cluster of its own
// (BENCH_CLUSTER_DIR: one already up, for the test suite's smoke run), it installs
// two revisions side by side (1-29-6 behind the tag `stable`, and 1-30-3), N
// one-replica Deployments in one namespace enrolled on `stable` with
// restartOnChange, all injected by 1-29-6; then it moves `stable` to 1-30-3 and
// times the `up` that restarts all N, BENCH_MIGRATION_BATCH at a time (default 50).
// Against it, on the same cluster and the same N workloads: a plain loop of
// `kubectl rollout restart` + `kubectl rollout status`, one workload after another.
// Figures only: nothing here asserts a time.
import * as fs from "fs";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import {
    appDeployment,
    benchCluster,
    cpuByProcess,
    cpuOf,
    projectDir,
    pulumiWithPeakMemory,
    writeBenchStackFile,
    writeDocSection,
} from "./bench-lib";

const STACK = "bench-migration";
const NAMESPACE = "bench-migration";
const sizes = (process.env.BENCH_MIGRATION_SIZES ?? "100,500").split(",").map(Number);
const batchSize = Number(process.env.BENCH_MIGRATION_BATCH ?? "50");
const ownCluster = process.env.BENCH_CLUSTER_DIR === undefined;
const cluster = benchCluster(process.env.BENCH_CLUSTER_DIR ?? path.join(projectDir, ".cluster-scale"));
const A = { name: "1-29-6", version: "1.29.6" };
const B = { name: "1-30-3", version: "1.30.3" };

interface MigrationRow {
    n: number;
    stackUp: number;
    stackCpu: [string, number][];
    kubectlLoop: number;
    kubectlCpu: [string, number][];
}

const perMinute = (n: number, s: number) => (n / s) * 60;

/** Waits until every Deployment of the namespace has its one replica updated and available. */
async function waitAllAvailable(n: number): Promise<void> {
    for (let tries = 0; ; tries++) {
        const ready = cluster
            .kubectl(
                "get",
                "deployments",
                "-n",
                NAMESPACE,
                "-o",
                "jsonpath={range .items[*]}{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas} {end}",
            )
            .trim()
            .split(" ")
            .filter((s) => s === "1/1/1").length;
        if (ready === n) return;
        if (tries > 600) throw new Error(`only ${ready} of ${n} Deployments in ${NAMESPACE} became available`);
        await sleep(1000);
    }
}

async function measure(n: number): Promise<MigrationRow> {
    if (ownCluster) {
        process.env.ISTIO_MESH_CLUSTER_DIR = cluster.clusterDir;
        process.env.ISTIO_MESH_CLUSTER_NODES = String(Math.max(3, Math.ceil(n / 100) + 1));
        cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "down"], { quiet: true });
        cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "up"], { quiet: true });
    }
    const apps = Array.from({ length: n }, (_, i) => `app-${i}`);
    const pulumi = (...args: string[]) => cluster.sh("pulumi", [...args, "--stack", STACK], { quiet: true });
    cluster.kubectl("create", "namespace", NAMESPACE);
    const settings = (stable: string) => ({
        "kubernetes:kubeconfig": cluster.kubeconfig,
        "istio-mesh:version": B.version,
        "istio-mesh:revisions": [A, B],
        "istio-mesh:revisionTags": { stable },
        "istio-mesh:injectionNamespaces": [{ name: NAMESPACE, revision: "stable", restartOnChange: true }],
        "istio-mesh:sidecarMigration": { batchSize, timeoutSeconds: 1800 },
        // What the migration needs: two control planes and the namespace's label.
        "istio-mesh:gateways": [],
        "istio-mesh:addons": { prometheus: false, grafana: false, kiali: false, jaeger: false },
    });
    writeBenchStackFile(STACK, settings(A.name));
    cluster.sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
    try {
        console.error(`bench-migration: N=${n}: two revisions, ${n} workloads on ${A.name}`);
        pulumi("up", "--yes", "--skip-preview");
        cluster.sh("kubectl", ["apply", "-f", "-"], {
            quiet: true,
            input: JSON.stringify({
                apiVersion: "v1",
                kind: "List",
                items: apps.map((a) => appDeployment(a, NAMESPACE)),
            }),
        });
        await waitAllAvailable(n);
        console.error(`bench-migration: N=${n}: stable -> ${B.name}, ${batchSize} at a time`);
        writeBenchStackFile(STACK, settings(B.name));
        const [stack, stackCpu] = await cpuByProcess(
            () => pulumiWithPeakMemory(STACK, ["up", "--yes", "--skip-preview"]),
            cluster.clusterDir,
        );
        const moved = cluster.kubectl(
            "get",
            "pods",
            "-n",
            NAMESPACE,
            "-o",
            'jsonpath={range .items[*]}{.metadata.annotations.sidecar\\.istio\\.io/status}{"\\n"}{end}',
        );
        const onB = moved.split("\n").filter((l) => l.includes(`"revision":"${B.name}"`)).length;
        if (onB < n) throw new Error(`after the migration only ${onB} of ${n} pods run revision ${B.name}`);
        console.error(`bench-migration: N=${n}: kubectl rollout restart loop`);
        const [kubectlLoop, kubectlCpu] = await cpuByProcess(async () => {
            const start = process.hrtime.bigint();
            for (const app of apps) {
                await cluster.kubectlAsync("rollout", "restart", `deployment/${app}`, "-n", NAMESPACE);
                await cluster.kubectlAsync("rollout", "status", `deployment/${app}`, "-n", NAMESPACE, "--timeout=10m");
            }
            return Number(process.hrtime.bigint() - start) / 1e9;
        }, cluster.clusterDir);
        return { n, stackUp: stack.seconds, stackCpu, kubectlLoop, kubectlCpu };
    } finally {
        pulumi("destroy", "--yes");
        cluster.purgeCrds();
        cluster.sh("pulumi", ["stack", "rm", "--yes", "--force", STACK], { quiet: true });
        fs.rmSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), { force: true });
        if (ownCluster) cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), "down"], { quiet: true });
        else cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=true");
    }
}

async function main(): Promise<void> {
    const rows: MigrationRow[] = [];
    for (const n of sizes) rows.push(await measure(n));
    const cpu = (rows: [string, number][]) =>
        ["node (the Pulumi program)", "pulumi", "kube-apiserver", "kubectl"]
            .map((l) => cpuOf(rows, l).toFixed(1))
            .join(" / ");
    const text = [
        `A canary move of N one-replica Deployments (one namespace, tag stable ${A.name} -> ${B.name}, batch size ${batchSize}), against a plain \`kubectl rollout restart\` + \`rollout status\` loop on the same cluster (one run each):`,
        "",
        "| N | the stack's `up` (s) | restarts/min | CPU-s: program / CLI / API server / kubectl | kubectl loop (s) | restarts/min | CPU-s: program / CLI / API server / kubectl | `up` ÷ loop |",
        "| ---: | ---: | ---: | --- | ---: | ---: | --- | ---: |",
        ...rows.map(
            (r) =>
                `| ${r.n} | ${r.stackUp.toFixed(1)} | ${perMinute(r.n, r.stackUp).toFixed(0)} | ${cpu(r.stackCpu)} | ${r.kubectlLoop.toFixed(1)} | ${perMinute(r.n, r.kubectlLoop).toFixed(0)} | ${cpu(r.kubectlCpu)} | ${(r.stackUp / r.kubectlLoop).toFixed(2)} |`,
        ),
    ].join("\n");
    const artifacts = path.join(projectDir, "artifacts");
    fs.mkdirSync(artifacts, { recursive: true });
    fs.writeFileSync(path.join(artifacts, "bench-migration.md"), text + "\n");
    writeDocSection("migration", `Measured ${new Date().toISOString().slice(0, 16)} UTC.\n\n${text}`);
    console.log(text);
}

main().catch((e: Error) => {
    console.error(`bench-migration: ${e.message}`);
    process.exit(1);
});
