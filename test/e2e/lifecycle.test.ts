// The stack's whole life on the local cluster, with the real Pulumi engine, the
// real Istio charts and the real istiod: refused skip-level upgrade, install,
// istiod injecting and validating, no-op (also after istiod rewrote its
// webhooks), upgrade preview, upgrade with sidecar restarts, bad config, drift,
// interruption, destroy and re-install. Every step checks the cluster itself,
// not only Pulumi's summary. Steps run in the order of their numbers and share
// one stack; a table of their wall times is written to artifacts/.
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    applyUserDeployment,
    cliEnv,
    destroyAndRemove,
    exists,
    footprint,
    exportedState,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    istioctl,
    kubeconfig,
    kubectl,
    kubectlJson,
    localIstiods,
    localStackConfig,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    PROJECT,
    projectDir,
    reportTimings,
    saveArtifact,
    setConfigValues,
    stepTimer,
    timed,
    waitFor,
} from "./harness";

// Each step is one or more real pulumi operations on the cluster.
jest.setTimeout(900_000);

const STACK = "e2e";
const NS = "istio-system";
/**
 * The runbook's mTLS answer: STRICT mesh-wide; a MySQL in the mesh that clients
 * outside it reach on 3306; an external MySQL that mesh clients call without
 * Istio mTLS.
 */
const MTLS = {
    mode: "STRICT",
    exceptions: [{ name: "mysql", namespace: "default", selector: { app: "mysql" }, ports: { "3306": "PERMISSIVE" } }],
    externalServices: [{ name: "external-mysql", host: "mysql.example.com", port: 3306 }],
};

const GRAFANA_PASSWORD = "e2e-grafana-admin-password";

/** A user's workload in the namespace the stack labels for injection. */
const APP = "sleep";
const APP_NS = "default";
const timings: [string, number][] = [];
let stack: Stack;

const step = stepTimer(timings);

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

/** The image of each container (and init container) of each pod of a workload, by pod label `app`. */
function podContainers(app: string, namespace: string): { pod: string; containers: Record<string, string> }[] {
    return kubectlJson("pods", "-n", namespace, "-l", `app=${app}`).items.map(
        (p: {
            metadata: { name: string; deletionTimestamp?: string };
            spec: { containers: { name: string; image: string }[]; initContainers?: { name: string; image: string }[] };
        }) => ({
            pod: p.metadata.name,
            containers: Object.fromEntries(
                [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => [c.name, c.image]),
            ),
        }),
    );
}

/** Waits until every pod of a workload runs `image` in its `container`, and there are `count` of them. */
function waitForPods(app: string, namespace: string, container: string, image: string, count: number) {
    return waitFor(`${count} pods of ${namespace}/${app} with ${container}=${image}`, 120, () => {
        const pods = podContainers(app, namespace);
        return pods.length === count && pods.every((p) => p.containers[container] === image) ? pods : undefined;
    });
}

/** A VirtualService for the runbook's checks; `regex` lets a test make it invalid. */
function virtualService(name: string, regex: string): string {
    return JSON.stringify({
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: { name, namespace: APP_NS },
        spec: {
            hosts: ["reviews"],
            http: [{ match: [{ uri: { regex } }], route: [{ destination: { host: "reviews" } }] }],
        },
    });
}

/** kubectl apply of a manifest: its stderr when the API server refuses it, undefined when accepted. */
function applyRefusal(manifest: string): string | undefined {
    try {
        execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
            input: manifest,
            stdio: ["pipe", "pipe", "pipe"],
        });
        return undefined;
    } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
    }
}

function webhookConfigurations(): {
    name: string;
    kind: string;
    webhooks: { failurePolicy: string; clientConfig: { caBundle?: string } }[];
}[] {
    return ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"].flatMap((kind) =>
        kubectlJson(kind).items.map((w: { metadata: { name: string }; webhooks: never[] }) => ({
            name: w.metadata.name,
            kind,
            webhooks: w.webhooks,
        })),
    );
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

/** The annotation of a ConfigMap used as a leader-election lock; istiod renews its locks every few seconds. */
const LEADER_LOCK = "control-plane.alpha.kubernetes.io/leader";

/**
 * Names and resourceVersions of everything this stack could touch; not leases,
 * events or leader-election locks, which tick on their own while istiod runs.
 */
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
    const items = kubectlJson(kinds, "-A").items as {
        kind: string;
        metadata: { namespace?: string; name: string; resourceVersion: string; annotations?: Record<string, string> };
    }[];
    return items
        .filter((o) => !o.metadata.annotations?.[LEADER_LOCK])
        .map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}@${o.metadata.resourceVersion}`)
        .sort()
        .join("\n");
}

async function setVersion(version: string): Promise<void> {
    await stack.setConfig("istio-mesh:version", { value: version });
}

/**
 * The skip-level check needs only a deployed version: step 1 installs the smallest
 * control plane (MINIMAL_MESH). Step 2 puts the local stack's components back.
 */
async function setLocalComponents(): Promise<void> {
    const local = localStackConfig();
    for (const key of Object.keys(MINIMAL_MESH)) {
        const value = local[key];
        if (value === undefined) await stack.removeConfig(key);
        else await stack.setConfig(key, { value: typeof value === "string" ? value : JSON.stringify(value) });
    }
}

/** The mesh's, the user's Deployment and the label the suite puts on `default` by hand. */
const suite = footprint(
    { stacks: [[PROJECT, STACK]], objects: [["deployment", APP, APP_NS]], labels: { [APP_NS]: ["team"] } },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await freshStack(projectDir, STACK, {
        configFile: path.join(projectDir, "Pulumi.local.yaml"),
        config: {},
    });
    kubectl("label", "namespace", APP_NS, "team=payments");
}, 900_000);

afterAll(async () => {
    reportTimings("lifecycle", timings);
    await suite.cleanUp([
        ["destroy and remove the stack", () => destroyAndRemove(stack)],
        ...MESH_KEPT_ON_DESTROY,
        [
            `delete the user's Deployment ${APP_NS}/${APP}`,
            () => kubectl("delete", "deployment", APP, "-n", APP_NS, "--ignore-not-found", "--wait=true"),
        ],
        [`remove the label team from namespace ${APP_NS}`, () => kubectl("label", "namespace", APP_NS, "team-")],
    ]);
}, 900_000);

describe("lifecycle on the local cluster", () => {
    test("1. a skip-level in-place upgrade 1.28.10 -> 1.30.3 is refused at preview, naming the supported path", async () => {
        await setVersion("1.28.10");
        await setConfigValues(stack, MINIMAL_MESH);
        await step("1. skip-level: install 1.28.10", () => stack.up(quiet));
        expect(images("istiod")).toEqual(["docker.io/istio/pilot:1.28.10"]);
        const before = clusterSnapshot();
        await setVersion("1.30.3");
        const err = await step("1. skip-level: preview 1.30.3 (refused)", () => failureOf(stack.preview(quiet)));
        expect(err).toBeInstanceOf(Error);
        expect(String(err)).toContain(
            "istio-mesh:version: 1.28.10 -> 1.30.3 skips 1.29; Istio supports in-place upgrades one minor version at a time. Upgrade to 1.29.x first",
        );
        expect(clusterSnapshot()).toEqual(before);
        // Leave the cluster as a user would before a clean install (CRDs kept).
        await step("1. skip-level: destroy", () => stack.destroy(quiet));
        // The local istiod follows its Deployment: gone with it.
        await waitFor("the local istiod to stop", 30, () => (localIstiods().length === 0 ? true : undefined));
    });

    test("2. install 1.29.6: namespace, CRDs, istiod, CNI, gateways injected by istiod, addons, injection label, mTLS policy, all ready", async () => {
        await setVersion("1.29.6");
        await setLocalComponents();
        await stack.setConfig("istio-mesh:mesh", { value: JSON.stringify({ mtls: MTLS }) });
        // Exposed addons as every stack gets them: no anonymous access, a Grafana login.
        await stack.setConfig("istio-mesh:addons", { value: JSON.stringify({ expose: { mode: "nodePort" } }) });
        await stack.setConfig("istio-mesh:grafanaAdminPassword", { value: GRAFANA_PASSWORD, secret: true });
        const up = await step("2. install 1.29.6", () => stack.up(quiet));
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
            // The stack renders the chart's placeholder; the pods got the real proxy from istiod's injector.
            expect(images(gw)).toEqual(["auto"]);
            const [pod] = podContainers(gw, NS);
            expect(pod.containers["istio-proxy"]).toBe("docker.io/istio/proxyv2:1.29.6");
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
        // Exposed by node port, and nobody gets in anonymously: Grafana's anonymous access is
        // off and its admin login comes from the stack's Secret; Kiali asks for a token;
        // Prometheus has no lifecycle API to shut it down with.
        const grafana = deployment("grafana").spec.template.spec.containers.find(
            (c: { name: string }) => c.name === "grafana",
        );
        const env = Object.fromEntries(
            grafana.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [
                e.name,
                e.value ?? e.valueFrom,
            ]),
        );
        expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
        expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
        expect(env.GF_SECURITY_ADMIN_PASSWORD).toEqual({
            secretKeyRef: { name: "grafana-admin", key: "admin-password" },
        });
        const adminSecret = kubectlJson("secret", "grafana-admin", "-n", NS);
        expect(Buffer.from(adminSecret.data["admin-password"], "base64").toString()).toBe(GRAFANA_PASSWORD);
        expect(kubectlJson("configmap", "kiali", "-n", NS).data["config.yaml"]).toMatch(/strategy: token/);
        const prometheus = deployment("prometheus").spec.template.spec.containers.find(
            (c: { name: string }) => c.name === "prometheus-server",
        );
        expect(prometheus.args).not.toContain("--web.enable-lifecycle");
        // The password is a secret in the stack's state too.
        expect(exportedState(projectDir, STACK)).not.toContain(GRAFANA_PASSWORD);

        // The mTLS policy went through istiod's validating webhook (failurePolicy Fail) and is in place.
        expect(kubectlJson("peerauthentication", "default", "-n", NS).spec).toEqual({ mtls: { mode: "STRICT" } });
        expect(kubectlJson("peerauthentication", "mysql", "-n", "default").spec).toEqual({
            selector: { matchLabels: { app: "mysql" } },
            portLevelMtls: { "3306": { mode: "PERMISSIVE" } },
        });
        const external = kubectlJson("serviceentry", "external-mysql", "-n", NS).spec;
        expect(external).toMatchObject({ hosts: ["mysql.example.com"], location: "MESH_EXTERNAL" });
        expect(kubectlJson("destinationrule", "external-mysql", "-n", NS).spec.trafficPolicy).toEqual({
            tls: { mode: "DISABLE" },
        });
        const [local] = localIstiods();
        expect(local).toMatchObject({ deployment: "istiod", revision: "default" });
        expect(local.image).toBe("docker.io/istio/pilot:1.29.6");
        const status = verify();
        expect(status.output).toContain("installation verified");
        expect(status.output).toMatch(
            /istiod\s+Deployment\/istio-system\/istiod\s+1\.29\.6\s+1\/1, 1\/1 answer \/ready/,
        );
        expect(status.code).toBe(0);
    });

    test("3. istiod at work: it fills in its webhooks, injects a user's workload, and refuses invalid config", async () => {
        // caBundle: every webhook of istiod's, filled in by istiod itself.
        await waitFor("istiod to fill in every caBundle", 60, () =>
            webhookConfigurations().every((c) => c.webhooks.every((w) => !!w.clientConfig.caBundle)) ? true : undefined,
        );
        // failurePolicy: set the validator open by hand; istiod closes it again once it
        // has seen its own webhook reject invalid config.
        const validator = "istio-validator-istio-system";
        const opened = JSON.parse(
            kubectl(
                "patch",
                "validatingwebhookconfiguration",
                validator,
                "--type=json",
                "-o",
                "json",
                "-p",
                JSON.stringify([{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }]),
            ),
        );
        expect(opened.webhooks[0].failurePolicy).toBe("Ignore");
        const restored = await step("3. istiod restores the validator's failurePolicy", () =>
            waitFor("istiod to switch its validator back to Fail", 60, () => {
                const w = kubectlJson("validatingwebhookconfiguration", validator, "--show-managed-fields");
                return w.webhooks[0].failurePolicy === "Fail" ? w : undefined;
            }),
        );
        // It was istiod that closed it, after the hand edit.
        expect(Number(restored.metadata.resourceVersion)).toBeGreaterThan(Number(opened.metadata.resourceVersion));
        expect(restored.metadata.managedFields.map((m: { manager: string }) => m.manager)).toContain("pilot-discovery");

        // Injection: a user's Deployment in the labelled namespace comes back with the sidecar.
        applyUserDeployment(APP_NS, APP, { image: "curlimages/curl:8.11.1", command: ["sleep", "infinity"] });
        const pods = await step("3. workload injected", () =>
            waitForPods(APP, APP_NS, "istio-proxy", "docker.io/istio/proxyv2:1.29.6", 2),
        );
        // CNI mode: istiod's template adds the validation init container, not istio-init.
        expect(Object.keys(pods[0].containers).sort()).toEqual(["istio-proxy", "istio-validation", APP].sort());

        // Validation: istiod's webhook refuses an unparsable regex with its own message.
        const refusal = applyRefusal(virtualService("reviews-broken", "(("));
        expect(refusal).toContain('admission webhook "validation.istio.io" denied the request');
        expect(refusal).toContain("missing closing )");
        expect(exists("virtualservice", "reviews-broken", "-n", APP_NS)).toBe(false);
        expect(applyRefusal(virtualService("reviews-valid", "^/reviews/.*"))).toBeUndefined();
        kubectl("delete", "virtualservice", "reviews-valid", "-n", APP_NS);

        // istioctl against the same cluster.
        const precheck = istioctl("x", "precheck");
        expect(precheck).toMatch(/No issues found when checking the cluster/);
        const analyze = istioctl("analyze", "-A");
        expect(analyze).not.toMatch(/^Error/m);
        expect(istioctl("tag", "list")).toMatch(/^TAG\s+REVISION\s+NAMESPACES/m);
        // No kubelet here to port-forward to istiod: ask its loopback xDS port directly.
        const [local] = localIstiods();
        const xds = ["--xds-address", `127.0.0.1:${local.ports.secureGrpc}`, "--insecure"];
        const version = istioctl("x", "version", ...xds);
        expect(version).toMatch(/^control plane version: 1\.30\.3$/m);
        // The sidecars never connect (no containers run), so istiod knows of no proxy.
        expect(istioctl("proxy-status", ...xds)).toMatch(/^NAME\s+CLUSTER\s+ISTIOD\s+VERSION/m);
        saveArtifact("istioctl-checks.txt", [precheck, analyze, version].join("\n---\n"));
    });

    test("4. a re-apply changes nothing, also after istiod rewrote its webhooks", async () => {
        const { ops } = await step("4. no-op preview", () => previewOps());
        expect(changes(ops)).toEqual([]);
        // The first refresh after an up finds nothing changed in the cluster; only the
        // stack's read of its own outputs (the version check's memory) sees the
        // outputs that up just wrote. A second refresh finds nothing at all.
        const refreshed = await step("4. refresh", () => refreshOps());
        expect(changes(refreshed).map((o) => o.type)).toEqual(["pulumi:pulumi:StackReference"]);
        expect(changes(await step("4. second refresh", () => refreshOps()))).toEqual([]);
        // istiod filled in caBundle and flipped the validator in step 3, for real.
        const { ops: after } = await step("4. preview --refresh after istiod's webhook rewrite", () =>
            previewOps({ refresh: true }),
        );
        expect(changes(after)).toEqual([]);
    });

    test("5. the 1.29.6 -> 1.30.3 preview lists image and chart updates, a new CRD and the sidecar restart, and never replaces or deletes the namespace, CRDs or labels", async () => {
        await stack.setConfig("istio-mesh:sidecarRollout", {
            value: JSON.stringify([{ namespace: APP_NS, kind: "Deployment", name: APP }]),
        });
        await setVersion("1.30.3");
        const { ops, stdout } = await step("5. upgrade preview", () => previewOps());
        saveArtifact("upgrade-preview-1.29.6-to-1.30.3.txt", stdout);

        // Nothing is replaced or deleted: not the namespace, the CRDs or the labels, and
        // not istiod's ConfigMaps either (a replacement of a same-named object is a delete).
        expect(ops.filter((o) => /replace|delete|discard/.test(o.op))).toEqual([]);
        const updated = (name: string) => ops.some((o) => o.op === "update" && o.urn.endsWith(name));
        expect(updated("istio-system/istiod")).toBe(true);
        expect(updated("istio-system/istio-ingressgateway")).toBe(true);
        expect(updated("virtualservices.networking.istio.io")).toBe(true);
        expect(
            ops
                .filter((o) => o.op === "create")
                .map((o) => o.urn.split("::").pop())
                .sort(),
        ).toEqual([
            "istio-base-chart:trafficextensions.extensions.istio.io",
            // Gateway API v1.4.1 -> v1.5.1 with Istio 1.30: two new CRDs and the release's
            // safe-upgrades ValidatingAdmissionPolicy and its binding.
            "istio-gateway-api:listenersets.gateway.networking.k8s.io",
            "istio-gateway-api:safe-upgrades.gateway.networking.k8s.io",
            "istio-gateway-api:safe-upgrades.gateway.networking.k8s.io",
            "istio-gateway-api:tlsroutes.gateway.networking.k8s.io",
            "istio-sidecars",
            `istio-sidecars-${APP_NS}-deployment-${APP}`,
        ]);
        // The diff text a reviewer reads names the new images and chart versions. Proxy
        // images are not in any manifest (istiod's injector sets them at pod creation):
        // the injector's values show the new proxy tag, and the restart patch shows
        // which workloads will get it.
        expect(stdout).toContain('"docker.io/istio/pilot:1.29.6" => "docker.io/istio/pilot:1.30.3"');
        expect(stdout).toContain('"istiod-1.29.6" => "istiod-1.30.3"');
        expect(updated("istio-system/istio-sidecar-injector")).toBe(true);
        expect(stdout).toMatch(/~ tag\s+: "1\.29\.6" => "1\.30\.3"/);
        expect(stdout).toContain('istio-mesh.io/proxy-version: "1.30.3/default"');
    });

    test("6. upgrade to 1.30.3: the cluster runs the new versions, the listed workload's sidecars are replaced, a second preview is empty", async () => {
        const up = await step("6. upgrade to 1.30.3", () => stack.up(quiet));
        expect(up.summary.result).toBe("succeeded");
        expect(images("istiod")).toEqual(["docker.io/istio/pilot:1.30.3"]);
        const [local] = localIstiods();
        expect(local.image).toBe("docker.io/istio/pilot:1.30.3");
        for (const gw of ["istio-ingressgateway", "istio-egressgateway"]) {
            await waitForPods(gw, NS, "istio-proxy", "docker.io/istio/proxyv2:1.30.3", 1);
        }
        expect(
            kubectlJson("daemonset", "istio-cni-node", "-n", "kube-system").spec.template.spec.containers[0].image,
        ).toBe("docker.io/istio/install-cni:1.30.3");
        // The stack restarted the listed workload after the control plane: its new pods
        // were injected by the upgraded istiod.
        await step("6. workload pods carry the new proxy", () =>
            waitForPods(APP, APP_NS, "istio-proxy", "docker.io/istio/proxyv2:1.30.3", 2),
        );
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
        const { ops } = await step("6. preview after upgrade", () => previewOps());
        expect(changes(ops)).toEqual([]);
        expect(verify().code).toBe(0);
    });

    test("7. bad config exits non-zero with a clear message and leaves the cluster byte-for-byte unchanged", async () => {
        const before = clusterSnapshot();
        await stack.setConfig("istio-mesh:profile", { value: "demoo" });
        const profileErr = await step("7. bad profile", () => failureOf(stack.up(quiet)));
        expect(String(profileErr)).toContain(
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        );
        await stack.setConfig("istio-mesh:profile", { value: "demo" });
        await setVersion("1.30");
        const versionErr = await step("7. malformed version", () => failureOf(stack.up(quiet)));
        expect(String(versionErr)).toContain(
            'istio-mesh:version: "1.30" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6',
        );
        await setVersion("1.30.3");
        // A port-level exception for a whole namespace: istiod would refuse it; the stack does, first.
        const namespaceWide = { ...MTLS.exceptions[0], selector: undefined };
        await stack.setConfig("istio-mesh:mesh", {
            value: JSON.stringify({ mtls: { ...MTLS, exceptions: [namespaceWide] } }),
        });
        const mtlsErr = await step("7. mTLS exception istiod would refuse", () => failureOf(stack.up(quiet)));
        expect(String(mtlsErr)).toContain("istio-mesh:mesh.mtls.exceptions[0].selector: is required");
        await stack.setConfig("istio-mesh:mesh", { value: JSON.stringify({ mtls: MTLS }) });
        expect(clusterSnapshot()).toEqual(before);
    });

    test("8. drift made by hand on istiod is shown by preview --refresh and repaired by up", async () => {
        const env = deployment("istiod").spec.template.spec.containers[0].env as { name: string; value?: string }[];
        const tunable = env.find((e) => e.value !== undefined && e.name.startsWith("PILOT_"));
        expect(tunable).toBeDefined();
        kubectl("scale", "deployment/istiod", "-n", NS, "--replicas=3");
        kubectl("set", "env", "deployment/istiod", "-n", NS, `${tunable?.name}=changed-by-hand`);
        const { ops, stdout } = await step("8. drift preview --refresh", () => previewOps({ refresh: true }));
        saveArtifact("drift-preview.txt", stdout);
        // The plan updates istiod alone, and its diff shows what was changed by hand.
        expect(changes(ops).map((o) => `${o.op} ${o.urn.split("::").pop()}`)).toEqual([
            "update istio-istiod-chart:istio-system/istiod",
        ]);
        expect(stdout).toContain("changed-by-hand");
        expect(stdout).toContain("replicas");
        await step("8. drift repair up --refresh", () => stack.up({ ...quiet, refresh: true }));
        const repaired = deployment("istiod");
        expect(repaired.spec.replicas).toBe(1);
        expect(
            repaired.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === tunable?.name).value,
        ).toBe(tunable?.value);
    });

    test("9. an update killed midway converges with the documented recovery and loses nothing", async () => {
        // A change that takes a while to roll out: both gateways scale to 2.
        const config = await stack.getConfig("istio-mesh:gateways");
        const gateways = JSON.parse(config.value) as { replicas?: number }[];
        await stack.setConfig("istio-mesh:gateways", {
            value: JSON.stringify(gateways.map((g) => ({ ...g, replicas: 2 }))),
        });

        await step("9. up killed mid-update", () => killUpMidway());
        const [code, seconds] = await timed(async () => recover());
        timings.push(["9. recovery (scripts/recover.sh)", seconds]);
        expect(code).toBe(0);
        for (const gw of ["istio-ingressgateway", "istio-egressgateway"]) {
            expect(deployment(gw).status.readyReplicas).toBe(2);
            await waitForPods(gw, NS, "istio-proxy", "docker.io/istio/proxyv2:1.30.3", 2);
        }
        const { ops } = await previewOps();
        expect(changes(ops)).toEqual([]);
        expect(verify().code).toBe(0);
    });

    test("10. destroy removes Istio but keeps the CRDs, the user's workload and the default namespace's own labels; up re-installs over the kept CRDs", async () => {
        const destroy = await step("10. destroy", () => stack.destroy(quiet));
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
        expect(exists("deployment", APP, "-n", APP_NS)).toBe(true);
        await waitFor("the local istiod to stop", 30, () => (localIstiods().length === 0 ? true : undefined));

        const up = await step("10. re-install over kept CRDs", () => stack.up(quiet));
        expect(up.summary.result).toBe("succeeded");
        expect(verify().code).toBe(0);
        const { ops } = await previewOps();
        expect(changes(ops)).toEqual([]);
    });
});

/** A process and all its descendants, read from /proc (the plugins pulumi starts get process groups of their own). */
function processTree(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            // Fields after the command, which may hold spaces and parentheses: state, ppid, ...
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
        } catch {
            // the process ended while we listed it
        }
    }
    const tree = [root];
    for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
    return tree;
}

/**
 * Starts `pulumi up` as a user would and kills it once it is updating a Deployment,
 * the way a cancelled CI job ends: SIGKILL to pulumi and everything it started (the
 * language host, the program, the provider), so nothing lingers after the test.
 */
function killUpMidway(): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", ["up", "--yes", "--skip-preview", "--stack", STACK], {
            cwd: projectDir,
            env: cliEnv(),
        });
        let output = "";
        let killed = false;
        const onData = (d: Buffer) => {
            output += d.toString();
            // A gateway Deployment has started to roll: the engine is mid-update.
            if (/kubernetes:apps\/v1:Deployment \S+ updating/.test(output) && !killed && child.pid) {
                killed = true;
                for (const pid of processTree(child.pid)) {
                    try {
                        process.kill(pid, "SIGKILL");
                    } catch {
                        // already gone
                    }
                }
            }
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
