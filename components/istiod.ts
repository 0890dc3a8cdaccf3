import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istioChart } from "./chart";
import { RevisionConfig } from "./config";
import { Values } from "./values";
import type { StatusWorkload } from "./verify";

export interface IstiodArgs {
    /** The control plane's revision: its name and Istio version. */
    revision: RevisionConfig;
    /** Where the istiod chart of that version comes from (a Helm repository, oci:// registry or local directory). */
    chartSource: string;
    /** The control plane namespace. */
    namespace: pulumi.Input<string>;
    /** The chart values (values.ts `istiodValues`). */
    values: Values;
}

/** The name the istiod chart gives a revision's Deployment and Service. */
export function istiodDeploymentName(revision: string): string {
    return revision ? `istiod-${revision}` : "istiod";
}

/** Chart `istiod` for one revision: a control plane with its own Deployment, Service and injector webhook. */
export class Istiod extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** The revision this istiod serves ("default" for the unnamed default revision). */
    public readonly revision: string;
    public readonly version: string;
    /** The chart names istiod's Deployment (and Service) after the revision. */
    public readonly deploymentName: string;
    /** What `npm run status` checks for this control plane. */
    public readonly workload: StatusWorkload;

    constructor(name: string, args: IstiodArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:Istiod", name, {}, opts);
        this.revision = args.revision.name || "default";
        this.version = args.revision.version.text;
        this.deploymentName = istiodDeploymentName(args.revision.name);
        this.workload = { kind: "Deployment", name: this.deploymentName };
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "istiod",
                source: { chartSource: args.chartSource, version: args.revision.version },
                releaseName: this.deploymentName,
                namespace: args.namespace,
                values: args.values,
            },
            { parent: this },
        );
        this.registerOutputs({ revision: this.revision, version: this.version });
    }
}
