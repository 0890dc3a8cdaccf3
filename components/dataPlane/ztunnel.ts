import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istioChart } from "../charts/chart";
import { StackConfig } from "../config";
import { ztunnelValues } from "../charts/values";
import type { StatusWorkload } from "../status/installation";

export interface ZtunnelArgs {
    config: StackConfig;
    namespace: pulumi.Input<string>;
}

/** Chart `ztunnel`: the per-node proxy of ambient mode (profile ambient only). */
export class Ztunnel extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** The per-node proxy, which `npm run status` checks. */
    public readonly workload: StatusWorkload = { kind: "DaemonSet", name: "ztunnel" };

    constructor(name: string, args: ZtunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:Ztunnel", name, {}, opts);
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "ztunnel",
                source: args.config,
                releaseName: "ztunnel",
                namespace: args.namespace,
                values: ztunnelValues(args.config),
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
