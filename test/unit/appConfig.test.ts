// The application stack's settings and its reading of the mesh stack's outputs:
// what is refused before anything is registered, with the exact messages.
import * as path from "path";
import {
    AppConfig,
    appConfigValues,
    bookinfoManifest,
    checkMesh,
    DEFAULT_SAMPLE_SOURCE,
    parseAppConfig,
} from "../../examples/app/config";

const programDir = path.resolve(__dirname, "../../examples/app");
const defaults = { organization: "organization", stack: "local", programDir };
const MESH = "organization/istio-mesh/local";

/** The message parseAppConfig or checkMesh stops with. */
function failure(fn: () => unknown): string {
    try {
        fn();
    } catch (e) {
        return (e as Error).message;
    }
    throw new Error("expected a failure");
}

const gateways = [
    {
        name: "istio-ingressgateway",
        kind: "ingress",
        namespace: "istio-system",
        serviceType: "NodePort",
        ports: [
            { name: "status-port", port: 15021 },
            { name: "http2", port: 80, nodePort: 31380 },
        ],
        addresses: [],
    },
    { name: "istio-egressgateway", kind: "egress", namespace: "istio-system", ports: [] },
];
const outputs = { version: "1.29.6", revision: "default", injectionNamespaces: ["bookinfo"], gateways };

describe("parseAppConfig", () => {
    test("defaults: the mesh stack of the same name, namespace default, Istio APIs, the official samples", () => {
        expect(parseAppConfig({}, defaults)).toEqual({
            meshStack: MESH,
            namespace: "default",
            trafficApi: "istio",
            sampleSource: DEFAULT_SAMPLE_SOURCE,
            bookinfo: true,
            hello: true,
            routes: [],
        });
    });

    test("with a release mirror, the samples default to the mirror's copy of the release's", () => {
        expect(parseAppConfig({}, { ...defaults, mirror: "/srv/mirror" }).sampleSource).toBe(
            "/srv/mirror/istio/{version}/samples",
        );
        // A setting still wins.
        expect(
            parseAppConfig({ sampleSource: "/own/samples" }, { ...defaults, mirror: "/srv/mirror" }).sampleSource,
        ).toBe("/own/samples");
    });

    test("Pulumi's text values: JSON objects and booleans are parsed, other keys are not ours", () => {
        expect(
            appConfigValues({
                "istio-mesh-app:routes": '[{"service":"hello"}]',
                "istio-mesh-app:bookinfo": "false",
                "istio-mesh-app:namespace": "bookinfo",
                "kubernetes:kubeconfig": "/tmp/kubeconfig",
            }),
        ).toEqual({ routes: [{ service: "hello" }], bookinfo: false, namespace: "bookinfo" });
    });

    test("every problem at once, each naming the setting, the value and what is allowed", () => {
        expect(
            failure(() =>
                parseAppConfig(
                    {
                        trafficApi: "gateway",
                        namespace: "kube-system",
                        meshStack: "local",
                        hello: "yes",
                        route: [],
                    },
                    defaults,
                ),
            ),
        ).toBe(
            [
                "invalid stack configuration:",
                "  - istio-mesh-app:route: [] is not a known setting; allowed: meshStack, namespace, trafficApi, sampleSource, bookinfo, hello, routes, ingress",
                '  - istio-mesh-app:meshStack: "local" is not a stack name; write <organization>/<project>/<stack>, such as organization/istio-mesh/local',
                '  - istio-mesh-app:namespace: "kube-system" is not an application namespace; use an existing namespace\'s name (a DNS label), not kube-system, kube-public or kube-node-lease',
                '  - istio-mesh-app:trafficApi: "gateway" is not a traffic API; allowed: istio, gateway-api',
                '  - istio-mesh-app:hello: "yes" is not a boolean; allowed: true, false',
            ].join("\n"),
        );
    });

    test("one route per Service, and no ingress path to a Service whose versions are routed", () => {
        const hello = { service: "hello", port: 5000, versions: ["v1", "v2"] };
        expect(
            failure(() =>
                parseAppConfig(
                    {
                        routes: [hello, hello],
                        ingress: { paths: [{ path: "/hello", match: "exact", service: "hello", port: 5000 }] },
                    },
                    defaults,
                ),
            ),
        ).toBe(
            [
                "invalid stack configuration:",
                '  - istio-mesh-app:routes[1].service: "hello" is a duplicate of routes[0].service; one route per Service (it names the Service\'s VirtualService or HTTPRoute)',
                '  - istio-mesh-app:ingress.paths[0].service: "hello" has version rules (routes[0]), which apply to requests from sidecars, not to the ones the ingress gateway forwards: those would bypass its weights and canary (istioctl analyze: IST0140); send the path to a front Service such as productpage',
            ].join("\n"),
        );
    });
});

describe("checkMesh", () => {
    const config = (extra: Partial<AppConfig> = {}): AppConfig => ({
        ...parseAppConfig({ namespace: "bookinfo", bookinfo: false }, defaults),
        ...extra,
    });

    test("reads what the application needs, the ingress gateway by its kind", () => {
        const view = checkMesh(
            config({ ingress: { paths: [{ path: "/", service: "productpage", port: 9080 }] } }),
            outputs,
        );
        expect(view).toEqual({
            version: "1.29.6",
            revision: "default",
            injectionNamespaces: ["bookinfo"],
            ingressGateway: gateways[0],
        });
    });

    test("a namespace the mesh does not inject names the mesh stack, its namespaces and the fix", () => {
        expect(failure(() => checkMesh(config({ namespace: "default" }), outputs))).toBe(
            [
                "the application cannot be deployed on this mesh:",
                '  - istio-mesh-app:namespace: "default" is not labelled for sidecar injection by the mesh stack organization/istio-mesh/local (its injectionNamespaces: bookinfo); add it to istio-mesh:injectionNamespaces there and run `pulumi up` on the mesh first, or use one of those',
            ].join("\n"),
        );
    });

    test("a missing output is named, with what it is needed for", () => {
        const { injectionNamespaces: _dropped, ...older } = outputs;
        void _dropped;
        expect(failure(() => checkMesh(config(), older))).toBe(
            [
                "the application cannot be deployed on this mesh:",
                '  - mesh stack organization/istio-mesh/local: has no output "injectionNamespaces" (the namespaces the mesh labels for sidecar injection); run `pulumi up` on the mesh stack with an istio-mesh version that exports it, or check istio-mesh-app:meshStack',
            ].join("\n"),
        );
    });

    test("the ingress gateway must exist, and the route's port must be one of its Service's", () => {
        const ingress = { paths: [{ path: "/", service: "productpage", port: 9080 }] };
        expect(
            failure(() => checkMesh(config({ ingress: { ...ingress, gateway: "istio-egressgateway" } }), outputs)),
        ).toBe(
            [
                "the application cannot be deployed on this mesh:",
                '  - istio-mesh-app:ingress.gateway: "istio-egressgateway" is not an ingress gateway of the mesh stack organization/istio-mesh/local; allowed: istio-ingressgateway',
            ].join("\n"),
        );
        expect(failure(() => checkMesh(config({ ingress: { ...ingress, port: 8080 } }), outputs))).toBe(
            [
                "the application cannot be deployed on this mesh:",
                "  - istio-mesh-app:ingress.port: 8080 is not a port of the ingress gateway's Service; allowed: 15021, 80",
            ].join("\n"),
        );
    });

    test("a local samples folder without the mesh version's bookinfo is refused", () => {
        const local = parseAppConfig(
            { namespace: "bookinfo", sampleSource: "/nonexistent/{version}/samples" },
            defaults,
        );
        expect(failure(() => checkMesh(local, outputs))).toBe(
            [
                "the application cannot be deployed on this mesh:",
                '  - istio-mesh-app:sampleSource: "/nonexistent/{version}/samples" has no /nonexistent/1.29.6/samples/bookinfo/platform/kube/bookinfo.yaml for the mesh\'s Istio 1.29.6; point it at the samples folder of that release ({version} is replaced), or set bookinfo false',
            ].join("\n"),
        );
    });

    test("the manifest of the mesh's version, from the official URL by default", () => {
        expect(bookinfoManifest(DEFAULT_SAMPLE_SOURCE, "1.29.6")).toBe(
            "https://raw.githubusercontent.com/istio/istio/1.29.6/samples/bookinfo/platform/kube/bookinfo.yaml",
        );
    });
});
