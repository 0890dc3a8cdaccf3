import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istioChart } from "./chart";
import { StackConfig } from "./config";
import { istiodValues } from "./values";

export interface IstiodArgs {
    config: StackConfig;
    /** The control plane namespace. */
    namespace: pulumi.Input<string>;
}

/** Chart `istiod`: the control plane, with the profile, mesh config and revision of the stack. */
export class Istiod extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** The revision this istiod serves ("default" for the default revision). */
    public readonly revision: string;
    public readonly version: string;
    /** The chart names istiod's Deployment after the revision. */
    public readonly deploymentName: string;

    constructor(name: string, args: IstiodArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:Istiod", name, {}, opts);
        this.revision = args.config.revision || "default";
        this.version = args.config.version.text;
        this.deploymentName = args.config.revision ? `istiod-${args.config.revision}` : "istiod";
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "istiod",
                config: args.config,
                releaseName: this.deploymentName,
                namespace: args.namespace,
                values: istiodValues(args.config),
            },
            { parent: this },
        );
        this.registerOutputs({ revision: this.revision, version: this.version });
    }
}
