// The traffic rules of an application in the mesh, as typed values. One model,
// two renderings: Istio's own APIs (VirtualService, DestinationRule, Gateway) or
// the Kubernetes Gateway API (HTTPRoute, Gateway), picked with one setting.

/** Which API the rules are written in. */
export const TRAFFIC_APIS = ["istio", "gateway-api"] as const;
export type TrafficApi = (typeof TRAFFIC_APIS)[number];

/** Conditions Envoy retries on, as Istio's `retryOn` lists them (HTTP status codes are allowed too). */
export const RETRY_CONDITIONS = [
    "5xx",
    "gateway-error",
    "reset",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
] as const;

/** How an ingress path is compared with the request's path. */
export const PATH_MATCHES = ["exact", "prefix"] as const;
export type PathMatch = (typeof PATH_MATCHES)[number];

/** Requests carrying this header and value go to one version: the runbook's `lab: canary`. */
export interface HeaderCanary {
    /** Header name, lowercase (Envoy compares header names lowercased). */
    header: string;
    /** The exact value that selects the canary. */
    value: string;
    /** The version those requests go to; one of the route's versions. */
    version: string;
}

export interface Retries {
    /** How many times a failed request is retried (1 to 10). */
    attempts: number;
    /** Time allowed to each attempt, in milliseconds. @default undefined (the route's timeout) */
    perTryTimeoutMs?: number;
    /** What counts as a failure worth retrying. @default undefined (Envoy's default through Istio: connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes) */
    retryOn?: string[];
}

export interface FaultDelay {
    /** The delay added before the request is forwarded, in milliseconds. */
    fixedDelayMs: number;
    /** Share of requests delayed, 0 to 100. */
    percent: number;
}

export interface FaultAbort {
    /** The HTTP status returned instead of forwarding, 200 to 599. */
    httpStatus: number;
    /** Share of requests aborted, 0 to 100. */
    percent: number;
}

export interface Fault {
    delay?: FaultDelay;
    abort?: FaultAbort;
}

/** The traffic rules of one Service whose pods carry a `version` label. */
export interface ServiceRoute {
    /** The Service's name in the application namespace. */
    service: string;
    /** The Service port the rules apply to. */
    port: number;
    /** The values of the pods' `version` label, each a version traffic can go to. */
    versions: string[];
    /** Labels that select the Service's pods, without `version`. */
    selector: Record<string, string>;
    /** The pods' port behind `port` (the per-version Services of the Gateway API need it). */
    targetPort: number;
    /** Percent of the traffic per version, adding up to 100; versions left out get none. */
    weights: Record<string, number>;
    canary?: HeaderCanary;
    /** Time allowed to a request, in milliseconds. */
    timeoutMs?: number;
    retries?: Retries;
    fault?: Fault;
}

/** One path of the ingress route and the Service it goes to. */
export interface IngressPath {
    path: string;
    match: PathMatch;
    service: string;
    port: number;
}

/** Requests that enter through the mesh's ingress gateway and where they go. */
export interface IngressRouteSpec {
    /** Names the Gateway and the route (VirtualService or HTTPRoute). */
    name: string;
    /** Host names served; `*` alone serves every host. */
    hosts: string[];
    /** The gateway port the route listens on (a port of the gateway's Service). */
    port: number;
    paths: IngressPath[];
}

/** The mesh's ingress gateway a custom Gateway is bound to. */
export interface IngressGatewayTarget {
    /** Its Service's name. */
    service: string;
    /** Its Service's namespace. */
    namespace: string;
    /** The labels of its pods (its Service's selector): an Istio Gateway selects them. */
    selector: Record<string, string>;
}

/**
 * A Service's traffic rules as a user writes them (stack config or code):
 * durations as text such as `500ms`, `2s` or `0.5s`. Read and checked into a
 * ServiceRoute by `readServiceRoute`.
 */
export interface ServiceRouteInput {
    /** The Service's name in the application namespace. Required. */
    service: string;
    /** The Service port the rules apply to. Required. */
    port: number;
    /** The pods' `version` label values (1 to 16). Required. */
    versions: string[];
    /** Labels that select the Service's pods, without `version`. @default {app: <service>} */
    selector?: Record<string, string>;
    /** The pods' port behind `port`. @default port */
    targetPort?: number;
    /** Percent of the traffic per version, adding up to 100. @default {<first version>: 100} */
    weights?: Record<string, number>;
    /** Header-based canary: requests with the header and value go to one version. @default undefined (none) */
    canary?: HeaderCanary;
    /** Time allowed to a request. @default undefined (Istio's default: none for HTTP routes) */
    timeout?: string;
    /** Retries (Istio API only). @default undefined (Istio's default: 2 attempts) */
    retries?: { attempts: number; perTryTimeout?: string; retryOn?: string[] };
    /** Fault injection (Istio API only); `percent` @default 100. @default undefined (none) */
    fault?: {
        delay?: { fixedDelay: string; percent?: number };
        abort?: { httpStatus: number; percent?: number };
    };
}

/** The ingress route as a user writes it. Read and checked by `readIngressRoute`. */
export interface IngressRouteInput {
    /** Names the Gateway and the route. @default "ingress" */
    name?: string;
    /** Host names served. @default ["*"] */
    hosts?: string[];
    /** The gateway port the route listens on. @default the gateway's port named http2 or http */
    port?: number;
    /** The paths served; `match` @default "prefix". Required. */
    paths: { path: string; match?: PathMatch; service: string; port: number }[];
}
