// Compares what the stack says it installed with what the cluster runs, like
// `istioctl verify-install`. Pure: the status command feeds it kubectl output.
import type { WorkloadObject } from "../cluster/kube";
import type { Workload } from "../charts/plan";

/** The workload whose readiness tells whether a component is up; the install plan declares each one's. */
export type StatusWorkload = Workload;

export interface ComponentVersion {
    component: string;
    chart: string;
    version: string;
    namespace: string;
    /** The workload that runs it, as its component declares it; base has none (its CRDs are checked instead). */
    workload?: StatusWorkload;
    /** Where its chart or manifest came from (chartSource or addonSource): the policy pack checks it (no http://). */
    // Optional: outputs of stacks deployed before it was added lack it.
    source?: string;
}

export interface CrdObject {
    metadata: { name: string; labels?: Record<string, string> };
    status?: { conditions?: { type: string; status: string }[] };
}

export interface StatusRow {
    component: string;
    workload: string;
    /** The Istio release the component runs (the chart's version label, else the image tag). */
    version: string;
    ready: string;
    ok: boolean;
    problem?: string;
}

function imageTag(image: string): string {
    const at = image.lastIndexOf(":");
    return at > image.lastIndexOf("/") ? image.slice(at + 1) : "latest";
}

/** Ready counts of a Deployment or DaemonSet, and whether its rollout is complete. */
export function workloadReadiness(w: WorkloadObject): { ready: number; desired: number; complete: boolean } {
    const s = w.status ?? {};
    const current = (s.observedGeneration ?? 0) >= (w.metadata.generation ?? 0);
    if (w.kind === "DaemonSet") {
        const desired = s.desiredNumberScheduled ?? 0;
        const ready = s.numberReady ?? 0;
        return {
            ready,
            desired,
            complete: current && desired > 0 && ready === desired && (s.updatedNumberScheduled ?? 0) === desired,
        };
    }
    const desired = w.spec?.replicas ?? 1;
    const ready = s.readyReplicas ?? 0;
    const complete =
        current && ready >= desired && (s.updatedReplicas ?? 0) >= desired && (s.replicas ?? 0) === desired;
    return { ready, desired, complete };
}

export function assessInstallation(
    expected: ComponentVersion[],
    workloads: WorkloadObject[],
    expectedCrds: string[],
    crds: CrdObject[],
): StatusRow[] {
    return expected.map((c): StatusRow => {
        if (!c.workload) {
            const established = new Set(
                crds
                    .filter((d) => d.status?.conditions?.some((x) => x.type === "Established" && x.status === "True"))
                    .map((d) => d.metadata.name),
            );
            const missing = expectedCrds.filter((n) => !established.has(n));
            const versions = [
                ...new Set(
                    crds
                        .filter((d) => expectedCrds.includes(d.metadata.name))
                        .map((d) => d.metadata.labels?.["app.kubernetes.io/version"] ?? "?"),
                ),
            ];
            return {
                component: c.component,
                workload: `${expectedCrds.length - missing.length} CRDs`,
                version: versions.join(",") || "-",
                ready: `${expectedCrds.length - missing.length}/${expectedCrds.length}`,
                ok: missing.length === 0 && versions.length === 1 && versions[0] === c.version,
                ...(missing.length > 0
                    ? { problem: `not established: ${missing.join(", ")}` }
                    : versions.length !== 1 || versions[0] !== c.version
                      ? { problem: `CRDs are at ${versions.join(",")}, expected ${c.version}` }
                      : {}),
            };
        }
        const { kind, name } = c.workload;
        const w = workloads.find(
            (x) => x.kind === kind && x.metadata.name === name && x.metadata.namespace === c.namespace,
        );
        const label = `${kind}/${c.namespace}/${name}`;
        if (!w)
            return { component: c.component, workload: label, version: "-", ready: "-", ok: false, problem: "missing" };
        const r = workloadReadiness(w);
        const istioVersion = w.metadata.labels?.["app.kubernetes.io/version"];
        const image = w.spec?.template?.spec?.containers?.[0]?.image ?? "";
        // Addons are third-party images; only Istio's own charts carry the release label.
        const isIstioChart = c.chart !== "addon manifest";
        const version = isIstioChart ? (istioVersion ?? imageTag(image)) : imageTag(image);
        const wrongVersion = isIstioChart && version !== c.version;
        return {
            component: c.component,
            workload: label,
            version,
            ready: `${r.ready}/${r.desired}`,
            ok: r.complete && !wrongVersion,
            ...(!r.complete
                ? { problem: "not ready" }
                : wrongVersion
                  ? { problem: `runs ${version}, expected ${c.version}` }
                  : {}),
        };
    });
}

/** A label selector (`k=v,k2=v2`) for kubectl and the API from a workload's `matchLabels`. */
export function labelSelector(matchLabels: Record<string, string> = {}): string {
    return Object.entries(matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
}

/** What asking each istiod pod's `/ready` (through the API server's pod proxy) found. */
export interface ReadyProbe {
    pods: number;
    answered: number;
    /** The first failure, e.g. the proxy's error text. */
    failure?: string;
}

/**
 * A control plane whose pods are Ready can still not serve (kwok, a wedged process,
 * a broken network path to its webhooks): istiod's own `/ready` says whether it does.
 */
export function withReadyProbe(row: StatusRow, probe: ReadyProbe): StatusRow {
    const answers = `${probe.answered}/${probe.pods} answer /ready`;
    if (probe.pods > 0 && probe.answered === probe.pods) return { ...row, ready: `${row.ready}, ${answers}` };
    const why = probe.pods === 0 ? "no istiod pod to ask" : `${answers}${probe.failure ? `: ${probe.failure}` : ""}`;
    return { ...row, ready: `${row.ready}, ${answers}`, ok: false, problem: row.problem ?? why };
}

export function formatStatus(rows: StatusRow[]): string {
    const header = ["COMPONENT", "WORKLOAD", "VERSION", "READY", "STATUS"];
    const lines = rows.map((r) => [r.component, r.workload, r.version, r.ready, r.ok ? "ok" : `NOT OK: ${r.problem}`]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    return [header, ...lines]
        .map((l) =>
            l
                .map((cell, i) => cell.padEnd(widths[i]))
                .join("  ")
                .trimEnd(),
        )
        .join("\n");
}
