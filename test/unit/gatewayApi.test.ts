// The Gateway API and ambient settings: their defaults, each refusal's exact
// message, and what the stack decides to do with the Gateway API CRDs a cluster
// already has (planGatewayApi, pure).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, GatewayApiSettings, parseStackConfig, StackConfig } from "../../components/config";
import { FoundCrd, planGatewayApi } from "../../components/preflight/gatewayApiPlan";
import { gatewayApiManifest } from "../../components/controlPlane/gatewayApiCrds";
import { ambientNamespaceLabels, waypointGateway } from "../../components/dataPlane/ambientDataPlane";

/**
 * A local Gateway API source as a user lays one out, made by the test: the parser
 * checks folders and file names, not what the release file says.
 */
const localGatewayApi = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-gateway-api-"));
fs.mkdirSync(path.join(localGatewayApi, "v1.5.1"));
fs.writeFileSync(path.join(localGatewayApi, "v1.5.1", "standard-install.yaml"), "# the release's CRDs\n");
afterAll(() => fs.rmSync(localGatewayApi, { recursive: true, force: true }));

function parse(raw: Record<string, unknown>): StackConfig {
    return parseStackConfig({ version: "1.29.6", ...raw }, __dirname);
}

function problems(raw: Record<string, unknown>): string[] {
    try {
        parse(raw);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    throw new Error("config was accepted");
}

describe("gatewayApi settings", () => {
    test("on by default, at the version the Istio release is built against, from the official download", () => {
        expect(parse({}).gatewayApi).toEqual({
            enabled: true,
            version: "v1.4.1",
            source: "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1",
            takeOver: false,
            deleteCrdsOnDestroy: false,
        });
        expect(parse({ version: "1.28.10" }).gatewayApi.version).toBe("v1.4.1");
        expect(parse({ version: "1.30.3" }).gatewayApi.version).toBe("v1.5.1");
        expect(parse({ version: "1.30.3" }).gatewayApi.source).toBe(
            "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1",
        );
    });

    test("a local source with {version} resolves to the release's folder", () => {
        const c = parse({ version: "1.30.3", gatewayApi: { source: `${localGatewayApi}/{version}` } });
        expect(c.gatewayApi.source).toBe(path.join(localGatewayApi, "v1.5.1"));
        expect(gatewayApiManifest(c.gatewayApi.source, c.gatewayApi.version)).toBe(
            path.join(localGatewayApi, "v1.5.1", "standard-install.yaml"),
        );
        expect(gatewayApiManifest("https://mirror.example.com/gateway-api/{version}/", "v1.4.1")).toBe(
            "https://mirror.example.com/gateway-api/v1.4.1/standard-install.yaml",
        );
    });

    test("turned off, as text the way Pulumi hands it over", () => {
        expect(parse({ gatewayApi: '{"enabled": "false"}' }).gatewayApi).toMatchObject({ enabled: false });
        expect(parse({ gatewayApi: '{"takeOver": "true"}' }).gatewayApi).toMatchObject({ takeOver: true });
    });

    test.each([
        [
            { gatewayApi: { enabled: "yes" } },
            'istio-mesh:gatewayApi.enabled: "yes" is not a boolean; allowed: true, false',
        ],
        [
            { gatewayApi: { channel: "experimental" } },
            'istio-mesh:gatewayApi.channel: "experimental" is not a known setting; allowed: enabled, source, takeOver, deleteCrdsOnDestroy',
        ],
        [
            { gatewayApi: "v1.5.1" },
            'istio-mesh:gatewayApi: "v1.5.1" is not an object; its settings are enabled, source, takeOver, deleteCrdsOnDestroy',
        ],
        [
            { gatewayApi: { source: 3 } },
            "istio-mesh:gatewayApi.source: 3 is not a source; use https:// (Helm repository or web folder), oci:// (registry) or a local directory",
        ],
        [
            { gatewayApi: { source: `${localGatewayApi}/v9.9.9` } },
            `istio-mesh:gatewayApi.source: "${localGatewayApi}/v9.9.9" is not an existing directory (resolved to ${localGatewayApi}/v9.9.9); {version} is replaced by the release`,
        ],
        [
            { version: "1.30.3", gatewayApi: { source: localGatewayApi } },
            `istio-mesh:gatewayApi.source: "${localGatewayApi}" is missing standard-install.yaml (resolved to ${localGatewayApi}); a local Gateway API source holds the release's standard-install.yaml; {version} is replaced by v1.5.1, the version Istio 1.30.3 is built against`,
        ],
    ])("%j is refused: %s", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a refused version is reported once, not again through the source that depends on it", () => {
        expect(problems({ version: "1.20.1", gatewayApi: { source: "./no-such-{version}" } })).toEqual([
            'istio-mesh:version: "1.20.1" is not a supported release; supported minors: 1.28, 1.29, 1.30',
        ]);
    });
});

describe("ambientNamespaces and waypoints", () => {
    test("profile ambient enrols listed namespaces; a waypoint defaults to name waypoint for service traffic", () => {
        const c = parse({
            profile: "ambient",
            injectionNamespaces: ["legacy"],
            ambientNamespaces: ["shop", "web"],
            waypoints: [{ namespace: "shop" }, { namespace: "web", name: "web-wp", for: "all" }],
        });
        expect(c.injectionNamespaces.map((n) => n.name)).toEqual(["legacy"]);
        expect(c.ambientNamespaces).toEqual(["shop", "web"]);
        expect(c.waypoints).toEqual([
            { namespace: "shop", name: "waypoint", for: "service" },
            { namespace: "web", name: "web-wp", for: "all" },
        ]);
        expect(ambientNamespaceLabels(c.waypoints[1])).toEqual({
            "istio.io/dataplane-mode": "ambient",
            "istio.io/use-waypoint": "web-wp",
        });
        expect(ambientNamespaceLabels(undefined)).toEqual({ "istio.io/dataplane-mode": "ambient" });
        expect(waypointGateway(c.waypoints[0])).toEqual({
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "Gateway",
            metadata: {
                name: "waypoint",
                namespace: "shop",
                labels: { "istio.io/waypoint-for": "service" },
                // Deleted at once; the collector removes istiod's Deployment and Service after.
                annotations: { "pulumi.com/deletionPropagationPolicy": "background" },
            },
            spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
        });
    });

    test("none by default, in every profile", () => {
        expect(parse({ profile: "ambient" })).toMatchObject({ ambientNamespaces: [], waypoints: [] });
        expect(parse({})).toMatchObject({ ambientNamespaces: [], waypoints: [] });
    });

    test.each([
        [
            { ambientNamespaces: ["shop"] },
            'istio-mesh:ambientNamespaces: ["shop"] needs profile ambient (it is default): only profile ambient installs ztunnel, which serves these namespaces\' pods',
        ],
        [
            { profile: "ambient", injectionNamespaces: ["shop"], ambientNamespaces: ["shop"] },
            'istio-mesh:ambientNamespaces[0]: "shop" is also in injectionNamespaces; a namespace\'s pods get a sidecar or ztunnel, not both: remove it from one of the two lists',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["kube-system"] },
            'istio-mesh:ambientNamespaces[0]: "kube-system" is a Kubernetes system namespace; its pods must stay outside the mesh',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["istio-system"] },
            'istio-mesh:ambientNamespaces[0]: "istio-system" is the control-plane namespace; istiod and ztunnel in it stay outside the mesh',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["shop", "shop"] },
            'istio-mesh:ambientNamespaces[1]: "shop" is a duplicate of ambientNamespaces[0]; list each namespace once',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["Shop"] },
            "istio-mesh:ambientNamespaces[0]: \"Shop\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { profile: "ambient", ambientNamespaces: ["shop"], waypoints: [{ namespace: "web" }] },
            'istio-mesh:waypoints[0].namespace: "web" is not in ambientNamespaces (shop); a waypoint serves ambient workloads: enrol the namespace there first',
        ],
        [
            {
                profile: "ambient",
                ambientNamespaces: ["shop"],
                waypoints: [{ namespace: "shop" }, { namespace: "shop", name: "b" }],
            },
            'istio-mesh:waypoints[1].namespace: "shop" is a duplicate of waypoints[0].namespace; a namespace\'s istio.io/use-waypoint label names one waypoint',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["shop"], waypoints: [{ namespace: "shop", for: "pods" }] },
            'istio-mesh:waypoints[0].for: "pods" is not a waypoint traffic type; allowed: service, workload, all, none',
        ],
        [
            { profile: "ambient", ambientNamespaces: ["shop"], waypoints: [{ name: "wp" }] },
            "istio-mesh:waypoints[0].namespace: is required; the ambient namespace the waypoint serves",
        ],
    ])("%j is refused: %s", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a waypoint in a namespace refused from ambientNamespaces is not refused again", () => {
        expect(
            problems({
                profile: "ambient",
                ambientNamespaces: ["kube-system"],
                waypoints: [{ namespace: "kube-system" }],
            }),
        ).toEqual([
            'istio-mesh:ambientNamespaces[0]: "kube-system" is a Kubernetes system namespace; its pods must stay outside the mesh',
        ]);
    });
});

describe("what the stack does with the Gateway API CRDs a cluster has", () => {
    const ME = "organization/istio-mesh/prod";
    const settings = (version: string, takeOver = false): GatewayApiSettings => ({
        enabled: true,
        version,
        source: "https://example.com/{version}",
        takeOver,
        deleteCrdsOnDestroy: false,
    });
    const crds = (version: string | undefined, owner?: string, channel = "standard"): FoundCrd[] =>
        ["gateways.gateway.networking.k8s.io", "httproutes.gateway.networking.k8s.io"].map((name) => ({
            name,
            bundleVersion: version,
            channel,
            owner,
        }));

    test("none yet: installs the release's version", () => {
        expect(planGatewayApi(settings("v1.4.1"), "1.29.6", [], ME)).toEqual({
            action: "install",
            version: "v1.4.1",
            note: "installing Gateway API v1.4.1 CRDs (standard channel)",
        });
    });

    test("its own, older: upgrades them with Istio", () => {
        expect(planGatewayApi(settings("v1.5.1"), "1.30.3", crds("v1.4.1", ME), ME)).toEqual({
            action: "install",
            version: "v1.5.1",
            note: "upgrading Gateway API CRDs v1.4.1 -> v1.5.1 with Istio 1.30.3",
        });
    });

    test("its own, newer: never downgrades them", () => {
        expect(planGatewayApi(settings("v1.4.1"), "1.29.6", crds("v1.5.1", ME), ME)).toMatchObject({
            action: "install",
            version: "v1.5.1",
            note: "keeping Gateway API v1.5.1 CRDs, newer than v1.4.1 of Istio 1.29.6: the stack never downgrades them",
        });
    });

    test("someone else's, newer: leaves them and says so", () => {
        expect(planGatewayApi(settings("v1.4.1"), "1.29.6", crds("v1.5.1", "organization/other/dev"), ME)).toEqual({
            action: "leave",
            installed: "v1.5.1",
            warn: false,
            note: "the cluster has Gateway API v1.5.1 CRDs, newer than v1.4.1 of Istio 1.29.6, installed by someone else; the stack leaves them as they are",
        });
    });

    test("someone else's, older: leaves them with a warning naming the setting that takes them over", () => {
        expect(planGatewayApi(settings("v1.5.1"), "1.30.3", crds("v1.4.1"), ME)).toEqual({
            action: "leave",
            installed: "v1.4.1",
            warn: true,
            note: "the cluster has Gateway API v1.4.1 CRDs, older than v1.5.1 that Istio 1.30.3 is built against, installed by someone else; the stack leaves them, and istiod ignores the kinds v1.4.1 lacks. To upgrade them with the stack, set istio-mesh:gatewayApi.takeOver: true; if another tool owns them, set istio-mesh:gatewayApi.enabled: false",
        });
        expect(planGatewayApi(settings("v1.5.1", true), "1.30.3", crds("v1.4.1"), ME)).toMatchObject({
            action: "install",
            version: "v1.5.1",
        });
    });

    test("someone else's, the same version: left unless taken over", () => {
        expect(planGatewayApi(settings("v1.4.1"), "1.29.6", crds("v1.4.1"), ME)).toMatchObject({
            action: "leave",
            warn: false,
        });
        expect(planGatewayApi(settings("v1.4.1", true), "1.29.6", crds("v1.4.1"), ME)).toMatchObject({
            action: "install",
            version: "v1.4.1",
        });
    });

    test("a partly upgraded set counts as its highest version", () => {
        const mixed = [...crds("v1.4.1", ME).slice(0, 1), ...crds("v1.5.1", ME).slice(1)];
        expect(planGatewayApi(settings("v1.4.1"), "1.29.6", mixed, ME)).toMatchObject({ version: "v1.5.1" });
    });

    test("experimental channel or no version: left, even with takeOver, and said so", () => {
        expect(
            planGatewayApi(settings("v1.5.1", true), "1.30.3", crds("v1.4.1", undefined, "experimental"), ME),
        ).toMatchObject({ action: "leave", warn: true });
        expect(planGatewayApi(settings("v1.5.1"), "1.30.3", crds(undefined), ME).note).toBe(
            "the cluster has Gateway API CRDs without a gateway.networking.k8s.io/bundle-version annotation (gateways.gateway.networking.k8s.io, httproutes.gateway.networking.k8s.io), installed by someone else; the stack leaves them. To replace them with v1.5.1, set istio-mesh:gatewayApi.takeOver: true",
        );
    });
});
