// A canary upgrade on the local cluster, with the real engine and the real istiod,
// one config change per step, asserting on the cluster at every step: install
// revision A behind the tags default and stable; add revision B beside it; move
// stable to B (one namespace restarts in batches, the other is left and reported);
// a no-op up restarts nothing; removing A while in use is refused; roll stable back
// to A and forward again; move the rest; remove A. The preview of each step and the
// step times are written to artifacts/.
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import {
    deleteNamespaces,
    destroyAndRemove,
    exists,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    istioctl,
    kubeconfig,
    kubectl,
    kubectlJson,
    localIstiods,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    PROJECT,
    projectDir,
    reportTimings,
    saveArtifact,
    stepTimer,
    waitFor,
    watchCollection,
    WatchEvent,
} from "./harness";
import { podOf, STANDIN_ANNOTATION, syncedStandin } from "./proxy";

jest.setTimeout(900_000);

const STACK = "e2e-canary";
const A = { name: "1-29-6", version: "1.29.6" };
const B = { name: "1-30-3", version: "1.30.3" };
/** Opted in to automatic restarts, with three Deployments: two batches of two. */
const AUTO = "canary-auto";
/** Not opted in: its Deployment stays where it is and is reported. */
const MANUAL = "canary-manual";
/** Labelled by the test itself, to ask each tag's injector directly. */
const PROBE = "canary-probe";
const AUTO_APPS = ["app-1", "app-2", "app-3"];
/** The workload whose pods get a proxy stand-in: which istiod serves it is asserted before and after its migration. */
const STANDIN_APP = "app-1";
const BARE_POD = "bare";

const timings: [string, number][] = [];
const previews: string[] = [];
let stack: Stack;
const quiet = { onOutput: () => undefined };

const step = stepTimer(timings);

interface Settings {
    version: string;
    revisions: { name: string; version?: string }[];
    tags: Record<string, string>;
    manualRestarts?: boolean;
}

async function configure(s: Settings): Promise<void> {
    await stack.setAllConfig({
        "istio-mesh:version": { value: s.version },
        "istio-mesh:revisions": { value: JSON.stringify(s.revisions) },
        "istio-mesh:revisionTags": { value: JSON.stringify(s.tags) },
        "istio-mesh:injectionNamespaces": {
            value: JSON.stringify([
                { name: AUTO, revision: "stable", restartOnChange: true },
                { name: MANUAL, revision: "stable", restartOnChange: s.manualRestarts ?? false },
            ]),
        },
    });
}

interface Op {
    op: string;
    urn: string;
    type: string;
    diffs: string[];
}

/** What the program said (info, warnings, errors): the engine's diagnostic events, debug output left out. */
function diagnostics(into: string[]) {
    return (e: EngineEvent) => {
        const d = e.diagnosticEvent;
        if (d && ["info", "warning", "error"].includes(d.severity) && d.message.trim() !== "") {
            into.push(`${d.severity}: ${d.message.trim()}`);
        }
    };
}

/** Previews, saves the preview's text and the program's messages as an artifact, and returns the planned changes. */
async function preview(name: string): Promise<{ changes: Op[]; said: string }> {
    const ops: Op[] = [];
    const said: string[] = [];
    const onDiagnostic = diagnostics(said);
    const result = await step(`${name}: preview`, () =>
        stack.preview({
            diff: true,
            onOutput: () => undefined,
            onEvent: (e: EngineEvent) => {
                onDiagnostic(e);
                const m = e.resourcePreEvent?.metadata;
                if (m) ops.push({ op: m.op, urn: m.urn, type: m.type, diffs: m.diffs ?? [] });
            },
        }),
    );
    previews.push(`## ${name}\n\n\`\`\`\n${said.join("\n")}\n\n${result.stdout}\n\`\`\`\n`);
    // The engine reports the default provider of the dynamic resources as an update
    // with no property changed; the CLI neither shows nor counts it. One with a diff counts.
    const providerNoise = (o: Op) => o.type.startsWith("pulumi:providers:") && o.diffs.length === 0;
    return {
        changes: ops.filter((o) => o.op !== "same" && o.op !== "read" && !providerNoise(o)),
        said: said.join("\n"),
    };
}

/** Runs `up`; returns what the program said. */
async function up(name: string): Promise<string> {
    const said: string[] = [];
    await step(`${name}: up`, () => stack.up({ onOutput: () => undefined, onEvent: diagnostics(said) }));
    return said.join("\n");
}

interface Pod {
    metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    spec: { containers: { name: string; image: string }[] };
}

/** The revision of each pod's sidecar and its proxy image, by pod name. */
function sidecars(namespace: string): Record<string, { revision: string; proxy: string; uid: string }> {
    const pods = kubectlJson<{ items: Pod[] }>("pods", "-n", namespace).items;
    return Object.fromEntries(
        pods
            .filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp)
            .map((p) => {
                const status = JSON.parse(p.metadata.annotations?.["sidecar.istio.io/status"] ?? "{}") as {
                    revision?: string;
                };
                const proxy = p.spec.containers.find((c) => c.name === "istio-proxy")?.image ?? "none";
                return [p.metadata.name, { revision: status.revision ?? "none", proxy, uid: p.metadata.uid }];
            }),
    );
}

/** Waits until every pod of the namespace has a sidecar of `revision` at `version`, `count` pods in all. */
function waitForSidecars(namespace: string, revision: string, version: string, count: number) {
    return waitFor(`${count} pods in ${namespace} on ${revision}`, 120, () => {
        const pods = Object.values(sidecars(namespace));
        const ok = pods.every((p) => p.revision === revision && p.proxy === `docker.io/istio/proxyv2:${version}`);
        return pods.length === count && ok ? pods : undefined;
    });
}

/** The proxies `istioctl proxy-status` lists for the local istiod of a revision (asked on its loopback xDS port). */
function proxyStatus(revision: string): string {
    const local = localIstiods().find((i) => i.revision === revision);
    if (!local) throw new Error(`no local istiod of revision ${revision}`);
    return istioctl("proxy-status", "--xds-address", `127.0.0.1:${local.ports.secureGrpc}`, "--insecure");
}

/**
 * Which istiod serves the stand-in app's current pod: the istiod its injection
 * names, the local process its stand-in got its certificate from and holds its
 * xDS stream with (the CA and xDS share istiod's 15012), and the one whose
 * proxy-status lists it, while the other revision's (when running) does not.
 */
async function expectServedBy(revision: string, other?: string): Promise<void> {
    const pod = podOf(AUTO, `app=${STANDIN_APP}`);
    const standin = await syncedStandin(AUTO, pod);
    const local = localIstiods().find((i) => i.revision === revision);
    expect(standin.state.discoveryAddress).toBe(`istiod-${revision}.istio-system.svc:15012`);
    expect(standin.supervision.istiod).toBe(`${local?.namespace}.${local?.deployment}`);
    expect(standin.supervision.xdsAddress).toBe(`127.0.0.1:${local?.ports.secureGrpc}`);
    expect(standin.state.certificate?.spiffe).toBe(`spiffe://cluster.local/ns/${AUTO}/sa/default`);
    // istioctl 1.30 lists NAME CLUSTER ISTIOD VERSION SUBSCRIBED TYPES: the row names the pod and its istiod.
    const row = await waitFor(`proxy-status of ${revision} to list ${pod}`, 60, () =>
        proxyStatus(revision)
            .split("\n")
            .find((l) => l.startsWith(`${pod}.${AUTO} `)),
    );
    expect(row.trim().split(/\s{2,}/)[2]).toBe(`istiod-${revision}-local`);
    if (other) expect(proxyStatus(other)).not.toContain(`${pod}.${AUTO}`);
}

function tagWebhookRevision(tag: string): string {
    return kubectlJson("mutatingwebhookconfiguration", `istio-revision-tag-${tag}`).metadata.labels["istio.io/rev"];
}

function deployApps(): void {
    for (const app of AUTO_APPS) {
        const d = JSON.parse(
            kubectl(
                "create",
                "deployment",
                app,
                "-n",
                AUTO,
                "--image=registry.k8s.io/pause:3.9",
                "--dry-run=client",
                "-o",
                "json",
            ),
        );
        if (app === STANDIN_APP) d.spec.template.metadata.annotations = { [STANDIN_ANNOTATION]: "true" };
        execFileSync("kubectl", ["--kubeconfig", kubeconfig, "create", "-f", "-"], { input: JSON.stringify(d) });
    }
    kubectl("create", "deployment", "manual-app", "-n", MANUAL, "--image=registry.k8s.io/pause:3.9");
    kubectl("run", BARE_POD, "-n", AUTO, "--image=registry.k8s.io/pause:3.9");
}

/** The mesh's, and the namespaces it makes by hand (no Gateway API CRDs: they must not be there either). */
const suite = footprint(
    { stacks: [[PROJECT, STACK]], namespaces: [AUTO, MANUAL, PROBE] },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await freshStack(projectDir, STACK, {
        config: {
            "istio-mesh:profile": { value: "minimal" },
            // Revisions, tags and sidecars are under test; the Gateway API CRDs and their
            // move with the Istio minor are the ambient suite's.
            "istio-mesh:gatewayApi": { value: JSON.stringify({ enabled: false }) },
            "istio-mesh:sidecarMigration": { value: JSON.stringify({ batchSize: 2, timeoutSeconds: 120 }) },
        },
    });
    for (const ns of [AUTO, MANUAL, PROBE]) kubectl("create", "namespace", ns);
}, 900_000);

afterAll(async () => {
    reportTimings("canary", timings);
    saveArtifact("canary-previews.md", previews.join("\n"));
    await suite.cleanUp([
        ["destroy and remove the stack", () => destroyAndRemove(stack)],
        ...MESH_KEPT_ON_DESTROY,
        ["delete the namespaces made by hand", () => deleteNamespaces(AUTO, MANUAL, PROBE)],
    ]);
}, 900_000);

describe("canary upgrade with revision tags on the local cluster", () => {
    test("1. revision A behind default and stable: both namespaces' workloads get A's proxy", async () => {
        await configure({
            version: A.version,
            revisions: [{ name: A.name }],
            tags: { default: A.name, stable: A.name },
        });
        await up("1. install A");
        expect(tagWebhookRevision("default")).toBe(A.name);
        expect(tagWebhookRevision("stable")).toBe(A.name);
        expect(kubectlJson("service", "istiod-revision-tag-stable", "-n", "istio-system").spec.selector).toEqual({
            app: "istiod",
            "istio.io/rev": A.name,
        });
        for (const ns of [AUTO, MANUAL]) {
            expect(kubectlJson("namespace", ns).metadata.labels["istio.io/rev"]).toBe("stable");
        }
        deployApps();
        await waitForSidecars(AUTO, A.name, A.version, AUTO_APPS.length + 1);
        await waitForSidecars(MANUAL, A.name, A.version, 1);
    });

    test("1b. the pod injected by A is served by istiod A: its certificate and xDS stream, and A's proxy-status", async () => {
        await step("1b. stand-in served by A", () => expectServedBy(A.name));
    });

    test("2. adding revision B runs both istiods, each injecting for its own tag", async () => {
        await configure({
            version: B.version,
            revisions: [A, { name: B.name }],
            tags: { default: A.name, stable: A.name, canary: B.name },
        });
        const { changes } = await preview("2. add B");
        // Nothing of A is replaced or deleted: B and its tag are added beside it.
        expect(changes.filter((c) => c.op === "delete" || c.op === "replace")).toEqual([]);
        expect(changes.some((c) => c.op === "create" && c.urn.endsWith("::istio-istiod-1-30-3"))).toBe(true);
        const before = sidecars(AUTO);
        await up("2. add B");
        for (const rev of [A, B]) {
            const d = kubectlJson("deployment", `istiod-${rev.name}`, "-n", "istio-system");
            expect(d.status.readyReplicas).toBe(1);
            expect(localIstiods().some((i) => i.revision === rev.name)).toBe(true);
        }
        expect(tagWebhookRevision("canary")).toBe(B.name);
        // Each tag's injector answers: a pod in a canary namespace gets B, one in stable gets A.
        kubectl("label", "namespace", PROBE, "istio.io/rev=canary");
        kubectl("run", "probe", "-n", PROBE, "--image=registry.k8s.io/pause:3.9");
        await waitForSidecars(PROBE, B.name, B.version, 1);
        kubectl("run", "probe-stable", "-n", MANUAL, "--image=registry.k8s.io/pause:3.9");
        await waitFor("the stable probe pod", 60, () => sidecars(MANUAL)["probe-stable"]);
        expect(sidecars(MANUAL)["probe-stable"].revision).toBe(A.name);
        kubectl("delete", "pod", "probe-stable", "-n", MANUAL, "--wait=true");
        // Adding a control plane restarts nobody.
        expect(sidecars(AUTO)).toEqual(before);
    });

    let manualBefore: ReturnType<typeof sidecars>;
    test("3. moving stable to B restarts the opted-in namespace in batches and reports the rest", async () => {
        await configure({
            version: B.version,
            revisions: [A, { name: B.name }],
            tags: { default: A.name, stable: B.name, canary: B.name },
        });
        const { changes, said } = await preview("3. move stable to B");
        expect(changes.map((c) => `${c.op} ${c.urn.split("::").pop()}`).sort()).toEqual([
            "update istio-migrate-canary-auto",
            "update istio-tag-stable-service",
            "update istio-tag-stable-webhook",
        ]);
        expect(said).toContain(
            `namespace ${AUTO}: restarting onto revision ${B.name} (follows stable), 2 at a time: Deployment/app-1 (on ${A.name}), Deployment/app-2 (on ${A.name}), Deployment/app-3 (on ${A.name})`,
        );
        manualBefore = sidecars(MANUAL);
        const podEvents = watchCollection(`/api/v1/namespaces/${AUTO}/pods`);
        const out = await up("3. move stable to B");
        const events = await podEvents.stop();
        expect(tagWebhookRevision("stable")).toBe(B.name);
        const auto = sidecars(AUTO);
        for (const app of AUTO_APPS) {
            const pods = Object.entries(auto).filter(([name]) => name.startsWith(`${app}-`));
            expect(pods.map(([, p]) => [p.revision, p.proxy])).toEqual([
                [B.name, `docker.io/istio/proxyv2:${B.version}`],
            ]);
        }
        // The bare pod cannot be restarted: it stays on A and is named in the output.
        expect(auto[BARE_POD].revision).toBe(A.name);
        expect(out).toContain(
            `namespace ${AUTO}: cannot be restarted onto revision ${B.name}, recreate them yourself: Pod/${BARE_POD}`,
        );
        // The other namespace is untouched (same pods) and reported as pending.
        expect(sidecars(MANUAL)).toEqual(manualBefore);
        expect(out).toContain(
            `namespace ${MANUAL}: sidecars not on revision ${B.name} (follows stable), not restarted by this update (restartOnChange is off): Deployment/manual-app (on ${A.name})`,
        );
        // Batches of two: the third Deployment was restarted only once the first two ran
        // ready pods on B, in the order the API server saw the pods change (its watch).
        const firstOnB = (app: string, what: (e: WatchEvent) => boolean) =>
            events.findIndex(
                (e) =>
                    e.object.metadata.labels?.app === app &&
                    JSON.parse(e.object.metadata.annotations?.["sidecar.istio.io/status"] ?? "{}").revision ===
                        B.name &&
                    what(e),
            );
        const ready = (e: WatchEvent) =>
            (e.object.status?.conditions ?? []).some(
                (c: { type: string; status: string }) => c.type === "Ready" && c.status === "True",
            );
        const firstReady = ["app-1", "app-2"].map((app) => firstOnB(app, ready));
        expect(firstReady.every((i) => i >= 0)).toBe(true);
        expect(firstOnB("app-3", (e) => e.type === "ADDED")).toBeGreaterThan(Math.max(...firstReady));
        const recorded = (await stack.outputs()).namespaceRevisions.value as { name: string; revision: string }[];
        expect(recorded.map((n) => [n.name, n.revision])).toEqual([
            [AUTO, B.name],
            [MANUAL, B.name],
        ]);
    });

    test("3b. after the migration, the pod injected by B is served by istiod B, and no longer by A", async () => {
        await step("3b. stand-in served by B", () => expectServedBy(B.name, A.name));
    });

    test("4. a no-op up restarts nothing", async () => {
        const before = { auto: sidecars(AUTO), manual: sidecars(MANUAL) };
        const { changes } = await preview("4. no-op");
        expect(changes).toEqual([]);
        await up("4. no-op");
        expect({ auto: sidecars(AUTO), manual: sidecars(MANUAL) }).toEqual(before);
    });

    test("5. removing A while pods still use it is refused, naming them, and changes nothing", async () => {
        await configure({
            version: B.version,
            revisions: [{ name: B.name }],
            tags: { default: B.name, stable: B.name, canary: B.name },
        });
        const err = await step("5. remove A in use: up (refused)", () =>
            stack.up(quiet).then(
                () => undefined,
                (e: Error) => e,
            ),
        );
        expect(err).toBeInstanceOf(Error);
        const message = String(err);
        expect(message).toContain(
            "istio-mesh:revisions: removing a control plane that is still in use is refused; nothing was changed.",
        );
        const manualPod = Object.keys(manualBefore)[0];
        expect(message).toContain(
            `revision ${A.name} is still used by: pod ${AUTO}/${BARE_POD}, pod ${MANUAL}/${manualPod}`,
        );
        expect(exists("deployment", `istiod-${A.name}`, "-n", "istio-system")).toBe(true);
        expect(tagWebhookRevision("default")).toBe(A.name);
    });

    test("6. rolling stable back to A restarts the opted-in namespace back; forward again moves it to B", async () => {
        await configure({
            version: B.version,
            revisions: [A, { name: B.name }],
            tags: { default: A.name, stable: A.name, canary: B.name },
        });
        const { changes } = await preview("6. roll stable back to A");
        expect(changes.map((c) => `${c.op} ${c.urn.split("::").pop()}`).sort()).toEqual([
            "update istio-migrate-canary-auto",
            "update istio-tag-stable-service",
            "update istio-tag-stable-webhook",
        ]);
        await up("6. roll stable back to A");
        await waitForSidecars(MANUAL, A.name, A.version, 1);
        const auto = sidecars(AUTO);
        for (const app of AUTO_APPS) {
            expect(
                Object.entries(auto)
                    .filter(([n]) => n.startsWith(`${app}-`))
                    .map(([, p]) => p.revision),
            ).toEqual([A.name]);
        }
        await configure({
            version: B.version,
            revisions: [A, { name: B.name }],
            tags: { default: A.name, stable: B.name, canary: B.name },
        });
        await up("6. forward stable to B again");
        for (const app of AUTO_APPS) {
            expect(
                Object.entries(sidecars(AUTO))
                    .filter(([n]) => n.startsWith(`${app}-`))
                    .map(([, p]) => p.revision),
            ).toEqual([B.name]);
        }
    });

    test("7. after moving the rest, removing A removes its istiod and webhooks and nothing else", async () => {
        await configure({
            version: B.version,
            revisions: [A, { name: B.name }],
            tags: { default: B.name, stable: B.name, canary: B.name },
            manualRestarts: true,
        });
        kubectl("delete", "pod", BARE_POD, "-n", AUTO, "--wait=true");
        await up("7. move default and the manual namespace to B");
        await waitForSidecars(MANUAL, B.name, B.version, 1);
        expect(tagWebhookRevision("default")).toBe(B.name);
        expect(
            kubectlJson("validatingwebhookconfiguration", "istiod-default-validator").webhooks[0].clientConfig.service
                .name,
        ).toBe(`istiod-${B.name}`);

        await configure({
            version: B.version,
            revisions: [{ name: B.name }],
            tags: { default: B.name, stable: B.name, canary: B.name },
            manualRestarts: true,
        });
        const { changes } = await preview("7. remove A");
        // Only A's istiod goes: every change is a delete under its component.
        expect(changes.length).toBeGreaterThan(0);
        expect(changes.filter((c) => c.op !== "delete" || !c.urn.includes("istio-istiod"))).toEqual([]);
        const pods = { auto: sidecars(AUTO), manual: sidecars(MANUAL) };
        await up("7. remove A");
        expect(exists("deployment", `istiod-${A.name}`, "-n", "istio-system")).toBe(false);
        expect(exists("mutatingwebhookconfiguration", `istio-sidecar-injector-${A.name}`)).toBe(false);
        expect(exists("validatingwebhookconfiguration", `istio-validator-${A.name}-istio-system`)).toBe(false);
        await waitFor(`the local istiod of ${A.name} to stop`, 60, () =>
            localIstiods().some((i) => i.revision === A.name) ? undefined : true,
        );
        expect(exists("deployment", `istiod-${B.name}`, "-n", "istio-system")).toBe(true);
        for (const tag of ["default", "stable", "canary"]) expect(tagWebhookRevision(tag)).toBe(B.name);
        expect({ auto: sidecars(AUTO), manual: sidecars(MANUAL) }).toEqual(pods);
    });
});
