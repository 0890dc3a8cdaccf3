// What `pulumi destroy` does with the control plane namespace the stack created:
// it is deleted only when nothing in it is foreign. Run by the NamespaceRemoval
// dynamic resource (namespace.ts) when the engine deletes it, after everything the
// stack put in the namespace is gone: destroy runs no program, so this check lives
// in the provider's delete. Loaded by absolute path there; `classifyContents` is pure.
import { setTimeout as sleep } from "timers/promises";
import { KubeClient, KubeconfigSource, KubeError } from "../cluster/kube";
import { ClusterObject, OWNED_NAMESPACE_LABEL, STACK_ID_LABEL, STACK_NAME_ANNOTATION } from "../cluster/marks";

/** Set on a namespace destroy left behind: the objects that kept it. */
export const KEPT_FOR_ANNOTATION = "istio-mesh.io/kept-for";

/**
 * Field managers whose objects are by-products of what the stack runs, not anyone's
 * data: the control plane's controllers (kube-root-ca.crt, Endpoints) and istiod (its self-signed CA `istio-ca-secret`, the root certificate
 * ConfigMap it writes into every namespace, its leader-election locks).
 */
const BY_PRODUCT_MANAGERS = new Set(["kube-controller-manager", "kube-apiserver", "kube-scheduler", "pilot-discovery"]);

/** Kinds that are records of what happened, never anyone's configuration. */
const RECORD_KINDS = new Set(["Event", "events.k8s.io/Event"]);

export interface NamespacedItem extends ClusterObject {
    /** `Kind` for the core group, `group/Kind` otherwise. */
    kindName: string;
}

/**
 * The objects in the namespace that are neither the stack's (its id) nor a
 * by-product of what it ran (owned by another object, or written only by the
 * control plane or istiod): `Kind/name`, sorted.
 */
export function foreignContents(items: NamespacedItem[], stackId: string): string[] {
    return (
        items
            .filter((o) => !RECORD_KINDS.has(o.kindName))
            .filter((o) => o.metadata.labels?.[STACK_ID_LABEL] !== stackId)
            .filter((o) => (o.metadata.ownerReferences ?? []).length === 0)
            // Made by the service account controller in every namespace, with no field manager recorded.
            .filter((o) => !(o.kindName === "ServiceAccount" && o.metadata.name === "default"))
            .filter((o) => {
                const managers = (o.metadata.managedFields ?? []).map((f) => f.manager ?? "");
                return managers.length === 0 || managers.some((m) => !BY_PRODUCT_MANAGERS.has(m));
            })
            .map((o) => `${o.kindName}/${o.metadata.name}`)
            .sort()
    );
}

interface ApiResourceList {
    groupVersion: string;
    resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

/** Every object in `namespace`, of every namespaced kind the API server serves (discovery, then one list per kind). */
async function namespaceContents(kube: KubeClient, namespace: string): Promise<NamespacedItem[]> {
    const groups = await kube.get<{ groups: { preferredVersion: { groupVersion: string } }[] }>("/apis");
    const versions = ["v1", ...(groups?.groups ?? []).map((g) => g.preferredVersion.groupVersion)];
    const lists = await Promise.all(
        versions.map((gv) => kube.get<ApiResourceList>(gv === "v1" ? "/api/v1" : `/apis/${gv}`)),
    );
    const kinds = lists.flatMap((list, i) =>
        (list?.resources ?? [])
            .filter((r) => r.namespaced && !r.name.includes("/") && r.verbs.includes("list"))
            .map((r) => ({ groupVersion: versions[i], plural: r.name, kind: r.kind })),
    );
    const items = await Promise.all(
        kinds.map(async ({ groupVersion, plural, kind }) => {
            const base = groupVersion === "v1" ? "/api/v1" : `/apis/${groupVersion}`;
            const group = groupVersion.includes("/") ? groupVersion.split("/")[0] : "";
            const found = await kube.list<ClusterObject>(`${base}/namespaces/${namespace}/${plural}`);
            return found.map((o) => ({ ...o, kindName: group ? `${group}/${kind}` : kind }));
        }),
    );
    return items.flat();
}

export interface NamespaceRemovalArgs {
    /** The cluster: the Kubernetes provider's settings; kept in the state as a secret. */
    cluster: KubeconfigSource;
    namespace: string;
    stackId: string;
    /** How long to wait for the namespace to be gone. @default 600 */
    timeoutSeconds?: number;
}

export interface NamespaceRemovalResult {
    /** "deleted", "kept" (foreign objects in it), or "absent" / "not ours" (nothing to do). */
    outcome: "deleted" | "kept" | "absent" | "not ours";
    /** The foreign objects that kept it. */
    keptFor: string[];
}

/**
 * Deletes the namespace if it is this stack's and holds nothing foreign, and waits
 * until it is gone. Otherwise leaves it, without the stack's marks (a later install
 * finds it used, not owned), annotated with the objects that kept it.
 */
export async function removeNamespace(args: NamespaceRemovalArgs): Promise<NamespaceRemovalResult> {
    const kube = new KubeClient(args.cluster);
    const path = `/api/v1/namespaces/${args.namespace}`;
    const ns = await kube.get<ClusterObject>(path);
    if (ns === undefined) return { outcome: "absent", keptFor: [] };
    if (ns.metadata.labels?.[STACK_ID_LABEL] !== args.stackId) return { outcome: "not ours", keptFor: [] };
    const foreign = foreignContents(await namespaceContents(kube, args.namespace), args.stackId);
    if (foreign.length > 0) {
        await kube.patch(
            path,
            {
                metadata: {
                    labels: { [STACK_ID_LABEL]: null, [OWNED_NAMESPACE_LABEL.key]: null },
                    annotations: { [STACK_NAME_ANNOTATION]: null, [KEPT_FOR_ANNOTATION]: foreign.join(", ") },
                },
            },
            "merge",
        );
        return { outcome: "kept", keptFor: foreign };
    }
    await kube.delete(path);
    const deadline = Date.now() + (args.timeoutSeconds ?? 600) * 1000;
    for (;;) {
        const left = await kube.get<ClusterObject>(path).catch((e: unknown) => {
            if (e instanceof KubeError && e.status === 404) return undefined;
            throw e;
        });
        if (left === undefined || left.metadata.uid !== ns.metadata.uid) return { outcome: "deleted", keptFor: [] };
        if (Date.now() > deadline) {
            throw new Error(
                `namespace ${args.namespace} is still terminating after ${args.timeoutSeconds ?? 600}s: ${JSON.stringify(left.status ?? {})}`,
            );
        }
        await sleep(500);
    }
}

/** What destroy says about a namespace it kept. */
export function keptMessage(namespace: string, keptFor: string[]): string {
    return `namespace ${namespace} kept: it holds objects this stack did not create (${keptFor.join(", ")}); the stack's own objects in it are deleted, and the namespace no longer carries the stack's id`;
}
