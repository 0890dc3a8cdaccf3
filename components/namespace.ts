import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { OWNED_NAMESPACE_LABEL } from "./ownership";

export interface ControlPlaneNamespaceArgs {
    /** Namespace name. @default "istio-system" */
    name?: string;
    /** Extra labels. @default {} */
    labels?: Record<string, string>;
    /**
     * Whether the stack owns the namespace: creates it and deletes it on destroy. A
     * namespace that existed before the stack (Istio's plug-in CA procedure creates
     * it, with the `cacerts` Secret in it) is used but not owned: destroy leaves it,
     * and everything in it the stack did not create. @default true
     */
    owned?: boolean;
}

/** The namespace istiod, the gateways and the addons run in. */
export class ControlPlaneNamespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:ControlPlaneNamespace", name, args, opts);
        if (args.owned === false) {
            this.name = pulumi.output(args.name ?? "istio-system");
            this.registerOutputs({ name: this.name });
            return;
        }
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: args.name ?? "istio-system",
                    labels: {
                        // No istio-injection label: gateway pods here opt in to injection
                        // by pod label, which a namespace label of "disabled" would veto.
                        "app.kubernetes.io/managed-by": "pulumi",
                        [OWNED_NAMESPACE_LABEL.key]: OWNED_NAMESPACE_LABEL.value,
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
