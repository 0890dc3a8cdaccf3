import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { expandSource, GATEWAY_API_MANIFEST, isRemoteSource } from "../config";
import { OWNER_ANNOTATION } from "../cluster/marks";
import { CRD_TYPE, ownDeclaredFields, retainCrds, withChildTransforms } from "../charts/transforms";

export interface GatewayApiCrdsArgs {
    /** The Gateway API release to apply, e.g. "v1.5.1". */
    version: string;
    /** URL of a folder or local directory holding standard-install.yaml; `{version}` is replaced. */
    source: string;
    /** This stack's id, written on every CRD so a later run (after a rename too) knows them as its own. */
    owner: string;
    /**
     * Keep the CRDs (and every Gateway and HTTPRoute in the cluster) on destroy and when
     * the stack stops applying them (gatewayApi.enabled turned off). @default true
     */
    retainOnDestroy?: boolean;
}

/** Where the standard channel's install file of `version` is read from. */
export function gatewayApiManifest(source: string, version: string): string {
    const expanded = expandSource(source, version);
    return isRemoteSource(expanded)
        ? `${expanded.replace(/\/$/, "")}/${GATEWAY_API_MANIFEST}`
        : path.join(expanded, GATEWAY_API_MANIFEST);
}

/**
 * A CRD's `status` is the API server's to write; the release files carry an empty
 * one, which would otherwise show as a difference on every preview.
 */
export const dropCrdStatus: pulumi.ResourceTransform = (args) => {
    if (args.type !== CRD_TYPE) return undefined;
    const props: Record<string, unknown> = { ...(args.props as Record<string, unknown>) };
    delete props.status;
    return { props, opts: args.opts };
};

/** Marks every CRD with the stack that applied it (see gatewayApiPlan.ts). */
export function markOwner(owner: string): pulumi.ResourceTransform {
    return (args) => {
        if (args.type !== CRD_TYPE) return undefined;
        const props = args.props as { metadata?: { annotations?: Record<string, string> } };
        return {
            props: {
                ...props,
                metadata: {
                    ...props.metadata,
                    annotations: { ...props.metadata?.annotations, [OWNER_ANNOTATION]: owner },
                },
            },
            opts: args.opts,
        };
    };
}

/**
 * The Kubernetes Gateway API CRDs of the standard channel, from the release's own
 * install file (and, from v1.5, its ValidatingAdmissionPolicy that refuses older
 * or experimental CRDs over them). Installed before istiod, which reads them when
 * it starts; upgraded when the Istio version moves to a release built against a
 * newer Gateway API; kept on destroy unless gatewayApi.deleteCrdsOnDestroy.
 */
export class GatewayApiCrds extends pulumi.ComponentResource {
    public readonly version: string;
    /** Names of the CRDs applied. */
    public readonly crds: pulumi.Output<string[]>;

    constructor(name: string, args: GatewayApiCrdsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(
            "istio-mesh:index:GatewayApiCrds",
            name,
            {},
            // Like the charts' children: the stack owns the fields it declares, so CRDs
            // a `kubectl apply` left are taken over rather than refused.
            withChildTransforms(
                opts,
                ownDeclaredFields,
                dropCrdStatus,
                markOwner(args.owner),
                retainCrds(args.retainOnDestroy ?? true),
            ),
        );
        this.version = args.version;
        const file = new k8s.yaml.v2.ConfigFile(
            // One name for every version: an upgrade updates the CRDs in place.
            `${name}-manifest`,
            { file: gatewayApiManifest(args.source, args.version), resourcePrefix: name },
            { parent: this },
        );
        this.crds = file.resources.apply((resources) =>
            pulumi.all(
                (resources as unknown[])
                    .filter((r) => k8s.apiextensions.v1.CustomResourceDefinition.isInstance(r))
                    .map((r) => (r as k8s.apiextensions.v1.CustomResourceDefinition).metadata.name),
            ),
        );
        this.registerOutputs({ version: this.version, crds: this.crds });
    }
}
