// Shared by the end-to-end tests: the real Pulumi CLI through the Automation API,
// and kubectl against the local cluster to check what the engine claims.
import { ConfigMap, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";

export const projectDir = path.resolve(__dirname, "../..");
/**
 * The test cluster's folder: no default. The suites delete Istio's CRDs and
 * namespaces, so they never fall back to the cluster `npm run up` made (.cluster).
 */
export const clusterDir = process.env.ISTIO_MESH_CLUSTER_DIR ? path.resolve(process.env.ISTIO_MESH_CLUSTER_DIR) : "";
export const kubeconfig = path.join(clusterDir, "kubeconfig");
export const artifactsDir = path.join(projectDir, "artifacts");
/**
 * The file scripts/test.sh writes into each cluster it starts for the suites: the
 * cluster is theirs to change. Without it the suites refuse the cluster unless
 * ISTIO_MESH_E2E_ALLOW_CLUSTER=1 says otherwise.
 */
export const TEST_CLUSTER_MARKER = "e2e-test-cluster";
/**
 * The suites' stacks live beside the test cluster they run on (and go with it on
 * `cluster.sh down`): a stack's state is only true of the cluster it was made on,
 * and two clusters side by side never share a stack.
 */
export const backendDir = path.join(clusterDir, "pulumi-state");

/** Why the suites may not use the cluster ISTIO_MESH_CLUSTER_DIR names, or undefined when they may. */
export function testClusterProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const dir = env.ISTIO_MESH_CLUSTER_DIR;
    const start =
        "run `npm test`, which starts test clusters of its own, or start one: " +
        "`export ISTIO_MESH_CLUSTER_DIR=$PWD/.cluster-test; bash scripts/cluster.sh up && touch $ISTIO_MESH_CLUSTER_DIR/" +
        `${TEST_CLUSTER_MARKER}\``;
    if (!dir) {
        return `ISTIO_MESH_CLUSTER_DIR is not set: the end-to-end suites delete Istio's CRDs and namespaces, so they run only on a test cluster named by it; ${start}`;
    }
    const resolved = path.resolve(dir);
    if (!fs.existsSync(path.join(resolved, "kubeconfig"))) {
        return `no local cluster: ${path.join(resolved, "kubeconfig")} is missing (ISTIO_MESH_CLUSTER_DIR=${dir}); ${start}`;
    }
    if (env.ISTIO_MESH_E2E_ALLOW_CLUSTER === "1" || fs.existsSync(path.join(resolved, TEST_CLUSTER_MARKER))) {
        return undefined;
    }
    return (
        `ISTIO_MESH_CLUSTER_DIR=${dir} is not a test cluster (it has no ${TEST_CLUSTER_MARKER} file): ` +
        "the end-to-end suites delete Istio's CRDs and namespaces in the cluster they run on; " +
        `${start}; or set ISTIO_MESH_E2E_ALLOW_CLUSTER=1 to let them change this cluster anyway`
    );
}

let clusterChecked = false;

/** Fails the suite early, with the fix, unless ISTIO_MESH_CLUSTER_DIR names a running test cluster. */
export function requireCluster(): void {
    if (clusterChecked) return;
    const problem = testClusterProblem();
    if (problem) throw new Error(problem);
    clusterChecked = true;
}

export function kubectl(...args: string[]): string {
    // Nothing reaches a cluster the suites were not given.
    requireCluster();
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

/**
 * Whether `kubectl get ARGS` finds the object: false only when the API server
 * answers NotFound. Any other failure (an unknown kind, a refused connection, a
 * timeout) throws with kubectl's message: an error is never taken for "absent".
 */
export function exists(...args: string[]): boolean {
    requireCluster();
    const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "get", ...args, "-o", "name"], { encoding: "utf8" });
    if (r.status === 0) return r.stdout.trim() !== "";
    if (/^Error from server \(NotFound\): /m.test(r.stderr)) return false;
    throw new Error(`kubectl get ${args.join(" ")} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
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
    requireCluster();
    fs.mkdirSync(backendDir, { recursive: true });
    return {
        ...(process.env as Record<string, string>),
        PULUMI_BACKEND_URL: `file://${backendDir}`,
        PULUMI_SKIP_CONFIRMATIONS: "true",
        PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS: "true",
    };
}

/**
 * The stack's state as `pulumi stack export` prints it for a user: secrets as
 * ciphertext. (The Automation API's exportStack decrypts them, so a check that a
 * secret is not stored in plain text must read this instead.)
 */
export function exportedState(workDir: string, stackName: string): string {
    return execFileSync("pulumi", ["stack", "export", "--stack", stackName], {
        cwd: workDir,
        env: cliEnv(),
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
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
    const stackFile = path.join(workDir, `Pulumi.${stackName}.yaml`);
    // A stack file without its stack is what a killed run left: its settings are not this run's.
    if (!stackExists(workDir, stackName)) fs.rmSync(stackFile, { force: true });
    if (options.configFile) fs.copyFileSync(options.configFile, stackFile);
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

/** The names of the CRDs of an API group and its subgroups ("istio.io": networking.istio.io, security.istio.io, ...). */
function crdsOfGroup(group: string): string[] {
    return kubectl(
        "get",
        "customresourcedefinitions",
        "-o",
        'jsonpath={range .items[*]}{.metadata.name} {.spec.group}{"\\n"}{end}',
    )
        .split("\n")
        .map((line) => line.split(" "))
        .filter(([name, g]) => name && (g === group || g?.endsWith(`.${group}`)))
        .map(([name]) => name);
}

/** Deletes the CRDs of an API group and its subgroups (and waits until they are gone): what a stack keeps on destroy. */
export function deleteCrds(group: string): void {
    const names = crdsOfGroup(group);
    if (names.length > 0) kubectl("delete", "crd", ...names, "--wait=true");
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
    deleteCrds("gateway.networking.k8s.io");
}

/** Deletes namespaces a suite made by hand, and waits until they are gone. */
export function deleteNamespaces(...names: string[]): void {
    kubectl("delete", "namespace", ...names, "--ignore-not-found", "--wait=true");
}

/**
 * The mirror ISTIO_MESH_RELEASE_MIRROR names (scripts/env.sh sets it when ../shared
 * is there): where a suite reads the release files it applies or serves by hand.
 * The stacks themselves find release data through the same setting, as users' do.
 */
export function releaseMirror(): string {
    const mirror = process.env.ISTIO_MESH_RELEASE_MIRROR;
    if (!mirror) {
        throw new Error(
            "ISTIO_MESH_RELEASE_MIRROR is not set: this suite applies release files by hand (the Gateway API CRDs, " +
                "charts served over HTTP) and reads them from the mirror it names; source scripts/env.sh (which sets it " +
                "when ../shared is there) or point it at a mirror of the official locations",
        );
    }
    return path.resolve(mirror);
}

/** The name of the Pulumi project in a directory (its Pulumi.yaml), or undefined when there is none. */
function projectName(workDir: string): string | undefined {
    const file = path.join(workDir, "Pulumi.yaml");
    if (!fs.existsSync(file)) return undefined;
    return (yaml.load(fs.readFileSync(file, "utf8")) as { name: string }).name;
}

/** Whether the suites' backend (backendDir, a file backend) holds the stack of the project. */
function stackInBackend(project: string, stackName: string): boolean {
    const base = path.join(backendDir, ".pulumi", "stacks", project, stackName);
    return [".json", ".json.gz"].some((ext) => fs.existsSync(base + ext));
}

/** Whether the suites' backend holds the stack of the project in workDir. */
export function stackExists(workDir: string, stackName: string): boolean {
    const project = projectName(workDir);
    return project !== undefined && stackInBackend(project, stackName);
}

/** Destroys a suite's stack and removes it; the removal without --force fails if the destroy left a resource. */
export async function destroyAndRemove(stack: Stack | undefined): Promise<void> {
    if (!stack) return;
    await stack.destroy({ onOutput: () => undefined });
    await stack.workspace.removeStack(stack.name);
}

/**
 * What a suite makes (or would find in its way) on the cluster and in the suites'
 * backend: it must find none of it when it starts and leave none of it when it ends.
 */
export interface FootprintParts {
    /** Its stacks, by Pulumi project name and stack name. */
    stacks?: [project: string, stack: string][];
    /** Namespaces it creates, by hand or through a stack. */
    namespaces?: string[];
    /** API groups whose CRDs it installs or keeps; "istio.io" stands for every *.istio.io group too. */
    crdGroups?: string[];
    /** Name prefixes of the cluster-wide RBAC objects and webhook configurations it makes. */
    clusterPrefixes?: string[];
    /** Other objects: [kind, name] or [kind, name, namespace]. */
    objects?: [kind: string, name: string, namespace?: string][];
    /** Labels it puts on namespaces it does not create: namespace -> label keys. */
    labels?: Record<string, string[]>;
}

/** A mesh's: the control plane namespace, Istio's CRDs (kept on destroy), its RBAC, webhooks and CNI, its injection labels. */
export const MESH_FOOTPRINT: FootprintParts = {
    namespaces: ["istio-system"],
    crdGroups: ["istio.io"],
    clusterPrefixes: ["istio", "ztunnel"],
    objects: [
        ["daemonset", "istio-cni-node", "kube-system"],
        ["configmap", "istio-cni-config", "kube-system"],
    ],
    labels: { default: ["istio-injection", "istio.io/rev", "istio.io/dataplane-mode"] },
};

/** The Gateway API CRDs (kept on destroy) and the safe-upgrades policy v1.5 brings. */
export const GATEWAY_API_FOOTPRINT: FootprintParts = {
    crdGroups: ["gateway.networking.k8s.io"],
    objects: [
        ["validatingadmissionpolicy", "safe-upgrades.gateway.networking.k8s.io"],
        ["validatingadmissionpolicybinding", "safe-upgrades.gateway.networking.k8s.io"],
    ],
};

/**
 * The end of a suite with a mesh stack, after the stack's destroy: what the stack
 * keeps on destroy by design (Istio's CRDs, the Gateway API CRDs and their
 * policy), and the control plane namespace if the stack left it (one it did not
 * own, or one holding objects it did not make), so the next suite starts clean.
 */
export const MESH_KEPT_ON_DESTROY: [what: string, run: () => unknown][] = [
    ["delete Istio's CRDs", () => deleteCrds("istio.io")],
    ["delete the Gateway API CRDs", () => removeGatewayApiCrds()],
    ["delete namespace istio-system", () => deleteNamespaces("istio-system")],
];

/** The project of this repository, the one most suites' stacks belong to. */
export const PROJECT = "istio-mesh";

/** What of the footprint is on the cluster or in the backend now, one line each. */
export function leftovers(f: FootprintParts): string[] {
    const found: string[] = [];
    for (const [project, name] of f.stacks ?? []) {
        if (stackInBackend(project, name)) found.push(`stack ${project}/${name} (in ${backendDir})`);
    }
    if (f.namespaces?.length) {
        const present = new Set(kubectl("get", "namespaces", "-o", "name").split("\n"));
        for (const ns of f.namespaces) if (present.has(`namespace/${ns}`)) found.push(`namespace/${ns}`);
    }
    for (const group of f.crdGroups ?? [])
        found.push(...crdsOfGroup(group).map((n) => `customresourcedefinition/${n}`));
    if (f.clusterPrefixes?.length) {
        const kinds = "clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations";
        for (const line of kubectl("get", kinds, "-o", "name").split("\n")) {
            // kind.group/name, e.g. clusterrole.rbac.authorization.k8s.io/istiod-clusterrole-istio-system
            const [kind, name] = [line.slice(0, line.indexOf(".")), line.slice(line.indexOf("/") + 1)];
            if (f.clusterPrefixes.some((p) => name.startsWith(p))) found.push(`${kind}/${name}`);
        }
    }
    for (const [kind, name, namespace] of f.objects ?? []) {
        if (exists(kind, name, ...(namespace ? ["-n", namespace] : []))) {
            found.push(`${kind}/${name}${namespace ? ` in namespace ${namespace}` : ""}`);
        }
    }
    for (const [namespace, keys] of Object.entries(f.labels ?? {})) {
        if (!exists("namespace", namespace)) continue;
        const labels: Record<string, string> = kubectlJson("namespace", namespace).metadata.labels ?? {};
        for (const key of keys.filter((k) => k in labels)) {
            found.push(`label ${key}=${labels[key]} on namespace/${namespace}`);
        }
    }
    return found;
}

/**
 * A suite's footprint (the parts merged): `assertCleanStart()` first in its
 * beforeAll, `cleanUp(steps)` in its afterAll. A suite whose start found the
 * cluster unclean cleans nothing up: what it found is not its own.
 */
export function footprint(...parts: FootprintParts[]): {
    parts: FootprintParts;
    assertCleanStart(): void;
    cleanUp(steps: [what: string, run: () => unknown][]): Promise<void>;
} {
    const merged: FootprintParts = {};
    for (const p of parts) {
        for (const key of ["stacks", "namespaces", "crdGroups", "clusterPrefixes", "objects"] as const) {
            // The array keys hold different element types; each is concatenated with its own kind.
            (merged[key] as unknown[]) = [...((merged[key] as unknown[]) ?? []), ...((p[key] as unknown[]) ?? [])];
        }
        for (const [ns, keys] of Object.entries(p.labels ?? {})) {
            merged.labels = { ...merged.labels, [ns]: [...(merged.labels?.[ns] ?? []), ...keys] };
        }
    }
    let started = false;
    return {
        parts: merged,
        assertCleanStart() {
            requireCluster();
            const found = leftovers(merged);
            if (found.length > 0) {
                throw new Error(
                    `the test cluster is not clean for this suite; already there: ${found.join(", ")}. ` +
                        "Every suite removes what it made, so an earlier run or suite failed to, or another tool made them: " +
                        "start from a fresh test cluster (bash scripts/cluster.sh down; npm test starts one) or delete them",
                );
            }
            started = true;
        },
        async cleanUp(steps) {
            if (!started) return;
            const failures: string[] = [];
            // Every step runs even when one before it failed; each failure is named.
            for (const [what, run] of steps) {
                try {
                    await run();
                } catch (e) {
                    failures.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
                }
            }
            try {
                const left = leftovers(merged);
                if (left.length > 0) failures.push(`left behind: ${left.join(", ")}`);
            } catch (e) {
                failures.push(`listing what is left: ${e instanceof Error ? e.message : String(e)}`);
            }
            if (failures.length > 0) throw new Error(`cleanup failed:\n- ${failures.join("\n- ")}`);
        },
    };
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

/** One event of a Kubernetes watch. Objects are free-form JSON, hence `any`. */
export interface WatchEvent {
    type: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    object: any;
}

/**
 * Watches a collection (an API path such as `/api/v1/namespaces/x/pods`) from the
 * resourceVersion of a list made now, so nothing after this call is missed, until
 * `stop()`, which returns the events in the order the API server sent them: the
 * cluster's own order of changes, finer than any timestamp (those have seconds).
 */
export function watchCollection(apiPath: string): { stop(): Promise<WatchEvent[]> } {
    const list = JSON.parse(kubectl("get", "--raw", apiPath)) as { metadata: { resourceVersion: string } };
    const query = `watch=true&allowWatchBookmarks=false&resourceVersion=${list.metadata.resourceVersion}`;
    const child = spawn("kubectl", ["--kubeconfig", kubeconfig, "get", "--raw", `${apiPath}?${query}`], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const ended = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return {
        async stop() {
            // A watch that ended on its own (an error, a timeout) may have missed events.
            if (child.exitCode !== null)
                throw new Error(`the watch of ${apiPath} ended early (${child.exitCode}): ${err}`);
            child.kill("SIGTERM");
            await ended;
            return out
                .split("\n")
                .filter((line) => line.trim() !== "")
                .map((line) => JSON.parse(line) as WatchEvent);
        },
    };
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
