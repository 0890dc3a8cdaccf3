// The resources profile ambient and the Gateway API plan add to the mesh,
// recorded through Pulumi's mocks.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../../components/config";
import { GatewayApiPlan } from "../../components/preflight/gatewayApiPlan";
import { recorded, RecordedResource, registrationsSettled, stopMocks, useRecordingMocks } from "./mocks";
import { testGatewayApiRoot, testReleaseRoot } from "../support/releases";

beforeAll(useRecordingMocks);
afterAll(stopMocks);

const istioReleases = testReleaseRoot();
const gatewayApiReleases = testGatewayApiRoot();
const STACK = { id: "test-stack-id", name: "organization/istio-mesh/test" };

async function build(raw: Record<string, unknown>, plan?: GatewayApiPlan): Promise<RecordedResource[]> {
    recorded.length = 0;
    const { IstioMesh } = await import("../../components/istioMesh");
    const config = parseStackConfig(
        {
            version: "1.30.3",
            chartSource: `${istioReleases}/{version}/charts`,
            gatewayApi: { source: `${gatewayApiReleases}/{version}` },
            ...raw,
        },
        __dirname,
    );
    const mesh = new IstioMesh("istio", { config, stack: STACK, gatewayApi: plan ? { plan } : undefined });
    await new Promise<void>((resolve) => pulumi.all([mesh.urn, mesh.crds]).apply(() => resolve()));
    await registrationsSettled();
    return [...recorded];
}

const ofType = (rs: RecordedResource[], type: string) => rs.filter((r) => r.type === type);

describe("Gateway API CRDs in the mesh", () => {
    test("a plan to install applies the release's standard-install.yaml of the planned version", async () => {
        const rs = await build({}, { action: "install", version: "v1.5.1", note: "" });
        expect(ofType(rs, "istio-mesh:index:GatewayApiCrds").map((r) => r.name)).toEqual(["istio-gateway-api"]);
        expect(ofType(rs, "kubernetes:yaml/v2:ConfigFile").map((r) => [r.name, r.inputs.file])).toEqual([
            ["istio-gateway-api-manifest", path.join(gatewayApiReleases, "v1.5.1/standard-install.yaml")],
        ]);
    });

    test("a plan to leave them, or none (gatewayApi.enabled false), registers nothing of the Gateway API", async () => {
        const leave = await build({}, { action: "leave", installed: "v1.4.1", warn: true, note: "" });
        expect(leave.filter((r) => r.type.includes("GatewayApi") || r.type.includes("yaml/v2"))).toEqual([]);
        const none = await build({ gatewayApi: { enabled: false } });
        expect(none.filter((r) => r.type.includes("GatewayApi") || r.type.includes("yaml/v2"))).toEqual([]);
    });
});

describe("profile ambient with enrolled namespaces and a waypoint", () => {
    let rs: RecordedResource[];
    beforeAll(async () => {
        rs = await build(
            {
                profile: "ambient",
                injectionNamespaces: ["legacy"],
                ambientNamespaces: ["shop", "web"],
                waypoints: [{ namespace: "shop" }],
            },
            { action: "install", version: "v1.5.1", note: "" },
        );
    });

    test("installs CNI, ztunnel, istiod and the profile's ingress gateway", () => {
        expect(
            ofType(rs, "kubernetes:helm.sh/v4:Chart")
                .map((c) => c.inputs.name)
                .sort(),
        ).toEqual(["istio-base", "istio-cni", "istio-ingressgateway", "istiod", "ztunnel"]);
    });

    test("labels each ambient namespace, and the waypoint's with its name, without owning it", () => {
        const patches = ofType(rs, "kubernetes:core/v1:NamespacePatch").map((p) => [p.name, p.inputs.metadata]);
        expect(patches.sort()).toEqual([
            [
                "istio-ambient-shop",
                { name: "shop", labels: { "istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint" } },
            ],
            ["istio-ambient-web", { name: "web", labels: { "istio.io/dataplane-mode": "ambient" } }],
            ["istio-injection-legacy", { name: "legacy", labels: { "istio-injection": "enabled" } }],
        ]);
        expect(ofType(rs, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)).toEqual(["istio-system"]);
    });

    test("declares the waypoint as a Gateway of class istio-waypoint in its namespace", () => {
        const gateways = ofType(rs, "kubernetes:gateway.networking.k8s.io/v1:Gateway");
        expect(gateways.map((g) => [g.name, g.inputs.metadata.namespace, g.inputs.spec.gatewayClassName])).toEqual([
            ["istio-ambient-shop-waypoint", "shop", "istio-waypoint"],
        ]);
    });
});
