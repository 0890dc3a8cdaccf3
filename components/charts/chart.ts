// Chart v4 for the Istio charts. Chart v4 renders in the provider and registers
// every manifest as its own child resource, so a preview shows which Deployment,
// CRD or webhook changes and how, instead of a Helm release's values diff; it
// orders CRDs before custom resources and awaits each child's readiness.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config";
import {
    ignoreIstiodOwnedWebhookFields,
    ownDeclaredFields,
    skipServiceSettleWait,
    withChildTransforms,
} from "./transforms";
import { chartLocation, IstioChart, Values } from "./values";

export interface IstioChartArgs {
    chart: IstioChart;
    /** Where the chart comes from and at which version. */
    source: Pick<StackConfig, "chartSource" | "version">;
    /** Helm release name (the gateway chart names its workload after it). */
    releaseName: string;
    namespace: pulumi.Input<string>;
    values: Values;
    /** Transforms beyond the ones every chart gets (field ownership, istiod's webhook fields, Service awaits). */
    transforms?: pulumi.ResourceTransform[];
}

export function istioChart(
    name: string,
    args: IstioChartArgs,
    opts: pulumi.ComponentResourceOptions,
): k8s.helm.v4.Chart {
    const location = chartLocation(args.chart, args.source);
    return new k8s.helm.v4.Chart(
        name,
        {
            name: args.releaseName,
            chart: location.chart,
            version: location.version,
            ...(location.repo ? { repositoryOpts: { repo: location.repo } } : {}),
            namespace: args.namespace,
            values: args.values,
        },
        withChildTransforms(
            opts,
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
