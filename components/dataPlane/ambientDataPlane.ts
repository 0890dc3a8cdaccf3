import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { WaypointConfig } from "../config";

export interface AmbientDataPlaneArgs {
    /** Existing namespaces enrolled in ambient mode. @default [] */
    namespaces?: string[];
    /** Waypoints, each in one of `namespaces`. @default [] */
    waypoints?: WaypointConfig[];
}

/** The namespace label that hands a namespace's pods to ztunnel instead of a sidecar. */
export const DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode";
/** The namespace label that sends the namespace's traffic through a waypoint of that name. */
export const USE_WAYPOINT_LABEL = "istio.io/use-waypoint";
/** The Gateway label that says which traffic a waypoint handles. */
export const WAYPOINT_FOR_LABEL = "istio.io/waypoint-for";
/** The GatewayClass istiod serves waypoints with. */
export const WAYPOINT_CLASS = "istio-waypoint";

/** The labels of an ambient namespace: enrolment, and its waypoint if it has one. */
export function ambientNamespaceLabels(waypoint: WaypointConfig | undefined): Record<string, string> {
    return { [DATAPLANE_MODE_LABEL]: "ambient", ...(waypoint ? { [USE_WAYPOINT_LABEL]: waypoint.name } : {}) };
}

/**
 * How the waypoint's Gateway is deleted: at once, the garbage collector then
 * removing the Deployment and Service istiod made for it. The provider's default,
 * foreground deletion, holds the Gateway (and the destroy) until the collector has
 * removed them, which took 43 s in some runs of the ambient suite's destroy and
 * under a second in others of the same code.
 */
export const WAYPOINT_DELETION = { "pulumi.com/deletionPropagationPolicy": "background" };

/**
 * The Gateway that declares a waypoint. istiod's gateway controller creates its
 * Deployment and Service (owned by the Gateway, so they go with it); HBONE on
 * 15008 is the one listener a waypoint has.
 */
export function waypointGateway(waypoint: WaypointConfig) {
    return {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "Gateway",
        metadata: {
            name: waypoint.name,
            namespace: waypoint.namespace,
            labels: { [WAYPOINT_FOR_LABEL]: waypoint.for },
            annotations: WAYPOINT_DELETION,
        },
        spec: {
            gatewayClassName: WAYPOINT_CLASS,
            listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }],
        },
    };
}

/**
 * Ambient mode for existing namespaces: each is labelled (a server-side-apply
 * patch that owns only its labels, so destroy removes the labels and leaves the
 * namespace), and each listed waypoint is declared as a Gateway of class
 * istio-waypoint, which istiod turns into a Deployment and a Service.
 */
export class AmbientDataPlane extends pulumi.ComponentResource {
    public readonly namespaces: string[];
    public readonly waypoints: WaypointConfig[];

    constructor(name: string, args: AmbientDataPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:AmbientDataPlane", name, {}, opts);
        this.namespaces = args.namespaces ?? [];
        this.waypoints = args.waypoints ?? [];
        for (const namespace of this.namespaces) {
            const waypoint = this.waypoints.find((w) => w.namespace === namespace);
            const label = new k8s.core.v1.NamespacePatch(
                `${name}-${namespace}`,
                { metadata: { name: namespace, labels: ambientNamespaceLabels(waypoint) } },
                { parent: this },
            );
            if (waypoint) {
                new k8s.apiextensions.CustomResource(
                    `${name}-${namespace}-${waypoint.name}`,
                    waypointGateway(waypoint),
                    // The namespace is enrolled first: the waypoint serves it from its first pod.
                    { parent: this, dependsOn: [label] },
                );
            }
        }
        this.registerOutputs({ namespaces: this.namespaces, waypoints: this.waypoints });
    }
}
