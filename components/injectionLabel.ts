import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface NamespaceInjectionLabelArgs {
    /** Existing namespaces to label. @default ["default"] */
    namespaces?: string[];
    /**
     * istiod revision the namespaces' pods are injected by. "" (the default revision)
     * labels `istio-injection=enabled`; a revision labels `istio.io/rev=<revision>`
     * instead, as Istio's canary upgrades require (the two labels must not coexist).
     * @default ""
     */
    revision?: string;
}

/** The labels that turn sidecar injection on for a namespace. */
export function injectionLabels(revision: string): Record<string, string> {
    return revision ? { "istio.io/rev": revision } : { "istio-injection": "enabled" };
}

/**
 * Labels existing namespaces for sidecar injection without owning them: a
 * server-side-apply patch owns only the label, so `pulumi destroy` removes the
 * label and leaves the namespace, its workloads and its other labels alone.
 */
export class NamespaceInjectionLabel extends pulumi.ComponentResource {
    public readonly namespaces: string[];
    public readonly labels: Record<string, string>;

    constructor(name: string, args: NamespaceInjectionLabelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:NamespaceInjectionLabel", name, {}, opts);
        this.namespaces = args.namespaces ?? ["default"];
        this.labels = injectionLabels(args.revision ?? "");
        for (const namespace of this.namespaces) {
            new k8s.core.v1.NamespacePatch(
                `${name}-${namespace}`,
                { metadata: { name: namespace, labels: this.labels } },
                { parent: this },
            );
        }
        this.registerOutputs({ namespaces: this.namespaces, labels: this.labels });
    }
}
