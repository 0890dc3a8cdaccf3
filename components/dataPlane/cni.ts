import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istioChart } from "../charts/chart";
import { StackConfig } from "../config";
import { cniValues } from "../charts/values";
import type { StatusWorkload } from "../status/installation";

export interface IstioCniArgs {
    config: StackConfig;
}

/**
 * Chart `cni`: the node agent that sets up traffic redirection, as a DaemonSet in
 * `cni.namespace` (kube-system by default, where node-level agents belong and
 * privileged pods are allowed). istiod is told by `pilot.cni.enabled`.
 */
export class IstioCni extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    public readonly namespace: string;
    /** The chart's node agent, which `npm run status` checks. */
    public readonly workload: StatusWorkload = { kind: "DaemonSet", name: "istio-cni-node" };

    constructor(name: string, args: IstioCniArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:IstioCni", name, {}, opts);
        this.namespace = args.config.cni.namespace;
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "cni",
                source: args.config,
                releaseName: "istio-cni",
                namespace: this.namespace,
                values: cniValues(args.config),
            },
            { parent: this },
        );
        this.registerOutputs({ namespace: this.namespace });
    }
}
