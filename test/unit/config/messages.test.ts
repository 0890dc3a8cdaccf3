// How every message reads: the key, the value and what is allowed; each problem once, at its root cause; all at once.
import { parseStackConfig } from "../../../components/config";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("stack config errors name the key, the value and what is allowed", () => {
    test.each([
        [
            { colour: "blue" },
            'istio-mesh:colour: "blue" is not a known setting; allowed: version, profile, namespace, revision, revisions, revisionTags, upgradeStrategy, chartSource, addonSource, retainCrdsOnDestroy, adoptExisting, mesh, cni, gateways, addons, grafanaAdminPassword, injectionNamespaces, sidecarRollout, sidecarMigration, istiodValues, ambientNamespaces, waypoints, gatewayApi, environment',
        ],
        [
            { retainCrdsOnDestroy: "yes" },
            'istio-mesh:retainCrdsOnDestroy: "yes" is not a boolean; allowed: true, false',
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
            'istio-mesh:gateways: "none" is not a list of gateways {name, kind, namespace, serviceType, ports, replicas, revision, loadBalancerTimeoutSeconds}',
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
                    anonymousAccess: true,
                    expose: { mode: "nodePort", nodePorts: { grafana: n(32000) } },
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

// Issue 22: YAML writes a key with nothing after it as null; inside a setting that
// is a value forgotten, refused once, not read as "the default".
describe("explicit nulls inside a setting are refused, once", () => {
    const NULL = "is empty (null); give it a value, or remove the line to get the default";
    test.each([
        [{ mesh: { accessLogFile: null } }, `istio-mesh:mesh.accessLogFile: null ${NULL}`],
        [{ gateways: [{ name: "gw", replicas: null }] }, `istio-mesh:gateways[0].replicas: null ${NULL}`],
        // Required and null: the null is the one problem, not also "is required".
        [{ gateways: [{ name: null }] }, `istio-mesh:gateways[0].name: null ${NULL}`],
        [{ gatewayApi: { enabled: null } }, `istio-mesh:gatewayApi.enabled: null ${NULL}`],
        [
            { mesh: { mtls: { exceptions: [{ name: "a", namespace: "db", mode: null, ports: null }] } } },
            `istio-mesh:mesh.mtls.exceptions[0].mode: null ${NULL}`,
            `istio-mesh:mesh.mtls.exceptions[0].ports: null ${NULL}`,
        ],
    ])("%j", (raw, ...messages) => {
        expect(problems(raw)).toEqual(messages);
    });

    test("a null where Helm takes one (istiodValues) keeps its meaning there", () => {
        expect(parse({ istiodValues: { pilot: { resources: null } } }).istiodValues).toEqual({
            pilot: { resources: null },
        });
    });
});
