import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istiodDeploymentName } from "../controlPlane/istiod";
import { ISTIOD_OWNED_WEBHOOK_FIELDS, PATCH_FORCE_ANNOTATION } from "../charts/transforms";

export interface RevisionTagArgs {
    /** The tag, e.g. stable; `default` also serves namespaces labelled istio-injection=enabled. */
    tag: string;
    /** The revision it points to ("" for the unnamed default revision). */
    revision: string;
    /** The control plane namespace. */
    namespace: string;
}

/** The injector webhooks of a tag, in the shape of the istiod chart's revision-tags template (Istio 1.28-1.30). */
export function revisionTagWebhooks(args: RevisionTagArgs): k8s.types.input.admissionregistration.v1.MutatingWebhook[] {
    const core = (prefix: string) => ({
        name: `${prefix}sidecar-injector.istio.io`,
        clientConfig: {
            service: {
                name: istiodDeploymentName(args.revision),
                namespace: args.namespace,
                path: "/inject",
                port: 443,
            },
        },
        sideEffects: "None",
        rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
        failurePolicy: "Fail",
        reinvocationPolicy: "Never",
        admissionReviewVersions: ["v1"],
    });
    const notOptedOut = { key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] };
    const webhooks = [
        {
            ...core("rev.namespace."),
            namespaceSelector: {
                matchExpressions: [
                    { key: "istio.io/rev", operator: "In", values: [args.tag] },
                    { key: "istio-injection", operator: "DoesNotExist" },
                ],
            },
            objectSelector: { matchExpressions: [notOptedOut] },
        },
        {
            ...core("rev.object."),
            namespaceSelector: {
                matchExpressions: [
                    { key: "istio.io/rev", operator: "DoesNotExist" },
                    { key: "istio-injection", operator: "DoesNotExist" },
                ],
            },
            objectSelector: {
                matchExpressions: [notOptedOut, { key: "istio.io/rev", operator: "In", values: [args.tag] }],
            },
        },
    ];
    if (args.tag !== "default") return webhooks;
    return [
        ...webhooks,
        {
            ...core("namespace."),
            namespaceSelector: { matchExpressions: [{ key: "istio-injection", operator: "In", values: ["enabled"] }] },
            objectSelector: { matchExpressions: [notOptedOut] },
        },
        {
            ...core("object."),
            namespaceSelector: {
                matchExpressions: [
                    { key: "istio-injection", operator: "DoesNotExist" },
                    { key: "istio.io/rev", operator: "DoesNotExist" },
                ],
            },
            objectSelector: {
                matchExpressions: [
                    { key: "sidecar.istio.io/inject", operator: "In", values: ["true"] },
                    { key: "istio.io/rev", operator: "DoesNotExist" },
                ],
            },
        },
    ];
}

/**
 * A revision tag as resources of its own: the injector webhook configuration that
 * sends pods of `istio.io/rev=<tag>` namespaces to the tagged revision's istiod, and
 * the Service istiod-revision-tag-<tag> in front of it. Moving the tag to another
 * revision updates both in place: at no moment is the tag unserved, as it would be
 * if the webhook were deleted from one istiod release and created in another.
 * istiod fills in the CA bundle (it owns webhooks labelled with its revision).
 */
export class RevisionTag extends pulumi.ComponentResource {
    public readonly webhookName: string;
    public readonly serviceName: string;

    constructor(name: string, args: RevisionTagArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:RevisionTag", name, {}, opts);
        // Names as istioctl and the istiod chart give them, so an existing tag is taken over, not doubled.
        this.webhookName =
            args.namespace === "istio-system"
                ? `istio-revision-tag-${args.tag}`
                : `istio-revision-tag-${args.tag}-${args.namespace}`;
        this.serviceName = `istiod-revision-tag-${args.tag}`;
        const revisionLabel = args.revision || "default";
        const labels = {
            "istio.io/tag": args.tag,
            "istio.io/rev": revisionLabel,
            app: "sidecar-injector",
            "app.kubernetes.io/name": "istiod",
            "app.kubernetes.io/managed-by": "istio-mesh",
        };
        new k8s.admissionregistration.v1.MutatingWebhookConfiguration(
            `${name}-webhook`,
            {
                metadata: { name: this.webhookName, labels, annotations: { [PATCH_FORCE_ANNOTATION]: "true" } },
                webhooks: revisionTagWebhooks(args),
            },
            { parent: this, ignoreChanges: ISTIOD_OWNED_WEBHOOK_FIELDS },
        );
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: {
                    name: this.serviceName,
                    namespace: args.namespace,
                    labels: { ...labels, app: "istiod", istio: "pilot" },
                    // Usable once created; its endpoints follow istiod's pods, which are awaited already.
                    annotations: { [PATCH_FORCE_ANNOTATION]: "true", "pulumi.com/skipAwait": "true" },
                },
                spec: {
                    ports: [
                        { port: 15010, name: "grpc-xds", protocol: "TCP" },
                        { port: 15012, name: "https-dns", protocol: "TCP" },
                        { port: 443, name: "https-webhook", targetPort: 15017, protocol: "TCP" },
                        { port: 15014, name: "http-monitoring", protocol: "TCP" },
                    ],
                    selector: args.revision
                        ? { app: "istiod", "istio.io/rev": args.revision }
                        : { app: "istiod", istio: "pilot" },
                },
            },
            { parent: this },
        );
        this.registerOutputs({ webhookName: this.webhookName, serviceName: this.serviceName });
    }
}
