// What a pod says about its proxy and its workload: the revision that injected it,
// the proxy's version, the workload that owns it. Pure; read by the upgrade's
// migration, the preflight's revision usage and `npm run status` alike.
import type { KubeObject } from "./kube";

/** The pod annotation the injector writes; its `revision` names the control plane that injected the sidecar. */
export const SIDECAR_STATUS_ANNOTATION = "sidecar.istio.io/status";
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
