// What the stack restarts, and what it never does, with the real engine and two
// real istiods of one version (revisions blue and green, docs/restarts.md):
// moving a namespace's tag restarts its workloads in one batch; an OnDelete
// StatefulSet's pods go through the eviction API, so a PodDisruptionBudget that
// allows no disruption stops the migration with a clear message after the
// timeout; relaxed, the next `up` resumes without restarting what already moved;
// removing a sidecarRollout entry and destroying the stack restart nothing.
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import {
    deleteNamespaces,
    destroyAndRemove,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubeconfig,
    kubectl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    PROJECT,
    projectDir,
    setConfigValues,
    waitFor,
} from "./harness";

jest.setTimeout(900_000);

const STACK = "e2e-restarts";
const APPS = "restarts-apps";
const quiet = { onOutput: () => undefined };
const TIMEOUT_SECONDS = 30;
let stack: Stack;

/** The user's workloads: a Deployment, an OnDelete StatefulSet and a budget that allows no disruption of it. */
function applyApps(): void {
    const labels = (app: string) => ({
        selector: { matchLabels: { app } },
        template: { metadata: { labels: { app } } },
    });
    const pod = { containers: [{ name: "app", image: "registry.k8s.io/pause:3.9" }] };
    const manifests = [
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "web", namespace: APPS },
            spec: { replicas: 2, ...labels("web"), template: { ...labels("web").template, spec: pod } },
        },
        {
            apiVersion: "apps/v1",
            kind: "StatefulSet",
            metadata: { name: "db", namespace: APPS },
            spec: {
                replicas: 2,
                serviceName: "db",
                updateStrategy: { type: "OnDelete" },
                ...labels("db"),
                template: { ...labels("db").template, spec: pod },
            },
        },
        {
            apiVersion: "policy/v1",
            kind: "PodDisruptionBudget",
            metadata: { name: "db", namespace: APPS },
            spec: { maxUnavailable: 0, selector: { matchLabels: { app: "db" } } },
        },
    ];
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }),
        stdio: ["pipe", "ignore", "pipe"],
    });
}

interface Pod {
    metadata: { name: string; uid: string; labels: Record<string, string>; annotations?: Record<string, string> };
}

/** Each running pod of the namespace: its uid and the revision that injected its sidecar. */
function pods(): Record<string, { uid: string; revision: string }> {
    const items = kubectlJson<{ items: (Pod & { metadata: { deletionTimestamp?: string } })[] }>(
        "pods",
        "-n",
        APPS,
    ).items;
    return Object.fromEntries(
        items
            .filter((p) => !p.metadata.deletionTimestamp)
            .map((p) => {
                const status = p.metadata.annotations?.["sidecar.istio.io/status"];
                const revision = status ? ((JSON.parse(status) as { revision?: string }).revision ?? "?") : "none";
                return [p.metadata.name, { uid: p.metadata.uid, revision }];
            }),
    );
}

/** What a restart changes: the workloads' pod templates and the Deployment's ReplicaSets. */
function restartState() {
    return {
        webTemplate: kubectlJson("deployment", "web", "-n", APPS).spec.template,
        dbTemplate: kubectlJson("statefulset", "db", "-n", APPS).spec.template,
        webReplicaSets: kubectlJson<{ items: { metadata: { name: string } }[] }>(
            "replicasets",
            "-n",
            APPS,
            "-l",
            "app=web",
        )
            .items.map((rs) => rs.metadata.name)
            .sort(),
    };
}

/** Waits until the namespace runs its four pods, each app's on the revision given for it. */
function waitForRevisions(expected: { web: string; db: string }): Promise<unknown> {
    return waitFor(`pods of ${APPS} on ${JSON.stringify(expected)}`, 180, () => {
        const now = Object.entries(pods());
        const app = (name: string) => (name.startsWith("web-") ? "web" : "db");
        return now.length === 4 && now.every(([name, p]) => p.revision === expected[app(name)]) ? now : undefined;
    });
}

async function configure(revisions: string[], stable: string, rollout: boolean): Promise<void> {
    await setConfigValues(stack, {
        "istio-mesh:revisions": JSON.stringify(revisions.map((name) => ({ name }))),
        "istio-mesh:revisionTags": JSON.stringify({ default: "blue", stable }),
        "istio-mesh:injectionNamespaces": JSON.stringify([{ name: APPS, revision: "stable", restartOnChange: true }]),
        "istio-mesh:sidecarRollout": JSON.stringify(
            rollout ? [{ namespace: APPS, kind: "Deployment", name: "web" }] : [],
        ),
    });
}

const suite = footprint({ stacks: [[PROJECT, STACK]], namespaces: [APPS] }, MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await freshStack(projectDir, STACK, {
        config: {
            "istio-mesh:version": { value: "1.29.6" },
            "istio-mesh:sidecarMigration": { value: JSON.stringify({ batchSize: 2, timeoutSeconds: TIMEOUT_SECONDS }) },
        },
    });
    await setConfigValues(stack, MINIMAL_MESH);
    kubectl("create", "namespace", APPS);
    applyApps();
}, 900_000);

afterAll(async () => {
    await suite.cleanUp([
        ["destroy and remove the stack", () => destroyAndRemove(stack)],
        ...MESH_KEPT_ON_DESTROY,
        ["delete the namespace made by hand", () => deleteNamespaces(APPS)],
    ]);
}, 900_000);

describe("restarts on the local cluster", () => {
    test("1. blue installed, the namespace labelled: its pods run blue's sidecars", async () => {
        await configure(["blue"], "blue", true);
        await stack.up(quiet);
        // Created before the label: restarted once by hand, as a user would.
        kubectl("delete", "pods", "--all", "-n", APPS, "--wait=false");
        await waitForRevisions({ web: "blue", db: "blue" });
    });

    let moved: ReturnType<typeof restartState>;
    test("2. stable -> green: the batch restarts web while db's eviction waits on its PodDisruptionBudget, then fails naming it", async () => {
        const before = pods();
        await configure(["blue", "green"], "green", true);
        const error = await stack.up(quiet).then(
            () => undefined,
            (e: unknown) => String(e),
        );
        expect(error).toContain(
            `pod ${APPS}/db-1 was not evicted within ${TIMEOUT_SECONDS}s: a PodDisruptionBudget allows no disruption (Cannot evict pod as it would violate the pod's disruption budget.`,
        );
        expect(error).toContain("The migration stopped here and resumes on the next up");
        // web, in the same batch, moved; db's pods are the same pods, still on blue.
        await waitForRevisions({ web: "green", db: "blue" });
        const after = pods();
        expect([after["db-0"], after["db-1"]]).toEqual([before["db-0"], before["db-1"]]);
        moved = restartState();
        expect(moved.webTemplate.metadata.annotations["istio-mesh.io/restarted-for"]).toMatch(/^green@/);
    });

    test("3. the budget relaxed, the next up resumes: db's pods are evicted onto green, web is not restarted again", async () => {
        kubectl(
            "patch",
            "pdb",
            "db",
            "-n",
            APPS,
            "--type=merge",
            "-p",
            JSON.stringify({ spec: { maxUnavailable: 1 } }),
        );
        const webPods = Object.entries(pods()).filter(([name]) => name.startsWith("web-"));
        await stack.up(quiet);
        await waitForRevisions({ web: "green", db: "green" });
        expect(restartState().webReplicaSets).toEqual(moved.webReplicaSets);
        expect(restartState().webTemplate).toEqual(moved.webTemplate);
        expect(Object.entries(pods()).filter(([name]) => name.startsWith("web-"))).toEqual(webPods);
    });

    test("4. removing the sidecarRollout entry restarts nothing: the template and ReplicaSets stay", async () => {
        const before = { state: restartState(), pods: pods() };
        await configure(["blue", "green"], "green", false);
        await stack.up(quiet);
        expect({ state: restartState(), pods: pods() }).toEqual(before);
    });

    test("5. destroy restarts nothing: templates, ReplicaSets and pods stay as they are", async () => {
        const before = { state: restartState(), pods: pods() };
        await stack.destroy(quiet);
        expect(kubectlJson("namespace", APPS).metadata.labels["istio.io/rev"]).toBeUndefined();
        expect({ state: restartState(), pods: pods() }).toEqual(before);
    });
});
