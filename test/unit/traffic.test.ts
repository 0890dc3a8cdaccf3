// The traffic rules: what is refused (exact messages), and the specs each API
// gets. Pure functions: no Pulumi runtime, no mocks.
import {
    gatewayApiDuration,
    ingressGatewaySpec,
    ingressHttpRouteSpec,
    meshHttpRouteSpec,
    versionServiceSpec,
} from "../../examples/app/traffic/gatewayApiSpecs";
import { gatewayHttpPort } from "../../examples/app/traffic/ingressRoute";
import {
    destinationRuleSpec,
    ingressVirtualServiceSpec,
    istioDuration,
    istioGatewaySpec,
    virtualServiceSpec,
} from "../../examples/app/traffic/istioSpecs";
import { IngressRouteSpec, ServiceRoute, TrafficApi } from "../../examples/app/traffic/types";
import { readIngressRoute, readServiceRoute, TrafficReader } from "../../examples/app/traffic/validate";

function route(input: unknown, api: TrafficApi = "istio"): { route?: ServiceRoute; problems: string[] } {
    const r = new TrafficReader();
    const result = readServiceRoute(r, "routes[0]", input, api);
    return { route: result, problems: r.problems };
}

const REVIEWS = {
    service: "reviews",
    port: 9080,
    versions: ["v1", "v2", "v3"],
    weights: { v1: 90, v2: 10 },
    canary: { header: "lab", value: "canary", version: "v3" },
    timeout: "500ms",
    retries: { attempts: 3, perTryTimeout: "200ms", retryOn: ["5xx", "connect-failure"] },
};

describe("readServiceRoute refuses, naming the setting, the value and what is allowed", () => {
    test("weights that do not add up to 100", () => {
        expect(route({ ...REVIEWS, weights: { v1: 60, v2: 30 } }).problems).toEqual([
            'routes[0].weights: {"v1":60,"v2":30} add up to 90; the weights are percentages of the Service\'s traffic and must add up to 100',
        ]);
    });

    test("a weight for a version the route does not list, and one out of range", () => {
        expect(route({ ...REVIEWS, weights: { v1: 90, v4: 10 } }).problems).toEqual([
            'routes[0].weights: "v4" is not one of the versions; allowed: v1, v2, v3',
        ]);
        expect(route({ ...REVIEWS, weights: { v1: 101, v2: -1 } }).problems).toEqual([
            "routes[0].weights.v1: 101 is not a whole number from 0 to 100",
            "routes[0].weights.v2: -1 is not a whole number from 0 to 100",
        ]);
    });

    test("a canary header istiod would refuse, and a canary version that does not exist", () => {
        expect(
            route({ ...REVIEWS, canary: { header: "Lab Canary", value: "canary", version: "v9" } }).problems,
        ).toEqual([
            "routes[0].canary.header: \"Lab Canary\" is not a valid header name; use lowercase letters, digits, '-' and '_', such as lab",
            'routes[0].canary.version: "v9" is not one of the versions; allowed: v1, v2, v3',
        ]);
    });

    test("durations in a form neither API reads", () => {
        expect(route({ ...REVIEWS, timeout: "1m" }).problems).toEqual([
            'routes[0].timeout: "1m" is not a duration; write milliseconds or seconds such as 500ms, 2s or 0.5s, from 1ms to 86400s',
        ]);
        expect(route({ ...REVIEWS, timeout: "0ms" }).problems).toHaveLength(1);
    });

    test("retries and faults for the Gateway API, which its standard channel cannot say", () => {
        const fault = { delay: { fixedDelay: "7s", percent: 10 } };
        expect(route({ ...REVIEWS, fault }, "gateway-api").problems).toEqual([
            'routes[0].retries: {"attempts":3,"perTryTimeout":"200ms","retryOn":["5xx","conn… cannot be written as Gateway API: the standard channel\'s HTTPRoute has no retry field; use trafficApi istio for retries, or leave them out',
            'routes[0].fault: {"delay":{"fixedDelay":"7s","percent":10}} cannot be written as Gateway API: HTTPRoute has no fault injection; use trafficApi istio for delays and aborts, or leave fault out',
        ]);
    });

    test("a fault that injects nothing, a bad status and percentage, an unknown retry condition", () => {
        expect(route({ ...REVIEWS, fault: {} }).problems).toEqual([
            "routes[0].fault: {} injects nothing; give a delay {fixedDelay, percent}, an abort {httpStatus, percent}, or both",
        ]);
        expect(route({ ...REVIEWS, fault: { abort: { httpStatus: 700, percent: 120 } } }).problems).toEqual([
            "routes[0].fault.abort.httpStatus: 700 is not a whole number from 200 to 599",
            "routes[0].fault.abort.percent: 120 is not a percentage from 0 to 100",
        ]);
        expect(route({ ...REVIEWS, retries: { attempts: 3, retryOn: ["5xx", "sometimes"] } }).problems).toEqual([
            'routes[0].retries.retryOn[1]: "sometimes" is not a retry condition; allowed: 5xx, gateway-error, reset, connect-failure, envoy-ratelimited, retriable-4xx, refused-stream, retriable-status-codes, retriable-headers, cancelled, deadline-exceeded, internal, resource-exhausted, unavailable, or an HTTP status code such as 503',
        ]);
    });

    test("missing and unknown settings, duplicate versions, every problem at once", () => {
        expect(route({ service: "Reviews", versions: ["v1", "v1"], weight: 5 }).problems).toEqual([
            "routes[0].weight: 5 is not a known setting; allowed: service, port, targetPort, versions, selector, weights, canary, timeout, retries, fault",
            "routes[0].service: \"Reviews\" is not a valid Service name; use a DNS label that starts with a letter: lowercase letters, digits and '-', at most 63 characters",
            "routes[0].port: is required; the Service port the rules apply to, a whole number from 1 to 65535",
            'routes[0].versions[1]: "v1" is listed twice; list each version once',
        ]);
    });

    test("defaults: all traffic to the first version, pods selected by app=<service>, target port = port", () => {
        expect(route({ service: "hello", port: 5000, versions: ["v1", "v2"] }).route).toEqual({
            service: "hello",
            port: 5000,
            versions: ["v1", "v2"],
            selector: { app: "hello" },
            targetPort: 5000,
            weights: { v1: 100 },
        });
    });
});

describe("Istio APIs", () => {
    const reviews = route(REVIEWS).route as ServiceRoute;

    test("a subset per version, by the pods' version label", () => {
        expect(destinationRuleSpec(reviews)).toEqual({
            host: "reviews",
            subsets: [
                { name: "v1", labels: { version: "v1" } },
                { name: "v2", labels: { version: "v2" } },
                { name: "v3", labels: { version: "v3" } },
            ],
        });
    });

    test("the canary header first, then the weighted split; timeout and retries on both", () => {
        const policies = {
            timeout: "0.5s",
            retries: { attempts: 3, perTryTimeout: "0.2s", retryOn: "5xx,connect-failure" },
        };
        expect(virtualServiceSpec(reviews)).toEqual({
            hosts: ["reviews"],
            http: [
                {
                    name: "canary",
                    match: [{ headers: { lab: { exact: "canary" } } }],
                    route: [{ destination: { host: "reviews", subset: "v3", port: { number: 9080 } } }],
                    ...policies,
                },
                {
                    name: "weighted",
                    route: [
                        { destination: { host: "reviews", subset: "v1", port: { number: 9080 } }, weight: 90 },
                        { destination: { host: "reviews", subset: "v2", port: { number: 9080 } }, weight: 10 },
                    ],
                    ...policies,
                },
            ],
        });
    });

    test("faults: a delay and an abort for a share of the requests", () => {
        const ratings = route({
            service: "ratings",
            port: 9080,
            versions: ["v1"],
            fault: { delay: { fixedDelay: "7s", percent: 10 }, abort: { httpStatus: 500 } },
        }).route as ServiceRoute;
        expect(virtualServiceSpec(ratings).http[0].fault).toEqual({
            delay: { fixedDelay: "7s", percentage: { value: 10 } },
            abort: { httpStatus: 500, percentage: { value: 100 } },
        });
    });

    test("durations as protobuf seconds", () => {
        expect([istioDuration(500), istioDuration(2000), istioDuration(1234)]).toEqual(["0.5s", "2s", "1.234s"]);
    });
});

describe("Gateway API", () => {
    const reviews = route({ ...REVIEWS, retries: undefined }, "gateway-api").route as ServiceRoute;

    test("a Service per version, and an HTTPRoute on the Service: header rule, then the weighted backends", () => {
        expect(versionServiceSpec(reviews, "v2")).toEqual({
            selector: { app: "reviews", version: "v2" },
            ports: [{ name: "http", port: 9080, targetPort: 9080 }],
        });
        expect(meshHttpRouteSpec(reviews)).toEqual({
            parentRefs: [{ group: "", kind: "Service", name: "reviews", port: 9080 }],
            rules: [
                {
                    matches: [{ headers: [{ type: "Exact", name: "lab", value: "canary" }] }],
                    backendRefs: [{ name: "reviews-v3", port: 9080 }],
                    timeouts: { request: "500ms" },
                },
                {
                    backendRefs: [
                        { name: "reviews-v1", port: 9080, weight: 90 },
                        { name: "reviews-v2", port: 9080, weight: 10 },
                    ],
                    timeouts: { request: "500ms" },
                },
            ],
        });
    });

    test("durations in the Gateway API's own form", () => {
        expect([500, 2000, 1500, 86_400_000].map(gatewayApiDuration)).toEqual(["500ms", "2s", "1s500ms", "86400s"]);
    });
});

describe("the ingress route", () => {
    function ingress(input: unknown, ports = [15021, 80, 443]): { spec?: IngressRouteSpec; problems: string[] } {
        const r = new TrafficReader();
        const spec = readIngressRoute(r, "ingress", input, 80, ports);
        return { spec, problems: r.problems };
    }
    const PATHS = [
        { path: "/productpage", match: "exact", service: "productpage", port: 9080 },
        { path: "/static", service: "productpage", port: 9080 },
    ];
    const target = {
        service: "istio-ingressgateway",
        namespace: "istio-system",
        selector: { istio: "ingressgateway" },
    };

    test("refuses a port the gateway does not expose, a bad host and path, a duplicate path", () => {
        expect(
            ingress({
                port: 8080,
                hosts: ["*", "Bookinfo"],
                paths: [...PATHS, { path: "static", service: "productpage", port: 9080 }, PATHS[0]],
            }).problems,
        ).toEqual([
            'ingress.hosts[1]: "Bookinfo" is not a host name; use *, a DNS name such as bookinfo.example.com, or *.example.com',
            "ingress.port: 8080 is not a port of the ingress gateway's Service; allowed: 15021, 80, 443",
            'ingress.paths[2].path: "static" is not a request path: it starts with / and has no spaces, query (?) or fragment (#), at most 1024 characters',
            'ingress.paths[3].path: "/productpage" is a duplicate of ingress.paths[0].path with the same match; each path and match once',
        ]);
    });

    test("the gateway's HTTP port by default: the port named http2, else http", () => {
        expect(
            gatewayHttpPort([
                { name: "status-port", port: 15021 },
                { name: "http2", port: 80 },
            ]),
        ).toBe(80);
        expect(gatewayHttpPort([{ name: "http", port: 8080 }])).toBe(8080);
        expect(gatewayHttpPort([{ name: "https", port: 443 }])).toBeUndefined();
    });

    test("Istio: a Gateway on the ingress gateway's pods and a VirtualService bound to it", () => {
        const spec = ingress({ name: "bookinfo-gateway", paths: PATHS }).spec as IngressRouteSpec;
        expect(istioGatewaySpec(spec, target)).toEqual({
            selector: { istio: "ingressgateway" },
            servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
        });
        expect(ingressVirtualServiceSpec(spec)).toEqual({
            hosts: ["*"],
            gateways: ["bookinfo-gateway"],
            http: [
                {
                    name: "path-0",
                    match: [{ uri: { exact: "/productpage" } }],
                    route: [{ destination: { host: "productpage", port: { number: 9080 } } }],
                },
                {
                    name: "path-1",
                    match: [{ uri: { prefix: "/static" } }],
                    route: [{ destination: { host: "productpage", port: { number: 9080 } } }],
                },
            ],
        });
    });

    test("Gateway API: a Gateway bound to the ingress gateway's Service, admitting the app namespace only", () => {
        const spec = ingress({ name: "bookinfo-gateway", hosts: ["bookinfo.example.com"], paths: PATHS })
            .spec as IngressRouteSpec;
        expect(ingressGatewaySpec(spec, target, "bookinfo")).toEqual({
            gatewayClassName: "istio",
            addresses: [{ type: "Hostname", value: "istio-ingressgateway.istio-system.svc.cluster.local" }],
            listeners: [
                {
                    name: "http",
                    port: 80,
                    protocol: "HTTP",
                    allowedRoutes: {
                        namespaces: {
                            from: "Selector",
                            selector: { matchLabels: { "kubernetes.io/metadata.name": "bookinfo" } },
                        },
                    },
                },
            ],
        });
        expect(ingressHttpRouteSpec(spec, "istio-system")).toEqual({
            parentRefs: [{ name: "bookinfo-gateway", namespace: "istio-system" }],
            hostnames: ["bookinfo.example.com"],
            rules: [
                {
                    matches: [{ path: { type: "Exact", value: "/productpage" } }],
                    backendRefs: [{ name: "productpage", port: 9080 }],
                },
                {
                    matches: [{ path: { type: "PathPrefix", value: "/static" } }],
                    backendRefs: [{ name: "productpage", port: 9080 }],
                },
            ],
        });
    });
});

describe("traffic rules are read as the stack config is, by the package's reader", () => {
    test("characters a terminal would hide are escaped, and odd label keys are quoted", () => {
        expect(route({ ...REVIEWS, service: "reviews\u202e" }).problems).toEqual([
            "routes[0].service: \"reviews\\u202e\" is not a valid Service name; use a DNS label that starts with a letter: lowercase letters, digits and '-', at most 63 characters",
        ]);
        expect(route({ ...REVIEWS, selector: { "app.kubernetes.io/name": "*" } }).problems).toEqual([
            "routes[0].selector[\"app.kubernetes.io/name\"]: \"*\" is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ]);
    });

    test("only a plain map is an object: a Date given as a route is refused", () => {
        expect(route(new Date(0)).problems).toEqual([
            "routes[0]: [object Date] is not an object; its settings are service, port, targetPort, versions, selector, weights, canary, timeout, retries, fault",
        ]);
    });
});
