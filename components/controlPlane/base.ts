import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childNames, IstioChartRelease, IstioChartReleaseArgs } from "../charts/chart";
import { retainCrds } from "../charts/transforms";

export interface IstioBaseArgs extends IstioChartReleaseArgs {
    /** Keep Istio's CRDs (and so every Istio resource of the cluster) when the stack is destroyed. */
    retainCrdsOnDestroy: boolean;
}

/**
 * Chart `base`: Istio's CRDs and cluster-wide resources. Its CRDs are templates
 * (not `crds/`), so an upgrade of the stack upgrades them. They are kept on
 * destroy unless `retainCrdsOnDestroy` is false, and taken over again on re-install.
 */
export class IstioBase extends IstioChartRelease {
    /** Names of the CRDs this chart installs. */
    public readonly crds: pulumi.Output<string[]>;

    constructor(name: string, args: IstioBaseArgs, opts?: pulumi.ComponentResourceOptions) {
        const transforms = [...(args.transforms ?? []), retainCrds(args.retainCrdsOnDestroy)];
        super(name, { ...args, transforms }, opts, "istio-mesh:index:IstioBase");
        this.crds = childNames(this.chart, k8s.apiextensions.v1.CustomResourceDefinition.isInstance);
        this.registerOutputs({ crds: this.crds });
    }
}
