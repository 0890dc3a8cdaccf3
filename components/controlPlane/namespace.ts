import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import type { NamespaceRemovalArgs, NamespaceRemovalResult } from "./namespaceRemoval";
import { OWNED_NAMESPACE_LABEL } from "../cluster/marks";

export interface ControlPlaneNamespaceArgs {
    /** Namespace name. @default "istio-system" */
    name?: string;
    /** Extra labels. @default {} */
    labels?: Record<string, string>;
    /**
     * Whether the stack owns the namespace: creates it, and deletes it on destroy if
     * nothing foreign is in it. A namespace that existed before the stack (Istio's
     * plug-in CA procedure creates it, with the `cacerts` Secret in it) is used but
     * not owned: destroy leaves it, and everything in it the stack did not create. @default true
     */
    owned?: boolean;
    /** This stack's id: destroy deletes the namespace only while it carries it. */
    stackId: string;
    /** The cluster, for the destroy-time look into the namespace. @default the provider's defaults */
    cluster?: { kubeconfig?: string; context?: string };
}

/**
 * The compiled removal module, loaded by absolute path: a dynamic provider runs in a
 * process of its own, from its serialized source, where relative imports mean nothing.
 */
const REMOVAL_MODULE = path.join(__dirname, "namespaceRemoval");

type RemovalInputs = NamespaceRemovalArgs;
type RemovalOutputs = RemovalInputs & Partial<NamespaceRemovalResult>;

const removalProvider: pulumi.dynamic.ResourceProvider<RemovalInputs, RemovalOutputs> = {
    // Creating and updating do nothing: the Namespace resource beside it does that.
    async create(inputs: RemovalInputs): Promise<pulumi.dynamic.CreateResult<RemovalOutputs>> {
        return { id: inputs.namespace, outs: inputs };
    },
    async diff(_id: string, olds: RemovalOutputs, news: RemovalInputs): Promise<pulumi.dynamic.DiffResult> {
        return {
            changes:
                olds.namespace !== news.namespace ||
                olds.stackId !== news.stackId ||
                JSON.stringify(olds.cluster) !== JSON.stringify(news.cluster),
            replaces: olds.namespace !== news.namespace ? ["namespace"] : [],
            deleteBeforeReplace: false,
        };
    },
    async update(
        _id: string,
        _olds: RemovalOutputs,
        news: RemovalInputs,
    ): Promise<pulumi.dynamic.UpdateResult<RemovalOutputs>> {
        return { outs: news };
    },
    async delete(_id: string, props: RemovalOutputs): Promise<void> {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const removal = require(REMOVAL_MODULE) as typeof import("./namespaceRemoval");
        const result = await removal.removeNamespace(props);
        // The engine shows what a dynamic provider prints; the namespace's annotation keeps it too.
        if (result.outcome === "kept") console.log(removal.keptMessage(props.namespace, result.keptFor));
    },
};

/**
 * Deletes the stack's namespace on destroy, after everything the stack put in it is
 * gone, and only if nothing foreign is left in it (namespaceRemoval.ts).
 */
class NamespaceRemoval extends pulumi.dynamic.Resource {
    constructor(name: string, args: RemovalInputs, opts?: pulumi.CustomResourceOptions) {
        // The kubeconfig can hold credentials, in any form (a path, YAML, one line of
        // JSON): the cluster settings are a secret in the inputs and in the outputs,
        // which the delete reads them from.
        super(
            removalProvider,
            name,
            { ...args, cluster: pulumi.secret(args.cluster) },
            { ...opts, additionalSecretOutputs: ["cluster"] },
            "istio-mesh",
            "NamespaceRemoval",
        );
    }
}

/** The namespace istiod, the gateways and the addons run in. */
export class ControlPlaneNamespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;

    constructor(name: string, args: ControlPlaneNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        // The cluster settings stay out of the component's recorded inputs: a kubeconfig's
        // contents would sit there in plain text (NamespaceRemoval keeps them as a secret).
        super(
            "istio-mesh:index:ControlPlaneNamespace",
            name,
            { name: args.name, owned: args.owned, labels: args.labels, stackId: args.stackId },
            opts,
        );
        const namespaceName = args.name ?? "istio-system";
        if (args.owned === false) {
            this.name = pulumi.output(namespaceName);
            this.registerOutputs({ name: this.name });
            return;
        }
        const namespace = new k8s.core.v1.Namespace(
            `${name}-namespace`,
            {
                metadata: {
                    name: namespaceName,
                    labels: {
                        // No istio-injection label: gateway pods here opt in to injection
                        // by pod label, which a namespace label of "disabled" would veto.
                        "app.kubernetes.io/managed-by": "pulumi",
                        [OWNED_NAMESPACE_LABEL.key]: OWNED_NAMESPACE_LABEL.value,
                        ...args.labels,
                    },
                },
            },
            // Deleting a namespace deletes everything in it, whoever made it: the
            // engine never does; NamespaceRemoval decides on destroy.
            { parent: this, retainOnDelete: true },
        );
        // Everything in the namespace depends on this component, so destroy deletes it
        // first and removes the namespace last.
        new NamespaceRemoval(
            `${name}-removal`,
            {
                namespace: namespaceName,
                stackId: args.stackId,
                cluster: args.cluster ?? {},
            },
            { parent: this, dependsOn: [namespace] },
        );
        this.name = namespace.metadata.name;
        this.registerOutputs({ name: this.name });
    }
}
