// The sidecar migration's restarts against a fake API (no cluster): a batch's
// restarts are all issued before the batch is awaited, and awaited with one read
// per poll; batches in order; a workload whose rollout to the target is under way
// (an interrupted `up`) is awaited, not restarted again; OnDelete pods go through
// the eviction API, which a disruption budget refuses (429) until it allows one
// more, and the migration gives up after its timeout with a message that says so.
// The e2e suite test/e2e/restarts.test.ts runs the same on a real cluster.
import { KubeApi, KubeError, KubeObject, WorkloadObject } from "../../components/cluster/kube";
import {
    Clock,
    migrateNamespace,
    RESTARTED_FOR_ANNOTATION,
    restartNeeded,
} from "../../components/upgrade/namespaceMigration";
import { PodObject, SIDECAR_STATUS_ANNOTATION } from "../../components/cluster/pods";

const NS = "shop";
const OLD = "1-29-6";
const NEW = "1-30-3";

const injected = (revision: string) => ({ [SIDECAR_STATUS_ANNOTATION]: JSON.stringify({ revision }) });

/** A namespace whose workloads roll (in the fake) one poll after their template changes. */
class FakeApi implements KubeApi {
    /** Every write, and each read of the namespace's pods (one per poll), in order. */
    readonly log: string[] = [];
    workloads: WorkloadObject[] = [];
    pods: PodObject[] = [];
    /** Evictions the "budget" refuses before it allows one. */
    refuseEvictions = 0;
    /** Workload name -> reads of the namespace still to come before its pods are on the new revision. */
    private rolling = new Map<string, number>();

    deployment(name: string, revision: string, stamp?: string, complete = true): void {
        this.workloads.push({
            kind: "Deployment",
            metadata: { name, namespace: NS, generation: complete ? 1 : 2 },
            spec: {
                replicas: 1,
                template: { metadata: { annotations: stamp ? { [RESTARTED_FOR_ANNOTATION]: stamp } : {} } },
            },
            status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
        });
        this.pods.push(this.pod(`${name}-1`, revision, { kind: "ReplicaSet", name: `${name}-rs` }));
        // Under way before the migration starts: rolled only after the migration's first look.
        if (!complete) this.rolling.set(name, 1);
    }

    onDeleteStatefulSet(name: string, revisions: string[]): void {
        this.workloads.push({
            kind: "StatefulSet",
            metadata: { name, namespace: NS, generation: 1 },
            spec: { replicas: revisions.length, updateStrategy: { type: "OnDelete" } },
            status: {
                observedGeneration: 1,
                replicas: revisions.length,
                readyReplicas: revisions.length,
                updatedReplicas: revisions.length,
                currentRevision: "r1",
                updateRevision: "r1",
            },
        });
        revisions.forEach((r, i) => this.pods.push(this.pod(`${name}-${i}`, r, { kind: "StatefulSet", name })));
    }

    private pod(name: string, revision: string, owner: { kind: string; name: string }): PodObject {
        return {
            metadata: {
                name,
                namespace: NS,
                annotations: injected(revision),
                ownerReferences: [{ ...owner, controller: true }],
            },
            status: { conditions: [{ type: "Ready", status: "True" }] },
        };
    }

    async list<T extends object>(apiPath: string): Promise<T[]> {
        if (apiPath.endsWith("/pods")) {
            this.log.push("read");
            // What was patched before this read has rolled: pods on the new revision.
            for (const [name, reads] of this.rolling) {
                if (reads > 0) {
                    this.rolling.set(name, reads - 1);
                    continue;
                }
                this.rolling.delete(name);
                this.pods
                    .filter((p) => p.metadata.name.startsWith(`${name}-`))
                    .forEach((p) => (p.metadata.annotations = injected(NEW)));
                const w = this.workloads.find((x) => x.metadata.name === name)!;
                w.metadata.generation = w.status!.observedGeneration = 2;
            }
            return structuredClone(this.pods) as T[];
        }
        if (apiPath.endsWith("/replicasets")) {
            const rs: KubeObject[] = this.workloads
                .filter((w) => w.kind === "Deployment")
                .map((w) => ({
                    metadata: {
                        name: `${w.metadata.name}-rs`,
                        ownerReferences: [{ kind: "Deployment", name: w.metadata.name }],
                    },
                }));
            return rs as T[];
        }
        const kind = apiPath.endsWith("/deployments")
            ? "Deployment"
            : apiPath.endsWith("/statefulsets")
              ? "StatefulSet"
              : "DaemonSet";
        return structuredClone(this.workloads.filter((w) => w.kind === kind)) as T[];
    }

    async patch<T extends object>(apiPath: string, body: unknown): Promise<T> {
        const name = apiPath.split("/").pop()!;
        this.log.push(`restart ${name}`);
        const stamp = (body as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec
            .template.metadata.annotations[RESTARTED_FOR_ANNOTATION];
        const w = this.workloads.find((x) => x.metadata.name === name)!;
        w.spec!.template = { metadata: { annotations: { [RESTARTED_FOR_ANNOTATION]: stamp } } };
        w.metadata.generation = 3;
        this.rolling.set(name, 0);
        return {} as T;
    }

    async create<T extends object>(apiPath: string, body: unknown): Promise<T> {
        expect(body).toMatchObject({ apiVersion: "policy/v1", kind: "Eviction" });
        const name = apiPath.split("/")[6];
        if (this.refuseEvictions > 0) {
            this.refuseEvictions--;
            this.log.push(`evict ${name} refused`);
            throw new KubeError(
                `POST ${apiPath}: 429 Cannot evict pod as it would violate the pod's disruption budget.`,
                429,
                ["The disruption budget db needs 2 healthy pods and has 2 currently"],
            );
        }
        this.log.push(`evict ${name}`);
        // The StatefulSet controller brings it back at once, injected by the target.
        this.pods.find((p) => p.metadata.name === name)!.metadata.annotations = injected(NEW);
        return {} as T;
    }

    async get<T extends object>(apiPath: string): Promise<T | undefined> {
        const name = apiPath.split("/").pop();
        return structuredClone(this.pods.find((p) => p.metadata.name === name)) as T | undefined;
    }

    async delete(apiPath: string): Promise<void> {
        throw new Error(`the migration deletes nothing, yet it deleted ${apiPath}`);
    }
}

/** Time that passes only when the migration sleeps. */
function fakeClock(): Clock & { slept: number } {
    const clock = {
        slept: 0,
        now: () => Date.parse("2026-12-03T08:00:00Z") + clock.slept,
        sleep: async (ms: number) => {
            clock.slept += ms;
        },
    };
    return clock;
}

const args = (batchSize: number, timeoutSeconds = 60) => ({
    namespace: NS,
    revision: NEW,
    batchSize,
    timeoutSeconds,
    cluster: {},
});

test("a batch's restarts are all issued before it is awaited, with one read per poll; batches in order", async () => {
    const api = new FakeApi();
    for (const name of ["app-1", "app-2", "app-3"]) api.deployment(name, OLD);
    const result = await migrateNamespace(args(2), api, fakeClock());
    expect(result.restarted).toEqual(["Deployment/app-1", "Deployment/app-2", "Deployment/app-3"]);
    expect(api.log).toEqual([
        "read", // the plan
        "restart app-1",
        "restart app-2",
        "read", // one poll sees both rolled
        "read", // the next batch's start
        "restart app-3",
        "read",
    ]);
});

test("an interrupted migration resumes: a workload already stamped for the target and still rolling is awaited, not restarted", async () => {
    const api = new FakeApi();
    api.deployment("moved", NEW);
    api.deployment("rolling", OLD, `${NEW}@2026-12-03T07:00:00.000Z`, false);
    api.deployment("waiting", OLD, `${OLD}@2026-12-01T07:00:00.000Z`);
    const result = await migrateNamespace(args(5), api, fakeClock());
    expect(api.log.filter((l) => l.startsWith("restart"))).toEqual(["restart waiting"]);
    expect(result.restarted).toEqual(["Deployment/rolling", "Deployment/waiting"]);
});

test("restartNeeded: only a rollout to the same target that is still under way is left to finish", () => {
    const w = (stamp: string | undefined, generation: number): WorkloadObject => ({
        kind: "Deployment",
        metadata: { name: "x", generation },
        spec: {
            replicas: 1,
            template: { metadata: { annotations: stamp ? { [RESTARTED_FOR_ANNOTATION]: stamp } : {} } },
        },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    });
    expect(restartNeeded(w(`${NEW}@t`, 2), NEW)).toBe(false);
    // Finished yet still not on the target (its pods were injected by another revision): again.
    expect(restartNeeded(w(`${NEW}@t`, 1), NEW)).toBe(true);
    expect(restartNeeded(w(`${OLD}@t`, 2), NEW)).toBe(true);
    expect(restartNeeded(w(undefined, 2), NEW)).toBe(true);
});

test("OnDelete pods are evicted one at a time, highest ordinal first, skipping those already moved; a refused eviction is tried again", async () => {
    const api = new FakeApi();
    api.onDeleteStatefulSet("db", [OLD, NEW, OLD]);
    api.refuseEvictions = 2;
    const clock = fakeClock();
    const result = await migrateNamespace(args(1), api, clock);
    expect(result.restarted).toEqual(["StatefulSet/db"]);
    expect(api.log.filter((l) => l.startsWith("evict"))).toEqual([
        "evict db-2 refused",
        "evict db-2 refused",
        "evict db-2",
        "evict db-0",
    ]);
    expect(clock.slept).toBeGreaterThanOrEqual(10_000);
});

test("an eviction the disruption budget keeps refusing fails after the timeout, naming the pod and the budget", async () => {
    const api = new FakeApi();
    api.onDeleteStatefulSet("db", [OLD, OLD]);
    api.refuseEvictions = Number.POSITIVE_INFINITY;
    await expect(migrateNamespace(args(1, 30), api, fakeClock())).rejects.toThrow(
        "pod shop/db-1 was not evicted within 30s: a PodDisruptionBudget allows no disruption " +
            "(Cannot evict pod as it would violate the pod's disruption budget. The disruption budget db needs 2 healthy pods and has 2 currently). " +
            "The migration stopped here and resumes on the next up; let the budget allow one more disruption, or raise istio-mesh:sidecarMigration.timeoutSeconds",
    );
    expect(api.log.filter((l) => l === "evict db-1" || l === "evict db-0")).toEqual([]);
});
