import * as pulumi from "@pulumi/pulumi";
import { IstioChartRelease, IstioChartReleaseArgs } from "../charts/chart";

export type IstioCniArgs = IstioChartReleaseArgs;

/**
 * Chart `cni`: the node agent that sets up traffic redirection, as a DaemonSet in
 * `cni.namespace` (kube-system by default, where node-level agents belong and
 * privileged pods are allowed). istiod is told by `pilot.cni.enabled`.
 */
export class IstioCni extends IstioChartRelease {
    public readonly namespace: pulumi.Input<string>;

    constructor(name: string, args: IstioCniArgs, opts?: pulumi.ComponentResourceOptions) {
        super(name, args, opts, "istio-mesh:index:IstioCni");
        this.namespace = args.namespace;
        this.registerOutputs({ namespace: this.namespace });
    }
}
