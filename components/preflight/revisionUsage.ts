// Who uses which control plane, read from the cluster before anything changes:
// a revision still in use is never removed, and what an `up` will restart (or
// leave behind) is said in its preview.
import { NamespaceEnrollment } from "../config";
import { KubeClient, KubeObject } from "../cluster/kube";
import { sidecarRevision } from "../cluster/pods";
import { MigrationPlan, planMigration, readNamespace } from "../upgrade/namespaceMigration";

/** Revision name -> what still uses it: `namespace <name>` and `pod <namespace>/<name>` entries. */
export async function revisionUsers(kube: KubeClient, revisions: string[]): Promise<Map<string, string[]>> {
    const users = new Map<string, string[]>(revisions.map((r) => [r, []]));
    const named = revisions.filter((r) => r !== "");
    const [namespaces, pods] = await Promise.all([
        named.length > 0
            ? kube.list<KubeObject>("/api/v1/namespaces", { labelSelector: `istio.io/rev in (${named.join(",")})` })
            : Promise.resolve([]),
        kube.list<KubeObject>("/api/v1/pods"),
    ]);
    for (const ns of namespaces) {
        const rev = ns.metadata.labels?.["istio.io/rev"] ?? "";
        users.get(rev)?.push(`namespace ${ns.metadata.name} (labelled istio.io/rev=${rev})`);
    }
    for (const pod of pods) {
        const rev = sidecarRevision(pod);
        const key = rev === "default" ? "" : rev;
        if (key === undefined) continue;
        users.get(key)?.push(`pod ${pod.metadata.namespace}/${pod.metadata.name}`);
    }
    return users;
}

/** The message that refuses removing revisions still in use, or undefined when none is. */
export function removalRefusal(users: Map<string, string[]>): string | undefined {
    const inUse = [...users].filter(([, who]) => who.length > 0);
    if (inUse.length === 0) return undefined;
    const lines = inUse.map(([rev, who]) => {
        const shown = who.length > 20 ? [...who.slice(0, 20), `and ${who.length - 20} more`] : who;
        return `revision ${rev || "default"} is still used by: ${shown.join(", ")}`;
    });
    return (
        `istio-mesh:revisions: removing a control plane that is still in use is refused; nothing was changed.\n  ${lines.join("\n  ")}\n` +
        "Move those namespaces to another tag or revision (injectionNamespaces), let their workloads restart " +
        "(restartOnChange, or kubectl rollout restart), then remove the revision."
    );
}

/** What the last deployment recorded of a namespace, from the stack's `namespaceRevisions` output. */
export type DeployedEnrollment = Pick<NamespaceEnrollment, "name" | "revision" | "restartOnChange">;

/**
 * What `up` will do to each labelled namespace's workloads, as lines for the log:
 * the restarts a changed revision triggers, and the pods it leaves on another
 * revision (restartOnChange off, bare pods, Jobs).
 */
export async function describeMigrations(
    kube: KubeClient,
    enrollments: NamespaceEnrollment[],
    deployed: DeployedEnrollment[],
    batchSize: number,
): Promise<{ info: string[]; warnings: string[] }> {
    const info: string[] = [];
    const warnings: string[] = [];
    const plans = await Promise.all(
        enrollments.map(async (ns) => planMigration(ns.name, ns.revision, await readNamespace(kube, ns.name))),
    );
    enrollments.forEach((ns, i) => {
        const plan: MigrationPlan = plans[i];
        const before = deployed.find((d) => d.name === ns.name);
        const restarts = ns.restartOnChange && (!before?.restartOnChange || before.revision !== ns.revision);
        const via = ns.follows === ns.revision ? "" : ` (follows ${ns.follows || "default"})`;
        const list = plan.restart.map((w) => `${w.kind}/${w.name} (on ${w.revisions.join(", ")})`).join(", ");
        if (plan.restart.length > 0 && restarts) {
            info.push(
                `namespace ${ns.name}: restarting onto revision ${plan.target}${via}, ${batchSize} at a time: ${list}`,
            );
        } else if (plan.restart.length > 0) {
            warnings.push(
                `namespace ${ns.name}: sidecars not on revision ${plan.target}${via}, not restarted by this update ` +
                    `(${ns.restartOnChange ? "its revision did not change" : "restartOnChange is off"}): ${list}; ` +
                    `restart them with kubectl rollout restart -n ${ns.name} <kind>/<name>`,
            );
        }
        if (plan.cannotRestart.length > 0) {
            warnings.push(
                `namespace ${ns.name}: cannot be restarted onto revision ${plan.target}, recreate them yourself: ${plan.cannotRestart.join(", ")}`,
            );
        }
    });
    return { info, warnings };
}
