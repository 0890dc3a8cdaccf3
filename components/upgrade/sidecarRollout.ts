import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { rolloutResourceNames, WorkloadRef } from "../config";

/** The pod-template annotation whose change makes Kubernetes restart a workload's pods. */
export const PROXY_VERSION_ANNOTATION = "istio-mesh.io/proxy-version";

export interface SidecarRolloutArgs {
    /** Workloads whose pods get their sidecar from this mesh. @default [] */
    workloads?: WorkloadRef[];
    /** The Istio version (and revision) the sidecars must run; a change restarts the pods. */
    proxyVersion: string;
}

/**
 * Sidecars only change when their pods restart. This stamps the mesh's proxy version
 * on each listed workload's pod template (a server-side-apply patch that owns only
 * that annotation), so an upgrade's preview lists exactly which workloads will roll,
 * and `up` rolls them after the control plane, in the order Kubernetes' own rolling
 * update allows. StatefulSets with `updateStrategy: OnDelete` still need their pods
 * deleted by hand.
 *
 * Removing a workload from the list, or destroying the stack, restarts nothing: the
 * patches are retained on delete, so the annotation stays on the pod template as it
 * is (taking it off would change the template and roll the pods, while the mesh they
 * would restart into is being removed). docs/restarts.md says how to drop it.
 */
export class SidecarRollout extends pulumi.ComponentResource {
    constructor(name: string, args: SidecarRolloutArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:SidecarRollout", name, {}, opts);
        const patchNames = rolloutResourceNames(args.workloads ?? []);
        for (const [i, w] of (args.workloads ?? []).entries()) {
            const patch = {
                metadata: {
                    name: w.name,
                    namespace: w.namespace,
                    // Each patch has a field manager of its own; one retained by an earlier
                    // entry for the same workload still owns the annotation, so a new entry
                    // takes it over rather than fail on the conflict. The annotation is the stack's.
                    annotations: { "pulumi.com/patchForce": "true" },
                },
                spec: { template: { metadata: { annotations: { [PROXY_VERSION_ANNOTATION]: args.proxyVersion } } } },
            };
            const childName = `${name}-${patchNames[i]}`;
            const childOpts = { parent: this, retainOnDelete: true };
            if (w.kind === "Deployment") new k8s.apps.v1.DeploymentPatch(childName, patch, childOpts);
            else if (w.kind === "StatefulSet") new k8s.apps.v1.StatefulSetPatch(childName, patch, childOpts);
            else new k8s.apps.v1.DaemonSetPatch(childName, patch, childOpts);
        }
        this.registerOutputs({});
    }
}
