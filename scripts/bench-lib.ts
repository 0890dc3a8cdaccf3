// What the two benchmarks (scripts/bench.ts, scripts/bench-scale.ts) share: running
// commands against one local cluster, wall-clock timing, and the peak memory of
// the Pulumi program. Figures only: nothing here asserts a time.
import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { findProjectDir } from "../components/config";

export const projectDir = findProjectDir(__dirname);

/**
 * The environment of every command the benchmarks run, read when each starts (the
 * scale mode changes process.env between sizes). Their stacks are throwaway: no
 * copy of their state in .pulumi-state/.pulumi/backups before each of their many updates.
 */
const benchEnv = () => ({ ...process.env, PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS: "true" });

/** Commands against the local cluster whose state lives in `clusterDir`. */
export function benchCluster(clusterDir: string) {
    const kubeconfig = path.join(clusterDir, "kubeconfig");
    /** Runs a command in the project (or `cwd`) against this cluster; `env` adds variables. */
    const sh = (
        cmd: string,
        args: string[],
        opts: { quiet?: boolean; input?: string; cwd?: string; env?: Record<string, string> } = {},
    ): string =>
        execFileSync(cmd, args, {
            cwd: opts.cwd ?? projectDir,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            input: opts.input,
            stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", opts.quiet ? "pipe" : "inherit"],
            env: { ...benchEnv(), KUBECONFIG: kubeconfig, ...opts.env },
        });
    const kubectl = (...args: string[]) => sh("kubectl", args, { quiet: true });
    /** kubectl without blocking the event loop, so cpuByProcess samples it meanwhile. */
    const kubectlAsync = (...args: string[]): Promise<string> =>
        new Promise((resolve, reject) =>
            execFile(
                "kubectl",
                args,
                { cwd: projectDir, encoding: "utf8", env: { ...benchEnv(), KUBECONFIG: kubeconfig } },
                (error, stdout) => (error ? reject(error) : resolve(stdout)),
            ),
        );
    /**
     * Istio's and the Gateway API's CRDs are kept by every uninstall path; a fresh
     * install needs them gone, or the next run would find CRDs of a stack that no
     * longer exists and leave them instead of installing its own.
     */
    const purgeCrds = () => {
        const crds = kubectl("get", "crd", "-o", "name")
            .split("\n")
            .filter((n) => n.endsWith(".istio.io") || n.endsWith(".gateway.networking.k8s.io"));
        if (crds.length > 0) kubectl("delete", "--wait=true", ...crds);
    };
    return { clusterDir, kubeconfig, sh, kubectl, kubectlAsync, purgeCrds };
}

/**
 * CPU-seconds the whole machine has spent busy so far (every process: the tool,
 * the API server, etcd, istiod...), from /proc/stat. The difference across an
 * operation is the work it cost, which on a 2-core machine bounds its wall time
 * from below (busy CPU-seconds / 2).
 */
export function machineBusySeconds(): number {
    const ticks = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = ticks[3] + (ticks[4] ?? 0);
    // USER_HZ, the unit of /proc/stat, is 100 on Linux.
    return (ticks.reduce((a, b) => a + b, 0) - idle) / 100;
}

/** The pids of the processes running now. */
function processIds(): string[] {
    return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p));
}

/** What a process is, for the CPU table: its program, and for Node.js the script it runs. */
function processLabel(cmdline: string[]): string {
    const program = path.basename(cmdline[0] ?? "?");
    if (program !== "node") return program;
    const line = cmdline.join(" ");
    if (line.includes("@pulumi/pulumi/cmd/run/")) return "node (the Pulumi program)";
    if (line.includes("dynamic-provider")) return "node (dynamic provider)";
    if (line.includes("run-policy-pack")) return "node (policy pack)";
    if (line.includes("local-istiod")) return "node (local-istiod)";
    return "node (other)";
}

/** The parent of a process, from /proc/<pid>/stat; undefined once it is gone. */
function parentOf(pid: string): string | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
    } catch {
        return undefined;
    }
}

/** Whether `pid` was started, however indirectly, by this benchmark. */
function startedByUs(pid: string): boolean {
    const us = String(process.pid);
    for (let p: string | undefined = pid, depth = 0; p && p !== "0" && depth < 64; p = parentOf(p), depth++) {
        if (p === us) return true;
    }
    return false;
}

/**
 * Runs `fn` while sampling the CPU time (/proc/<pid>/stat, every 100 ms) of the
 * processes it concerns and returns the CPU-seconds each kind of process spent
 * meanwhile, largest first. On a machine others share, only what this benchmark
 * started (the CLI, the program, the providers, kubectl...) and, with `clusterDir`,
 * the processes of that cluster (whose command lines name its folder: the API
 * server, etcd, istiod...) are counted. A process that ends between two samples
 * loses at most its last 100 ms.
 */
export async function cpuByProcess<T>(fn: () => Promise<T>, clusterDir?: string): Promise<[T, [string, number][]]> {
    const first = new Map<string, number>();
    const last = new Map<string, { label: string; ticks: number }>();
    const ignored = new Set<string>();
    const sample = (initial: boolean) => {
        for (const pid of processIds()) {
            if (ignored.has(pid)) continue;
            try {
                const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
                const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
                const ticks = Number(fields[11]) + Number(fields[12]);
                if (!last.has(pid)) {
                    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    if (!(startedByUs(pid) || (clusterDir !== undefined && raw.includes(clusterDir)))) {
                        ignored.add(pid);
                        continue;
                    }
                    last.set(pid, { label: processLabel(raw.split("\0")), ticks });
                    first.set(pid, initial ? ticks : 0);
                }
                last.get(pid)!.ticks = ticks;
            } catch {
                // the process ended between listing and reading
            }
        }
    };
    sample(true);
    const timer = setInterval(() => sample(false), 100);
    try {
        const result = await fn();
        sample(false);
        const byLabel = new Map<string, number>();
        for (const [pid, { label, ticks }] of last) {
            const used = (ticks - (first.get(pid) ?? 0)) / 100;
            if (used > 0) byLabel.set(label, (byLabel.get(label) ?? 0) + used);
        }
        return [result, [...byLabel.entries()].sort((a, b) => b[1] - a[1])];
    } finally {
        clearInterval(timer);
    }
}

export function seconds(fn: () => void): number {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Seconds until a command that must fail has failed. */
export function secondsToFailure(cmd: string, args: string[]): number {
    const start = process.hrtime.bigint();
    try {
        execFileSync(cmd, args, { cwd: projectDir, stdio: "ignore" });
    } catch {
        return Number(process.hrtime.bigint() - start) / 1e9;
    }
    throw new Error(`${cmd} ${args.join(" ")} succeeded, but it was meant to fail`);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Wall time of `pulumi <args> --stack <stack>` (in the project at `cwd`) and the
 * peak RSS (kB) of its program's Node.js process meanwhile: only a program this
 * run started counts, not another one on the same machine (a test lane beside it).
 */
export function pulumiWithPeakMemory(
    stack: string,
    args: string[],
    env: Record<string, string> = {},
    cwd = projectDir,
): Promise<{ seconds: number; peakKb: number }> {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn("pulumi", [...args, "--stack", stack], {
            cwd,
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...benchEnv(), ...env },
        });
        // The end of what it printed, for the error of a run that failed.
        let tail = "";
        const keep = (chunk: Buffer) => {
            tail = (tail + chunk.toString("utf8")).slice(-4000);
        };
        child.stdout.on("data", keep);
        child.stderr.on("data", keep);
        let peakKb = 0;
        const poll = setInterval(() => {
            for (const pid of processIds()) {
                try {
                    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    if (!cmdline.includes("@pulumi/pulumi/cmd/run") || !startedByUs(pid)) continue;
                    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
                    if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
                } catch {
                    // the process ended between listing and reading
                }
            }
        }, 100);
        child.on("exit", (code) => {
            clearInterval(poll);
            if (code !== 0) reject(new Error(`pulumi ${args.join(" ")} exited ${code}:\n${tail}`));
            else resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, peakKb });
        });
    });
}

/**
 * The stack file of a benchmark stack: the local stack's settings, with `overrides`
 * on top, and on top of those BENCH_STACK_CONFIG, a JSON object of settings by key
 * (`{"istio-mesh:profile": "minimal"}`): the test suite's smoke runs of the modes
 * install a smaller mesh with it.
 */
export function writeBenchStackFile(stack: string, overrides: Record<string, unknown>): void {
    const local = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.local.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    fs.writeFileSync(
        path.join(projectDir, `Pulumi.${stack}.yaml`),
        yaml.dump({ config: { ...local.config, ...overrides, ...settingsFromEnv() } }),
    );
}

/** BENCH_STACK_CONFIG, parsed; an error names the variable and what it must be. */
function settingsFromEnv(): Record<string, unknown> {
    const text = process.env.BENCH_STACK_CONFIG;
    if (text === undefined || text === "") return {};
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (e) {
        throw new Error(`BENCH_STACK_CONFIG is not JSON (${(e as Error).message}): ${text}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error(`BENCH_STACK_CONFIG must be a JSON object of stack settings by key, not ${text}`);
    }
    return parsed as Record<string, unknown>;
}

/** N namespaces `<prefix><i>`, each with a one-replica Deployment `app`, applied in one request. */
export function createAppNamespaces(
    cluster: ReturnType<typeof benchCluster>,
    prefix: string,
    n: number,
): { namespaces: string[]; workloads: { namespace: string; kind: string; name: string }[] } {
    const namespaces = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    const docs = namespaces.flatMap((ns) => [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
        appDeployment("app", ns),
    ]);
    if (docs.length > 0) {
        cluster.sh("kubectl", ["apply", "-f", "-"], {
            quiet: true,
            input: JSON.stringify({ apiVersion: "v1", kind: "List", items: docs }),
        });
    }
    return {
        namespaces,
        workloads: namespaces.map((namespace) => ({ namespace, kind: "Deployment", name: "app" })),
    };
}

/** A one-replica Deployment of the pause image (KWOK runs nothing; the pod only has to exist and be ready). */
export function appDeployment(name: string, namespace: string): object {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace },
        spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: {
                metadata: { labels: { app: name } },
                spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
            },
        },
    };
}

/** Runs `work` on every item, at most `concurrency` at once; resolves when all are done (the first failure rejects). */
export async function inParallel<T>(
    items: T[],
    concurrency: number,
    work: (item: T) => Promise<unknown>,
): Promise<void> {
    let next = 0;
    const worker = async () => {
        while (next < items.length) await work(items[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/** Where `npm run bench` writes its tables: docs/performance.md, between markers the benchmark owns. */
export const PERFORMANCE_DOC = path.join(projectDir, "docs", "performance.md");

/**
 * Replaces the generated section `name` of docs/performance.md (between
 * `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`) with `markdown`.
 * BENCH_DOC=none leaves the doc alone (the untimed runs of the test suite).
 * A doc without the markers is an error: the benchmark never guesses where its
 * figures go.
 */
export function writeDocSection(name: string, markdown: string): void {
    if (process.env.BENCH_DOC === "none") return;
    const begin = `<!-- bench:${name}:begin -->`;
    const end = `<!-- bench:${name}:end -->`;
    const doc = fs.readFileSync(PERFORMANCE_DOC, "utf8");
    const from = doc.indexOf(begin);
    const to = doc.indexOf(end);
    if (from < 0 || to < from) throw new Error(`${PERFORMANCE_DOC} has no section ${begin} ... ${end}`);
    const body = `${begin}\n<!-- written by npm run bench; edits here are overwritten -->\n\n${markdown.trim()}\n\n`;
    fs.writeFileSync(PERFORMANCE_DOC, doc.slice(0, from) + body + doc.slice(to));
    console.error(`bench: wrote section ${name} of ${path.relative(projectDir, PERFORMANCE_DOC)}`);
}

/** The CPU-seconds of the processes that matter for a Pulumi run, as `label s, label s` (largest first). */
export function cpuSummary(rows: [string, number][], top = 5): string {
    return rows
        .filter(([label]) => label !== "node (other)")
        .slice(0, top)
        .map(([label, s]) => `${label} ${s.toFixed(1)}`)
        .join(", ");
}

/** The CPU-seconds one kind of process spent, 0 when it did not run. */
export function cpuOf(rows: [string, number][], label: string): number {
    return rows.find(([l]) => l === label)?.[1] ?? 0;
}
