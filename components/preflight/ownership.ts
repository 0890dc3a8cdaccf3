// What the stack owns of what it finds on the cluster, decided at every run from
// one read made before anything is registered (readOwnershipInventory), without the
// Kubernetes SDK, so a refused config stays fast. Every object the stack creates
// carries the stack's id (STACK_ID_LABEL): an id generated at the first install and
// kept in the stack's `stackId` output, so it moves with the stack's state on a
// rename or a move to another backend, and two stacks of the same name on two
// backends still differ. judgeOwnership is pure.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { KubeClient } from "../cluster/kube";
import { ClusterObject, OWNED_NAMESPACE_LABEL, STACK_ID_LABEL, STACK_NAME_ANNOTATION } from "../cluster/marks";

/** The Kubernetes provider's field managers are named pulumi-kubernetes-<id>. */
const PULUMI_MANAGER = /^pulumi-kubernetes/;

/** Istio's and the addons' cluster-wide objects, and how to tell Istio's from others'. */
export const CLUSTER_KINDS = [
    {
        kind: "CustomResourceDefinition",
        path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        isIstio: (n: string) => n.endsWith(".istio.io"),
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
] as const;

/** What one run reads before deciding anything: shared by every ownership check and by the Gateway API plan. */
export interface OwnershipInventory {
    /** The control plane namespace; undefined when it does not exist. */
    namespace?: ClusterObject;
    /** Every object of the CLUSTER_KINDS, by kind (CRDs of every group: the Gateway API plan reads them too). */
    cluster: Record<(typeof CLUSTER_KINDS)[number]["kind"], ClusterObject[]>;
    /** Namespaces that carry a stack id (any stack's): a stack that has one is still installed. */
    stackNamespaces: ClusterObject[];
}

/**
 * Reads what the ownership checks need, in one round of concurrent requests: the
 * control plane namespace, Istio's cluster-wide kinds (few objects each) and the
 * namespaces any istio-mesh stack labelled. Nothing namespaced is listed.
 */
export async function readOwnershipInventory(kube: KubeClient, namespace: string): Promise<OwnershipInventory> {
    const [ns, stackNamespaces, ...lists] = await Promise.all([
        kube.get<ClusterObject>(`/api/v1/namespaces/${namespace}`),
        kube.list<ClusterObject>("/api/v1/namespaces", { labelSelector: STACK_ID_LABEL }),
        ...CLUSTER_KINDS.map((k) => kube.list<ClusterObject>(k.path)),
    ]);
    const cluster = Object.fromEntries(
        CLUSTER_KINDS.map((k, i) => [k.kind, lists[i]]),
    ) as OwnershipInventory["cluster"];
    return { ...(ns ? { namespace: ns } : {}), cluster, stackNamespaces };
}

/**
 * The cluster roles and bindings the addons' manifests create, read from the local
 * copy of the release's manifests (`<source>/<addon>.yaml`, as addons.ts reads them).
 */
export function addonClusterObjects(source: string, addons: string[]): { kind: string; name: string }[] {
    return addons.flatMap((addon) =>
        yaml
            .loadAll(fs.readFileSync(path.join(source, `${addon}.yaml`), "utf8"))
            .filter((d): d is { kind: string; metadata: { name: string } } => {
                const doc = d as { kind?: unknown; metadata?: { name?: unknown } } | null;
                return (
                    (doc?.kind === "ClusterRole" || doc?.kind === "ClusterRoleBinding") &&
                    typeof doc.metadata?.name === "string"
                );
            })
            .map((d) => ({ kind: d.kind, name: d.metadata.name })),
    );
}

export interface OwnershipSettings {
    /** This stack's id. */
    stackId: string;
    /** The control plane namespace's name. */
    namespace: string;
    /** istio-mesh:adoptExisting: take over what another stack or tool owns. */
    adoptExisting: boolean;
    /**
     * The last deployment of this stack predates stack ids: its objects carry none, and
     * the Pulumi-managed ones without an id are its own. Its `namespaceOwned` output, when recorded.
     */
    legacy?: { namespaceOwned?: boolean };
    /** The addons' cluster roles and bindings (addonClusterObjects). @default none */
    addonObjects?: { kind: string; name: string }[];
}

/** An object the stack would take over, and who owns it. */
export interface ForeignObject {
    /** `Kind/name`. */
    object: string;
    /** "stack <name> (id <id>)", or "managed by kubectl-create" for another tool. */
    owner: string;
}

export interface OwnershipJudgement {
    /** The stack creates the control plane namespace, or created it: it deletes it on destroy (if nothing in it is foreign). */
    namespaceOwned: boolean;
    /** What another stack or tool owns that this run would take over; empty when adoptExisting is set. */
    foreign: ForeignObject[];
    /** For the log when the namespace is used without being owned. */
    namespaceNote?: string;
    /** Lines for the log: what is taken over and why. */
    notes: string[];
    /** Ids of the stacks installed on the cluster (they have a namespace or a webhook configuration marked with their id). */
    installedStacks: string[];
}

const stackOf = (o: ClusterObject): string | undefined => o.metadata.labels?.[STACK_ID_LABEL];

function ownerName(o: ClusterObject): string {
    const id = stackOf(o);
    if (id !== undefined) return `stack ${o.metadata.annotations?.[STACK_NAME_ANNOTATION] ?? "(unnamed)"} (id ${id})`;
    const managers = [...new Set((o.metadata.managedFields ?? []).map((f) => f.manager ?? "?"))];
    return `managed by ${managers.join(", ") || "unknown"}`;
}

/**
 * Decides, from one inventory, whether the stack owns its control plane namespace
 * and which existing objects it would take over from another stack or tool.
 *
 * An object is this stack's when it carries its id. One carrying another stack's id
 * is that stack's while that stack is installed (it still has a namespace or a
 * webhook configuration with its id); a CRD a destroyed stack kept is nobody's and
 * is taken. Without an id, Pulumi-managed objects are this stack's only when its last
 * deployment predates ids; anything else is another tool's (Helm, istioctl, kubectl).
 */
export function judgeOwnership(inventory: OwnershipInventory, settings: OwnershipSettings): OwnershipJudgement {
    const { stackId } = settings;
    const notes: string[] = [];
    const installed = new Set<string>(
        [
            ...inventory.stackNamespaces,
            ...inventory.cluster.MutatingWebhookConfiguration,
            ...inventory.cluster.ValidatingWebhookConfiguration,
        ]
            .map(stackOf)
            .filter((id): id is string => id !== undefined),
    );
    const isForeign = (o: ClusterObject): boolean => {
        const id = stackOf(o);
        if (id === stackId) return false;
        if (id !== undefined) return installed.has(id);
        const byPulumi = (o.metadata.managedFields ?? []).some((f) => PULUMI_MANAGER.test(f.manager ?? ""));
        return !(byPulumi && settings.legacy !== undefined);
    };

    const foreign: ForeignObject[] = [];
    const ns = inventory.namespace;
    if (ns?.status?.phase === "Terminating" || ns?.metadata.deletionTimestamp) {
        throw new Error(
            `namespace ${settings.namespace} is being deleted: nothing can be created in it until it is gone; wait (kubectl wait --for=delete namespace/${settings.namespace}) and run again`,
        );
    }
    let namespaceOwned: boolean;
    let namespaceNote: string | undefined;
    const nsId = ns ? stackOf(ns) : undefined;
    if (ns === undefined || nsId === stackId) {
        namespaceOwned = true;
    } else if (nsId !== undefined) {
        // Another stack's namespace: its destroy would delete what this stack puts there.
        foreign.push({ object: `Namespace/${ns.metadata.name}`, owner: ownerName(ns) });
        namespaceOwned = false;
    } else if (
        settings.legacy !== undefined &&
        (settings.legacy.namespaceOwned ??
            ns.metadata.labels?.[OWNED_NAMESPACE_LABEL.key] === OWNED_NAMESPACE_LABEL.value)
    ) {
        // Created by this stack before it labelled with ids: still its own, labelled by this run.
        namespaceOwned = true;
    } else {
        namespaceOwned = false;
        namespaceNote = `namespace ${settings.namespace} exists and no istio-mesh stack created it: it is used, not owned; destroy leaves it and whatever in it the stack did not create`;
    }

    const kept = new Map<string, string[]>();
    const addonNames = new Set((settings.addonObjects ?? []).map((o) => `${o.kind}/${o.name}`));
    for (const { kind, isIstio } of CLUSTER_KINDS) {
        for (const o of inventory.cluster[kind]) {
            const name = o.metadata.name;
            if (!isIstio(name) && !addonNames.has(`${kind}/${name}`)) continue;
            const id = stackOf(o);
            if (isForeign(o)) {
                foreign.push({ object: `${kind}/${name}`, owner: ownerName(o) });
            } else if (id !== undefined && id !== stackId) {
                const owner = ownerName(o);
                kept.set(owner, [...(kept.get(owner) ?? []), `${kind}/${name}`]);
            }
        }
    }
    for (const [owner, objects] of kept) {
        notes.push(`taking ${objects.join(", ")}: left by ${owner}, which is no longer installed`);
    }
    if (settings.adoptExisting && foreign.length > 0) {
        notes.push(
            `taking over (istio-mesh:adoptExisting): ${foreign.map((f) => `${f.object} (${f.owner})`).join(", ")}`,
        );
        return {
            namespaceOwned: namespaceOwned || nsId !== undefined,
            ...(namespaceNote ? { namespaceNote } : {}),
            foreign: [],
            notes,
            installedStacks: [...installed],
        };
    }
    return {
        namespaceOwned,
        ...(namespaceNote ? { namespaceNote } : {}),
        foreign,
        notes,
        installedStacks: [...installed],
    };
}

/** The refusal of a run that would take over what another stack or tool owns, or undefined when there is nothing. */
export function foreignObjectsRefusal(foreign: ForeignObject[]): string | undefined {
    if (foreign.length === 0) return undefined;
    const byOwner = new Map<string, string[]>();
    // CRDs last: they are many, and the namespace and webhooks say more about whose mesh it is.
    const crdsLast = [...foreign].sort(
        (a, b) =>
            Number(a.object.startsWith("CustomResourceDefinition/")) -
            Number(b.object.startsWith("CustomResourceDefinition/")),
    );
    for (const f of crdsLast) byOwner.set(f.owner, [...(byOwner.get(f.owner) ?? []), f.object]);
    const groups = [...byOwner].map(([owner, objects]) => {
        const shown = objects.length > 15 ? [...objects.slice(0, 15), `and ${objects.length - 15} more`] : objects;
        return `${shown.join(", ")} (${owner})`;
    });
    const otherStack = foreign.some((f) => f.owner.startsWith("stack "));
    return (
        `the cluster already has objects this stack would take over and did not create: ${groups.join("; ")}. ` +
        (otherStack
            ? "Another istio-mesh stack owns them: its destroy would delete what this stack installs, and this stack's would delete its mesh. Use another cluster, or destroy that stack first. " +
              "If that stack is this one under a first install that did not finish (which records no stack id), set istio-mesh:adoptExisting: true for one run. "
            : "Another installation (Helm, istioctl, kubectl) may own them: uninstall it first. ") +
        "To take them over, set istio-mesh:adoptExisting: true (the stack then updates them, and deletes all but the CRDs on destroy). Nothing was changed."
    );
}
