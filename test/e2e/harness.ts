// Shared by the end-to-end tests: the real Pulumi CLI through the Automation API,
// and kubectl against the local cluster to check what the engine claims.
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

export const projectDir = path.resolve(__dirname, "../..");
export const clusterDir = process.env.ISTIO_MESH_CLUSTER_DIR ?? path.join(projectDir, ".cluster");
export const kubeconfig = path.join(clusterDir, "kubeconfig");
export const artifactsDir = path.join(projectDir, "artifacts");

/** Fails the suite early, with the fix, when the cluster is not up. */
export function requireCluster(): void {
    if (!fs.existsSync(kubeconfig)) {
        throw new Error(
            `no local cluster: ${kubeconfig} is missing; run \`npm run cluster:up\` (npm test does it for you)`,
        );
    }
}

export function kubectl(...args: string[]): string {
    return execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 256 * 1024 * 1024,
    });
}

/** kubectl get -o json, parsed. Kubernetes objects are free-form JSON, hence `any` by default. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function kubectlJson<T = any>(...args: string[]): T {
    return JSON.parse(kubectl("get", ...args, "-o", "json")) as T;
}

export function exists(...args: string[]): boolean {
    try {
        kubectl("get", ...args);
        return true;
    } catch {
        return false;
    }
}

/** A user's Deployment `name` of two pods, as a user creates it: `kubectl apply`, outside any stack. */
export function applyUserDeployment(
    namespace: string,
    name: string,
    container: { image: string; command?: string[] },
): void {
    const manifest = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace },
        spec: {
            replicas: 2,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, ...container }] } },
        },
    };
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], { input: JSON.stringify(manifest) });
}

export function saveArtifact(name: string, text: string): string {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const file = path.join(artifactsDir, name);
    fs.writeFileSync(file, text);
    return file;
}

/**
 * Environment for the CLI: everything of ours (PATH, PULUMI_HOME, backend,
 * passphrase), no confirmations, and no copy of the whole state in
 * .pulumi-state/.pulumi/backups before each update: the suites' stacks are
 * throwaway, and those copies grew the project's state folder by hundreds of MB a run.
 */
export function cliEnv(): Record<string, string> {
    return {
        ...(process.env as Record<string, string>),
        PULUMI_SKIP_CONFIRMATIONS: "true",
        PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS: "true",
    };
}

/**
 * With the file backend, the CLI rewrites the whole state file after every step
 * (a 4 MB state for the local stack, whose CRDs and dashboards are large): about
 * 14 of the 37 CPU-seconds of a fresh install (`npm run bench -- --breakdown`). The
 * suites' stacks skip those intermediate checkpoints (PULUMI_SKIP_CHECKPOINTS):
 * the final state is the same; only a run killed midway would leave no record of
 * its steps, and the lifecycle suite's killed update runs the CLI itself, as users
 * do, with them.
 */
export interface FreshStackOptions {
    /** A stack file whose settings the stack starts with (copied to Pulumi.<stack>.yaml). */
    configFile?: string;
    /**
     * Settings for a stack on the local cluster: set after the config file's, beside
     * `kubernetes:kubeconfig`, which they come with. Without them the stack gets no
     * kubeconfig.
     */
    config?: ConfigMap;
}

/** The stack config key (and stack tag) that declares what a stack is. */
const ENVIRONMENT_KEY = "istio-mesh:environment";

/** A stack of a project directory, created fresh (or selected) with the given settings. */
export async function freshStack(workDir: string, stackName: string, options: FreshStackOptions = {}): Promise<Stack> {
    if (options.configFile) fs.copyFileSync(options.configFile, path.join(workDir, `Pulumi.${stackName}.yaml`));
    const envVars = { ...cliEnv(), PULUMI_SKIP_CHECKPOINTS: "true" };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { envVars });
    // Every stack a suite creates is on the local cluster and says so, unless its
    // config declares otherwise: scripts/env.sh gives the empty passphrase only to
    // stacks that declare themselves local, and the policy pack reads it.
    const declared =
        (options.config !== undefined && ENVIRONMENT_KEY in options.config) ||
        (options.configFile !== undefined &&
            new RegExp(`^\\s+${ENVIRONMENT_KEY}:`, "m").test(fs.readFileSync(options.configFile, "utf8")));
    const local: ConfigMap = declared ? {} : { [ENVIRONMENT_KEY]: { value: "local" } };
    if (options.config) {
        await stack.setAllConfig({ "kubernetes:kubeconfig": { value: kubeconfig }, ...local, ...options.config });
    } else if (!declared) {
        await stack.setAllConfig(local);
    }
    return stack;
}

/** `istio-mesh:addons` with every addon off, whatever the profile turns on. */
export const NO_ADDONS = JSON.stringify({ prometheus: false, grafana: false, kiali: false, jaeger: false });

/**
 * The local stack's smallest control plane: istiod and the CRDs, no gateways, CNI,
 * addons or Gateway API CRDs. For suites about something other than those
 * components (a refused upgrade, the CI scripts): it installs and destroys in a
 * fraction of the local stack's time.
 */
export const MINIMAL_MESH: Record<string, string> = {
    "istio-mesh:profile": "minimal",
    "istio-mesh:cni": JSON.stringify({ enabled: false }),
    "istio-mesh:gateways": "[]",
    "istio-mesh:addons": NO_ADDONS,
    "istio-mesh:gatewayApi": JSON.stringify({ enabled: false }),
};

/** The settings of Pulumi.local.yaml, the stack every suite starts from. */
export function localStackConfig(): Record<string, unknown> {
    const file = yaml.load(fs.readFileSync(path.join(projectDir, "Pulumi.local.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    return file.config;
}

/** Sets each of `values` (plain strings, JSON for objects) in the stack's config. */
export async function setConfigValues(stack: Stack, values: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(values)) await stack.setConfig(key, { value });
}

/**
 * Removes the Gateway API CRDs (and v1.5's safe-upgrades policy) a suite's stack kept
 * on destroy: the stack marks them as its own, so the next suite's stack would find
 * someone else's CRDs and leave them, and would not install or upgrade its own.
 */
export function removeGatewayApiCrds(): void {
    kubectl(
        "delete",
        "validatingadmissionpolicybinding,validatingadmissionpolicy",
        "safe-upgrades.gateway.networking.k8s.io",
        "--ignore-not-found",
    );
    const names = kubectlJson<{ items: { metadata: { name: string }; spec: { group: string } }[] }>(
        "customresourcedefinitions",
    )
        .items.filter((c) => c.spec.group === "gateway.networking.k8s.io")
        .map((c) => c.metadata.name);
    if (names.length > 0) kubectl("delete", "crd", ...names, "--wait=true");
}

/** Writes a suite's step times as a markdown table to artifacts/<suite>-timings.md and prints it. */
export function reportTimings(suite: string, timings: [string, number][]): void {
    const table = [
        "| step | wall time (s) |",
        "| --- | ---: |",
        ...timings.map(([n, s]) => `| ${n} | ${s.toFixed(1)} |`),
    ].join("\n");
    const file = saveArtifact(`${suite}-timings.md`, table + "\n");
    console.log(`${suite} step timings (also in ${file}):\n${table}`);
}

/** A runner of named steps that records each one's wall time in `timings` (see reportTimings). */
export function stepTimer(timings: [string, number][]): <T>(name: string, fn: () => Promise<T>) => Promise<T> {
    return async (name, fn) => {
        const [result, seconds] = await timed(fn);
        timings.push([name, seconds]);
        return result;
    };
}

/** Wall-clock seconds of an async step. */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
    const start = process.hrtime.bigint();
    const result = await fn();
    return [result, Number(process.hrtime.bigint() - start) / 1e9];
}

/** Polls `check` until it returns a value other than undefined, or fails after `seconds` with `what`. */
export async function waitFor<T>(what: string, seconds: number, check: () => T | undefined): Promise<T> {
    const deadline = Date.now() + seconds * 1000;
    let lastError: unknown;
    for (;;) {
        try {
            const v = check();
            if (v !== undefined) return v;
        } catch (e) {
            lastError = e;
        }
        if (Date.now() > deadline) {
            throw new Error(
                `timed out after ${seconds}s waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`,
            );
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** istioctl against the local cluster: its stdout and stderr (where some commands report); throws when it exits non-zero. */
export function istioctl(...args: string[]): string {
    const r = spawnSync("istioctl", ["--kubeconfig", kubeconfig, ...args], { encoding: "utf8" });
    const output = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`istioctl ${args.join(" ")} exited ${r.status ?? r.signal}:\n${output}`);
    return output;
}

/** What the local cluster's supervisor records about each istiod process it runs (scripts/local-istiod.ts). */
export interface LocalIstiod {
    namespace: string;
    deployment: string;
    revision: string;
    image: string;
    pid: number;
    ports: { http: number; https: number; grpc: number; secureGrpc: number; monitoring: number };
    startToReadySeconds: number | null;
}

export function localIstiods(): LocalIstiod[] {
    const dir = path.join(clusterDir, "istiod");
    if (!fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .map((d) => path.join(dir, d, "state.json"))
        .filter((f) => fs.existsSync(f))
        .map((f) => JSON.parse(fs.readFileSync(f, "utf8")) as LocalIstiod);
}
