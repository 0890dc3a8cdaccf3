// What the two benchmarks (scripts/bench.ts, scripts/bench-scale.ts) share: running
// commands against one local cluster, wall-clock timing, and the peak memory of
// the Pulumi program. Figures only: nothing here asserts a time.
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findProjectDir } from "../components/config";

export const projectDir = findProjectDir(__dirname);

/** Commands against the local cluster whose state lives in `clusterDir`. */
export function benchCluster(clusterDir: string) {
    const kubeconfig = path.join(clusterDir, "kubeconfig");
    const sh = (cmd: string, args: string[], opts: { quiet?: boolean; input?: string } = {}): string =>
        execFileSync(cmd, args, {
            cwd: projectDir,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            input: opts.input,
            stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", opts.quiet ? "pipe" : "inherit"],
            env: { ...process.env, KUBECONFIG: kubeconfig },
        });
    const kubectl = (...args: string[]) => sh("kubectl", args, { quiet: true });
    /** Istio's CRDs are kept by every uninstall path; a fresh install needs them gone. */
    const purgeCrds = () => {
        const crds = kubectl("get", "crd", "-o", "name")
            .split("\n")
            .filter((n) => n.endsWith(".istio.io"));
        if (crds.length > 0) kubectl("delete", "--wait=true", ...crds);
    };
    return { clusterDir, kubeconfig, sh, kubectl, purgeCrds };
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

/** Wall time of `pulumi <args> --stack <stack>` and the peak RSS (kB) of the program's Node.js process meanwhile. */
export function pulumiWithPeakMemory(stack: string, args: string[]): Promise<{ seconds: number; peakKb: number }> {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn("pulumi", [...args, "--stack", stack], { cwd: projectDir, stdio: "ignore" });
        let peakKb = 0;
        const poll = setInterval(() => {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                try {
                    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    if (!cmdline.includes("@pulumi/pulumi/cmd/run")) continue;
                    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
                    if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
                } catch {
                    // the process ended between listing and reading
                }
            }
        }, 100);
        child.on("exit", (code) => {
            clearInterval(poll);
            if (code !== 0) reject(new Error(`pulumi ${args.join(" ")} exited ${code}`));
            else resolve({ seconds: Number(process.hrtime.bigint() - start) / 1e9, peakKb });
        });
    });
}
