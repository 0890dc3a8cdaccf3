// The stack's whole life on the local cluster, with the real Pulumi engine and the
// real Istio charts: refused skip-level upgrade, install, no-op, upgrade preview,
// upgrade, bad config, drift, interruption, destroy and re-install. Every step
// checks the cluster itself, not only Pulumi's summary. Steps run in order and
// share one stack; a table of their wall times is written to artifacts/.
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    artifactsDir,
    cliEnv,
    exists,
    freshStack,
    kubectl,
    kubeconfig,
    kubectlJson,
    projectDir,
    requireCluster,
    saveArtifact,
    timed,
} from "./harness";

// Each step is one or more real pulumi operations on the cluster.
jest.setTimeout(900_000);

const STACK = "e2e";
const NS = "istio-system";
const timings: [string, number][] = [];
let stack: Stack;

/** Runs one lifecycle step and records its wall time. */
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const [result, seconds] = await timed(fn);
    timings.push([name, seconds]);
    return result;
}

const quiet = { onOutput: () => undefined };

/** The error an operation fails with, or undefined when it succeeds. */
const failureOf = (operation: Promise<unknown>): Promise<Error | undefined> =>
    operation.then(
        () => undefined,
        (e: Error) => e,
    );

interface StepOp {
    op: string;
    urn: string;
    type: string;
    /** Top-level properties that differ (for a refresh: between the recorded and the live state). */
    diffs: string[];
}

/** A preview's planned operations, from the engine's events. */
async function previewOps(opts: { refresh?: boolean } = {}): Promise<{ ops: StepOp[]; stdout: string }> {
    const ops: StepOp[] = [];
    const result = await stack.preview({
        ...opts,
        diff: true,
        onOutput: () => undefined,
        onEvent: (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (m) ops.push({ op: m.op, urn: m.urn, type: m.type, diffs: m.diffs ?? [] });
        },
    });
    return { ops, stdout: result.stdout };
}

/** A refresh's operations, from the engine's events. */
async function refreshOps(): Promise<StepOp[]> {
    const ops: StepOp[] = [];
    await stack.refresh({
        onOutput: () => undefined,
        onEvent: (e: EngineEvent) => {
            const m = e.resOutputsEvent?.metadata;
            if (m) ops.push({ op: m.op, urn: m.urn, type: m.type, diffs: m.diffs ?? [] });
        },
    });
    return ops;
}

/** Operations that change something: not "same", not a read, not a refresh that found the live state as recorded. */
const changes = (ops: StepOp[]) =>
    ops.filter((o) => o.op !== "same" && o.op !== "read" && !(o.op === "refresh" && o.diffs.length === 0));

function deployment(name: string, namespace = NS) {
    return kubectlJson("deployment", name, "-n", namespace);
}

function images(name: string, namespace = NS): string[] {
    return deployment(name, namespace).spec.template.spec.containers.map((c: { image: string }) => c.image);
}

function istioCrds(): { name: string; version: string }[] {
    return kubectlJson("customresourcedefinitions")
        .items.filter((c: { metadata: { name: string } }) => c.metadata.name.endsWith(".istio.io"))
        .map((c: { metadata: { name: string; labels?: Record<string, string> } }) => ({
            name: c.metadata.name,
            version: c.metadata.labels?.["app.kubernetes.io/version"] ?? "",
        }));
}

function verify(): { code: number; output: string } {
    try {
        const output = execFileSync("bash", [path.join(projectDir, "scripts/status.sh"), "--stack", STACK], {
            encoding: "utf8",
            env: cliEnv(),
        });
        return { code: 0, output };
    } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, output: err.stdout };
    }
}

/** Names and resourceVersions of everything this stack could touch (not leases or events, which tick on their own). */
function clusterSnapshot(): string {
    const kinds = [
        "namespaces",
        "deployments",
        "daemonsets",
        "services",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
        "customresourcedefinitions",
        "validatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        "poddisruptionbudgets",
    ].join(",");
    return kubectl(
        "get",
        kinds,
        "-A",
        "-o",
        'jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name}@{.metadata.resourceVersion}{"\\n"}{end}',
    )
        .split("\n")
        .sort()
        .join("\n");
}

async function setVersion(version: string): Promise<void> {
    await stack.setConfig("istio-mesh:version", { value: version });
}

/** Removes what an earlier, interrupted run of this suite may have left. */
async function cleanSlate(): Promise<void> {
    stack = await freshStack(projectDir, STACK, path.join(projectDir, "Pulumi.local.yaml"));
    await stack.setConfig("kubernetes:kubeconfig", { value: kubeconfig });
    await stack.cancel().catch(() => undefined);
    await stack.refresh({ ...quiet, clearPendingCreates: true }).catch(() => undefined);
    await stack.destroy(quiet);
    for (const crd of istioCrds()) kubectl("delete", "crd", crd.name, "--wait=true");
    kubectl("label", "namespace", "default", "istio-injection-", "team=payments", "--overwrite");
}

beforeAll(async () => {
    requireCluster();
    await cleanSlate();
}, 900_000);

afterAll(async () => {
    const table = [
        "| step | wall time (s) |",
        "| --- | ---: |",
        ...timings.map(([n, s]) => `| ${n} | ${s.toFixed(1)} |`),
    ].join("\n");
    saveArtifact("lifecycle-timings.md", table + "\n");
    console.log(`lifecycle step timings (also in ${path.join(artifactsDir, "lifecycle-timings.md")}):\n${table}`);
    if (stack) {
        await stack.destroy(quiet).catch(() => undefined);
        for (const crd of istioCrds()) kubectl("delete", "crd", crd.name, "--wait=true");
        await stack.workspace.removeStack(STACK, { force: true }).catch(() => undefined);
    }
    kubectl("label", "namespace", "default", "team-");
}, 900_000);

describe("lifecycle on the local cluster", () => {
    test("5. a skip-level in-place upgrade 1.28.10 -> 1.30.3 is refused at preview, naming the supported path", async () => {
        await setVersion("1.28.10");
        await step("5. skip-level: install 1.28.10", () => stack.up(quiet));
        expect(images("istiod")).toEqual(["docker.io/istio/pilot:1.28.10"]);
        const before = clusterSnapshot();
        await setVersion("1.30.3");
        const err = await step("5. skip-level: preview 1.30.3 (refused)", () => failureOf(stack.preview(quiet)));
        expect(err).toBeInstanceOf(Error);
        expect(String(err)).toContain(
            "istio-mesh:version: 1.28.10 -> 1.30.3 skips 1.29; Istio supports in-place upgrades one minor version at a time. Upgrade to 1.29.x first",
        );
        expect(clusterSnapshot()).toEqual(before);
        // Leave the cluster as a user would before a clean install (CRDs kept).
        await step("5. skip-level: destroy", () => stack.destroy(quiet));
    });

    test("1. install 1.29.6: namespace, CRDs, istiod, CNI, gateways, addons, injection label, all ready", async () => {
        await setVersion("1.29.6");
        const up = await step("1. install 1.29.6", () => stack.up(quiet));
        expect(up.summary.result).toBe("succeeded");
        expect(exists("namespace", NS)).toBe(true);
        const crds = istioCrds();
        expect(crds).toHaveLength(14);
        expect(new Set(crds.map((c) => c.version))).toEqual(new Set(["1.29.6"]));
        expect(images("istiod")).toEqual(["docker.io/istio/pilot:1.29.6"]);
        const cni = kubectlJson("daemonset", "istio-cni-node", "-n", "kube-system");
        expect(cni.status.numberReady).toBe(3);
        expect(cni.status.desiredNumberScheduled).toBe(3);
        for (const gw of ["istio-ingressgateway", "istio-egressgateway"]) {
            expect(deployment(gw).status.readyReplicas).toBe(1);
        }
        const ingress = kubectlJson("service", "istio-ingressgateway", "-n", NS);
        expect(ingress.spec.type).toBe("NodePort");
        expect(
            ingress.spec.ports.filter((p: { nodePort?: number }) => p.nodePort === 31380 || p.nodePort === 31390),
        ).toHaveLength(2);
        for (const addon of ["prometheus", "grafana", "kiali", "jaeger"]) {
            expect(deployment(addon).status.readyReplicas).toBe(1);
        }
        const labels = kubectlJson("namespace", "default").metadata.labels;
        expect(labels["istio-injection"]).toBe("enabled");
        const status = verify();
        expect(status.output).toContain("installation verified");
        expect(status.code).toBe(0);
    });

    test("2. a re-apply changes nothing, even after istiod rewrites its webhooks", async () => {
        const { ops } = await step("2. no-op preview", () => previewOps());
        expect(changes(ops)).toEqual([]);
        // The first refresh after an up finds nothing changed in the cluster; only the
        // stack's read of its own outputs (the version check's memory) sees the
        // outputs that up just wrote. A second refresh finds nothing at all.
        const refreshed = await step("2. refresh", () => refreshOps());
        expect(changes(refreshed).map((o) => o.type)).toEqual(["pulumi:pulumi:StackReference"]);
        expect(changes(await step("2. second refresh", () => refreshOps()))).toEqual([]);

        // What istiod does once it serves: fill in caBundle, flip the validator to Fail.
        const caBundle = Buffer.from("istiod-self-signed-root").toString("base64");
        for (const kind of ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"]) {
            for (const name of kubectl("get", kind, "-o", "name").split("\n").filter(Boolean)) {
                const webhooks = kubectlJson(name).webhooks as unknown[];
                const ops = webhooks.flatMap((_, i) => [
                    { op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
                    ...(kind.startsWith("validating")
                        ? [{ op: "replace", path: `/webhooks/${i}/failurePolicy`, value: "Fail" }]
                        : []),
                ]);
                kubectl("patch", name, "--type=json", "-p", JSON.stringify(ops));
            }
        }
        const { ops: after } = await step("2. preview --refresh after webhook rewrite", () =>
            previewOps({ refresh: true }),
        );
        expect(changes(after)).toEqual([]);
        // Put the validator back to what a simulated cluster needs (no webhook can answer here).
        for (const name of kubectl("get", "validatingwebhookconfiguration", "-o", "name").split("\n").filter(Boolean)) {
            const webhooks = kubectlJson(name).webhooks as unknown[];
            kubectl(
                "patch",
                name,
                "--type=json",
                "-p",
                JSON.stringify(
                    webhooks.map((_, i) => ({ op: "replace", path: `/webhooks/${i}/failurePolicy`, value: "Ignore" })),
                ),
            );
        }
    });

    test("3. the 1.29.6 -> 1.30.3 preview lists image and chart updates, a new CRD, and never replaces or deletes the namespace, CRDs or labels", async () => {
        await setVersion("1.30.3");
        const { ops, stdout } = await step("3. upgrade preview", () => previewOps());
        const file = saveArtifact("upgrade-preview-1.29.6-to-1.30.3.txt", stdout);
        expect(fs.existsSync(file)).toBe(true);

        // Nothing is replaced or deleted: not the namespace, the CRDs or the labels, and
        // not istiod's ConfigMaps either (a replacement of a same-named object is a delete).
        expect(ops.filter((o) => /replace|delete|discard/.test(o.op))).toEqual([]);
        const updated = (name: string) => ops.some((o) => o.op === "update" && o.urn.endsWith(name));
        expect(updated("istio-system/istiod")).toBe(true);
        expect(updated("istio-system/istio-ingressgateway")).toBe(true);
        expect(updated("virtualservices.networking.istio.io")).toBe(true);
        expect(ops.filter((o) => o.op === "create").map((o) => o.urn.split("::").pop())).toEqual([
            "istio-base-chart:trafficextensions.extensions.istio.io",
        ]);
        // The diff text a reviewer reads names the new images and chart versions.
        expect(stdout).toContain('"docker.io/istio/pilot:1.29.6" => "docker.io/istio/pilot:1.30.3"');
        expect(stdout).toContain('"istiod-1.29.6" => "istiod-1.30.3"');
        expect(stdout).toContain('"docker.io/istio/proxyv2:1.29.6" => "docker.io/istio/proxyv2:1.30.3"');
    });

    test("4. upgrade to 1.30.3: the cluster runs the new versions and a second preview is empty", async () => {
        const up = await step("4. upgrade to 1.30.3", () => stack.up(quiet));
        expect(up.summary.result).toBe("succeeded");
        expect(images("istiod")).toEqual(["docker.io/istio/pilot:1.30.3"]);
        expect(images("istio-ingressgateway")).toEqual(["docker.io/istio/proxyv2:1.30.3"]);
        expect(
            kubectlJson("daemonset", "istio-cni-node", "-n", "kube-system").spec.template.spec.containers[0].image,
        ).toBe("docker.io/istio/install-cni:1.30.3");
        const crds = istioCrds();
        expect(crds).toHaveLength(15);
        expect(new Set(crds.map((c) => c.version))).toEqual(new Set(["1.30.3"]));
        expect(deployment("istiod").metadata.labels["helm.sh/chart"]).toBe("istiod-1.30.3");
        for (const [namespace, configMap] of [
            [NS, "istio"],
            [NS, "istio-sidecar-injector"],
            [NS, "values"],
            ["kube-system", "istio-cni-config"],
        ]) {
            expect(exists("configmap", configMap, "-n", namespace)).toBe(true);
        }
        const { ops } = await step("4. preview after upgrade", () => previewOps());
        expect(changes(ops)).toEqual([]);
        expect(verify().code).toBe(0);
    });

    test("9. bad config exits non-zero with a clear message and leaves the cluster byte-for-byte unchanged", async () => {
        const before = clusterSnapshot();
        await stack.setConfig("istio-mesh:profile", { value: "demoo" });
        const profileErr = await step("9. bad profile", () => failureOf(stack.up(quiet)));
        expect(String(profileErr)).toContain(
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        );
        await stack.setConfig("istio-mesh:profile", { value: "demo" });
        await setVersion("1.30");
        const versionErr = await step("9. malformed version", () => failureOf(stack.up(quiet)));
        expect(String(versionErr)).toContain(
            'istio-mesh:version: "1.30" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6',
        );
        await setVersion("1.30.3");
        expect(clusterSnapshot()).toEqual(before);
    });

    test("6. drift made by hand on istiod is shown by preview --refresh and repaired by up", async () => {
        const env = deployment("istiod").spec.template.spec.containers[0].env as { name: string; value?: string }[];
        const tunable = env.find((e) => e.value !== undefined && e.name.startsWith("PILOT_"));
        expect(tunable).toBeDefined();
        kubectl("scale", "deployment/istiod", "-n", NS, "--replicas=3");
        kubectl("set", "env", "deployment/istiod", "-n", NS, `${tunable?.name}=changed-by-hand`);
        const { ops, stdout } = await step("6. drift preview --refresh", () => previewOps({ refresh: true }));
        saveArtifact("drift-preview.txt", stdout);
        // The plan updates istiod alone, and its diff shows what was changed by hand.
        expect(changes(ops).map((o) => `${o.op} ${o.urn.split("::").pop()}`)).toEqual([
            "update istio-istiod-chart:istio-system/istiod",
        ]);
        expect(stdout).toContain("changed-by-hand");
        expect(stdout).toContain("replicas");
        await step("6. drift repair up --refresh", () => stack.up({ ...quiet, refresh: true }));
        const repaired = deployment("istiod");
        expect(repaired.spec.replicas).toBe(1);
        expect(
            repaired.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === tunable?.name).value,
        ).toBe(tunable?.value);
    });

    test("7. an update killed midway converges with the documented recovery and loses nothing", async () => {
        // A change that takes a while to roll out: both gateways scale to 2.
        const config = await stack.getConfig("istio-mesh:gateways");
        const gateways = JSON.parse(config.value) as { replicas?: number }[];
        await stack.setConfig("istio-mesh:gateways", {
            value: JSON.stringify(gateways.map((g) => ({ ...g, replicas: 2 }))),
        });

        await step("7. up killed mid-update", () => killUpMidway());
        const [code, seconds] = await timed(async () => recover());
        timings.push(["7. recovery (scripts/recover.sh)", seconds]);
        expect(code).toBe(0);
        for (const gw of ["istio-ingressgateway", "istio-egressgateway"]) {
            expect(deployment(gw).status.readyReplicas).toBe(2);
        }
        const { ops } = await previewOps();
        expect(changes(ops)).toEqual([]);
        expect(verify().code).toBe(0);
    });

    test("8. destroy removes Istio but keeps the CRDs and the default namespace's own labels; up re-installs over the kept CRDs", async () => {
        const destroy = await step("8. destroy", () => stack.destroy(quiet));
        expect(destroy.summary.result).toBe("succeeded");
        expect(exists("namespace", NS)).toBe(false);
        expect(exists("daemonset", "istio-cni-node", "-n", "kube-system")).toBe(false);
        expect(
            kubectl("get", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "-o", "name").trim(),
        ).toBe("");
        expect(
            kubectl(
                "get",
                "clusterroles,clusterrolebindings",
                "-l",
                "app.kubernetes.io/part-of=istio",
                "-o",
                "name",
            ).trim(),
        ).toBe("");
        expect(istioCrds()).toHaveLength(15);
        const labels = kubectlJson("namespace", "default").metadata.labels;
        expect(labels["istio-injection"]).toBeUndefined();
        expect(labels.team).toBe("payments");

        const up = await step("8. re-install over kept CRDs", () => stack.up(quiet));
        expect(up.summary.result).toBe("succeeded");
        expect(verify().code).toBe(0);
        const { ops } = await previewOps();
        expect(changes(ops)).toEqual([]);
    });
});

/** Starts `pulumi up` as a user would and kills it (SIGKILL) once it is updating a Deployment. */
function killUpMidway(): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK], {
            cwd: projectDir,
            env: cliEnv(),
        });
        let output = "";
        const onData = (d: Buffer) => {
            output += d.toString();
            // A gateway Deployment has started to roll: the engine is mid-update.
            if (/kubernetes:apps\/v1:Deployment \S+ updating/.test(output) && !child.killed) child.kill("SIGKILL");
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.on("exit", (code, signal) => {
            saveArtifact("interrupted-up.txt", output);
            if (signal === "SIGKILL") resolve();
            else reject(new Error(`pulumi up ended before it could be interrupted (code ${code}):\n${output}`));
        });
    });
}

function recover(): number {
    try {
        const out = execFileSync("bash", [path.join(projectDir, "scripts/recover.sh"), STACK], {
            encoding: "utf8",
            env: cliEnv(),
        });
        saveArtifact("recovery.txt", out);
        return 0;
    } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string };
        saveArtifact("recovery.txt", `${err.stdout}\n${err.stderr}`);
        return err.status;
    }
}
