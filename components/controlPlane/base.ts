import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childNames, istioChart } from "../charts/chart";
import { StackConfig } from "../config";
import { retainCrds } from "../charts/transforms";
import { baseValues } from "../charts/values";

export interface IstioBaseArgs {
    config: StackConfig;
    /** The control plane namespace (the release namespace). */
    namespace: pulumi.Input<string>;
}

/**
 * Chart `base`: Istio's CRDs and cluster-wide resources. Its CRDs are templates
 * (not `crds/`), so an upgrade of the stack upgrades them. They are kept on
 * destroy unless `retainCrdsOnDestroy` is false, and taken over again on re-install.
 */
export class IstioBase extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** Names of the CRDs this chart installs. */
    public readonly crds: pulumi.Output<string[]>;

    constructor(name: string, args: IstioBaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:IstioBase", name, {}, opts);
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "base",
                source: args.config,
                releaseName: "istio-base",
                namespace: args.namespace,
                values: baseValues(args.config),
                transforms: [retainCrds(args.config.retainCrdsOnDestroy)],
            },
            { parent: this },
        );
        this.crds = childNames(this.chart, k8s.apiextensions.v1.CustomResourceDefinition.isInstance);
        this.registerOutputs({ crds: this.crds });
    }
}
