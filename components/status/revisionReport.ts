// `npm run status`, per control plane: which namespaces and how many pods use each
// revision, pods whose proxy is not their revision's version, and pods left on
// another revision than their namespace follows. Pure: the status command feeds
// it the stack's outputs and the cluster's pods.
import { KubeObject } from "../cluster/kube";
import { ownerOf, PodObject, proxyVersion, sidecarRevision } from "../cluster/pods";

export interface RevisionReportInput {
    /** The stack's `revisions` output. */
    revisions: { name: string; version: string }[];
    /** The stack's `revisionTags` output. */
    tags: Record<string, string>;
    /** The stack's `namespaceRevisions` output. */
    namespaces: { name: string; follows: string; revision: string }[];
    pods: PodObject[];
    replicaSets: KubeObject[];
}

export interface RevisionReport {
    lines: string[];
    /** Pods whose proxy version differs from their revision's. */
    skewed: number;
    /** Pods on another revision than their namespace follows. */
    pending: number;
}

export function revisionReport(input: RevisionReportInput): RevisionReport {
    const lines: string[] = [];
    const label = (name: string) => name || "default";
    let skewed = 0;
    let pending = 0;
    for (const rev of input.revisions) {
        const pods = input.pods.filter((p) => sidecarRevision(p) === label(rev.name));
        const tags = Object.entries(input.tags)
            .filter(([, target]) => target === rev.name)
            .map(([tag]) => tag);
        const namespaces = [...new Set(pods.map((p) => p.metadata.namespace ?? ""))].sort();
        lines.push(
            `revision ${label(rev.name)} (Istio ${rev.version})${tags.length ? `, tags ${tags.join(", ")}` : ""}: ` +
                `${pods.length} pod(s)${namespaces.length ? ` in ${namespaces.join(", ")}` : ""}`,
        );
        for (const pod of pods) {
            const version = proxyVersion(pod);
            if (version !== undefined && version !== rev.version) {
                skewed++;
                lines.push(`  proxy skew: pod ${pod.metadata.namespace}/${pod.metadata.name} runs proxy ${version}`);
            }
        }
    }
    const known = new Set(input.revisions.map((r) => label(r.name)));
    const strays = input.pods.filter((p) => {
        const rev = sidecarRevision(p);
        return rev !== undefined && !known.has(rev);
    });
    for (const rev of [...new Set(strays.map((p) => sidecarRevision(p)))]) {
        lines.push(
            `revision ${rev} (not in this stack): ${strays.filter((p) => sidecarRevision(p) === rev).length} pod(s)`,
        );
    }
    for (const ns of input.namespaces) {
        const behind = input.pods.filter((p) => {
            const rev = sidecarRevision(p);
            return p.metadata.namespace === ns.name && rev !== undefined && rev !== label(ns.revision);
        });
        if (behind.length === 0) continue;
        pending += behind.length;
        const owners = [
            ...new Set(
                behind.map((p) => {
                    const o = ownerOf(p, input.replicaSets);
                    return `${o.kind}/${o.name} (${sidecarRevision(p)})`;
                }),
            ),
        ];
        lines.push(
            `pending: namespace ${ns.name} follows ${ns.follows || "default"} -> ${label(ns.revision)}, ` +
                `${behind.length} pod(s) still on another revision: ${owners.join(", ")}`,
        );
    }
    return { lines, skewed, pending };
}
