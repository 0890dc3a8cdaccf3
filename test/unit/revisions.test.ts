// Canary revisions without a cluster: how the config reads, what a tag's webhook
// selects, which workloads a migration restarts, and what a refused removal says.
import { injectionLabels } from "../../components/dataPlane/injectionLabel";
import type { WorkloadObject } from "../../components/cluster/kube";
import { planMigration, rolloutComplete } from "../../components/upgrade/namespaceMigration";
import { PodObject } from "../../components/cluster/pods";
import { revisionReport } from "../../components/status/revisionReport";
import { revisionTagWebhooks } from "../../components/upgrade/revisionTag";
import { removalRefusal } from "../../components/preflight/revisionUsage";
import { baseValues, gatewayValues, istiodValues } from "../../components/charts/values";
import { configParser } from "./configParser";

const { parse, problems } = configParser("1.30.3");

const CANARY = {
    revisions: [{ name: "1-29-6", version: "1.29.6" }, { name: "1-30-3" }],
    revisionTags: { default: "1-29-6", stable: "1-29-6", canary: "1-30-3" },
};

describe("revisions config", () => {
    test("a single-revision stack reads as before: one revision from version and revision, no tags", () => {
        const c = parse({ revision: "1-30-3" });
        expect(c.revisions.map((r) => [r.name, r.version.text])).toEqual([["1-30-3", "1.30.3"]]);
        expect(c.revisionTags).toEqual({});
        expect(c.revision).toBe("1-30-3");
        expect(c.injectionNamespaces).toEqual([
            { name: "default", follows: "1-30-3", revision: "1-30-3", restartOnChange: false },
        ]);
        expect(injectionLabels(c.injectionNamespaces[0].follows)).toEqual({ "istio.io/rev": "1-30-3" });
    });

    test("listed revisions run side by side; namespaces follow the default tag unless told otherwise", () => {
        const c = parse({
            ...CANARY,
            injectionNamespaces: ["web", { name: "shop", revision: "stable", restartOnChange: true }],
        });
        expect(c.upgradeStrategy).toBe("canary");
        expect(c.revisions.map((r) => [r.name, r.version.text])).toEqual([
            ["1-29-6", "1.29.6"],
            ["1-30-3", "1.30.3"],
        ]);
        expect(c.revision).toBe("1-29-6");
        expect(c.injectionNamespaces).toEqual([
            { name: "web", follows: "default", revision: "1-29-6", restartOnChange: false },
            { name: "shop", follows: "stable", revision: "1-29-6", restartOnChange: true },
        ]);
        expect(injectionLabels("default")).toEqual({ "istio-injection": "enabled" });
        expect(injectionLabels("stable")).toEqual({ "istio.io/rev": "stable" });
        expect(baseValues(c).defaultRevision).toBe("1-29-6");
    });

    test("each revision's istiod gets its own name and values after the stack's", () => {
        const c = parse({
            ...CANARY,
            istiodValues: { pilot: { autoscaleMin: 2 } },
            revisions: [
                { name: "1-29-6", version: "1.29.6", istiodValues: { pilot: { autoscaleMin: 3 } } },
                { name: "1-30-3" },
            ],
        });
        const [a, b] = c.revisions.map(
            (r) => istiodValues(c, r) as { revision: string; pilot: { autoscaleMin: number } },
        );
        expect([a.revision, a.pilot.autoscaleMin]).toEqual(["1-29-6", 3]);
        expect([b.revision, b.pilot.autoscaleMin]).toEqual(["1-30-3", 2]);
    });

    test("a gateway pinned to a tag runs the revision behind it, so moving the tag restarts it", () => {
        const gateways = [{ name: "istio-ingressgateway", revision: "canary" }, { name: "edge" }];
        const c = parse({ ...CANARY, gateways });
        expect(c.gateways.map((g) => gatewayValues(c, g).revision)).toEqual(["1-30-3", "1-29-6"]);
        expect(problems({ ...CANARY, gateways: [{ name: "edge", revision: "gold" }] })).toEqual([
            'istio-mesh:gateways[0].revision: "gold" is neither a tag nor a revision of this stack; allowed: default, stable, canary, 1-29-6, 1-30-3',
        ]);
    });

    test.each<[string, Record<string, unknown>, string[]]>([
        [
            "revision and revisions together",
            { revision: "1-30-3", revisions: [{ name: "1-30-3" }] },
            [
                'istio-mesh:revision: "1-30-3" cannot be combined with istio-mesh:revisions; name every control plane in istio-mesh:revisions',
            ],
        ],
        [
            "a revision newer than the CRDs and CNI",
            { version: "1.29.6", revisions: [{ name: "a", version: "1.30.3" }] },
            [
                'istio-mesh:revisions[0].version: "1.30.3" is newer than istio-mesh:version 1.29.6, which the CRDs, CNI, ztunnel and gateways run; raise istio-mesh:version first (Istio upgrades those before a new control plane)',
            ],
        ],
        [
            "a duplicate revision and one named default",
            { revisions: [{ name: "a" }, { name: "a" }, { name: "default" }] },
            [
                'istio-mesh:revisions[1].name: "a" is a duplicate of revisions[0].name; each revision runs one istiod, named after it',
                'istio-mesh:revisions[2].name: "default" is the name of Istio\'s default tag; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision',
            ],
        ],
        [
            "a tag to a revision the stack does not run, and a tag named like a revision",
            { revisions: [{ name: "a" }], revisionTags: { stable: "b", a: "a" } },
            [
                'istio-mesh:revisionTags.stable: "b" is not a revision of this stack; allowed: a',
                'istio-mesh:revisionTags.a: "a" is also a revision\'s name; Istio tells tags and revisions apart by name, so pick another',
            ],
        ],
        [
            "a namespace following an unknown tag, and several revisions without a default tag",
            {
                revisions: [{ name: "a" }, { name: "b" }],
                injectionNamespaces: [{ name: "shop", revision: "gold" }, "web"],
            },
            [
                'istio-mesh:injectionNamespaces[0].revision: "gold" is neither a tag nor a revision of this stack; allowed: a, b',
                "istio-mesh:injectionNamespaces[1].revision: is required; the stack runs several revisions and has no default tag; name the tag or revision this namespace follows (a, b)",
            ],
        ],
        [
            "migration settings out of range",
            { sidecarMigration: { batchSize: 0, timeoutSeconds: 5 } },
            [
                "istio-mesh:sidecarMigration.batchSize: 0 is not a whole number from 1 to 1000",
                "istio-mesh:sidecarMigration.timeoutSeconds: 5 is not a whole number from 10 to 86400",
            ],
        ],
    ])("%s is refused, naming the setting", (_what, raw, expected) => {
        expect(problems(raw)).toEqual(expected);
    });
});

describe("revision tag webhooks", () => {
    test("a tag sends istio.io/rev=<tag> namespaces and pods to its revision's istiod", () => {
        const hooks = revisionTagWebhooks({ tag: "stable", revision: "1-30-3", namespace: "istio-system" });
        expect(hooks.map((h) => h.name)).toEqual([
            "rev.namespace.sidecar-injector.istio.io",
            "rev.object.sidecar-injector.istio.io",
        ]);
        expect(hooks.every((h) => JSON.stringify(h.clientConfig).includes('"name":"istiod-1-30-3"'))).toBe(true);
        expect(JSON.stringify(hooks[0].namespaceSelector)).toContain('"values":["stable"]');
    });

    test("the default tag also serves istio-injection=enabled namespaces and sidecar.istio.io/inject=true pods", () => {
        const hooks = revisionTagWebhooks({ tag: "default", revision: "1-29-6", namespace: "istio-system" });
        expect(hooks.map((h) => h.name)).toEqual([
            "rev.namespace.sidecar-injector.istio.io",
            "rev.object.sidecar-injector.istio.io",
            "namespace.sidecar-injector.istio.io",
            "object.sidecar-injector.istio.io",
        ]);
        expect(JSON.stringify(hooks[2].namespaceSelector)).toContain(
            '"key":"istio-injection","operator":"In","values":["enabled"]',
        );
    });
});

const pod = (name: string, revision: string | undefined, owner?: { kind: string; name: string }): PodObject => ({
    metadata: {
        name,
        namespace: "shop",
        ...(revision ? { annotations: { "sidecar.istio.io/status": JSON.stringify({ revision }) } } : {}),
        ...(owner ? { ownerReferences: [{ ...owner, controller: true }] } : {}),
    },
});
const rs = (name: string, deployment: string) => ({
    metadata: { name, ownerReferences: [{ kind: "Deployment", name: deployment, controller: true }] },
});
const workload = (kind: string, name: string, extra: Partial<WorkloadObject> = {}): WorkloadObject => ({
    kind,
    metadata: { name },
    ...extra,
});

describe("sidecar migration plan", () => {
    const objects = {
        pods: [
            pod("cart-1", "1-29-6", { kind: "ReplicaSet", name: "cart-abc" }),
            pod("cart-2", "1-30-3", { kind: "ReplicaSet", name: "cart-abc" }),
            pod("web-1", "1-30-3", { kind: "ReplicaSet", name: "web-def" }),
            pod("db-0", "1-29-6", { kind: "StatefulSet", name: "db" }),
            pod("report-x", "1-29-6", { kind: "Job", name: "report" }),
            pod("debug", "1-29-6"),
            pod("no-sidecar", undefined, { kind: "ReplicaSet", name: "web-def" }),
        ],
        replicaSets: [rs("cart-abc", "cart"), rs("web-def", "web")],
        workloads: [
            workload("Deployment", "cart"),
            workload("Deployment", "web"),
            workload("StatefulSet", "db", { spec: { updateStrategy: { type: "OnDelete" } } }),
        ],
    };

    test("restarts the workloads with a pod on another revision, and names what no restart moves", () => {
        expect(planMigration("shop", "1-30-3", objects)).toEqual({
            namespace: "shop",
            target: "1-30-3",
            restart: [
                { kind: "Deployment", name: "cart", revisions: ["1-29-6"], onDelete: false },
                { kind: "StatefulSet", name: "db", revisions: ["1-29-6"], onDelete: true },
            ],
            cannotRestart: ["Job/report", "Pod/debug"],
            current: 2,
        });
    });

    test("nothing to do when every sidecar is on the target", () => {
        const plan = planMigration("shop", "1-29-6", { ...objects, pods: [objects.pods[0], objects.pods[3]] });
        expect([plan.restart, plan.cannotRestart, plan.current]).toEqual([[], [], 2]);
    });

    test("a rollout is complete only when every replica is updated and available and the old ones are gone", () => {
        const d = (status: WorkloadObject["status"]) =>
            workload("Deployment", "cart", {
                spec: { replicas: 2 },
                metadata: { name: "cart", generation: 2 },
                status,
            });
        expect(
            rolloutComplete(d({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })),
        ).toBe(true);
        expect(
            rolloutComplete(d({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 })),
        ).toBe(false);
        expect(
            rolloutComplete(d({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 })),
        ).toBe(false);
    });
});

describe("refused removal", () => {
    test("names every revision still in use and who uses it", () => {
        const users = new Map([
            ["1-29-6", ["namespace legacy (labelled istio.io/rev=1-29-6)", "pod shop/cart-1"]],
            ["1-28-10", []],
        ]);
        expect(removalRefusal(users)).toBe(
            "istio-mesh:revisions: removing a control plane that is still in use is refused; nothing was changed.\n" +
                "  revision 1-29-6 is still used by: namespace legacy (labelled istio.io/rev=1-29-6), pod shop/cart-1\n" +
                "Move those namespaces to another tag or revision (injectionNamespaces), let their workloads restart (restartOnChange, or kubectl rollout restart), then remove the revision.",
        );
        expect(removalRefusal(new Map([["1-28-10", []]]))).toBeUndefined();
    });
});

describe("status per revision", () => {
    const proxied = (name: string, namespace: string, revision: string, version: string): PodObject => ({
        metadata: {
            name,
            namespace,
            annotations: { "sidecar.istio.io/status": JSON.stringify({ revision }) },
            ownerReferences: [{ kind: "ReplicaSet", name: `${name}-rs`, controller: true }],
        },
        spec: { containers: [{ name: "istio-proxy", image: `docker.io/istio/proxyv2:${version}` }] },
    });

    test("counts pods per revision, flags a proxy at another version and pods left behind", () => {
        const report = revisionReport({
            revisions: [
                { name: "1-29-6", version: "1.29.6" },
                { name: "1-30-3", version: "1.30.3" },
            ],
            tags: { default: "1-29-6", stable: "1-30-3" },
            namespaces: [
                { name: "shop", follows: "stable", revision: "1-30-3" },
                { name: "web", follows: "default", revision: "1-29-6" },
            ],
            pods: [
                proxied("cart", "shop", "1-30-3", "1.30.3"),
                proxied("legacy", "shop", "1-29-6", "1.29.6"),
                proxied("front", "web", "1-29-6", "1.28.10"),
            ],
            replicaSets: [rs("legacy-rs", "legacy")],
        });
        expect(report.lines).toEqual([
            "revision 1-29-6 (Istio 1.29.6), tags default: 2 pod(s) in shop, web",
            "  proxy skew: pod web/front runs proxy 1.28.10",
            "revision 1-30-3 (Istio 1.30.3), tags stable: 1 pod(s) in shop",
            "pending: namespace shop follows stable -> 1-30-3, 1 pod(s) still on another revision: Deployment/legacy (1-29-6)",
        ]);
        expect([report.skewed, report.pending]).toEqual([1, 1]);
    });
});
