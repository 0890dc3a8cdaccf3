import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_API, meshHttpRouteSpec, versionServiceName, versionServiceSpec } from "./gatewayApiSpecs";
import { destinationRuleSpec, ISTIO_NETWORKING_API, virtualServiceSpec } from "./istioSpecs";
import { ServiceRouteInput, TrafficApi } from "./types";
import { readServiceRoute, readTrafficApi, TrafficReader } from "./validate";
import { ConfigError } from "../../../components/config/reader";

/** Labels on every object of the traffic components, so `kubectl get ... -l` finds them. */
export const TRAFFIC_LABELS: Readonly<Record<string, string>> = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/component": "traffic",
};

export interface ServiceTrafficRouteArgs {
    /** The namespace of the Service, where the rules are created. Required. */
    namespace: pulumi.Input<string>;
    /** The API the rules are written in. @default "istio" */
    api?: TrafficApi;
    /** The rules: versions, weights, header canary, timeout, retries, faults. Required. */
    route: ServiceRouteInput;
}

/**
 * Traffic rules of one Service whose pods carry a `version` label: a weighted
 * split between versions, a header that sends requests to one version, a
 * timeout, retries and injected faults. As Istio APIs: a DestinationRule (one
 * subset per version) and a VirtualService. As Gateway API: one Service per
 * version and an HTTPRoute attached to the Service; retries and faults are
 * refused there, since the standard channel cannot say them. Every rule is
 * checked before the first object is registered.
 */
export class ServiceTrafficRoute extends pulumi.ComponentResource {
    public readonly api: TrafficApi;
    /** What was created, as <kind>/<name>. */
    public readonly objects: string[];

    constructor(name: string, args: ServiceTrafficRouteArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:ServiceTrafficRoute", name, {}, opts);
        const r = new TrafficReader();
        const api = readTrafficApi(r, "api", args.api) ?? "istio";
        const route = readServiceRoute(r, "route", args.route, api);
        if (!route) {
            throw new pulumi.ResourceError(
                new ConfigError(r.problems, `invalid traffic rules for ${name}`).message,
                this,
            );
        }
        this.api = api;
        const metadata = (objectName: string) => ({
            name: objectName,
            namespace: args.namespace,
            labels: { ...TRAFFIC_LABELS },
        });
        const objects: string[] = [];
        if (api === "istio") {
            new k8s.apiextensions.CustomResource(
                `${name}-destinationrule`,
                {
                    apiVersion: ISTIO_NETWORKING_API,
                    kind: "DestinationRule",
                    metadata: metadata(route.service),
                    spec: destinationRuleSpec(route),
                },
                { parent: this },
            );
            new k8s.apiextensions.CustomResource(
                `${name}-virtualservice`,
                {
                    apiVersion: ISTIO_NETWORKING_API,
                    kind: "VirtualService",
                    metadata: metadata(route.service),
                    spec: virtualServiceSpec(route),
                },
                { parent: this },
            );
            objects.push(`DestinationRule/${route.service}`, `VirtualService/${route.service}`);
        } else {
            const versionServices = route.versions.map((version) => {
                const serviceName = versionServiceName(route, version);
                objects.push(`Service/${serviceName}`);
                return new k8s.core.v1.Service(
                    `${name}-service-${version}`,
                    { metadata: metadata(serviceName), spec: versionServiceSpec(route, version) },
                    { parent: this },
                );
            });
            new k8s.apiextensions.CustomResource(
                `${name}-httproute`,
                {
                    apiVersion: GATEWAY_API,
                    kind: "HTTPRoute",
                    metadata: metadata(route.service),
                    spec: meshHttpRouteSpec(route),
                },
                // A route to a Service that does not exist yet would be reported unresolved.
                { parent: this, dependsOn: versionServices },
            );
            objects.push(`HTTPRoute/${route.service}`);
        }
        this.objects = objects;
        this.registerOutputs({ api: this.api, objects: this.objects });
    }
}
