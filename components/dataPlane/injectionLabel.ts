import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface NamespaceInjectionLabelArgs {
    /** Existing namespaces to label, each with the tag or revision it follows ("" for the unnamed default revision). */
    namespaces: { name: string; follows: string }[];
}

/**
 * The labels that turn sidecar injection on for a namespace. The default tag and
 * the unnamed default revision label `istio-injection=enabled`; any other tag or
 * revision labels `istio.io/rev=<it>` instead (Istio ignores istio.io/rev while
 * istio-injection is set, so the two never go together).
 */
export function injectionLabels(follows: string): Record<string, string> {
    return follows === "" || follows === "default" ? { "istio-injection": "enabled" } : { "istio.io/rev": follows };
}

/**
 * Labels existing namespaces for sidecar injection without owning them: a
 * server-side-apply patch owns only the label, so moving a namespace from one tag
 * to another (or to the default tag) replaces the label this stack set, and
 * `pulumi destroy` removes the label and leaves the namespace, its workloads and
 * its other labels alone.
 */
export class NamespaceInjectionLabel extends pulumi.ComponentResource {
    public readonly namespaces: string[];

    constructor(name: string, args: NamespaceInjectionLabelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:NamespaceInjectionLabel", name, {}, opts);
        this.namespaces = args.namespaces.map((n) => n.name);
        for (const namespace of args.namespaces) {
            new k8s.core.v1.NamespacePatch(
                `${name}-${namespace.name}`,
                { metadata: { name: namespace.name, labels: injectionLabels(namespace.follows) } },
                { parent: this },
            );
        }
        this.registerOutputs({ namespaces: this.namespaces });
    }
}
