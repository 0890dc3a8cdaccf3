// Moving a namespace's workloads to another control plane: which pods carry which
// revision's sidecar, which workloads must restart, and the restart itself, in
// batches with a readiness wait between them. The pure parts (plan, readiness)
// are tested without a cluster; `migrateNamespace` runs inside `pulumi up` (see
// sidecarMigration.ts) and `npm run status` reads the same plan.
import { setTimeout as sleep } from "timers/promises";
import { KubeApi, KubeClient, KubeconfigSource, KubeError, KubeObject, WorkloadObject } from "../cluster/kube";
import { ownerOf, PodObject, sidecarRevision } from "../cluster/pods";

/**
 * Stamped on a pod template to restart it: `<revision>@<time>`, the revision it moves
 * to and when. It is also the migration's record of progress: a workload stamped for
 * the target whose rollout is under way is awaited, not restarted again.
 */
export const RESTARTED_FOR_ANNOTATION = "istio-mesh.io/restarted-for";

export type RestartableKind = "Deployment" | "StatefulSet" | "DaemonSet";

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
export async function readNamespace(kube: KubeApi, namespace: string): Promise<Parameters<typeof planMigration>[2]> {
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

export interface MigrationArgs {
    namespace: string;
    /** "" for the unnamed default revision. */
    revision: string;
    /** Workloads restarted at once: a batch's restarts are all started, then awaited together. */
    batchSize: number;
    /** How long a batch may take to run the target revision, and one pod's eviction may stay refused. */
    timeoutSeconds: number;
    /** The cluster: the Kubernetes provider's settings. */
    cluster: KubeconfigSource;
}

export interface MigrationResult {
    /** `Kind/name` of each workload restarted, in order. */
    restarted: string[];
    cannotRestart: string[];
}

/** Time as the migration sees it; fakes in unit tests. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}
const realClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/** How often the migration looks again: at the rollouts, and at an eviction a disruption budget refused. */
export const POLL_MS = 1000;
export const EVICTION_RETRY_MS = 5000;

/** Polls until `done` is true, or throws with what `pending` names after the timeout. */
async function waitUntil(
    clock: Clock,
    timeoutSeconds: number,
    done: () => Promise<boolean>,
    pending: () => string,
): Promise<void> {
    const deadline = clock.now() + timeoutSeconds * 1000;
    while (!(await done())) {
        if (clock.now() > deadline) throw new Error(`timed out after ${timeoutSeconds}s waiting for ${pending()}`);
        await clock.sleep(POLL_MS);
    }
}

/** A stamp this migration wrote to a template: `<target revision>@<time>`. */
export function stampTarget(stamp: string | undefined): string | undefined {
    const at = stamp?.lastIndexOf("@") ?? -1;
    return at > 0 ? stamp?.slice(0, at) : undefined;
}

/**
 * What a rolling workload of the plan needs: a restart, or only the wait, when a
 * migration to the same target already stamped it and its rollout is still under
 * way (an interrupted `up`, run again): restarting it again would roll the pods
 * that already moved.
 */
export function restartNeeded(workload: WorkloadObject | undefined, target: string): boolean {
    if (!workload) return true;
    const stamped = stampTarget(workload.spec?.template?.metadata?.annotations?.[RESTARTED_FOR_ANNOTATION]);
    return !(stamped === target && !rolloutComplete(workload));
}

type PlannedRestart = MigrationPlan["restart"][number];

/**
 * Restarts every workload of the namespace whose pods carry another revision's
 * sidecar, `batchSize` at a time, batches in order. A batch's restarts are all
 * started at once (a template stamp; for StatefulSets with `OnDelete`, their pods
 * evicted one at a time each, through the eviction API so that disruption budgets
 * hold), then the batch is awaited as a whole: every workload ready, every pod on
 * the target revision. Workloads already on the target are not in the plan, and
 * one whose rollout to the target is under way is awaited, not restarted again.
 */
export async function migrateNamespace(
    args: MigrationArgs,
    kube: KubeApi = new KubeClient(args.cluster),
    clock: Clock = realClock,
): Promise<MigrationResult> {
    const ns = args.namespace;
    let objects = await readNamespace(kube, ns);
    const plan = planMigration(ns, args.revision, objects);
    const apps = `/apis/apps/v1/namespaces/${ns}`;
    const stamp = `${plan.target}@${new Date(clock.now()).toISOString()}`;
    const restarted: string[] = [];
    const workload = (w: PlannedRestart) =>
        objects.workloads.find((o) => o.kind === w.kind && o.metadata.name === w.name);

    const start = async (w: PlannedRestart): Promise<void> => {
        if (w.onDelete) return evictOneByOne(kube, clock, args, w.name, plan.target);
        if (!restartNeeded(workload(w), plan.target)) return;
        await kube.patch(
            `${apps}/${WORKLOAD_PATHS[w.kind]}/${w.name}`,
            { spec: { template: { metadata: { annotations: { [RESTARTED_FOR_ANNOTATION]: stamp } } } } },
            "strategic",
        );
    };
    /** The batch's workloads not yet ready on the target, from one read of the namespace. */
    let waiting: PlannedRestart[] = [];
    const batchDone = (batch: PlannedRestart[]) => async () => {
        objects = await readNamespace(kube, ns);
        const again = planMigration(ns, args.revision, objects);
        waiting = batch.filter((w) => {
            const current = workload(w);
            return (
                !current ||
                !rolloutComplete(current) ||
                again.restart.some((r) => r.kind === w.kind && r.name === w.name)
            );
        });
        return waiting.length === 0;
    };

    for (let i = 0; i < plan.restart.length; i += args.batchSize) {
        const batch = plan.restart.slice(i, i + args.batchSize);
        if (i > 0) objects = await readNamespace(kube, ns);
        await Promise.all(batch.map(start));
        await waitUntil(
            clock,
            args.timeoutSeconds,
            batchDone(batch),
            () =>
                `${waiting.map((w) => `${w.kind}/${w.name}`).join(", ")} in ${ns} to be ready with every pod on revision ${plan.target}`,
        );
        restarted.push(...batch.map((w) => `${w.kind}/${w.name}`));
    }
    return { restarted, cannotRestart: plan.cannotRestart };
}

/**
 * Evicts a pod through the eviction API (policy/v1), which refuses (429) while a
 * PodDisruptionBudget allows no disruption: tried again every few seconds until
 * `timeoutSeconds`, then an error that names the pod and the budget's answer.
 */
export async function evictPod(
    kube: KubeApi,
    clock: Clock,
    namespace: string,
    pod: string,
    timeoutSeconds: number,
): Promise<void> {
    const deadline = clock.now() + timeoutSeconds * 1000;
    const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: pod, namespace } };
    for (;;) {
        try {
            await kube.create(`/api/v1/namespaces/${namespace}/pods/${pod}/eviction`, eviction);
            return;
        } catch (e) {
            if (e instanceof KubeError && e.status === 404) return;
            if (!(e instanceof KubeError && e.status === 429)) throw e;
            if (clock.now() >= deadline) {
                const why = [e.message.replace(/^POST \S+: 429 /, ""), ...e.causes].join(" ");
                throw new Error(
                    `pod ${namespace}/${pod} was not evicted within ${timeoutSeconds}s: a PodDisruptionBudget allows no disruption (${why}). ` +
                        `The migration stopped here and resumes on the next up; let the budget allow one more disruption, or raise istio-mesh:sidecarMigration.timeoutSeconds`,
                );
            }
            await clock.sleep(EVICTION_RETRY_MS);
        }
    }
}

/**
 * An OnDelete StatefulSet changes its pods only when they go: each pod not on the
 * target revision is evicted, highest ordinal first, and comes back (ready, on the
 * target) before the next is evicted.
 */
async function evictOneByOne(
    kube: KubeApi,
    clock: Clock,
    args: MigrationArgs,
    name: string,
    target: string,
): Promise<void> {
    const ns = args.namespace;
    const objects = await readNamespace(kube, ns);
    const pods = objects.pods
        .filter((p) => {
            const owner = ownerOf(p, objects.replicaSets);
            return owner.kind === "StatefulSet" && owner.name === name && sidecarRevision(p) !== target;
        })
        .sort((a, b) => b.metadata.name.localeCompare(a.metadata.name, undefined, { numeric: true }));
    for (const pod of pods) {
        const podPath = `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`;
        await evictPod(kube, clock, ns, pod.metadata.name, args.timeoutSeconds);
        await waitUntil(
            clock,
            args.timeoutSeconds,
            async () => {
                const back = await kube.get<PodObject>(podPath);
                const ready = back?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
                return !!back && ready && sidecarRevision(back) === target;
            },
            () => `pod ${ns}/${pod.metadata.name} to come back ready on revision ${target}`,
        );
    }
}
