import * as path from "path";
import { ConfigError, parseStackConfig, StackConfig } from "../../components/config";

const shared = path.resolve(__dirname, "../../../shared/istio");

function parse(raw: Record<string, unknown>): StackConfig {
    return parseStackConfig({ version: "1.29.6", ...raw }, __dirname);
}

/** The problems a config is rejected with. */
function problems(raw: Record<string, unknown>): string[] {
    try {
        parse(raw);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    throw new Error("config was accepted");
}

describe("stack config defaults", () => {
    test("a version alone gives the default profile: istiod and an ingress gateway from the official repository", () => {
        const c = parse({});
        expect(c.profile).toBe("default");
        expect(c.namespace).toBe("istio-system");
        expect(c.chartSource).toBe("https://istio-release.storage.googleapis.com/charts");
        expect(c.gateways.map((g) => [g.name, g.kind, g.serviceType])).toEqual([
            ["istio-ingressgateway", "ingress", "LoadBalancer"],
        ]);
        expect(c.addons.enabled).toEqual([]);
        expect(c.cni.enabled).toBe(false);
        expect(c.retainCrdsOnDestroy).toBe(true);
        expect(c.injectionNamespaces).toEqual(["default"]);
    });

    test("demo installs both gateways and the four addons, traces everything and logs access", () => {
        const c = parse({ profile: "demo" });
        expect(c.gateways.map((g) => g.name)).toEqual(["istio-ingressgateway", "istio-egressgateway"]);
        expect(c.gateways[1].serviceType).toBe("ClusterIP");
        expect(c.addons.enabled).toEqual(["prometheus", "grafana", "kiali", "jaeger"]);
        expect(c.mesh.tracingSampling).toBe(100);
        expect(c.mesh.accessLogFile).toBe("/dev/stdout");
    });

    test("minimal installs istiod alone", () => {
        const c = parse({ profile: "minimal" });
        expect(c.gateways).toEqual([]);
        expect(c.addons.enabled).toEqual([]);
    });

    test("ambient turns CNI on and labels no namespace for sidecars", () => {
        const c = parse({ profile: "ambient" });
        expect(c.cni.enabled).toBe(true);
        expect(c.cni.namespace).toBe("kube-system");
        expect(c.injectionNamespaces).toEqual([]);
    });

    test("objects handed over by Pulumi as JSON text are decoded", () => {
        const c = parse({
            gateways: JSON.stringify([
                { name: "edge", serviceType: "NodePort", ports: [{ name: "http2", port: 80, nodePort: 31380 }] },
            ]),
            cni: '{"enabled": true}',
            retainCrdsOnDestroy: "false",
        });
        expect(c.gateways[0]).toMatchObject({
            name: "edge",
            kind: "ingress",
            serviceType: "NodePort",
            ports: [{ name: "http2", port: 80, targetPort: 80, nodePort: 31380 }],
        });
        expect(c.cni.enabled).toBe(true);
        expect(c.retainCrdsOnDestroy).toBe(false);
    });

    test("a local chart directory has {version} replaced and must exist", () => {
        const c = parse({ chartSource: path.join(shared, "{version}/charts") });
        expect(c.chartSource).toBe(path.join(shared, "1.29.6/charts"));
        expect(problems({ chartSource: "/nonexistent/{version}/charts" })).toEqual([
            'istio-mesh:chartSource: "/nonexistent/1.29.6/charts" is not an existing directory (resolved to /nonexistent/1.29.6/charts); {version} is replaced by the release',
        ]);
    });

    test("oci:// and https:// sources are taken as they are", () => {
        expect(parse({ chartSource: "oci://registry.example.com/istio" }).chartSource).toBe(
            "oci://registry.example.com/istio",
        );
        expect(problems({ chartSource: "ftp://x" })[0]).toContain(
            "use https:// (Helm repository or web folder), oci:// (registry) or a local directory",
        );
    });
});

describe("stack config errors name the key, the value and what is allowed", () => {
    test.each([
        [
            { profile: "demoo" },
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        ],
        [{ version: "1.29" }, 'istio-mesh:version: "1.29" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6'],
        [
            { version: "v1.29.6" },
            'istio-mesh:version: "v1.29.6" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6',
        ],
        [
            { version: "1.20.1" },
            'istio-mesh:version: "1.20.1" is not a supported release; supported minors: 1.28, 1.29, 1.30',
        ],
        [
            { colour: "blue" },
            'istio-mesh:colour: "blue" is not a known setting; allowed: version, profile, namespace, revision, upgradeStrategy, chartSource, addonSource, retainCrdsOnDestroy, mesh, cni, gateways, addons, injectionNamespaces, sidecarRollout, istiodValues',
        ],
        [
            { addons: { loki: true } },
            "istio-mesh:addons.loki: true is not a known setting; allowed: prometheus, grafana, kiali, jaeger, expose",
        ],
        [
            { profile: "ambient", cni: { enabled: false } },
            "istio-mesh:cni.enabled: false contradicts profile ambient: ambient mode redirects traffic with the CNI plugin; remove cni.enabled or choose another profile",
        ],
        [
            { gateways: [{ kind: "ingress" }] },
            "istio-mesh:gateways[0].name: null is required: every gateway needs a name (a DNS label such as istio-ingressgateway)",
        ],
        [
            { gateways: [{ name: "gw", kind: "sideways" }] },
            'istio-mesh:gateways[0].kind: "sideways" is not a gateway kind; allowed: ingress, egress',
        ],
        [
            { gateways: [{ name: "gw", serviceType: "External" }] },
            'istio-mesh:gateways[0].serviceType: "External" is not a Service type; allowed: LoadBalancer, NodePort, ClusterIP',
        ],
        [
            {
                gateways: [
                    { name: "gw", serviceType: "ClusterIP", ports: [{ name: "http", port: 80, nodePort: 31380 }] },
                ],
            },
            "istio-mesh:gateways[0].ports[0].nodePort: 31380 needs serviceType NodePort or LoadBalancer; a ClusterIP Service has no node ports",
        ],
        [
            { gateways: [{ name: "gw", serviceType: "NodePort", ports: [{ name: "http", port: 80, nodePort: 80 }] }] },
            "istio-mesh:gateways[0].ports[0].nodePort: 80 is not a whole number from 30000 to 32767",
        ],
        [
            { gateways: [{ name: "gw" }, { name: "gw" }] },
            'istio-mesh:gateways[1].name: "gw" is used by two gateways; names must be unique',
        ],
        [
            { upgradeStrategy: "blue-green" },
            'istio-mesh:upgradeStrategy: "blue-green" is not an upgrade strategy; allowed: in-place, canary',
        ],
        [
            { upgradeStrategy: "canary" },
            'istio-mesh:upgradeStrategy: "canary" needs istio-mesh:revision set: canary control planes are told apart by revision',
        ],
        [
            { revision: "1.30.3" },
            'istio-mesh:revision: "1.30.3" is not a valid revision; use a DNS label such as 1-30-3 (not "default"), or "" for the default revision',
        ],
        [{ mesh: { tracingSampling: 150 } }, "istio-mesh:mesh.tracingSampling: 150 is not a percentage from 0 to 100"],
        [
            { mesh: { outboundTrafficPolicy: "DENY" } },
            'istio-mesh:mesh.outboundTrafficPolicy: "DENY" is not a policy; allowed: ALLOW_ANY, REGISTRY_ONLY',
        ],
        [
            { retainCrdsOnDestroy: "yes" },
            'istio-mesh:retainCrdsOnDestroy: "yes" is not a boolean; allowed: true, false',
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host" } } },
            "istio-mesh:addons.expose.domain: null is required with mode host: addons are served as <addon>.<domain>, e.g. domain mesh.example.com",
        ],
        [
            { profile: "minimal", addons: { grafana: true, expose: { mode: "host", domain: "mesh.example.com" } } },
            'istio-mesh:addons.expose.gateway: "istio-ingressgateway" is not an ingress gateway of this stack; ingress gateways: none (add one under gateways)',
        ],
        [
            { addons: { expose: { mode: "nodePort" } } },
            'istio-mesh:addons.expose.mode: "nodePort" exposes no addon: enable one of prometheus, grafana, kiali, jaeger',
        ],
        [{ injectionNamespaces: ["Default"] }, 'istio-mesh:injectionNamespaces: "Default" is not a namespace name'],
        [
            { profile: "demo", namespace: "mesh" },
            'istio-mesh:namespace: "mesh" cannot hold the addons (prometheus, grafana, kiali, jaeger): the release\'s addon manifests are written for istio-system; turn them off under addons or keep namespace istio-system',
        ],
        [
            { sidecarRollout: [{ namespace: "shop", kind: "Job", name: "x" }] },
            'istio-mesh:sidecarRollout[0].kind: "Job" is not a workload kind; allowed: Deployment, StatefulSet, DaemonSet',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a missing version says what to set", () => {
        expect(() => parseStackConfig({}, __dirname)).toThrow(
            "istio-mesh:version: is required; set it to an Istio release such as 1.29.6 (supported minors: 1.28, 1.29, 1.30)",
        );
    });

    test("every problem is reported at once", () => {
        expect(problems({ profile: "x", version: "y", namespace: "Bad_NS" })).toHaveLength(3);
    });
});
