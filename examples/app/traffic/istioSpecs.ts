// Traffic rules as Istio's own APIs (networking.istio.io/v1): pure functions from
// validated rules to object specs, shared by the components and the unit tests.
import { Fault, IngressGatewayTarget, IngressRouteSpec, Retries, ServiceRoute } from "./types";

export const ISTIO_NETWORKING_API = "networking.istio.io/v1";

/** Istio reads durations as protobuf seconds: `0.5s`, `2s`. */
export function istioDuration(ms: number): string {
    return `${ms / 1000}s`;
}

interface IstioDestination {
    host: string;
    subset?: string;
    port: { number: number };
}

export interface IstioHttpRoute {
    name: string;
    match?: Record<string, unknown>[];
    route: { destination: IstioDestination; weight?: number }[];
    timeout?: string;
    retries?: { attempts: number; perTryTimeout?: string; retryOn?: string };
    fault?: {
        delay?: { fixedDelay: string; percentage: { value: number } };
        abort?: { httpStatus: number; percentage: { value: number } };
    };
}

export interface VirtualServiceSpec {
    hosts: string[];
    gateways?: string[];
    http: IstioHttpRoute[];
}

export interface DestinationRuleSpec {
    host: string;
    subsets: { name: string; labels: Record<string, string> }[];
}

export interface IstioGatewaySpec {
    selector: Record<string, string>;
    servers: { port: { number: number; name: string; protocol: "HTTP" }; hosts: string[] }[];
}

/** One subset per version, selected by the pods' `version` label. */
export function destinationRuleSpec(route: ServiceRoute): DestinationRuleSpec {
    return {
        host: route.service,
        subsets: route.versions.map((version) => ({ name: version, labels: { version } })),
    };
}

function retriesSpec(retries: Retries): NonNullable<IstioHttpRoute["retries"]> {
    return {
        attempts: retries.attempts,
        ...(retries.perTryTimeoutMs !== undefined ? { perTryTimeout: istioDuration(retries.perTryTimeoutMs) } : {}),
        ...(retries.retryOn ? { retryOn: retries.retryOn.join(",") } : {}),
    };
}

function faultSpec(fault: Fault): NonNullable<IstioHttpRoute["fault"]> {
    return {
        ...(fault.delay
            ? {
                  delay: {
                      fixedDelay: istioDuration(fault.delay.fixedDelayMs),
                      percentage: { value: fault.delay.percent },
                  },
              }
            : {}),
        ...(fault.abort
            ? { abort: { httpStatus: fault.abort.httpStatus, percentage: { value: fault.abort.percent } } }
            : {}),
    };
}

/**
 * The canary rule first (requests with the header go to its version), then the
 * weighted split for everything else. Timeout, retries and faults apply to both:
 * they describe the Service, whichever version answers.
 */
export function virtualServiceSpec(route: ServiceRoute): VirtualServiceSpec {
    const destination = (subset: string): IstioDestination => ({
        host: route.service,
        subset,
        port: { number: route.port },
    });
    const policies: Partial<IstioHttpRoute> = {
        ...(route.timeoutMs !== undefined ? { timeout: istioDuration(route.timeoutMs) } : {}),
        ...(route.retries ? { retries: retriesSpec(route.retries) } : {}),
        ...(route.fault ? { fault: faultSpec(route.fault) } : {}),
    };
    const http: IstioHttpRoute[] = [];
    if (route.canary) {
        http.push({
            name: "canary",
            match: [{ headers: { [route.canary.header]: { exact: route.canary.value } } }],
            route: [{ destination: destination(route.canary.version) }],
            ...policies,
        });
    }
    http.push({
        name: "weighted",
        route: Object.entries(route.weights).map(([version, weight]) => ({
            destination: destination(version),
            weight,
        })),
        ...policies,
    });
    return { hosts: [route.service], http };
}

/** A server on the mesh's ingress gateway pods, for the route's hosts. */
export function istioGatewaySpec(
    ingress: IngressRouteSpec,
    target: Pick<IngressGatewayTarget, "selector">,
): IstioGatewaySpec {
    return {
        selector: { ...target.selector },
        servers: [{ port: { number: ingress.port, name: "http", protocol: "HTTP" }, hosts: [...ingress.hosts] }],
    };
}

/** The paths, bound to the route's own Gateway (same name, same namespace). */
export function ingressVirtualServiceSpec(ingress: IngressRouteSpec): VirtualServiceSpec {
    return {
        hosts: [...ingress.hosts],
        gateways: [ingress.name],
        http: ingress.paths.map((p, i) => ({
            name: `path-${i}`,
            match: [{ uri: { [p.match]: p.path } }],
            route: [{ destination: { host: p.service, port: { number: p.port } } }],
        })),
    };
}
