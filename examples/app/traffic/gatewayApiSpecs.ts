// Traffic rules as the Kubernetes Gateway API (gateway.networking.k8s.io/v1,
// standard channel): pure functions from validated rules to object specs. The
// Gateway API has no subsets, so each version is a Service of its own; routing
// inside the mesh is an HTTPRoute whose parent is the Service (GAMMA).
import { IngressGatewayTarget, IngressRouteSpec, ServiceRoute } from "./types";

export const GATEWAY_API = "gateway.networking.k8s.io/v1";
/** The GatewayClass istiod serves. */
export const ISTIO_GATEWAY_CLASS = "istio";

/** Gateway API durations: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, so `2s`, `500ms`, `1s500ms`. */
export function gatewayApiDuration(ms: number): string {
    const seconds = Math.floor(ms / 1000);
    const rest = ms % 1000;
    if (seconds === 0) return `${rest}ms`;
    return rest === 0 ? `${seconds}s` : `${seconds}s${rest}ms`;
}

/** The Service that stands for one version: `<service>-<version>`. */
export function versionServiceName(route: Pick<ServiceRoute, "service">, version: string): string {
    return `${route.service}-${version}`;
}

export interface VersionServiceSpec {
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: number }[];
}

export function versionServiceSpec(route: ServiceRoute, version: string): VersionServiceSpec {
    // Named http: Istio reads the protocol from the port name's prefix.
    return {
        selector: { ...route.selector, version },
        ports: [{ name: "http", port: route.port, targetPort: route.targetPort }],
    };
}

interface BackendRef {
    name: string;
    port: number;
    weight?: number;
}

export interface HttpRouteRule {
    matches?: Record<string, unknown>[];
    backendRefs: BackendRef[];
    timeouts?: { request: string };
}

export interface HttpRouteSpec {
    parentRefs: Record<string, unknown>[];
    hostnames?: string[];
    rules: HttpRouteRule[];
}

export interface GatewayApiGatewaySpec {
    gatewayClassName: string;
    addresses: { type: "Hostname"; value: string }[];
    listeners: {
        name: string;
        port: number;
        protocol: "HTTP";
        allowedRoutes: { namespaces: { from: "Selector"; selector: { matchLabels: Record<string, string> } } };
    }[];
}

/**
 * The canary rule (a header match, which the Gateway API ranks above a rule
 * without matches), then the weighted split over the version Services.
 */
export function meshHttpRouteSpec(route: ServiceRoute): HttpRouteSpec {
    const timeouts =
        route.timeoutMs !== undefined ? { timeouts: { request: gatewayApiDuration(route.timeoutMs) } } : {};
    const rules: HttpRouteRule[] = [];
    if (route.canary) {
        rules.push({
            matches: [{ headers: [{ type: "Exact", name: route.canary.header, value: route.canary.value }] }],
            backendRefs: [{ name: versionServiceName(route, route.canary.version), port: route.port }],
            ...timeouts,
        });
    }
    rules.push({
        backendRefs: Object.entries(route.weights).map(([version, weight]) => ({
            name: versionServiceName(route, version),
            port: route.port,
            weight,
        })),
        ...timeouts,
    });
    return { parentRefs: [{ group: "", kind: "Service", name: route.service, port: route.port }], rules };
}

/**
 * A Gateway bound to the mesh's existing ingress gateway: an address of type
 * Hostname naming its Service makes istiod program that deployment instead of
 * deploying a gateway of its own (Istio's "manual deployment"). istiod binds the
 * address only to a Service in the Gateway's own namespace (otherwise it reports
 * Programmed False, AddressNotUsable), so the Gateway lives beside the ingress
 * gateway and admits routes from the application namespace alone.
 */
export function ingressGatewaySpec(
    ingress: IngressRouteSpec,
    target: Omit<IngressGatewayTarget, "selector">,
    routeNamespace: string,
): GatewayApiGatewaySpec {
    return {
        gatewayClassName: ISTIO_GATEWAY_CLASS,
        addresses: [{ type: "Hostname", value: `${target.service}.${target.namespace}.svc.cluster.local` }],
        listeners: [
            {
                name: "http",
                port: ingress.port,
                protocol: "HTTP",
                allowedRoutes: {
                    namespaces: {
                        from: "Selector",
                        selector: { matchLabels: { "kubernetes.io/metadata.name": routeNamespace } },
                    },
                },
            },
        ],
    };
}

/** The paths, attached to the route's own Gateway (in the ingress gateway's namespace); `*` is written as no hostnames (every host). */
export function ingressHttpRouteSpec(ingress: IngressRouteSpec, gatewayNamespace: string): HttpRouteSpec {
    const hostnames = ingress.hosts.filter((h) => h !== "*");
    return {
        parentRefs: [{ name: ingress.name, namespace: gatewayNamespace }],
        ...(hostnames.length > 0 ? { hostnames } : {}),
        rules: ingress.paths.map((p) => ({
            matches: [{ path: { type: p.match === "exact" ? "Exact" : "PathPrefix", value: p.path } }],
            backendRefs: [{ name: p.service, port: p.port }],
        })),
    };
}
