// What the stack owns, decided from one read of the cluster (judgeOwnership, pure),
// the marks it puts on what it creates (markStackIdentity), what keeps its namespace
// on destroy (foreignContents), and what it does with Gateway API CRDs it finds.
import * as pulumi from "@pulumi/pulumi";
import { GatewayApiSettings } from "../../components/config";
import { FoundCrd, planGatewayApi } from "../../components/preflight/gatewayApiPlan";
import { foreignContents, NamespacedItem } from "../../components/controlPlane/namespaceRemoval";
import {
    addonClusterObjects,
    foreignObjectsRefusal,
    judgeOwnership,
    OwnershipInventory,
} from "../../components/preflight/ownership";
import { ClusterObject, STACK_ID_LABEL, STACK_NAME_ANNOTATION } from "../../components/cluster/marks";
import { markStackIdentity } from "../../components/charts/transforms";
import { testReleaseRoot } from "../support/releases";

const ME = "11111111-aaaa";
const OTHER = "22222222-bbbb";

function object(
    name: string,
    options: { stack?: string; stackName?: string; managers?: string[]; labels?: Record<string, string> } = {},
): ClusterObject {
    return {
        metadata: {
            name,
            labels: { ...options.labels, ...(options.stack ? { [STACK_ID_LABEL]: options.stack } : {}) },
            annotations: options.stackName ? { [STACK_NAME_ANNOTATION]: options.stackName } : {},
            managedFields: (options.managers ?? ["pulumi-kubernetes-1a2b"]).map((manager) => ({ manager })),
        },
    };
}

/** The objects one stack's install leaves on the cluster: its namespace, webhooks, a cluster role, a CRD. */
function installedBy(stack: string, stackName: string) {
    const mark = { stack, stackName };
    return {
        namespace: object("istio-system", mark),
        cluster: {
            CustomResourceDefinition: [object("virtualservices.networking.istio.io", mark)],
            MutatingWebhookConfiguration: [object("istio-sidecar-injector", mark)],
            ValidatingWebhookConfiguration: [object("istiod-default-validator", mark)],
            ClusterRole: [object("istiod-clusterrole-istio-system", mark), object("system:aggregate-to-view")],
            ClusterRoleBinding: [],
        },
        stackNamespaces: [object("istio-system", mark)],
    } satisfies OwnershipInventory;
}

const empty: OwnershipInventory = {
    cluster: {
        CustomResourceDefinition: [],
        MutatingWebhookConfiguration: [],
        ValidatingWebhookConfiguration: [],
        ClusterRole: [],
        ClusterRoleBinding: [],
    },
    stackNamespaces: [],
};
const settings = { stackId: ME, namespace: "istio-system", adoptExisting: false };

describe("who owns what the cluster has", () => {
    test("an empty cluster: the stack creates and owns its namespace", () => {
        expect(judgeOwnership(empty, settings)).toEqual({
            namespaceOwned: true,
            foreign: [],
            notes: [],
            installedStacks: [],
        });
    });

    test("its own objects, after a rename too (the id is the same): nothing foreign, the namespace still owned", () => {
        const j = judgeOwnership(installedBy(ME, "organization/istio-mesh/old-name"), settings);
        expect(j).toMatchObject({ namespaceOwned: true, foreign: [] });
    });

    test("a second stack with the same settings is refused, naming the first stack and its objects", () => {
        const j = judgeOwnership(installedBy(OTHER, "organization/istio-mesh/first"), settings);
        expect(j.foreign.map((f) => f.object)).toEqual([
            "Namespace/istio-system",
            "CustomResourceDefinition/virtualservices.networking.istio.io",
            "MutatingWebhookConfiguration/istio-sidecar-injector",
            "ValidatingWebhookConfiguration/istiod-default-validator",
            "ClusterRole/istiod-clusterrole-istio-system",
        ]);
        expect(foreignObjectsRefusal(j.foreign)).toBe(
            "the cluster already has objects this stack would take over and did not create: " +
                "Namespace/istio-system, MutatingWebhookConfiguration/istio-sidecar-injector, ValidatingWebhookConfiguration/istiod-default-validator, ClusterRole/istiod-clusterrole-istio-system, CustomResourceDefinition/virtualservices.networking.istio.io " +
                `(stack organization/istio-mesh/first (id ${OTHER})). ` +
                "Another istio-mesh stack owns them: its destroy would delete what this stack installs, and this stack's would delete its mesh. Use another cluster, or destroy that stack first. " +
                "If that stack is this one under a first install that did not finish (which records no stack id), set istio-mesh:adoptExisting: true for one run. " +
                "To take them over, set istio-mesh:adoptExisting: true (the stack then updates them, and deletes all but the CRDs on destroy). Nothing was changed.",
        );
    });

    test("adoptExisting takes another stack's objects and namespace, and says so", () => {
        const j = judgeOwnership(installedBy(OTHER, "organization/istio-mesh/first"), {
            ...settings,
            adoptExisting: true,
        });
        expect(j.foreign).toEqual([]);
        expect(j.namespaceOwned).toBe(true);
        expect(j.notes[0]).toMatch(/^taking over \(istio-mesh:adoptExisting\): Namespace\/istio-system \(stack /);
    });

    test("CRDs a destroyed stack kept are nobody's: taken without a setting, and said", () => {
        const kept = {
            ...empty,
            cluster: {
                ...empty.cluster,
                CustomResourceDefinition: [
                    object("virtualservices.networking.istio.io", { stack: OTHER, stackName: "organization/x/gone" }),
                ],
            },
        };
        const j = judgeOwnership(kept, settings);
        expect(j.foreign).toEqual([]);
        expect(j.notes).toEqual([
            `taking CustomResourceDefinition/virtualservices.networking.istio.io: left by stack organization/x/gone (id ${OTHER}), which is no longer installed`,
        ]);
    });

    test("Istio objects another tool made are refused, named with their field managers", () => {
        const helm = {
            ...empty,
            cluster: {
                ...empty.cluster,
                ClusterRole: [object("istiod-clusterrole-istio-system", { managers: ["helm"] })],
            },
        };
        const j = judgeOwnership(helm, settings);
        expect(j.foreign).toEqual([
            { object: "ClusterRole/istiod-clusterrole-istio-system", owner: "managed by helm" },
        ]);
        expect(foreignObjectsRefusal(j.foreign)).toContain(
            "(managed by helm). Another installation (Helm, istioctl, kubectl) may own them: uninstall it first.",
        );
    });

    test("another Pulumi program's objects without a stack id are foreign; this stack's from before ids are its own", () => {
        const unmarked = {
            ...empty,
            namespace: object("istio-system", { labels: { "app.kubernetes.io/part-of": "istio-mesh" } }),
            cluster: { ...empty.cluster, MutatingWebhookConfiguration: [object("istio-sidecar-injector")] },
        };
        expect(judgeOwnership(unmarked, settings).foreign).toEqual([
            {
                object: "MutatingWebhookConfiguration/istio-sidecar-injector",
                owner: "managed by pulumi-kubernetes-1a2b",
            },
        ]);
        expect(judgeOwnership(unmarked, { ...settings, legacy: { namespaceOwned: true } })).toMatchObject({
            namespaceOwned: true,
            foreign: [],
        });
    });

    test("a namespace made before the stack (Istio's plug-in CA procedure) is used, not owned, and said", () => {
        const j = judgeOwnership(
            { ...empty, namespace: object("istio-system", { managers: ["kubectl-create"] }) },
            settings,
        );
        expect(j.namespaceOwned).toBe(false);
        expect(j.foreign).toEqual([]);
        expect(j.namespaceNote).toBe(
            "namespace istio-system exists and no istio-mesh stack created it: it is used, not owned; destroy leaves it and whatever in it the stack did not create",
        );
    });

    test("a namespace being deleted stops the run, saying what to wait for", () => {
        const terminating = { ...object("istio-system", { stack: ME }), status: { phase: "Terminating" } };
        expect(() => judgeOwnership({ ...empty, namespace: terminating }, settings)).toThrow(
            "namespace istio-system is being deleted: nothing can be created in it until it is gone; wait (kubectl wait --for=delete namespace/istio-system) and run again",
        );
    });

    test("the addons' cluster roles fall under the same rule; unrelated cluster roles do not", () => {
        const addonObjects = addonClusterObjects(`${testReleaseRoot()}/1.29.6/addons`, ["prometheus", "kiali"]);
        expect(addonObjects).toEqual(
            expect.arrayContaining([
                { kind: "ClusterRole", name: "prometheus" },
                { kind: "ClusterRoleBinding", name: "prometheus" },
                { kind: "ClusterRole", name: "kiali" },
            ]),
        );
        const existing = {
            ...empty,
            cluster: {
                ...empty.cluster,
                ClusterRole: [object("prometheus", { managers: ["kubectl-client-side-apply"] }), object("admin")],
            },
        };
        expect(judgeOwnership(existing, { ...settings, addonObjects }).foreign).toEqual([
            { object: "ClusterRole/prometheus", owner: "managed by kubectl-client-side-apply" },
        ]);
        expect(judgeOwnership(existing, settings).foreign).toEqual([]);
    });
});

describe("the stack's marks on what it creates", () => {
    const mark = markStackIdentity({ id: ME, name: "organization/istio-mesh/dev" });
    const run = (type: string, props: Record<string, unknown>, custom = true) =>
        mark({ type, name: "x", props, opts: {}, custom } as pulumi.ResourceTransformArgs) as
            pulumi.ResourceTransformResult | undefined;

    test("every Kubernetes object gets the id label and the name annotation, beside its own", () => {
        const result = run("kubernetes:apps/v1:Deployment", {
            metadata: { name: "istiod", labels: { app: "istiod" } },
        });
        expect(result?.props.metadata).toEqual({
            name: "istiod",
            labels: { app: "istiod", [STACK_ID_LABEL]: ME },
            annotations: { [STACK_NAME_ANNOTATION]: "organization/istio-mesh/dev" },
        });
    });

    test("patches of others' objects, charts, components and other providers' resources are left alone", () => {
        expect(run("kubernetes:core/v1:NamespacePatch", { metadata: { name: "default" } })).toBeUndefined();
        expect(run("kubernetes:apps/v1:DeploymentPatch", { metadata: { name: "app" } })).toBeUndefined();
        expect(run("kubernetes:helm.sh/v4:Chart", {})).toBeUndefined();
        expect(run("istio-mesh:index:IstioMesh", {}, false)).toBeUndefined();
        expect(run("pulumi-nodejs:dynamic:Resource", {})).toBeUndefined();
    });
});

describe("what keeps the stack's namespace on destroy", () => {
    const item = (kindName: string, name: string, extra: Partial<ClusterObject["metadata"]> = {}): NamespacedItem => ({
        kindName,
        metadata: { name, managedFields: [{ manager: "kubectl-create" }], ...extra },
    });

    test("a user's Secret, a Certificate and a remote secret keep it; the stack's and by-products do not", () => {
        const items = [
            item("Secret", "cacerts"),
            item("cert-manager.io/Certificate", "addons-tls", {
                managedFields: [{ manager: "kubectl-client-side-apply" }],
            }),
            item("Secret", "istio-remote-secret-east", { managedFields: [] }),
            item("Deployment", "istiod", { labels: { [STACK_ID_LABEL]: ME } }),
            item("Pod", "istiod-abc", { ownerReferences: [{ kind: "ReplicaSet", name: "istiod-abc" }] }),
            item("Secret", "istio-ca-secret", { managedFields: [{ manager: "pilot-discovery" }] }),
            item("ConfigMap", "kube-root-ca.crt", { managedFields: [{ manager: "kube-controller-manager" }] }),
            // As the API server serves it: no field manager at all.
            item("ServiceAccount", "default", { managedFields: [] }),
            item("Event", "istiod.1"),
            item("events.k8s.io/Event", "istiod.1"),
        ];
        expect(foreignContents(items, ME)).toEqual([
            "Secret/cacerts",
            "Secret/istio-remote-secret-east",
            "cert-manager.io/Certificate/addons-tls",
        ]);
    });

    test("another stack's objects are foreign to this one", () => {
        expect(foreignContents([item("Deployment", "istiod", { labels: { [STACK_ID_LABEL]: OTHER } })], ME)).toEqual([
            "Deployment/istiod",
        ]);
    });

    test("nothing but the stack's and by-products: the namespace goes", () => {
        expect(
            foreignContents(
                [item("Secret", "istio-ca-secret", { managedFields: [{ manager: "pilot-discovery" }] })],
                ME,
            ),
        ).toEqual([]);
    });
});

describe("Gateway API CRDs the stack finds", () => {
    const settings: GatewayApiSettings = {
        enabled: true,
        version: "v1.4.1",
        source: "https://example.com/{version}",
        takeOver: true,
        deleteCrdsOnDestroy: false,
    };
    const crds = (owner: string | undefined, channel: string): FoundCrd[] =>
        ["gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"].map((name) => ({
            name,
            bundleVersion: "v1.4.1",
            channel,
            owner,
        }));

    test("the experimental channel is never replaced by the standard one, even over the stack's own CRDs", () => {
        expect(planGatewayApi(settings, "1.29.6", crds(ME, "experimental"), ME)).toEqual({
            action: "leave",
            installed: "v1.4.1",
            warn: true,
            note: "the cluster has Gateway API CRDs of the experimental channel (gateways.gateway.networking.k8s.io, httproutes.gateway.networking.k8s.io), applied over the stack's own; the stack leaves them and never applies the standard channel over them (it would drop their experimental fields). Set istio-mesh:gatewayApi.enabled: false to say so and silence this",
        });
        expect(planGatewayApi(settings, "1.29.6", crds(undefined, "experimental"), ME)).toMatchObject({
            action: "leave",
        });
    });

    test("the owner is a test: the stack's id, whatever the stack is called now", () => {
        const ours = (owner: string | undefined) => owner === ME;
        expect(planGatewayApi({ ...settings, takeOver: false }, "1.29.6", crds(ME, "standard"), ours)).toMatchObject({
            action: "install",
        });
        expect(
            planGatewayApi(
                { ...settings, takeOver: false },
                "1.29.6",
                crds("organization/istio-mesh/dev", "standard"),
                ours,
            ),
        ).toMatchObject({ action: "leave" });
    });
});
