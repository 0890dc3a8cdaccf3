import * as pulumi from "@pulumi/pulumi";
import { IstioChartRelease, IstioChartReleaseArgs } from "../charts/chart";

export type ZtunnelArgs = IstioChartReleaseArgs;

/** Chart `ztunnel`: the per-node proxy of ambient mode (profile ambient only). */
export class Ztunnel extends IstioChartRelease {
    constructor(name: string, args: ZtunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super(name, args, opts, "istio-mesh:index:Ztunnel");
        this.registerOutputs({});
    }
}
