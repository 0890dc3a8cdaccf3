import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_API, ingressGatewaySpec, ingressHttpRouteSpec } from "./gatewayApiSpecs";
import { ingressVirtualServiceSpec, ISTIO_NETWORKING_API, istioGatewaySpec } from "./istioSpecs";
import { TRAFFIC_LABELS } from "./serviceRoute";
import { IngressRouteInput, TrafficApi } from "./types";
import { readIngressRoute, readTrafficApi, TrafficReader } from "./validate";
import { ConfigError } from "../../../components/config/reader";

/** A port of the ingress gateway's Service, as the mesh stack's `gateways` output lists it. */
export interface GatewayPort {
    name: string;
    port: number;
}

/** The port plain HTTP enters by: the one named http2 (the gateway chart's name) or http. */
export function gatewayHttpPort(ports: GatewayPort[]): number | undefined {
    return (ports.find((p) => p.name === "http2") ?? ports.find((p) => p.name === "http"))?.port;
}

export interface IngressRouteArgs {
    /** The namespace of the route, its Gateway and the Services it reaches. Required. */
    namespace: pulumi.Input<string>;
    /** The API the route is written in. @default "istio" */
    api?: TrafficApi;
    /** The mesh's ingress gateway the route's Gateway is bound to. Required. */
    gateway: {
        /** Its Service's name, such as istio-ingressgateway. */
        service: string;
        /** Its Service's namespace, such as istio-system. */
        namespace: string;
        /** Its pods' labels (its Service's selector), which an Istio Gateway selects. */
        selector: pulumi.Input<Record<string, string>>;
        /** Its Service's ports; the route's port must be one of them. */
        ports: GatewayPort[];
    };
    /** Hosts and paths, and the Services they go to. Required. */
    route: IngressRouteInput;
}

/**
 * Requests entering through the mesh's existing ingress gateway: the runbook's
 * own Gateway object on that gateway, and the paths it routes. As Istio APIs: a
 * Gateway selecting the gateway's pods and a VirtualService bound to it. As
 * Gateway API: a Gateway of class istio whose address names the gateway's
 * Service (istiod then programs that gateway and deploys none of its own), in
 * that Service's namespace and admitting routes from the route's namespace only,
 * and an HTTPRoute attached to it.
 */
export class IngressRoute extends pulumi.ComponentResource {
    public readonly api: TrafficApi;
    /** The gateway port the route listens on. */
    public readonly port: number;
    /** What was created, as <kind>/<name>. */
    public readonly objects: string[];

    constructor(name: string, args: IngressRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:IngressRoute", name, {}, opts);
        const r = new TrafficReader();
        const api = readTrafficApi(r, "api", args.api) ?? "istio";
        const ports = args.gateway.ports.map((p) => p.port);
        const ingress = readIngressRoute(r, "route", args.route, gatewayHttpPort(args.gateway.ports), ports);
        if (!ingress) {
            throw new pulumi.ResourceError(new ConfigError(r.problems, `invalid ingress route ${name}`).message, this);
        }
        this.api = api;
        this.port = ingress.port;
        const metadata = { name: ingress.name, namespace: args.namespace, labels: { ...TRAFFIC_LABELS } };
        const gateway =
            api === "istio"
                ? new k8s.apiextensions.CustomResource(
                      `${name}-istio-gateway`,
                      {
                          apiVersion: ISTIO_NETWORKING_API,
                          kind: "Gateway",
                          metadata,
                          spec: pulumi
                              .output(args.gateway.selector)
                              .apply((selector) => istioGatewaySpec(ingress, { selector })),
                      },
                      { parent: this },
                  )
                : new k8s.apiextensions.CustomResource(
                      `${name}-gateway`,
                      {
                          apiVersion: GATEWAY_API,
                          kind: "Gateway",
                          // Beside the ingress gateway's Service: istiod binds the address only there.
                          metadata: { ...metadata, namespace: args.gateway.namespace },
                          spec: pulumi
                              .output(args.namespace)
                              .apply((routeNamespace) => ingressGatewaySpec(ingress, args.gateway, routeNamespace)),
                      },
                      { parent: this },
                  );
        // Named by kind: switching the API deletes one kind and creates the other.
        new k8s.apiextensions.CustomResource(
            api === "istio" ? `${name}-virtualservice` : `${name}-httproute`,
            api === "istio"
                ? {
                      apiVersion: ISTIO_NETWORKING_API,
                      kind: "VirtualService",
                      metadata,
                      spec: ingressVirtualServiceSpec(ingress),
                  }
                : {
                      apiVersion: GATEWAY_API,
                      kind: "HTTPRoute",
                      metadata,
                      spec: ingressHttpRouteSpec(ingress, args.gateway.namespace),
                  },
            { parent: this, dependsOn: [gateway] },
        );
        this.objects = [
            `Gateway/${ingress.name}`,
            `${api === "istio" ? "VirtualService" : "HTTPRoute"}/${ingress.name}`,
        ];
        this.registerOutputs({ api: this.api, port: this.port, objects: this.objects });
    }
}
