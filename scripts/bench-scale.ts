// `npm run bench -- --scale`: how the stack's cost grows with the cluster. For each
// N (BENCH_SCALE_SIZES, default "10,100,500") it starts a local cluster of its own
// with N simulated nodes, creates N namespaces with one Deployment each, and
// deploys the local stack with those N namespaces under `injectionNamespaces` and
// the N Deployments under `sidecarRollout`. It times a fresh `pulumi up` (which
// labels the namespaces and restarts the workloads, so istiod injects N pods), a
// no-op preview and the 1.29.6 -> 1.30.3 upgrade preview, and records the
// program's peak memory. Figures go to artifacts/bench-scale.{md,json,svg}.
// Not a test: nothing here asserts a time.
import * as fs from "fs";
import * as path from "path";
import {
    benchCluster,
    createAppNamespaces,
    projectDir,
    pulumiWithPeakMemory,
    seconds,
    writeBenchStackFile,
    writeDocSection,
} from "./bench-lib";

const STACK = "bench-scale";
const FROM = "1.29.6";
const TO = "1.30.3";
const sizes = (process.env.BENCH_SCALE_SIZES ?? "10,100,500").split(",").map(Number);
const cluster = benchCluster(path.join(projectDir, ".cluster-scale"));
const artifacts = path.join(projectDir, "artifacts");

interface ScaleRow {
    n: number;
    resources: number;
    up: number;
    noop: number;
    upgrade: number;
    peakMiB: number;
}

/** scripts/cluster.sh for the scale cluster; the node count comes from ISTIO_MESH_CLUSTER_NODES. */
function clusterScript(command: "up" | "down"): void {
    cluster.sh("bash", [path.join(projectDir, "scripts/cluster.sh"), command], { quiet: true });
}

async function measure(n: number): Promise<ScaleRow> {
    process.env.ISTIO_MESH_CLUSTER_DIR = cluster.clusterDir;
    process.env.ISTIO_MESH_CLUSTER_NODES = String(n);
    clusterScript("down");
    clusterScript("up");
    const { namespaces, workloads } = createAppNamespaces(cluster, "scale-", n);
    const pulumi = (...args: string[]) => cluster.sh("pulumi", [...args, "--stack", STACK], { quiet: true });
    writeBenchStackFile(STACK, {
        "kubernetes:kubeconfig": cluster.kubeconfig,
        "istio-mesh:version": FROM,
        "istio-mesh:injectionNamespaces": namespaces,
        "istio-mesh:sidecarRollout": workloads,
    });
    cluster.sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
    try {
        console.error(`bench-scale: N=${n}: up`);
        const up = await pulumiWithPeakMemory(STACK, ["up", "--yes", "--skip-preview"]);
        const resources = (JSON.parse(pulumi("stack", "export")) as { deployment: { resources: unknown[] } }).deployment
            .resources.length;
        console.error(`bench-scale: N=${n}: previews`);
        const noop = seconds(() => pulumi("preview", "--expect-no-changes"));
        pulumi("config", "set", "istio-mesh:version", TO);
        const upgrade = seconds(() => pulumi("preview", "--diff"));
        return { n, resources, up: up.seconds, noop, upgrade, peakMiB: up.peakKb / 1024 };
    } finally {
        cluster.sh("pulumi", ["stack", "rm", "--yes", "--force", STACK], { quiet: true });
        fs.rmSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), { force: true });
        clusterScript("down");
    }
}

/** Least-squares slope and intercept of y over x. */
function fit(xs: number[], ys: number[]): { slope: number; intercept: number } {
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
    const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const slope = sxx === 0 ? 0 : sxy / sxx;
    return { slope, intercept: my - slope * mx };
}

async function main(): Promise<void> {
    const rows: ScaleRow[] = [];
    for (const n of sizes) rows.push(await measure(n));
    const lines = [
        `Istio ${FROM} local stack with N namespaces labelled and N workloads restarted, on N simulated nodes (one run each):`,
        "",
        "| N | resources in state | pulumi up (s) | no-op preview (s) | upgrade preview (s) | peak memory (MiB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        ...rows.map(
            (r) =>
                `| ${r.n} | ${r.resources} | ${r.up.toFixed(1)} | ${r.noop.toFixed(1)} | ${r.upgrade.toFixed(1)} | ${r.peakMiB.toFixed(0)} |`,
        ),
        "",
        "Cost per extra namespace + workload (least-squares slope over N):",
    ];
    const ns = rows.map((r) => r.n);
    for (const [name, key, unit, perN] of [
        ["pulumi up", "up", "s", "ms"],
        ["no-op preview", "noop", "s", "ms"],
        ["upgrade preview", "upgrade", "s", "ms"],
        ["peak memory", "peakMiB", "MiB", "KiB"],
    ] as const) {
        const { slope, intercept } = fit(
            ns,
            rows.map((r) => r[key]),
        );
        // Linear growth: the cost per N between the two largest sizes stays near the
        // overall slope; a quadratic term would make it grow with N.
        const last = rows.slice(-2);
        const marginal = last.length === 2 ? (last[1][key] - last[0][key]) / (last[1].n - last[0].n) : slope;
        lines.push(
            `- ${name}: ${(slope * 1000).toFixed(1)} ${perN} per N overall (intercept ${intercept.toFixed(1)} ${unit}), ${(marginal * 1000).toFixed(1)} ${perN} per N between the two largest sizes`,
        );
    }
    const table = lines.join("\n");
    fs.mkdirSync(artifacts, { recursive: true });
    fs.writeFileSync(path.join(artifacts, "bench-scale.md"), table + "\n");
    fs.writeFileSync(path.join(artifacts, "bench-scale.json"), JSON.stringify(rows, null, 2));
    cluster.sh(
        "node",
        [
            path.join(projectDir, "scripts/plot-scale.mjs"),
            path.join(artifacts, "bench-scale.json"),
            path.join(artifacts, "bench-scale.svg"),
        ],
        { quiet: true },
    );
    console.log(table);
    console.log(`chart: ${path.join(artifacts, "bench-scale.svg")}`);
    if (process.env.BENCH_DOC !== "none") {
        fs.copyFileSync(path.join(artifacts, "bench-scale.svg"), path.join(projectDir, "docs/perf/bench-scale.svg"));
    }
    writeDocSection(
        "scale",
        `Measured ${new Date().toISOString().slice(0, 16)} UTC.\n\n${table}\n\n![Wall time and peak memory against N](perf/bench-scale.svg)`,
    );
}

main().catch((e: Error) => {
    console.error(`bench-scale: ${e.message}`);
    process.exit(1);
});
