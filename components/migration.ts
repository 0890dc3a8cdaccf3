// Moving a namespace's workloads to another control plane: which pods carry which
// revision's sidecar, which workloads must restart, and the restart itself, in
// batches with a readiness wait between them. The pure parts (plan, readiness)
// are tested without a cluster; `migrateNamespace` runs inside `pulumi up` (see
// sidecarMigration.ts) and `npm run status` reads the same plan.
import { setTimeout as sleep } from "timers/promises";
import { KubeClient, KubeconfigSource, KubeObject, WorkloadObject } from "./kube";

/** The pod annotation the injector writes; its `revision` names the control plane that injected the sidecar. */
export const SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status";
/** Stamped on a pod template to restart it: the revision it moves to, and when. */
export const RESTARTED_FOR_ANNOTATION = "istio-mesh.io/restarted-for";

export type RestartableKind = "Deployment" | "StatefulSet" | "DaemonSet";

export interface PodObject extends KubeObject {
    spec?: { containers?: { name: string; image?: string }[] };
    status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

/** The revision whose injector gave the pod its sidecar ("default" for the unnamed one), or undefined without a sidecar. */
export function sidecarRevision(pod: KubeObject): string | undefined {
    const status = pod.metadata.annotations?.[SIDECAR_STATUS_ANNOTATION];
    if (!status) return undefined;
    try {
        const revision = (JSON.parse(status) as { revision?: unknown }).revision;
        return typeof revision === "string" && revision !== "" ? revision : "default";
    } catch {
        return "default";
    }
}

/** The Istio version of the pod's proxy: the istio-proxy image's tag. */
export function proxyVersion(pod: PodObject): string | undefined {
    const image = pod.spec?.containers?.find((c) => c.name === "istio-proxy")?.image;
    if (!image) return undefined;
    const at = image.lastIndexOf(":");
    return at > image.lastIndexOf("/") ? image.slice(at + 1) : undefined;
}

export interface WorkloadRefName {
    kind: string;
    name: string;
}

/** The workload a pod belongs to: its controller, or a Deployment behind a ReplicaSet; a bare pod is itself. */
export function ownerOf(pod: KubeObject, replicaSets: KubeObject[]): WorkloadRefName {
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
    if (!owner) return { kind: "Pod", name: pod.metadata.name };
    if (owner.kind === "ReplicaSet") {
        const rs = replicaSets.find((r) => r.metadata.name === owner.name);
        const deployment = rs?.metadata.ownerReferences?.find((o) => o.kind === "Deployment");
        if (deployment) return { kind: "Deployment", name: deployment.name };
    }
    return { kind: owner.kind, name: owner.name };
}

export interface MigrationPlan {
    namespace: string;
    /** The revision the namespace's sidecars must come from. */
    target: string;
    /** Workloads with a pod whose sidecar is from another revision, in the order they are restarted. */
    restart: { kind: RestartableKind; name: string; revisions: string[]; onDelete: boolean }[];
    /** Pods on another revision that a restart cannot move (bare pods, Jobs' pods): `kind/name`. */
    cannotRestart: string[];
    /** Pods whose sidecar already comes from the target. */
    current: number;
}

const RESTARTABLE: readonly string[] = ["Deployment", "StatefulSet", "DaemonSet"];

/** What moving `namespace` to `target` restarts, from its pods, ReplicaSets and workloads. */
export function planMigration(
    namespace: string,
    target: string,
    objects: { pods: PodObject[]; replicaSets: KubeObject[]; workloads: WorkloadObject[] },
): MigrationPlan {
    const wanted = target || "default";
    const restart = new Map<string, MigrationPlan["restart"][number]>();
    const cannotRestart = new Set<string>();
    let current = 0;
    for (const pod of objects.pods) {
        const revision = sidecarRevision(pod);
        if (revision === undefined) continue;
        if (revision === wanted) {
            current++;
            continue;
        }
        const owner = ownerOf(pod, objects.replicaSets);
        const workload = objects.workloads.find((w) => w.kind === owner.kind && w.metadata.name === owner.name);
        if (!workload || !RESTARTABLE.includes(owner.kind)) {
            cannotRestart.add(owner.kind === "Pod" ? `Pod/${pod.metadata.name}` : `${owner.kind}/${owner.name}`);
            continue;
        }
        const key = `${owner.kind}/${owner.name}`;
        const entry = restart.get(key) ?? {
            kind: owner.kind as RestartableKind,
            name: owner.name,
            revisions: [],
            onDelete: owner.kind === "StatefulSet" && workload.spec?.updateStrategy?.type === "OnDelete",
        };
        if (!entry.revisions.includes(revision)) entry.revisions.push(revision);
        restart.set(key, entry);
    }
    const byName = (a: { kind: string; name: string }, b: { kind: string; name: string }) =>
        `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`);
    return {
        namespace,
        target: wanted,
        restart: [...restart.values()].sort(byName),
        cannotRestart: [...cannotRestart].sort(),
        current,
    };
}

/** Whether a workload's rollout is done: every replica updated and available, no old one left. */
export function rolloutComplete(w: WorkloadObject): boolean {
    const s = w.status ?? {};
    if ((s.observedGeneration ?? 0) < (w.metadata.generation ?? 0)) return false;
    if (w.kind === "DaemonSet") {
        const desired = s.desiredNumberScheduled ?? 0;
        return (s.updatedNumberScheduled ?? 0) === desired && (s.numberAvailable ?? 0) === desired;
    }
    const desired = w.spec?.replicas ?? 1;
    if (w.kind === "StatefulSet") {
        return (
            (s.updatedReplicas ?? 0) === desired &&
            (s.readyReplicas ?? 0) === desired &&
            (desired === 0 || s.currentRevision === s.updateRevision)
        );
    }
    return (
        (s.updatedReplicas ?? 0) === desired && (s.availableReplicas ?? 0) === desired && (s.replicas ?? 0) === desired
    );
}

const WORKLOAD_PATHS: Record<RestartableKind, string> = {
    Deployment: "deployments",
    StatefulSet: "statefulsets",
    DaemonSet: "daemonsets",
};

/** Reads what `planMigration` needs from the cluster. */
export async function readNamespace(kube: KubeClient, namespace: string): Promise<Parameters<typeof planMigration>[2]> {
    const apps = `/apis/apps/v1/namespaces/${namespace}`;
    const [pods, replicaSets, ...workloads] = await Promise.all([
        kube.list<PodObject>(`/api/v1/namespaces/${namespace}/pods`),
        kube.list<KubeObject>(`${apps}/replicasets`),
        ...(Object.keys(WORKLOAD_PATHS) as RestartableKind[]).map((kind) =>
            kube
                .list<WorkloadObject>(`${apps}/${WORKLOAD_PATHS[kind]}`)
                .then((items) => items.map((w) => ({ ...w, kind }))),
        ),
    ]);
    // Pods on their way out are not what the namespace runs.
    const running = pods.filter((p) => !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    return { pods: running, replicaSets, workloads: workloads.flat() };
}

export interface MigrationArgs extends KubeconfigSource {
    namespace: string;
    /** "" for the unnamed default revision. */
    revision: string;
    batchSize: number;
    timeoutSeconds: number;
}

export interface MigrationResult {
    /** `Kind/name` of each workload restarted, in order. */
    restarted: string[];
    cannotRestart: string[];
}

/** Polls until `done` is true, or throws with `what` after the timeout. */
async function waitUntil(what: string, timeoutSeconds: number, done: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutSeconds}s waiting for ${what}`);
        await sleep(1000);
    }
}

/**
 * Restarts every workload of the namespace whose pods carry another revision's
 * sidecar, `batchSize` at a time; each batch waits until its workloads are ready
 * and their pods carry the target revision. StatefulSets with `OnDelete` get their
 * pods deleted one at a time, each replaced and ready before the next.
 */
export async function migrateNamespace(args: MigrationArgs): Promise<MigrationResult> {
    const kube = new KubeClient(args);
    const ns = args.namespace;
    const plan = planMigration(ns, args.revision, await readNamespace(kube, ns));
    const apps = `/apis/apps/v1/namespaces/${ns}`;
    const stamp = `${plan.target}@${new Date().toISOString()}`;
    const restarted: string[] = [];

    const onTarget = async (kind: RestartableKind, name: string): Promise<boolean> => {
        const objects = await readNamespace(kube, ns);
        const w = objects.workloads.find((o) => o.kind === kind && o.metadata.name === name);
        if (!w || !rolloutComplete(w)) return false;
        const again = planMigration(ns, args.revision, objects);
        return !again.restart.some((r) => r.kind === kind && r.name === name);
    };

    for (let i = 0; i < plan.restart.length; i += args.batchSize) {
        const batch = plan.restart.slice(i, i + args.batchSize);
        for (const w of batch.filter((b) => !b.onDelete)) {
            await kube.patch(
                `${apps}/${WORKLOAD_PATHS[w.kind]}/${w.name}`,
                { spec: { template: { metadata: { annotations: { [RESTARTED_FOR_ANNOTATION]: stamp } } } } },
                "strategic",
            );
        }
        for (const w of batch) {
            if (w.onDelete) await deletePodsOneByOne(kube, ns, w.name, args, onTarget);
            await waitUntil(`${w.kind}/${w.name} in ${ns} to run revision ${plan.target}`, args.timeoutSeconds, () =>
                onTarget(w.kind, w.name),
            );
            restarted.push(`${w.kind}/${w.name}`);
        }
    }
    return { restarted, cannotRestart: plan.cannotRestart };
}

/** An OnDelete StatefulSet changes its pods only when they are deleted: one at a time, highest ordinal first. */
async function deletePodsOneByOne(
    kube: KubeClient,
    ns: string,
    name: string,
    args: MigrationArgs,
    onTarget: (kind: RestartableKind, name: string) => Promise<boolean>,
): Promise<void> {
    const objects = await readNamespace(kube, ns);
    const pods = objects.pods
        .filter((p) => {
            const owner = ownerOf(p, objects.replicaSets);
            const revision = sidecarRevision(p);
            return owner.kind === "StatefulSet" && owner.name === name && revision !== (args.revision || "default");
        })
        .sort((a, b) => b.metadata.name.localeCompare(a.metadata.name, undefined, { numeric: true }));
    for (const pod of pods) {
        await kube.delete(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`);
        await waitUntil(
            `pod ${ns}/${pod.metadata.name} to come back on revision ${args.revision || "default"}`,
            args.timeoutSeconds,
            async () => {
                const back = await kube.get<PodObject>(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`);
                const ready = back?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
                return !!back && ready && sidecarRevision(back) === (args.revision || "default");
            },
        );
    }
    await waitUntil(`StatefulSet/${name} in ${ns} to be ready`, args.timeoutSeconds, () =>
        onTarget("StatefulSet", name),
    );
}
