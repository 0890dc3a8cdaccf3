import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awaitIstioValidation, clusterProbeDeps } from "./admission";
import { childNames, istioChart } from "../charts/chart";
import { RevisionConfig } from "../config";
import { KubeClient, KubeconfigSource } from "../cluster/kube";
import { istiodDeploymentName } from "../charts/plan";
import { Values } from "../charts/values";
import type { StatusWorkload } from "../status/installation";

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

export { istiodDeploymentName };

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
                source: args.chartSource,
                version: this.version,
                release: this.deploymentName,
                namespace: args.namespace,
                values: args.values,
            },
            { parent: this },
        );
        this.registerOutputs({ revision: this.revision, version: this.version });
    }
}

/**
 * Resolves to the first istiod once, in an update, the API server has had a
 * known-invalid Istio resource denied by every istiod's validating webhook
 * (admission.ts); in a preview, or for charts that rendered no validating webhook,
 * at once. What istiod admits depends on it: while its webhooks cannot be called,
 * Istio resources are refused and pods of injected namespaces are not created.
 */
export function admissionReady(
    istiods: Istiod[],
    namespace: string,
    cluster: KubeconfigSource,
): pulumi.Output<pulumi.Resource> {
    const validators = istiods.map((i) =>
        childNames(i.chart, k8s.admissionregistration.v1.ValidatingWebhookConfiguration.isInstance).apply((names) =>
            names.length > 0 ? [i.revision] : [],
        ),
    );
    return pulumi.all(validators).apply(async (perIstiod) => {
        const revisions = perIstiod.flat();
        if (!pulumi.runtime.isDryRun() && revisions.length > 0) {
            const started = Date.now();
            const attempts = await awaitIstioValidation(
                { namespace, revisions },
                clusterProbeDeps(new KubeClient(cluster)),
            );
            // Said when the stack had to wait: a window users of the raw charts meet as refused resources.
            if (attempts > revisions.length) {
                await pulumi.log.info(
                    `waited ${Date.now() - started} ms (${attempts} dry runs) for the API server to reach istiod's validating webhook (${revisions.join(", ")})`,
                );
            }
        }
        return istiods[0] as pulumi.Resource;
    });
}
