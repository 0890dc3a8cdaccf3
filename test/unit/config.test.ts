import * as path from "path";
import { ConfigError, parseStackConfig, STACK_MANAGED_ISTIOD_VALUES, STACK_SETTINGS } from "../../components/config";
import { istiodValues } from "../../components/values";
import { configParser } from "./configParser";
import { testReleaseRoot } from "../support/releases";

// A function: the tests that read no release run even when the releases are missing.
const shared = () => testReleaseRoot();

const { parse, problems } = configParser("1.29.6");

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
        expect(c.injectionNamespaces).toEqual([{ name: "default", follows: "", revision: "", restartOnChange: false }]);
        // No mesh-wide PeerAuthentication: Istio's own default, PERMISSIVE, applies.
        expect(c.mesh.mtls).toEqual({ mode: undefined, exceptions: [], externalServices: [] });
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
        const c = parse({ chartSource: path.join(shared(), "{version}/charts") });
        expect(c.chartSource).toBe(path.join(shared(), "1.29.6/charts"));
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
            'istio-mesh:colour: "blue" is not a known setting; allowed: version, profile, namespace, revision, revisions, revisionTags, upgradeStrategy, chartSource, addonSource, retainCrdsOnDestroy, adoptExisting, mesh, cni, gateways, addons, grafanaAdminPassword, injectionNamespaces, sidecarRollout, sidecarMigration, istiodValues, ambientNamespaces, waypoints, gatewayApi',
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
            "istio-mesh:gateways[0].name: is required; every gateway needs a name, a DNS label such as istio-ingressgateway",
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
            'istio-mesh:gateways[1].name: "gw" is a duplicate of gateways[0].name; gateway names must be unique, across namespaces too, as each one also names the gateway\'s Pulumi resource',
        ],
        [
            { upgradeStrategy: "blue-green" },
            'istio-mesh:upgradeStrategy: "blue-green" is not an upgrade strategy; allowed: in-place, canary',
        ],
        [
            { upgradeStrategy: "canary" },
            'istio-mesh:upgradeStrategy: "canary" needs istio-mesh:revision (or istio-mesh:revisions) set: canary control planes are told apart by revision',
        ],
        [
            { revision: "1.30.3" },
            'istio-mesh:revision: "1.30.3" is not a valid revision; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision',
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
            "istio-mesh:addons.expose.domain: is required; mode host serves the addons as <addon>.<domain>, e.g. domain mesh.example.com",
        ],
        [
            { profile: "minimal", addons: { grafana: true, expose: { mode: "host", domain: "mesh.example.com" } } },
            'istio-mesh:addons.expose.gateway: "istio-ingressgateway" is not an ingress gateway of this stack; ingress gateways: none (add one under gateways)',
        ],
        [
            { addons: { expose: { mode: "nodePort" } } },
            'istio-mesh:addons.expose.mode: "nodePort" exposes no addon: enable one of prometheus, grafana, kiali, jaeger',
        ],
        [
            { injectionNamespaces: ["Default"] },
            "istio-mesh:injectionNamespaces[0]: \"Default\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
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

// Issue 8, part 4: every bad input is refused up front, one test per class of problem.
describe("names that collide with what the stack itself creates are refused", () => {
    const taken = (name: string, namespace: string, owner: string) =>
        `istio-mesh:gateways[0].name: "${name}" is taken in namespace ${namespace} by ${owner}; choose another name or namespace`;
    const istiod = "istiod (its Deployment, Service and ServiceAccount are istiod or istiod-<revision>)";

    test.each([
        [{ gateways: [{ name: "istiod" }] }, taken("istiod", "istio-system", istiod)],
        [{ revision: "1-29-6", gateways: [{ name: "istiod-1-29-6" }] }, taken("istiod-1-29-6", "istio-system", istiod)],
        [
            { profile: "demo", gateways: [{ name: "grafana" }] },
            taken("grafana", "istio-system", "addon grafana (its Deployment or Services)"),
        ],
        [
            { addons: { jaeger: true }, gateways: [{ name: "tracing" }] },
            taken("tracing", "istio-system", "addon jaeger (its Deployment or Services)"),
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort" } }, gateways: [{ name: "kiali-nodeport" }] },
            taken("kiali-nodeport", "istio-system", "addon kiali's node-port Service"),
        ],
        [
            { profile: "ambient", gateways: [{ name: "ztunnel" }] },
            taken("ztunnel", "istio-system", "ztunnel (its DaemonSet and ServiceAccount)"),
        ],
        [
            { cni: { enabled: true }, gateways: [{ name: "istio-cni", namespace: "kube-system" }] },
            taken("istio-cni", "kube-system", "the CNI plugin's ServiceAccount"),
        ],
        [
            { gateways: [{ name: "edge" }, { name: "edge", namespace: "other" }] },
            'istio-mesh:gateways[1].name: "edge" is a duplicate of gateways[0].name; gateway names must be unique, across namespaces too, as each one also names the gateway\'s Pulumi resource',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a name is free where the stack has nothing of that name", () => {
        expect(
            parse({ profile: "demo", gateways: [{ name: "grafana", namespace: "edge" }] }).gateways[0],
        ).toMatchObject({
            name: "grafana",
            namespace: "edge",
        });
        expect(parse({ gateways: [{ name: "grafana" }] }).gateways[0].name).toBe("grafana");
    });
});

describe("ports and node ports are unique and in range", () => {
    const nodePortGateway = (name: string, ports: unknown[]) => ({ name, serviceType: "NodePort", ports });

    test.each([
        [
            {
                gateways: [
                    nodePortGateway("gw", [
                        { name: "http", port: 80 },
                        { name: "web", port: 80 },
                    ]),
                ],
            },
            "istio-mesh:gateways[0].ports[1].port: 80 is a duplicate of gateways[0].ports[0].port; the ports of a Service must differ",
        ],
        [
            {
                gateways: [
                    nodePortGateway("gw", [
                        { name: "http", port: 80 },
                        { name: "http", port: 8080 },
                    ]),
                ],
            },
            'istio-mesh:gateways[0].ports[1].name: "http" is a duplicate of gateways[0].ports[0].name; port names must differ within a gateway',
        ],
        [
            {
                gateways: [
                    nodePortGateway("a", [{ name: "http", port: 80, nodePort: 31380 }]),
                    nodePortGateway("b", [{ name: "http", port: 80, nodePort: "31380" }]),
                ],
            },
            'istio-mesh:gateways[1].ports[0].nodePort: "31380" is a duplicate of gateways[0].ports[0].nodePort; a node port serves one Service in the whole cluster',
        ],
        [
            {
                profile: "demo",
                gateways: [nodePortGateway("gw", [{ name: "http", port: 80, nodePort: 32000 }])],
                addons: { expose: { mode: "nodePort", nodePorts: { grafana: 32000 } } },
            },
            "istio-mesh:addons.expose.nodePorts.grafana: 32000 is a duplicate of gateways[0].ports[0].nodePort; a node port serves one Service in the whole cluster",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 0 }])] },
            "istio-mesh:gateways[0].ports[0].port: 0 is not a whole number from 1 to 65535",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, targetPort: 65536 }])] },
            "istio-mesh:gateways[0].ports[0].targetPort: 65536 is not a whole number from 1 to 65535",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, nodePort: 32768 }])] },
            "istio-mesh:gateways[0].ports[0].nodePort: 32768 is not a whole number from 30000 to 32767",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, protocol: "UDP" }])] },
            'istio-mesh:gateways[0].ports[0].protocol: "UDP" is not a known setting; allowed: name, port, targetPort, nodePort',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("names within Kubernetes' rules and length limits", () => {
    const label63 = "a".repeat(64);
    test.each([
        [
            { gateways: [{ name: `gw-${"x".repeat(61)}` }] },
            `istio-mesh:gateways[0].name: "gw-${"x".repeat(56)}… is not a valid gateway name; it names the gateway's Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway`,
        ],
        [
            { gateways: [{ name: "1st" }] },
            'istio-mesh:gateways[0].name: "1st" is not a valid gateway name; it names the gateway\'s Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway',
        ],
        [
            { namespace: label63 },
            `istio-mesh:namespace: "${"a".repeat(59)}… is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters`,
        ],
        [
            { revision: "r".repeat(57) },
            `istio-mesh:revision: "${"r".repeat(57)}" is not a valid revision; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision`,
        ],
        [
            { cni: { namespace: "Kube_System" } },
            "istio-mesh:cni.namespace: \"Kube_System\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: `${label63}.example.com` } } },
            `istio-mesh:addons.expose.domain: "${"a".repeat(59)}… is not a valid domain; use a DNS name such as mesh.example.com: lowercase labels of at most 63 characters, at most 242 characters in all`,
        ],
        [
            { sidecarRollout: [{ namespace: "shop", name: "Web_1" }] },
            "istio-mesh:sidecarRollout[0].name: \"Web_1\" is not a valid workload name; use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("the longest names that fit are accepted", () => {
        const c = parse({ revision: "r".repeat(56), gateways: [{ name: `g${"x".repeat(62)}` }] });
        expect(c.revision).toHaveLength(56);
        expect(c.gateways[0].name).toHaveLength(63);
    });
});

describe("the control plane namespace is one of the stack's own", () => {
    test.each(["kube-system", "kube-public", "kube-node-lease", "default"])("%s", (namespace) => {
        expect(problems({ namespace })).toEqual([
            `istio-mesh:namespace: "${namespace}" is not a valid control-plane namespace: Kubernetes keeps kube-system, kube-public, kube-node-lease and default for itself, and the stack deletes its namespace on destroy; use one of its own such as istio-system`,
        ]);
    });
});

describe("istiodValues cannot override what the stack sets", () => {
    test.each([
        [
            { revision: "canary" },
            'istio-mesh:istiodValues.revision: "canary" is set by the stack; use istio-mesh:revision or the names in istio-mesh:revisions instead',
        ],
        [
            { profile: "demo" },
            'istio-mesh:istiodValues.profile: "demo" is set by the stack; use istio-mesh:profile instead',
        ],
        [
            { global: { istioNamespace: "mesh" } },
            'istio-mesh:istiodValues.global.istioNamespace: "mesh" is set by the stack; use istio-mesh:namespace instead',
        ],
        [
            { pilot: { cni: { enabled: true } } },
            "istio-mesh:istiodValues.pilot.cni.enabled: true is set by the stack; use istio-mesh:cni.enabled instead",
        ],
        [
            { meshConfig: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } } },
            'istio-mesh:istiodValues.meshConfig.outboundTrafficPolicy: {"mode":"REGISTRY_ONLY"} is set by the stack; use istio-mesh:mesh.outboundTrafficPolicy instead',
        ],
        [
            { base: { validationFailurePolicy: "Ignore" } },
            'istio-mesh:istiodValues.base.validationFailurePolicy: "Ignore" is set by the stack; it is Fail on purpose: istiod switches its webhook to Fail itself, and Ignore would let invalid config through while istiod starts',
        ],
        [
            { pilot: { autoscaleEnabled: false } },
            "istio-mesh:istiodValues.pilot.autoscaleEnabled: false is set by the stack; it is off in profile demo and on in the others; size istiod with pilot.replicaCount (demo) or pilot.autoscaleMin and pilot.autoscaleMax",
        ],
        [
            { meshConfig: { rootNamespace: "mesh-config" } },
            'istio-mesh:istiodValues.meshConfig.rootNamespace: "mesh-config" is set by the stack; it is the control-plane namespace (istio-mesh:namespace), where the mesh-wide PeerAuthentication of istio-mesh:mesh.mtls.mode is created',
        ],
        [
            { meshConfig: null },
            "istio-mesh:istiodValues.meshConfig: null is not an object; it would replace values the stack sets (meshConfig.accessLogFile, meshConfig.enableAutoMtls, meshConfig.outboundTrafficPolicy, meshConfig.enableTracing, meshConfig.rootNamespace)",
        ],
        [
            JSON.parse('{"global": {"__proto__": {"hub": "evil"}}}') as Record<string, unknown>,
            'istio-mesh:istiodValues.global.__proto__: {"hub":"evil"} is not a valid chart value name; merging the values would drop it',
        ],
    ])("%j", (istiodValues, message) => {
        expect(problems({ istiodValues })).toEqual([message]);
    });

    test("values the stack leaves alone pass through", () => {
        const istiodValues = {
            pilot: { replicaCount: 3, cni: { provider: "multus" } },
            global: { hub: "mirror.example" },
        };
        expect(parse({ istiodValues }).istiodValues).toEqual(istiodValues);
    });

    test("every value istiodValues() sets is guarded, and every guard names a value it sets", () => {
        const leaves = (v: unknown, prefix = ""): string[] =>
            typeof v === "object" && v !== null && !Array.isArray(v)
                ? Object.entries(v).flatMap(([k, c]) => leaves(c, prefix ? `${prefix}.${k}` : k))
                : [prefix];
        const set = leaves(istiodValues(parse({ profile: "demo", revision: "1-29-6" })));
        const guarded = Object.keys(STACK_MANAGED_ISTIOD_VALUES);
        const covers = (guard: string, leaf: string) => leaf === guard || leaf.startsWith(`${guard}.`);
        expect(set.filter((leaf) => !guarded.some((g) => covers(g, leaf)))).toEqual([]);
        expect(guarded.filter((g) => !set.some((leaf) => covers(g, leaf)))).toEqual([]);
    });

    test("a value nested deeper than any chart's is refused, not recursed into", () => {
        let deep: unknown = "leaf";
        for (let i = 0; i < 40; i++) deep = { a: deep };
        expect(problems({ istiodValues: { pilot: deep } })).toEqual([
            'istio-mesh:istiodValues.pilot: {"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":… is nested more than 32 levels deep; no istiod chart value is',
        ]);
    });
});

describe("injection labels and sidecar restarts stay off system namespaces and are listed once", () => {
    test.each([
        [
            { injectionNamespaces: ["shop", "kube-system"] },
            'istio-mesh:injectionNamespaces[1]: "kube-system" is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down',
        ],
        [
            { injectionNamespaces: ["kube-node-lease"] },
            'istio-mesh:injectionNamespaces[0]: "kube-node-lease" is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down',
        ],
        [
            { namespace: "mesh", injectionNamespaces: ["mesh"] },
            'istio-mesh:injectionNamespaces[0]: "mesh" is the control-plane namespace; the stack owns it, and istiod and the addons in it must not get sidecars',
        ],
        [
            { injectionNamespaces: ["shop", "web", "shop"] },
            'istio-mesh:injectionNamespaces[2]: "shop" is a duplicate of injectionNamespaces[0]; list each namespace once',
        ],
        [
            {
                sidecarRollout: [
                    { namespace: "shop", name: "web" },
                    { namespace: "shop", kind: "Deployment", name: "web" },
                ],
            },
            'istio-mesh:sidecarRollout[1]: {"namespace":"shop","kind":"Deployment","name":"web"} is a duplicate of sidecarRollout[0]; list each workload once',
        ],
        [
            {
                sidecarRollout: [
                    { namespace: "a-deployment", name: "w" },
                    { namespace: "a", name: "deployment-w" },
                ],
            },
            'istio-mesh:sidecarRollout[1]: {"namespace":"a","kind":"Deployment","name":"deployment-w"} would get the same Pulumi resource name as sidecarRollout[0] (a-deployment-deployment-w); restart one of the two by hand',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("the same workload name in two namespaces, or of two kinds, is two workloads", () => {
        const rollout = [
            { namespace: "a", name: "web" },
            { namespace: "b", name: "web" },
            { namespace: "a", kind: "StatefulSet", name: "web" },
        ];
        expect(parse({ sidecarRollout: rollout }).sidecarRollout).toHaveLength(3);
    });
});

describe("settings that belong to another mode, or to an addon that is off, are refused", () => {
    test.each([
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", domain: "mesh.example.com" } } },
            'istio-mesh:addons.expose.domain: "mesh.example.com" needs addons.expose.mode host (it is nodePort)',
        ],
        [
            { profile: "demo", addons: { expose: { gateway: "istio-ingressgateway" } } },
            'istio-mesh:addons.expose.gateway: "istio-ingressgateway" needs addons.expose.mode host (it is none)',
        ],
        [
            { addons: { grafana: true, expose: { mode: "nodePort", nodePorts: { kiali: "32001" } } } },
            'istio-mesh:addons.expose.nodePorts.kiali: "32001" is for addon kiali, which is off; turn it on (addons.kiali: true) or remove the port',
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: "Mesh.Example.com" } } },
            'istio-mesh:addons.expose.domain: "Mesh.Example.com" is not a valid domain; use a DNS name such as mesh.example.com: lowercase labels of at most 63 characters, at most 242 characters in all',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

// Issue 8, part 3: the mTLS policy, with the runbook's MySQL case in both directions.
describe("mesh.mtls", () => {
    const exception = (fields: Record<string, unknown>) => ({ mesh: { mtls: { exceptions: [fields] } } });
    const external = (...services: Record<string, unknown>[]) => ({ mesh: { mtls: { externalServices: services } } });
    const mysql = { name: "mysql", namespace: "db", selector: { app: "mysql" } };
    const externalMysql = { name: "external-mysql", host: "mysql.example.com", port: 3306 };

    test("the runbook's MySQL in both directions: typed, defaults applied, ports as numbers", () => {
        const c = parse({
            mesh: {
                mtls: {
                    mode: "STRICT",
                    exceptions: [{ ...mysql, ports: { "3306": "PERMISSIVE" } }],
                    externalServices: [externalMysql],
                },
            },
        });
        expect(c.mesh.mtls).toEqual({
            mode: "STRICT",
            exceptions: [
                {
                    name: "mysql",
                    namespace: "db",
                    selector: { app: "mysql" },
                    mode: undefined,
                    ports: [{ port: 3306, mode: "PERMISSIVE" }],
                },
            ],
            externalServices: [
                {
                    name: "external-mysql",
                    host: "mysql.example.com",
                    port: 3306,
                    protocol: "TCP",
                    namespace: "istio-system",
                    addresses: [],
                },
            ],
        });
    });

    test("an exception without selector covers its namespace; external services on TLS may share a port", () => {
        const c = parse({
            mesh: {
                mtls: {
                    exceptions: [{ name: "legacy", namespace: "legacy", mode: "PERMISSIVE" }],
                    externalServices: [
                        { name: "a", host: "a.example.com", port: 443, protocol: "TLS" },
                        { name: "b", host: "b.example.com", port: 443, protocol: "TLS", namespace: "shop" },
                    ],
                },
            },
        });
        expect(c.mesh.mtls.exceptions[0].selector).toEqual({});
        expect(c.mesh.mtls.externalServices.map((s) => s.namespace)).toEqual(["istio-system", "shop"]);
    });

    test.each([
        // The mesh-wide mode and the section itself.
        [
            { mesh: { mtls: { mode: "DISABLE" } } },
            'istio-mesh:mesh.mtls.mode: "DISABLE" is not a mesh-wide mTLS mode; allowed: PERMISSIVE, STRICT',
        ],
        [
            { mesh: { mtls: "STRICT" } },
            'istio-mesh:mesh.mtls: "STRICT" is not an object; its settings are mode, exceptions, externalServices',
        ],
        [
            { mesh: { mtls: { modes: "STRICT" } } },
            'istio-mesh:mesh.mtls.modes: "STRICT" is not a known setting; allowed: mode, exceptions, externalServices',
        ],
        [
            { mesh: { mtls: { exceptions: mysql } } },
            'istio-mesh:mesh.mtls.exceptions: {"name":"mysql","namespace":"db","selector":{"app":"mysql"}} is not a list of exceptions {name, namespace, selector, mode, ports}',
        ],
        // Exceptions: names, namespaces, selectors, modes, ports.
        [
            exception({ namespace: "db", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].name: is required; every exception needs a name, a DNS label such as mysql; it names the PeerAuthentication",
        ],
        [
            exception({ ...mysql, name: "MySQL", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].name: \"MySQL\" is not a valid exception name; it names the PeerAuthentication, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as mysql",
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { ...mysql, mode: "PERMISSIVE" },
                            { name: "mysql", namespace: "shop", mode: "STRICT" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1].name: "mysql" is a duplicate of mesh.mtls.exceptions[0].name; exception names must be unique, across namespaces too, as each one also names its Pulumi resource',
        ],
        [
            exception({ name: "mysql", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].namespace: is required; the existing namespace of the workloads it applies to (the stack never creates it)",
        ],
        [
            exception({ ...mysql, namespace: "istio-system", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].namespace: \"istio-system\" is the control-plane namespace, Istio's root namespace: there a PeerAuthentication without selector is the mesh-wide policy (set by mesh.mtls.mode), and Istio's reference says one with a selector is ignored; put the exception in the workloads' own namespace",
        ],
        [
            exception({ ...mysql, selector: {}, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector: {} selects no workload; give the workloads' labels such as {app: mysql}, or leave selector out for the whole namespace",
        ],
        [
            exception({ ...mysql, selector: { "app*": "mysql" }, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector[\"app*\"]: \"app*\" is not a valid label key; use a Kubernetes label key such as app or app.kubernetes.io/name: a name of at most 63 letters, digits, '-', '_' and '.', optionally after a DNS prefix and '/' (no '*', which Istio refuses)",
        ],
        [
            exception({ ...mysql, selector: { version: 1 }, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector.version: 1 is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, as text (quote a number: \"1\")",
        ],
        [
            exception({ ...mysql, mode: "OFF" }),
            'istio-mesh:mesh.mtls.exceptions[0].mode: "OFF" is not an mTLS mode; allowed: PERMISSIVE, STRICT, DISABLE',
        ],
        [
            exception(mysql),
            "istio-mesh:mesh.mtls.exceptions[0].mode: is required; an exception without port modes sets the mode of its workloads: one of PERMISSIVE, STRICT, DISABLE",
        ],
        [
            exception({ name: "mysql", namespace: "db", ports: { "3306": "PERMISSIVE" } }),
            "istio-mesh:mesh.mtls.exceptions[0].selector: is required; port modes apply only to the workloads a selector picks, and istiod refuses them in a namespace-wide PeerAuthentication; e.g. selector {app: mysql}",
        ],
        [
            exception({ ...mysql, ports: { "70000": "PERMISSIVE" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports.70000: "70000" is not a port number from 1 to 65535; the keys of ports are the ports the workload listens on (container ports, not Service ports)',
        ],
        [
            exception({ ...mysql, ports: { "3306": "OFF" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports.3306: "OFF" is not an mTLS mode; allowed: PERMISSIVE, STRICT, DISABLE',
        ],
        [
            exception({ ...mysql, ports: { "3306": null } }),
            "istio-mesh:mesh.mtls.exceptions[0].ports.3306: is required; each port needs a mode: one of PERMISSIVE, STRICT, DISABLE",
        ],
        [
            exception({ ...mysql, ports: { "3306": "PERMISSIVE", "3306.0": "STRICT" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports["3306.0"]: "3306.0" is a duplicate of mesh.mtls.exceptions[0].ports.3306; list each port once',
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { name: "a", namespace: "db", selector: { app: "mysql", tier: "db" }, mode: "STRICT" },
                            { name: "b", namespace: "db", selector: { tier: "db", app: "mysql" }, mode: "DISABLE" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1]: {"namespace":"db","selector":{"tier":"db","app":"mysql"}} is a duplicate of mesh.mtls.exceptions[0]; two policies for the same workloads (one namespace and selector; no selector: the whole namespace) conflict, and Istio applies only the older one',
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { name: "a", namespace: "db", mode: "STRICT" },
                            { name: "b", namespace: "db", mode: "PERMISSIVE" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1]: {"namespace":"db"} is a duplicate of mesh.mtls.exceptions[0]; two policies for the same workloads (one namespace and selector; no selector: the whole namespace) conflict, and Istio applies only the older one',
        ],
        [
            { profile: "ambient", ...exception({ ...mysql, mode: "DISABLE" }) },
            'istio-mesh:mesh.mtls.exceptions[0].mode: "DISABLE" is not supported in profile ambient: ztunnel always tunnels traffic between workloads over mTLS; use PERMISSIVE to accept plain text as well',
        ],
        // External services: names, hosts, ports, protocols, namespaces, addresses.
        [
            external({ ...externalMysql, name: "External_MySQL" }),
            "istio-mesh:mesh.mtls.externalServices[0].name: \"External_MySQL\" is not a valid external service name; it names the ServiceEntry and the DestinationRule, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as external-mysql",
        ],
        [
            external({ ...externalMysql, host: "mysql" }),
            'istio-mesh:mesh.mtls.externalServices[0].host: "mysql" is not a valid host; use a fully qualified DNS name such as mysql.example.com: lowercase labels of at most 63 characters, at most 253 characters in all, no wildcard (the host is resolved by DNS) and no IP address (list those under addresses)',
        ],
        [
            external({ ...externalMysql, host: "mysql.db.svc.cluster.local" }),
            'istio-mesh:mesh.mtls.externalServices[0].host: "mysql.db.svc.cluster.local" is a name inside the cluster, which Istio knows already; externalServices are for hosts outside it (to a Service whose pods have no sidecar, auto mTLS sends plain text by itself)',
        ],
        [
            external({ ...externalMysql, port: 0 }),
            "istio-mesh:mesh.mtls.externalServices[0].port: 0 is not a whole number from 1 to 65535",
        ],
        [
            external({ ...externalMysql, protocol: "MYSQL" }),
            'istio-mesh:mesh.mtls.externalServices[0].protocol: "MYSQL" is not a protocol; allowed: TCP, TLS, HTTP, HTTPS, HTTP2, GRPC',
        ],
        [
            external({ ...externalMysql, namespace: "DB" }),
            "istio-mesh:mesh.mtls.externalServices[0].namespace: \"DB\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            external({ ...externalMysql, addresses: ["203.0.113.0/24"] }),
            'istio-mesh:mesh.mtls.externalServices[0].addresses[0]: "203.0.113.0/24" is not an IP address; list the addresses the host resolves to, such as 203.0.113.10 (no CIDR ranges: the host is resolved by DNS)',
        ],
        [
            external({ ...externalMysql, addresses: ["203.0.113.10", "203.0.113.10"] }),
            'istio-mesh:mesh.mtls.externalServices[0].addresses[1]: "203.0.113.10" is a duplicate of mesh.mtls.externalServices[0].addresses[0]; list each address once',
        ],
        [
            external(externalMysql, { ...externalMysql, host: "replica.example.com", port: 3307 }),
            'istio-mesh:mesh.mtls.externalServices[1].name: "external-mysql" is a duplicate of mesh.mtls.externalServices[0].name; external service names must be unique, as each one names its ServiceEntry, DestinationRule and Pulumi resources',
        ],
        [
            external(externalMysql, { ...externalMysql, name: "mysql-x", port: 33060 }),
            'istio-mesh:mesh.mtls.externalServices[1].host: "mysql.example.com" is a duplicate of mesh.mtls.externalServices[0].host; two ServiceEntries and DestinationRules for one host conflict; list each host once',
        ],
        [
            external(externalMysql, { name: "replica", host: "replica.example.com", port: "3306" }),
            'istio-mesh:mesh.mtls.externalServices[1].port: "3306" is a duplicate of mesh.mtls.externalServices[0].port; two TCP external services on one address and port share one sidecar listener, which sends the traffic of both to one host; give each its own addresses',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a name, host and port are required of every external service, all reported at once", () => {
        expect(problems(external({ protocol: "TCP" }))).toEqual([
            "istio-mesh:mesh.mtls.externalServices[0].name: is required; every external service needs a name, a DNS label such as external-mysql",
            "istio-mesh:mesh.mtls.externalServices[0].host: is required; the DNS name the mesh clients call, such as mysql.example.com",
            "istio-mesh:mesh.mtls.externalServices[0].port: is required; the port the mesh clients call, a whole number from 1 to 65535",
        ]);
    });

    test.each([
        "10.0.0.5",
        "*.example.com",
        "MySQL.example.com",
        `${"a".repeat(64)}.example.com`,
        "mysql.example.com.",
    ])("a host that is not a fully qualified lowercase DNS name is refused: %s", (host) => {
        expect(problems(external({ ...externalMysql, host }))[0]).toMatch(
            /^istio-mesh:mesh\.mtls\.externalServices\[0\]\.host: ".*? is not a valid host; use a fully qualified DNS name/,
        );
    });

    test("TCP services on one port are told apart by their addresses", () => {
        const c = parse(
            external(
                { ...externalMysql, addresses: ["203.0.113.10"] },
                { name: "replica", host: "replica.example.com", port: 3306, addresses: ["203.0.113.11"] },
            ),
        );
        expect(c.mesh.mtls.externalServices).toHaveLength(2);
        expect(
            problems(
                external(
                    { ...externalMysql, addresses: ["203.0.113.10"] },
                    { name: "replica", host: "replica.example.com", port: 3306, addresses: ["203.0.113.10"] },
                ),
            ),
        ).toEqual([
            'istio-mesh:mesh.mtls.externalServices[1].addresses[0]: "203.0.113.10" is a duplicate of mesh.mtls.externalServices[0].addresses[0]; two TCP external services on one address and port share one sidecar listener, which sends the traffic of both to one host; give each its own addresses',
        ]);
    });

    test("a refused control-plane namespace is the root cause, not the exception placed in its fallback", () => {
        expect(
            problems({
                namespace: "Istio_System",
                ...exception({ ...mysql, namespace: "istio-system", mode: "STRICT" }),
            }),
        ).toEqual([
            "istio-mesh:namespace: \"Istio_System\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ]);
    });
});

describe("a local source holds what the stack reads from it", () => {
    test("a chart directory without the version's charts names the missing files", () => {
        const addons = path.join(shared(), "1.29.6/addons");
        expect(problems({ profile: "ambient", chartSource: addons })).toEqual([
            `istio-mesh:chartSource: "${addons}" is missing base-1.29.6.tgz, istiod-1.29.6.tgz, gateway-1.29.6.tgz, cni-1.29.6.tgz, ztunnel-1.29.6.tgz (resolved to ${addons}); a local chart source holds <chart>-<version>.tgz for every chart the stack installs`,
        ]);
    });

    test("an addon directory without an enabled addon's manifest names it", () => {
        const charts = path.join(shared(), "1.29.6/charts");
        expect(problems({ addons: { kiali: true }, addonSource: charts })).toEqual([
            `istio-mesh:addonSource: "${charts}" is missing kiali.yaml (resolved to ${charts}); a local addon source holds <addon>.yaml for every addon that is on`,
        ]);
    });
});

describe("a bad value is reported once, as the root cause", () => {
    test.each([
        [
            { profile: "demoo", addons: { expose: { mode: "nodePort" } } },
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        ],
        [
            { profile: "demoo", namespace: "mesh", addons: { expose: { mode: "host", domain: "mesh.example.com" } } },
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        ],
        [
            // A folder that does not exist: with no version it is not looked at, so not reported.
            { version: "1.29", chartSource: "/no-releases/{version}/charts" },
            'istio-mesh:version: "1.29" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6',
        ],
        [
            { profile: "demo", namespace: "Istio_System" },
            "istio-mesh:namespace: \"Istio_System\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { revision: "1.30.3", upgradeStrategy: "canary" },
            'istio-mesh:revision: "1.30.3" is not a valid revision; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision',
        ],
        [
            { gateways: [{ name: "gw", kind: "egres", ports: [{ name: "http", port: 80, nodePort: 31000 }] }] },
            'istio-mesh:gateways[0].kind: "egres" is not a gateway kind; allowed: ingress, egress',
        ],
        [
            { gateways: [{ name: "istiod", namespace: "Edge" }] },
            "istio-mesh:gateways[0].namespace: \"Edge\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { profile: "demo", gateways: "none", addons: { expose: { mode: "host", domain: "mesh.example.com" } } },
            'istio-mesh:gateways: "none" is not a list of gateways {name, kind, namespace, serviceType, ports, replicas, revision}',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("'required' only for what is missing, 'not valid' for what was given", () => {
    test.each([
        [
            { gateways: [{ name: 7 }] },
            "istio-mesh:gateways[0].name: 7 is not a valid gateway name; it names the gateway's Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway",
        ],
        [
            { gateways: [{ name: "gw", ports: [{ name: "http" }] }] },
            "istio-mesh:gateways[0].ports[0].port: is required; the Service port, a whole number from 1 to 65535",
        ],
        [
            { gateways: [{ name: "gw", ports: [{ port: 80 }] }] },
            "istio-mesh:gateways[0].ports[0].name: is required; every port needs a name, a DNS label such as http2",
        ],
        [
            { sidecarRollout: [{ name: "web" }] },
            "istio-mesh:sidecarRollout[0].namespace: is required; the namespace of the workload",
        ],
        [
            { sidecarRollout: [{ namespace: "shop", name: ["web"] }] },
            "istio-mesh:sidecarRollout[0].name: [\"web\"] is not a valid workload name; use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
        ],
        [
            { version: null },
            "istio-mesh:version: is required; set it to an Istio release such as 1.29.6 (supported minors: 1.28, 1.29, 1.30)",
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("numbers given as text are the same numbers", () => {
    test("every numeric setting takes its decimal text", () => {
        const numeric = (n: (v: number) => unknown) =>
            parse({
                mesh: {
                    tracingSampling: n(2.5),
                    mtls: { externalServices: [{ name: "db", host: "mysql.example.com", port: n(3306) }] },
                },
                gateways: [
                    {
                        name: "gw",
                        serviceType: "NodePort",
                        replicas: n(3),
                        ports: [{ name: "http", port: n(80), targetPort: n(8080), nodePort: n(31380) }],
                    },
                ],
                addons: {
                    grafana: true,
                    expose: { mode: "nodePort", nodePorts: { grafana: n(32000) }, allowUnauthenticated: true },
                },
            });
        expect(numeric(String)).toEqual(numeric((v) => v));
        expect(numeric(String).gateways[0].ports[0]).toEqual({
            name: "http",
            port: 80,
            targetPort: 8080,
            nodePort: 31380,
        });
    });

    test.each([
        [
            { mesh: { tracingSampling: "1e2" } },
            'istio-mesh:mesh.tracingSampling: "1e2" is not a percentage from 0 to 100',
        ],
        [
            { gateways: [{ name: "gw", replicas: " 3" }] },
            'istio-mesh:gateways[0].replicas: " 3" is not a whole number from 0 to 100',
        ],
        [
            { gateways: [{ name: "gw", replicas: "2.5" }] },
            'istio-mesh:gateways[0].replicas: "2.5" is not a whole number from 0 to 100',
        ],
    ])("text is judged as the number it spells, and only plain decimals spell one: %j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("values are shown short and escaped", () => {
    test("a long value is cut at 60 characters", () => {
        expect(problems({ profile: "x".repeat(100_000) })).toEqual([
            `istio-mesh:profile: "${"x".repeat(59)}… is not a profile; allowed: default, demo, minimal, ambient, preview`,
        ]);
    });

    test("characters that would hide or reorder text are escaped, and odd keys quoted", () => {
        expect(problems({ profile: "demo\u202e", mesh: { "bad\nkey": 1 } })).toEqual([
            'istio-mesh:profile: "demo\\u202e" is not a profile; allowed: default, demo, minimal, ambient, preview',
            'istio-mesh:mesh["bad\\nkey"]: 1 is not a known setting; allowed: accessLogFile, tracingSampling, outboundTrafficPolicy, enableAutoMtls, mtls',
        ]);
    });
});

describe("no input shape crashes the parser", () => {
    let nestedList: unknown = 1;
    let nestedMap: unknown = 1;
    for (let i = 0; i < 10_000; i++) {
        nestedList = [nestedList];
        nestedMap = { a: nestedMap };
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const shapes: unknown[] = [
        null,
        0,
        -1,
        Infinity,
        NaN,
        "",
        "x".repeat(100_000),
        "ünïcødé 🚀\u202e\u0000\n",
        [],
        {},
        [null],
        [[]],
        [{}],
        nestedList,
        nestedMap,
        cyclic,
        BigInt(5),
        Symbol("s"),
        () => 1,
        new Date(0),
        new Map(),
        Object.create(null),
        "[".repeat(100_000) + "]".repeat(100_000),
        '{"__proto__": {"name": "x"}}',
        // A sparse array: forEach and flatMap skip its holes.
        [, , 1],
        true,
        "3",
    ];
    const wrappers: ((v: unknown) => unknown)[] = [
        (v) => v,
        (v) => [v],
        (v) => ({ name: v, namespace: v, kind: v, enabled: v, tracingSampling: v, grafana: v, expose: v }),
        (v) => ({ expose: { mode: "nodePort", domain: v, gateway: v, nodePorts: { grafana: v, loki: v } } }),
        (v) => [{ name: "gw", serviceType: v, replicas: v, ports: [v, { name: v, port: v, nodePort: v }] }],
        (v) => ({ pilot: { cni: v }, meshConfig: v, [String(typeof v)]: v }),
        (v) => ({
            mtls: {
                mode: v,
                exceptions: [v, { name: v, namespace: v, selector: v, mode: v, ports: v }],
                externalServices: [v, { name: v, host: v, port: v, protocol: v, namespace: v, addresses: [v] }],
            },
        }),
        (v) => ({
            mtls: {
                exceptions: [{ name: "a", namespace: "db", selector: { app: v, [typeof v]: "x" }, ports: { 1: v } }],
                externalServices: [{ name: "b", host: "b.example.com", port: 1, addresses: v }],
            },
        }),
    ];

    /**
     * Where a value holds what no stack file (YAML, JSON) and no Helm values can:
     * functions, symbols, bigints, numbers that are not finite, class instances
     * (Date, Map), array holes, cycles. An object property set to undefined is absent.
     */
    function notJson(value: unknown, at: string, seen = new Set<object>()): string[] {
        if (value === null || typeof value === "string" || typeof value === "boolean") return [];
        if (typeof value === "number") return Number.isFinite(value) ? [] : [`${at}: ${value}`];
        if (typeof value !== "object") return [`${at}: a ${typeof value}`];
        if (seen.has(value)) return [`${at}: a cycle`];
        const proto = Object.getPrototypeOf(value) as object | null;
        if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
            return [`${at}: a ${proto.constructor.name}`];
        }
        seen.add(value);
        const found = Array.isArray(value)
            ? Array.from(value, (v: unknown, i) => notJson(v === undefined ? Symbol("hole") : v, `${at}[${i}]`, seen))
            : Object.entries(value)
                  .filter(([, v]) => v !== undefined)
                  .map(([k, v]) => notJson(v, `${at}.${k}`, seen));
        seen.delete(value);
        return found.flat();
    }

    test("every shape in every setting is accepted as plain data that round-trips, or refused by a ConfigError whose messages each name a key", () => {
        for (const key of [...STACK_SETTINGS, "unknown"]) {
            for (const shape of shapes) {
                for (const wrap of wrappers) {
                    let error: unknown;
                    let accepted: unknown;
                    try {
                        accepted = parse({ [key]: wrap(shape) });
                    } catch (e) {
                        error = e;
                    }
                    if (error === undefined) {
                        // What was accepted is data a stack file could have said and the
                        // charts receive as it is: JSON, unchanged by a round trip, and the
                        // same on a second reading of the same input.
                        const input = { key, shape: shapes.indexOf(shape), wrapper: wrappers.indexOf(wrap) };
                        expect({ ...input, notJson: notJson(accepted, "config") }).toEqual({ ...input, notJson: [] });
                        expect(JSON.parse(JSON.stringify(accepted))).toEqual(accepted);
                        expect(parse({ [key]: wrap(shape) })).toEqual(accepted);
                        continue;
                    }
                    expect(error).toBeInstanceOf(ConfigError);
                    for (const problem of (error as ConfigError).problems) {
                        expect(problem).toMatch(/^istio-mesh:[^\s:][^\n]*$/);
                        expect(problem.length).toBeLessThan(1000);
                    }
                }
            }
        }
    });

    test.each([
        [{ pilot: { replicaCount: Infinity } }, "istiodValues.pilot.replicaCount: Infinity"],
        [{ pilot: { env: [, "x"] } }, "istiodValues.pilot.env[0]: undefined"],
        [{ pilot: { hook: () => 1 } }, "istiodValues.pilot.hook: a function"],
        [{ global: { built: new Date(0) } }, "istiodValues.global.built: [object Date]"],
    ])("istiodValues that no values file can hold are refused, named: %p", (values, named) => {
        // Found by the round-trip check above: Helm would have got null, or nothing.
        expect(problems({ istiodValues: values })).toEqual([
            `istio-mesh:${named} is not a chart value; values are strings, finite numbers, booleans, null, lists and maps`,
        ]);
    });

    test.each([null, "config", 5, [["version", "1.29.6"]]])("a config map that is not a map: %p", (raw) => {
        // The type says a map; a script in plain JavaScript may still hand over anything.
        expect(() => parseStackConfig(raw as unknown as Record<string, unknown>, __dirname)).toThrow(ConfigError);
    });
});

// Issue 8, part 2: an exposure never lets anyone in without a login, unless the stack says so by name.
describe("addon exposure with authentication and TLS", () => {
    const password = "correct horse battery";
    const SET = "pulumi config set --secret istio-mesh:grafanaAdminPassword <password>";

    test.each([
        [
            { profile: "demo", addons: { expose: { mode: "nodePort" } } },
            `istio-mesh:grafanaAdminPassword: is required; Grafana is exposed (addons.expose.mode nodePort) and gets an admin login instead of anonymous access: set its password as a Pulumi secret with ${SET} (at least 12 characters), or turn Grafana off (addons.grafana: false)`,
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: { expose: { mode: "host", domain: "m.example.com" } },
            },
            "istio-mesh:addons.expose.tls.credentialName: is required; mode host serves the addons over HTTPS with this kubernetes.io/tls Secret in the ingress gateway's namespace (created by you or cert-manager, for *.<domain>), and redirects HTTP; to serve plain HTTP instead, set addons.expose.tls.insecureHttp: true",
        ],
        [
            { profile: "demo", grafanaAdminPassword: "short", addons: { expose: { mode: "nodePort" } } },
            `istio-mesh:grafanaAdminPassword: (secret value not shown) is not a password of at least 12 characters; set one with ${SET}`,
        ],
        [
            { grafanaAdminPassword: 12345678901234 },
            `istio-mesh:grafanaAdminPassword: (secret value not shown) is not a password of at least 12 characters; set one with ${SET}`,
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: {
                    expose: {
                        mode: "host",
                        domain: "m.example.com",
                        tls: { credentialName: "tls", insecureHttp: true },
                    },
                },
            },
            "istio-mesh:addons.expose.tls.insecureHttp: true contradicts addons.expose.tls.credentialName, which serves the hosts over HTTPS and redirects HTTP; remove one of them",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", tls: { credentialName: "tls" } } } },
            'istio-mesh:addons.expose.tls: {"credentialName":"tls"} needs addons.expose.mode host (it is nodePort)',
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", allowUnauthenticated: "yes" } } },
            'istio-mesh:addons.expose.allowUnauthenticated: "yes" is not a boolean; allowed: true, false',
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: { expose: { mode: "host", domain: "m.example.com", tls: { credentialName: "TLS_cert" } } },
            },
            "istio-mesh:addons.expose.tls.credentialName: \"TLS_cert\" is not a valid Secret name; use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters, such as addons-tls",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: "m.example.com", tls: { cert: "x" } } } },
            'istio-mesh:addons.expose.tls.cert: "x" is not a known setting; allowed: credentialName, insecureHttp',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a message never shows the password", () => {
        const secret = "hunter2";
        expect(problems({ grafanaAdminPassword: secret }).join("\n")).not.toContain(secret);
    });

    test("a password that looks like JSON is still a password", () => {
        const c = parse({
            profile: "demo",
            grafanaAdminPassword: '["not", "a list"]',
            addons: { expose: { mode: "nodePort" } },
        });
        expect(c.addons.grafanaAdminFromSecret).toBe(true);
    });

    test("an exposure that says it allows unauthenticated access needs no password and no TLS", () => {
        const c = parse({
            profile: "demo",
            addons: { expose: { mode: "host", domain: "m.example.com", allowUnauthenticated: true } },
        });
        expect(c.addons.exposure).toMatchObject({
            allowUnauthenticated: true,
            tls: { credentialName: "", insecureHttp: false },
        });
        expect(c.addons.grafanaAdminFromSecret).toBe(false);
    });

    test("plain HTTP is an explicit choice, logins still required", () => {
        const c = parse({
            profile: "demo",
            grafanaAdminPassword: password,
            addons: { expose: { mode: "host", domain: "m.example.com", tls: { insecureHttp: true } } },
        });
        expect(c.addons.exposure.tls).toEqual({ credentialName: "", insecureHttp: true });
        expect(c.addons.grafanaAdminFromSecret).toBe(true);
    });

    test("without Grafana, an exposure needs no password", () => {
        const c = parse({ addons: { kiali: true, expose: { mode: "nodePort" } } });
        expect(c.addons.grafanaAdminFromSecret).toBe(false);
    });
});
