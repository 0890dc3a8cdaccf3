// Chart v4 for the Istio charts. Chart v4 renders in the provider and registers
// every manifest as its own child resource, so a preview shows which Deployment,
// CRD or webhook changes and how, instead of a Helm release's values diff; it
// orders CRDs before custom resources and awaits each child's readiness.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    ignoreIstiodOwnedWebhookFields,
    ownDeclaredFields,
    scopedChildTransforms,
    skipServiceSettleWait,
} from "./transforms";
import type { Workload } from "./plan";
import { chartAt, IstioChart, Values } from "./values";

/** One release of an Istio chart: the fields of an install plan entry (plan.ts ChartEntry), and its namespace. */
export interface IstioChartReleaseArgs {
    /** The chart's name in the Istio Helm repository. */
    chart: IstioChart;
    /** The Helm release name (the gateway and istiod charts name their workloads after it). */
    release: string;
    /** Where the chart comes from: a Helm repository, an oci:// registry or a local directory (a chartSource). */
    source: string;
    /** The Istio release, which is the chart's version. */
    version: string;
    /** The release namespace. */
    namespace: pulumi.Input<string>;
    /** The chart values (values.ts). */
    values: Values;
    /** Transforms beyond the ones every chart gets (field ownership, istiod's webhook fields, Service awaits). @default [] */
    transforms?: pulumi.ResourceTransform[];
    /** The workload that shows the release is ready, for `npm run status`. @default undefined (none) */
    workload?: Workload;
}

/**
 * One Istio chart as a component: the data-driven form of every chart step of the
 * mesh. IstioBase, IstioCni and Ztunnel are this with their own type token (which
 * names them in the stack, so it must never change) and outputs; IstioGateway adds
 * its Service's ports and addresses.
 */
export class IstioChartRelease extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** The workload that shows the release is ready, when it has one. */
    public readonly workload?: Workload;

    constructor(
        name: string,
        args: IstioChartReleaseArgs,
        opts?: pulumi.ComponentResourceOptions,
        type = "istio-mesh:index:IstioChartRelease",
    ) {
        super(type, name, {}, opts);
        this.workload = args.workload;
        this.chart = istioChart(`${name}-chart`, args, { parent: this });
        // A subclass registers outputs of its own (registerOutputs counts only its first call).
        if (new.target === IstioChartRelease) this.registerOutputs({});
    }
}

/** Chart v4's type token: the parent in the URN of every child of a chart. */
const CHART_TYPE = "kubernetes:helm.sh/v4:Chart";

export function istioChart(
    name: string,
    args: Omit<IstioChartReleaseArgs, "workload">,
    opts: pulumi.ComponentResourceOptions,
): k8s.helm.v4.Chart {
    const location = chartAt(args.chart, args.source, args.version);
    return new k8s.helm.v4.Chart(
        name,
        {
            name: args.release,
            chart: location.chart,
            version: location.version,
            ...(location.repo ? { repositoryOpts: { repo: location.repo } } : {}),
            namespace: args.namespace,
            values: args.values,
        },
        scopedChildTransforms(
            opts,
            { type: CHART_TYPE, name },
            ownDeclaredFields,
            ignoreIstiodOwnedWebhookFields,
            skipServiceSettleWait,
            ...(args.transforms ?? []),
        ),
    );
}

type WithMetadata = { metadata: pulumi.Output<k8s.types.output.meta.v1.ObjectMeta> };

/**
 * The names of a chart's children of one kind, e.g.
 * `childNames(chart, k8s.apiextensions.v1.CustomResourceDefinition.isInstance)`.
 */
export function childNames(chart: k8s.helm.v4.Chart, isKind: (o: unknown) => boolean): pulumi.Output<string[]> {
    return chart.resources.apply((resources) =>
        pulumi.all(
            (resources as unknown[]).filter(isKind).map((r) => (r as WithMetadata).metadata.apply((m) => m.name ?? "")),
        ),
    );
}
