import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface ControlPlaneNamespaceArgs {
    /** Namespace name. @default "istio-system" */
    name?: string;
    /** Extra labels. @default {} */
    labels?: Record<string, string>;
}

/** The namespace istiod, the gateways and the addons run in. */
export class ControlPlaneNamespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:ControlPlaneNamespace", name, args, opts);
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.name ?? "istio-system",
                    labels: {
                        // No istio-injection label: gateway pods here opt in to injection
                        // by pod label, which a namespace label of "disabled" would veto.
                        "app.kubernetes.io/managed-by": "pulumi",
                        "app.kubernetes.io/part-of": "istio-mesh",
                        ...args.labels,
                    },
                },
            },
            { parent: this },
        );
        this.name = namespace.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
