import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export interface BookinfoArgs {
    /** The application namespace, labelled for injection by the mesh. Required. */
    namespace: string;
    /** The release's bookinfo.yaml: a URL or a file. Required. */
    manifest: string;
}

/**
 * Istio's bookinfo sample as the release ships it (productpage, details,
 * ratings, reviews v1/v2/v3, their Services and ServiceAccounts), each object a
 * resource of its own, in the application namespace. The manifest has no
 * namespace, so one transform puts every object in it; the stack waits for each
 * Deployment to be Available.
 */
export class Bookinfo extends pulumi.ComponentResource {
    public readonly manifest: string;

    constructor(name: string, args: BookinfoArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "istio-mesh:index:Bookinfo",
            name,
            {},
            {
                ...opts,
                transforms: [...(opts?.transforms ?? []), inNamespace(args.namespace)],
            },
        );
        this.manifest = args.manifest;
        new k8s.yaml.v2.ConfigFile(`${name}-manifest`, { file: args.manifest }, { parent: this });
        this.registerOutputs({ manifest: this.manifest });
    }
}

/** Kubernetes objects of the manifest (they have metadata), never the ConfigFile itself. */
export function inNamespace(namespace: string): pulumi.ResourceTransform {
    return (args) => {
        const metadata: unknown = args.props.metadata;
        if (
            !args.type.startsWith("kubernetes:") ||
            args.type.startsWith("kubernetes:yaml") ||
            typeof metadata !== "object" ||
            metadata === null
        ) {
            return undefined;
        }
        return { props: { ...args.props, metadata: { ...metadata, namespace } }, opts: args.opts };
    };
}
