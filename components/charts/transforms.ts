// Pulumi resource transforms applied to the children of the Istio charts. Each
// one is a plain function of (type, props, opts), so it is tested without a
// Pulumi runtime.
import * as pulumi from "@pulumi/pulumi";
import { STACK_ID_LABEL, STACK_NAME_ANNOTATION } from "../cluster/marks";

export const CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
export const WEBHOOK_TYPES = [
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration",
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
];
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";

/**
 * The fields istiod rewrites on its webhook configurations while it runs: it fills
 * in `caBundle` and flips the validator's `failurePolicy` to Fail. They belong to
 * istiod, so the stack does not fight it over them (and previews stay empty).
 */
export const ISTIOD_OWNED_WEBHOOK_FIELDS = ["webhooks[*].clientConfig.caBundle", "webhooks[*].failurePolicy"];

/** The provider's annotation that makes a server-side apply take over fields other managers own. */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/**
 * Says on each CRD what `retainOnDelete` says to the engine. The option itself is
 * invisible to a policy pack (Pulumi's analyzer protocol carries protect,
 * ignoreChanges, aliases... but not retainOnDelete), so the annotation, set by the
 * same transform from the same setting, is what policy/ checks; it also tells a
 * cluster admin reading the CRD that a destroy leaves it.
 */
export const RETAIN_ON_DESTROY_ANNOTATION = "istio-mesh.io/retain-on-destroy";

/**
 * CRDs are kept when the stack is destroyed unless purging was asked for: deleting
 * a CRD deletes every resource of that kind in the cluster (every VirtualService,
 * DestinationRule, ...), which is users' data, not Istio's.
 */
export function retainCrds(retainOnDestroy: boolean): pulumi.ResourceTransform {
    return (args) =>
        args.type === CRD_TYPE
            ? {
                  props: annotated(args, RETAIN_ON_DESTROY_ANNOTATION, String(retainOnDestroy)).props,
                  opts: { ...args.opts, retainOnDelete: retainOnDestroy },
              }
            : undefined;
}

interface WithAnnotations {
    metadata?: { annotations?: Record<string, string> };
}

/** The same transform result with one more annotation on the object. */
function annotated(args: pulumi.ResourceTransformArgs, key: string, value: string): pulumi.ResourceTransformResult {
    const props = args.props as WithAnnotations;
    return {
        props: {
            ...props,
            metadata: { ...props.metadata, annotations: { ...props.metadata?.annotations, [key]: value } },
        },
        opts: args.opts,
    };
}

/**
 * The stack is the source of truth for every field its charts declare. Without
 * force, a server-side apply fails on any field another manager took: a hand
 * `kubectl scale` or `kubectl set env` (drift), or CRDs a destroy kept or an
 * istioctl/Helm install left. With it, `up` takes those fields back. Fields the
 * charts do not declare (an env var added by hand) stay with their manager.
 */
export const ownDeclaredFields: pulumi.ResourceTransform = (args) =>
    args.custom && args.type.startsWith("kubernetes:") && !args.type.startsWith("kubernetes:helm.sh/")
        ? annotated(args, PATCH_FORCE_ANNOTATION, "true")
        : undefined;

/**
 * Marks every Kubernetes object the stack creates with the stack's id (a label, so a
 * later run lists the stack's objects by selector) and its name (an annotation, for
 * messages): ownership.ts tells this stack's objects from another stack's by it.
 * Patches of objects the stack does not own (a namespace's injection label, a
 * workload's restart stamp) are left unmarked: the object stays its owner's.
 */
export function markStackIdentity(identity: { id: string; name: string }): pulumi.ResourceTransform {
    return (args) => {
        if (!args.custom || !args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:helm.sh/"))
            return undefined;
        if (args.type.endsWith("Patch")) return undefined;
        const props = args.props as { metadata?: { labels?: Record<string, string> } };
        const labelled = {
            ...props,
            metadata: { ...props.metadata, labels: { ...props.metadata?.labels, [STACK_ID_LABEL]: identity.id } },
        };
        return annotated({ ...args, props: labelled }, STACK_NAME_ANNOTATION, identity.name);
    };
}

/**
 * A ClusterIP or NodePort Service is usable once created: its endpoints follow its
 * pods, whose readiness the Deployment and DaemonSet awaits already check. The
 * provider's Service await adds a fixed 10 s settle time after the last endpoints
 * change, once per stage of the install chain. LoadBalancer Services are still
 * awaited: their address is what the stack exports.
 */
export const skipServiceSettleWait: pulumi.ResourceTransform = (args) =>
    args.type === SERVICE_TYPE && (args.props as { spec?: { type?: string } }).spec?.type !== "LoadBalancer"
        ? annotated(args, "pulumi.com/skipAwait", "true")
        : undefined;

/** Leaves the fields istiod owns on webhook configurations to istiod. */
export const ignoreIstiodOwnedWebhookFields: pulumi.ResourceTransform = (args) =>
    WEBHOOK_TYPES.includes(args.type)
        ? {
              props: args.props,
              opts: {
                  ...args.opts,
                  ignoreChanges: [...(args.opts.ignoreChanges ?? []), ...ISTIOD_OWNED_WEBHOOK_FIELDS],
              },
          }
        : undefined;

/**
 * One transform that applies each of `transforms` in turn. Every registered
 * transform is a round trip between the engine and the program for every child
 * of a chart; chaining them in the program makes it one round trip per child.
 */
export function chainTransforms(...transforms: pulumi.ResourceTransform[]): pulumi.ResourceTransform {
    return async (args) => {
        let current: pulumi.ResourceTransformArgs = args;
        let changed = false;
        for (const transform of transforms) {
            const result = await transform(current);
            if (result) {
                current = { ...current, props: result.props, opts: result.opts };
                changed = true;
            }
        }
        return changed ? { props: current.props, opts: current.opts } : undefined;
    };
}

/**
 * `opts` with `transforms` chained (chainTransforms) after the ones it already has:
 * the options of a component or chart whose children all go through them.
 */
export function withChildTransforms<T extends pulumi.ResourceOptions>(
    opts: T | undefined,
    ...transforms: pulumi.ResourceTransform[]
): T {
    return { ...opts, transforms: [...(opts?.transforms ?? []), chainTransforms(...transforms)] } as T;
}
