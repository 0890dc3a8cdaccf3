// `npm run bench`: times this stack against the two usual ways of installing the
// same Istio on the same local cluster, and prints the figures. Not a test: the
// machines are shared and noisy, so nothing here asserts a time.
//
//   pulumi   fresh `pulumi up`, no-op `pulumi preview`, upgrade preview 1.29.6 -> 1.30.3,
//            and a preview of a config with a typo (until its error is reported)
//   helm     the same charts with the same values, `helm install --wait` in sequence, + addons
//   istioctl `istioctl install` with the equivalent profile (demo + CNI)
//
// Each figure is the median of BENCH_RUNS runs (default 3). Peak memory is the
// high-water mark of the Node.js process that runs the Pulumi program.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { parseStackConfig, projectConfigKeys, resolveReleaseData, StackConfig } from "../components/prepare";
import { ChartEntry, installPlan, planEntries } from "../components/charts/plan";
import { chartAt } from "../components/charts/values";
import {
    benchCluster,
    cpuByProcess,
    cpuOf,
    machineBusySeconds,
    median,
    projectDir,
    pulumiWithPeakMemory,
    seconds,
    secondsToFailure,
    writeDocSection,
} from "./bench-lib";

const { clusterDir, kubeconfig, sh, kubectl, purgeCrds } = benchCluster(
    process.env.ISTIO_MESH_CLUSTER_DIR ?? path.join(projectDir, ".cluster"),
);
const runs = Number(process.env.BENCH_RUNS ?? "3");
const STACK = "bench";
const TARGET = "1.30.3";
const PREVIOUS = "1.29.6";
const pulumi = (...args: string[]) => sh("pulumi", [...args, "--stack", STACK]);
/** The processes whose CPU-seconds the table shows, by their label in cpuByProcess. */
const PROCESSES = ["node (the Pulumi program)", "pulumi", "pulumi-resource-kubernetes", "kube-apiserver"];

/** The local stack's settings at `version`, its charts and addon manifests on disk (as the program has them). */
async function localConfig(version: string): Promise<StackConfig> {
    const file = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.local.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    const parsed = parseStackConfig({ ...projectConfigKeys(file.config), version }, projectDir);
    return (await resolveReleaseData(parsed, { baseDir: projectDir })).config;
}

/** The Helm path of the runbook with this stack's install plan: one `helm install --wait` after another. */
function helmInstallChain(c: StackConfig): void {
    const valuesDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-values-"));
    const install = (entry: ChartEntry) => {
        const file = path.join(valuesDir, `${entry.release}.json`);
        fs.writeFileSync(file, JSON.stringify(entry.values));
        sh(
            "helm",
            [
                "install",
                entry.release,
                chartAt(entry.chart, entry.source, entry.version).chart,
                "-n",
                entry.namespace,
                "--create-namespace",
                "-f",
                file,
                "--wait",
                "--timeout",
                "10m",
            ],
            { quiet: true },
        );
    };
    const plan = installPlan(c);
    for (const entry of plan) if (entry.chart !== "addon manifest") install(entry);
    const addons = planEntries(plan, "addon manifest");
    for (const a of addons) kubectl("apply", "-f", path.join(a.source, a.file));
    for (const a of addons)
        kubectl("rollout", "status", `deployment/${a.workload.name}`, "-n", a.namespace, "--timeout=5m");
}

function helmUninstall(c: StackConfig): void {
    const plan = installPlan(c);
    for (const entry of [...plan].reverse()) {
        if (entry.chart === "addon manifest") continue;
        sh("helm", ["uninstall", entry.release, "-n", entry.namespace, "--wait"], { quiet: true });
    }
    // The addon manifests hold cluster-scoped objects too (prometheus' ClusterRole).
    for (const a of planEntries(plan, "addon manifest"))
        kubectl("delete", "--ignore-not-found", "-f", path.join(a.source, a.file));
    kubectl("delete", "namespace", c.namespace, "--wait=true");
    purgeCrds();
}

function istioctlInstall(): void {
    sh(
        "istioctl",
        [
            "install",
            "-y",
            "--kubeconfig",
            kubeconfig,
            "--set",
            "profile=demo",
            "--set",
            "components.cni.enabled=true",
            "--set",
            "values.gateways.istio-ingressgateway.type=NodePort",
            "--readiness-timeout",
            "10m",
        ],
        { quiet: true },
    );
}

function istioctlUninstall(): void {
    sh("istioctl", ["uninstall", "-y", "--purge", "--kubeconfig", kubeconfig], { quiet: true });
    if (kubectl("get", "namespace", "-o", "name").includes("namespace/istio-system"))
        kubectl("delete", "namespace", "istio-system", "--wait=true");
    purgeCrds();
}

async function main(): Promise<void> {
    if (!fs.existsSync(kubeconfig)) throw new Error(`no cluster at ${kubeconfig}: run npm run cluster:up`);
    const target = await localConfig(TARGET);
    fs.copyFileSync(path.join(projectDir, "Pulumi.local.yaml"), path.join(projectDir, `Pulumi.${STACK}.yaml`));
    sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
    pulumi("config", "set", "kubernetes:kubeconfig", kubeconfig);
    const r: Record<string, number[]> = {
        up: [],
        upNoCheckpoints: [],
        noop: [],
        upgrade: [],
        badConfig: [],
        helm: [],
        istioctl: [],
        peakKb: [],
    };
    // Busy CPU-seconds of the whole machine during each operation.
    const cpu: Record<string, number[]> = {
        up: [],
        upNoCheckpoints: [],
        noop: [],
        upgrade: [],
        helm: [],
        istioctl: [],
    };
    // CPU-seconds of the Pulumi program, the CLI, the provider and the API server in each operation.
    const byProcess: Record<string, Record<string, number[]>> = {};
    const busy = async <T>(key: string, fn: () => T | Promise<T>): Promise<T> => {
        const before = machineBusySeconds();
        const [result, rows] = await cpuByProcess(async () => fn(), clusterDir);
        cpu[key].push(machineBusySeconds() - before);
        // Processes that start and end while the benchmark waits synchronously (the
        // Helm and istioctl chains) are never sampled: only the Pulumi runs are split.
        if (!key.startsWith("up") && key !== "noop" && key !== "upgrade") return result;
        byProcess[key] ??= {};
        for (const label of PROCESSES) (byProcess[key][label] ??= []).push(cpuOf(rows, label));
        return result;
    };
    for (let i = 1; i <= runs; i++) {
        console.error(`bench: run ${i}/${runs}`);
        pulumi("config", "set", "istio-mesh:version", TARGET);
        const up = await busy("up", () => pulumiWithPeakMemory(STACK, ["up", "--yes", "--skip-preview"]));
        r.up.push(up.seconds);
        r.peakKb.push(up.peakKb);
        r.noop.push(
            (await busy("noop", () => pulumiWithPeakMemory(STACK, ["preview", "--expect-no-changes"]))).seconds,
        );
        pulumi("config", "set", "istio-mesh:profile", "demoo");
        r.badConfig.push(secondsToFailure("pulumi", ["preview", "--stack", STACK]));
        pulumi("config", "set", "istio-mesh:profile", "demo");
        pulumi("destroy", "--yes");
        purgeCrds();
        // The same install without the state file rewritten after every step.
        const upFast = await busy("upNoCheckpoints", () =>
            pulumiWithPeakMemory(STACK, ["up", "--yes", "--skip-preview"], { PULUMI_SKIP_CHECKPOINTS: "true" }),
        );
        r.upNoCheckpoints.push(upFast.seconds);
        pulumi("destroy", "--yes");
        purgeCrds();

        pulumi("config", "set", "istio-mesh:version", PREVIOUS);
        pulumi("up", "--yes", "--skip-preview");
        pulumi("config", "set", "istio-mesh:version", TARGET);
        r.upgrade.push((await busy("upgrade", () => pulumiWithPeakMemory(STACK, ["preview", "--diff"]))).seconds);
        pulumi("config", "set", "istio-mesh:version", PREVIOUS);
        pulumi("destroy", "--yes");
        purgeCrds();

        r.helm.push(await busy("helm", () => seconds(() => helmInstallChain(target))));
        helmUninstall(target);
        r.istioctl.push(await busy("istioctl", () => seconds(istioctlInstall)));
        istioctlUninstall();
    }
    sh("pulumi", ["stack", "rm", "--yes", "--force", STACK], { quiet: true });

    const m = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
    const c = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, median(v)]));
    const processCpu = (key: string) =>
        byProcess[key] ? PROCESSES.map((label) => median(byProcess[key][label]).toFixed(1)).join(" / ") : "";
    const row = (name: string, key: string, busySeconds?: number) =>
        `| ${name} | ${m[key].toFixed(1)} | ${(m[key] / m.helm).toFixed(2)} | ${(m[key] / m.istioctl).toFixed(2)} | ${busySeconds === undefined ? "" : busySeconds.toFixed(1)} | ${processCpu(key)} |`;
    const table = [
        `Istio ${TARGET} on the local cluster, median of ${runs} run(s), seconds; CPU-seconds by process (median) beside the wall time:`,
        "",
        `| operation | median s | ÷ helm install chain | ÷ istioctl install | machine CPU-s | CPU-s: ${PROCESSES.join(" / ")} |`,
        "| --- | ---: | ---: | ---: | ---: | --- |",
        row("pulumi up (fresh install)", "up", c.up),
        row("pulumi up (fresh install), PULUMI_SKIP_CHECKPOINTS=true", "upNoCheckpoints", c.upNoCheckpoints),
        row("pulumi preview (no-op)", "noop", c.noop),
        row(`pulumi preview (upgrade ${PREVIOUS} -> ${TARGET})`, "upgrade", c.upgrade),
        row("pulumi preview (config typo, until the error)", "badConfig"),
        row("helm install --wait chain", "helm", c.helm),
        row("istioctl install", "istioctl", c.istioctl),
        "",
        `Peak memory of the Pulumi program during pulumi up: ${(m.peakKb / 1024).toFixed(0)} MiB (median; runs: ${r.peakKb.map((k) => (k / 1024).toFixed(0)).join(", ")} MiB).`,
    ].join("\n");
    console.log(table);
    console.log(`all runs: ${JSON.stringify(r)}; machine CPU-s: ${JSON.stringify(cpu)}`);
    writeDocSection("ratios", `Measured ${new Date().toISOString().slice(0, 16)} UTC.\n\n${table}`);
}

main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
});
