// What the stack owns of what it finds on the cluster. Read before anything is
// registered, without the Kubernetes SDK, so a refused config stays fast.
import { KubeClient, KubeObject } from "./kube";

/** The label every namespace this stack creates carries; one without it was made by someone else. */
export const OWNED_NAMESPACE_LABEL = { key: "app.kubernetes.io/part-of", value: "istio-mesh" };

/** True when the namespace does not exist yet (the stack will create it) or carries the label of one the stack created. */
export async function controlPlaneNamespaceIsOurs(kube: KubeClient, name: string): Promise<boolean> {
    const existing = await kube.get<KubeObject & { status?: { phase?: string } }>(`/api/v1/namespaces/${name}`);
    if (existing?.status?.phase === "Terminating") {
        throw new Error(
            `namespace ${name} is being deleted: nothing can be created in it until it is gone; wait (kubectl wait --for=delete namespace/${name}) and run again`,
        );
    }
    return (
        existing === undefined || existing.metadata.labels?.[OWNED_NAMESPACE_LABEL.key] === OWNED_NAMESPACE_LABEL.value
    );
}

interface ManagedObject extends KubeObject {
    metadata: KubeObject["metadata"] & { managedFields?: { manager?: string }[] };
}

/** The Kubernetes provider's field managers are named pulumi-kubernetes-<id>. */
const PULUMI_MANAGER = /^pulumi-kubernetes/;

/** Cluster-wide kinds Istio's charts create, and how to tell Istio's from others'. */
const ISTIO_CLUSTER_OBJECTS: { kind: string; path: string; isIstio: (name: string) => boolean }[] = [
    {
        kind: "CustomResourceDefinition",
        path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        isIstio: (n) => n.endsWith(".istio.io"),
    },
    // The charts name their webhook configurations and cluster roles istio-… and istiod-….
    ...[
        ["MutatingWebhookConfiguration", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"],
        ["ValidatingWebhookConfiguration", "admissionregistration.k8s.io", "validatingwebhookconfigurations"],
        ["ClusterRole", "rbac.authorization.k8s.io", "clusterroles"],
        ["ClusterRoleBinding", "rbac.authorization.k8s.io", "clusterrolebindings"],
    ].map(([kind, group, plural]) => ({
        kind,
        path: `/apis/${group}/v1/${plural}`,
        isIstio: (n: string) => n.startsWith("istio"),
    })),
];

/**
 * Istio's cluster-wide objects that exist and were not written by this tool (Helm,
 * istioctl, kubectl made them): `Kind/name (managed by ...)`. A first install
 * would take them over, and a destroy would then delete them (all but the CRDs).
 */
export async function foreignIstioObjects(kube: KubeClient): Promise<string[]> {
    const found = await Promise.all(
        ISTIO_CLUSTER_OBJECTS.map(async ({ kind, path, isIstio }) =>
            (await kube.list<ManagedObject>(path))
                .filter((o) => isIstio(o.metadata.name))
                .filter((o) => !(o.metadata.managedFields ?? []).some((f) => PULUMI_MANAGER.test(f.manager ?? "")))
                .map((o) => {
                    const managers = [...new Set((o.metadata.managedFields ?? []).map((f) => f.manager ?? "?"))];
                    return `${kind}/${o.metadata.name} (managed by ${managers.join(", ") || "unknown"})`;
                }),
        ),
    );
    return found.flat();
}

/** The refusal of a first install onto another installation's objects, or undefined when there are none. */
export function foreignObjectsRefusal(objects: string[]): string | undefined {
    if (objects.length === 0) return undefined;
    const shown = objects.length > 15 ? [...objects.slice(0, 15), `and ${objects.length - 15} more`] : objects;
    return (
        `the cluster already has Istio objects this stack did not create: ${shown.join(", ")}. ` +
        "Another installation (Helm, istioctl) may own them: uninstall it first, or set istio-mesh:adoptExisting: true " +
        "to take them over (the stack then updates them, and deletes all but the CRDs on destroy). Nothing was changed."
    );
}
