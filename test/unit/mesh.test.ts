// The resource graph the mesh registers, recorded through Pulumi's mocks: which
// resources, under which parents, with which inputs (chart values, labels).
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { parseStackConfig, StackConfig } from "../../components/config";
import { recorded, RecordedResource, registrationsSettled, stopMocks, useRecordingMocks } from "./mocks";
import { testReleaseRoot } from "../support/releases";

type Recorded = RecordedResource;
beforeAll(useRecordingMocks);
afterAll(stopMocks);

const shared = testReleaseRoot();

async function build(raw: Record<string, unknown>): Promise<{ config: StackConfig; resources: Recorded[] }> {
    recorded.length = 0;
    const { IstioMesh } = await import("../../components/istioMesh");
    const config = parseStackConfig(
        {
            version: "1.29.6",
            chartSource: `${shared}/{version}/charts`,
            addonSource: `${shared}/{version}/addons`,
            ...raw,
        },
        __dirname,
    );
    // As index.ts does: the password the parser checked reaches the mesh as a Pulumi secret.
    const password = raw.grafanaAdminPassword;
    const grafanaAdminPassword = typeof password === "string" ? pulumi.secret(password) : undefined;
    const mesh = new IstioMesh("istio", { config, grafanaAdminPassword });
    // Wait until every registration has reached the mocks.
    await new Promise<void>((resolve) => pulumi.all([mesh.urn, mesh.crds]).apply(() => resolve()));
    await registrationsSettled();
    return { config, resources: [...recorded] };
}

const byType = (rs: Recorded[], type: string) => rs.filter((r) => r.type === type);
const one = (rs: Recorded[], type: string, name: string) => {
    const found = rs.filter((r) => r.type === type && r.name === name);
    expect(found).toHaveLength(1);
    return found[0];
};

describe("demo profile on the local cluster", () => {
    let resources: Recorded[];
    beforeAll(async () => {
        ({ resources } = await build({ profile: "demo" }));
    });

    test("registers one component per runbook step", () => {
        const components = resources
            .filter((r) => r.type.startsWith("istio-mesh:"))
            .map((r) => `${r.type.split(":")[2]} ${r.name}`);
        // Registration order is asynchronous; the dependency order is the e2e suite's to show.
        expect(components.sort()).toEqual([
            "ControlPlaneNamespace istio-namespace",
            "IstioBase istio-base",
            "IstioGateway istio-istio-egressgateway",
            "IstioGateway istio-istio-ingressgateway",
            "IstioMesh istio",
            "Istiod istio-istiod",
            "NamespaceInjectionLabel istio-injection",
            "ObservabilityAddons istio-addons",
        ]);
    });

    test("the control plane namespace is istio-system", () => {
        const ns = one(resources, "kubernetes:core/v1:Namespace", "istio-namespace-namespace");
        expect(ns.inputs.metadata.name).toBe("istio-system");
        expect(ns.inputs.metadata.labels["istio-injection"]).toBeUndefined();
    });

    test("each chart comes from the local release folder, in its namespace", () => {
        const charts = byType(resources, "kubernetes:helm.sh/v4:Chart").map((c) => [
            c.name,
            path.relative(shared, c.inputs.chart),
            c.inputs.namespace,
            c.inputs.name,
        ]);
        expect(charts).toEqual([
            ["istio-base-chart", "1.29.6/charts/base-1.29.6.tgz", "istio-system", "istio-base"],
            ["istio-istiod-chart", "1.29.6/charts/istiod-1.29.6.tgz", "istio-system", "istiod"],
            [
                "istio-istio-ingressgateway-chart",
                "1.29.6/charts/gateway-1.29.6.tgz",
                "istio-system",
                "istio-ingressgateway",
            ],
            [
                "istio-istio-egressgateway-chart",
                "1.29.6/charts/gateway-1.29.6.tgz",
                "istio-system",
                "istio-egressgateway",
            ],
        ]);
    });

    test("istiod gets the demo profile, full tracing and a validator that fails closed", () => {
        const values = one(resources, "kubernetes:helm.sh/v4:Chart", "istio-istiod-chart").inputs.values;
        expect(values.profile).toBe("demo");
        expect(values.pilot.traceSampling).toBe(100);
        expect(values.meshConfig.accessLogFile).toBe("/dev/stdout");
        expect(values.base.validationFailurePolicy).toBe("Fail");
    });

    test("the four addons come from the release's own manifests", () => {
        const files = byType(resources, "kubernetes:yaml/v2:ConfigFile").map((c) =>
            path.relative(shared, c.inputs.file),
        );
        expect(files).toEqual(["prometheus", "grafana", "kiali", "jaeger"].map((a) => `1.29.6/addons/${a}.yaml`));
    });

    test("the default namespace is labelled by a patch, never owned", () => {
        expect(byType(resources, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)).toEqual([
            "istio-system",
        ]);
        const patch = one(resources, "kubernetes:core/v1:NamespacePatch", "istio-injection-default");
        expect(patch.inputs.metadata).toEqual({ name: "default", labels: { "istio-injection": "enabled" } });
    });
});

describe("options", () => {
    test("a production stack fails closed from the start and has no addons", async () => {
        const { resources } = await build({});
        const values = one(resources, "kubernetes:helm.sh/v4:Chart", "istio-istiod-chart").inputs.values;
        expect(values.base.validationFailurePolicy).toBe("Fail");
        expect(values.profile).toBeUndefined();
        expect(byType(resources, "kubernetes:yaml/v2:ConfigFile")).toEqual([]);
    });

    test("CNI installs into kube-system and switches istiod to CNI mode", async () => {
        const { resources } = await build({ cni: { enabled: true } });
        const cni = one(resources, "kubernetes:helm.sh/v4:Chart", "istio-cni-chart");
        expect(cni.inputs.namespace).toBe("kube-system");
        expect(
            one(resources, "kubernetes:helm.sh/v4:Chart", "istio-istiod-chart").inputs.values.pilot.cni.enabled,
        ).toBe(true);
    });

    test("a revision names istiod's release and labels namespaces istio.io/rev instead of istio-injection", async () => {
        const { resources } = await build({ revision: "1-29-6" });
        expect(one(resources, "kubernetes:helm.sh/v4:Chart", "istio-istiod-chart").inputs.name).toBe("istiod-1-29-6");
        expect(
            one(resources, "kubernetes:core/v1:NamespacePatch", "istio-injection-default").inputs.metadata.labels,
        ).toEqual({ "istio.io/rev": "1-29-6" });
    });

    test("ambient installs CNI and ztunnel and labels no namespace", async () => {
        const { resources } = await build({ profile: "ambient" });
        const charts = byType(resources, "kubernetes:helm.sh/v4:Chart").map((c) => c.inputs.name);
        // Registration order is asynchronous; the dependency order is the e2e suite's to show.
        expect(charts.sort()).toEqual(["istio-base", "istio-cni", "istio-ingressgateway", "istiod", "ztunnel"]);
        expect(byType(resources, "kubernetes:core/v1:NamespacePatch")).toEqual([]);
    });

    test("addons by host name: one Gateway on the ingress gateway and a VirtualService per addon", async () => {
        const { resources } = await build({
            profile: "demo",
            addons: {
                expose: {
                    mode: "host",
                    domain: "mesh.example.com",
                    tls: { insecureHttp: true },
                    jwt: { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" },
                },
            },
            grafanaAdminPassword: "correct horse battery",
        });
        const crs = byType(resources, "kubernetes:networking.istio.io/v1:Gateway").concat(
            byType(resources, "kubernetes:networking.istio.io/v1:VirtualService"),
        );
        expect(
            crs.map(
                (r) => `${r.inputs.kind} ${r.inputs.spec.hosts?.join(",") ?? r.inputs.spec.servers[0].hosts.join(",")}`,
            ),
        ).toEqual([
            "Gateway prometheus.mesh.example.com,grafana.mesh.example.com,kiali.mesh.example.com,jaeger.mesh.example.com",
            "VirtualService prometheus.mesh.example.com",
            "VirtualService grafana.mesh.example.com",
            "VirtualService kiali.mesh.example.com",
            "VirtualService jaeger.mesh.example.com",
        ]);
        expect(crs[0].inputs.spec.selector).toEqual({ istio: "ingressgateway" });
    });

    test("addons by host name over HTTPS: the credential serves port 443 and HTTP only redirects", async () => {
        const { resources } = await build({
            profile: "demo",
            addons: {
                expose: {
                    mode: "host",
                    domain: "mesh.example.com",
                    tls: { credentialName: "addons-tls" },
                    jwt: { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" },
                },
            },
            grafanaAdminPassword: "correct horse battery",
        });
        const [gateway] = byType(resources, "kubernetes:networking.istio.io/v1:Gateway");
        const hosts = ["prometheus", "grafana", "kiali", "jaeger"].map((a) => `${a}.mesh.example.com`);
        expect(gateway.inputs.spec.servers).toEqual([
            {
                port: { number: 443, name: "https", protocol: "HTTPS" },
                tls: { mode: "SIMPLE", credentialName: "addons-tls" },
                hosts,
            },
            { port: { number: 80, name: "http", protocol: "HTTP" }, tls: { httpsRedirect: true }, hosts },
        ]);
    });

    test("an exposed Grafana reads its admin login from a Secret made of the Pulumi secret", async () => {
        const { resources } = await build({
            profile: "demo",
            addons: { expose: { mode: "nodePort" } },
            grafanaAdminPassword: "correct horse battery",
        });
        const secret = one(resources, "kubernetes:core/v1:Secret", "istio-addons-grafana-admin");
        expect(secret.inputs.metadata).toEqual({ name: "grafana-admin", namespace: "istio-system" });
        // The engine receives the whole map as a secret: encrypted in the state, masked in logs.
        expect(secret.inputs.stringData).toEqual({
            [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
            value: { "admin-user": "admin", "admin-password": "correct horse battery" },
        });
    });

    test("anonymous Viewer access creates no Grafana Secret", async () => {
        const { resources } = await build({
            profile: "demo",
            addons: { anonymousAccess: true, expose: { mode: "nodePort" } },
        });
        expect(byType(resources, "kubernetes:core/v1:Secret")).toEqual([]);
    });

    test("addons by NodePort: a NodePort Service per addon with the requested port", async () => {
        const { resources } = await build({
            profile: "demo",
            addons: { anonymousAccess: true, expose: { mode: "nodePort", nodePorts: { grafana: 32000 } } },
        });
        const svc = one(resources, "kubernetes:core/v1:Service", "istio-addons-grafana-nodeport");
        expect(svc.inputs.spec).toMatchObject({
            type: "NodePort",
            ports: [{ port: 3000, targetPort: 3000, nodePort: 32000 }],
        });
    });

    test("listed workloads get the proxy version stamped on their pod template", async () => {
        const { resources } = await build({ sidecarRollout: [{ namespace: "shop", name: "cart" }] });
        const patch = one(resources, "kubernetes:apps/v1:DeploymentPatch", "istio-sidecars-shop-deployment-cart");
        expect(patch.inputs.spec.template.metadata.annotations).toEqual({
            "istio-mesh.io/proxy-version": "1.29.6/default",
        });
    });
});

describe("mTLS policy", () => {
    const PEER_AUTHENTICATION = "kubernetes:security.istio.io/v1:PeerAuthentication";
    const SERVICE_ENTRY = "kubernetes:networking.istio.io/v1:ServiceEntry";
    const DESTINATION_RULE = "kubernetes:networking.istio.io/v1:DestinationRule";

    test("no mtls settings: no policy at all, so Istio's own default (PERMISSIVE) applies", async () => {
        const { resources } = await build({});
        expect(resources.filter((r) => r.type === "istio-mesh:index:MeshMtlsPolicy")).toEqual([]);
        expect(byType(resources, PEER_AUTHENTICATION)).toEqual([]);
    });

    test("STRICT: one PeerAuthentication named default in the root namespace, without selector", async () => {
        const { resources } = await build({ mesh: { mtls: { mode: "STRICT" } } });
        one(resources, "istio-mesh:index:MeshMtlsPolicy", "istio-mtls");
        const policies = byType(resources, PEER_AUTHENTICATION);
        expect(policies.map((p) => [p.name, p.inputs.metadata.namespace, p.inputs.metadata.name])).toEqual([
            ["istio-mtls-mesh", "istio-system", "default"],
        ]);
        expect(policies[0].inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
    });

    test("the root namespace follows the control-plane namespace", async () => {
        const { resources } = await build({ namespace: "mesh-control", mesh: { mtls: { mode: "PERMISSIVE" } } });
        expect(one(resources, PEER_AUTHENTICATION, "istio-mtls-mesh").inputs.metadata.namespace).toBe("mesh-control");
    });

    test("the runbook's MySQL in the mesh: a PeerAuthentication in its own namespace, PERMISSIVE on 3306", async () => {
        const { resources } = await build({
            mesh: {
                mtls: {
                    mode: "STRICT",
                    exceptions: [
                        { name: "mysql", namespace: "db", selector: { app: "mysql" }, ports: { "3306": "PERMISSIVE" } },
                    ],
                },
            },
        });
        const exception = one(resources, PEER_AUTHENTICATION, "istio-mtls-exception-mysql");
        expect(exception.inputs.metadata).toMatchObject({ name: "mysql", namespace: "db" });
        expect(exception.inputs.spec).toEqual({
            selector: { matchLabels: { app: "mysql" } },
            portLevelMtls: { "3306": { mode: "PERMISSIVE" } },
        });
        // The namespace is the user's: labelled or patched never, created never.
        expect(byType(resources, "kubernetes:core/v1:Namespace").map((n) => n.inputs.metadata.name)).toEqual([
            "istio-system",
        ]);
    });

    test("the runbook's external MySQL: a ServiceEntry outside the mesh and a DestinationRule without Istio mTLS", async () => {
        const { resources } = await build({
            mesh: {
                mtls: {
                    externalServices: [{ name: "external-mysql", host: "mysql.example.com", port: 3306 }],
                },
            },
        });
        const entry = one(resources, SERVICE_ENTRY, "istio-mtls-external-external-mysql");
        expect(entry.inputs.metadata).toMatchObject({ name: "external-mysql", namespace: "istio-system" });
        expect(entry.inputs.spec).toEqual({
            hosts: ["mysql.example.com"],
            ports: [{ number: 3306, name: "tcp-3306", protocol: "TCP" }],
            location: "MESH_EXTERNAL",
            resolution: "DNS",
        });
        const rule = one(resources, DESTINATION_RULE, "istio-mtls-external-external-mysql-tls");
        expect(rule.inputs.metadata).toMatchObject({ name: "external-mysql", namespace: "istio-system" });
        expect(rule.inputs.spec).toEqual({ host: "mysql.example.com", trafficPolicy: { tls: { mode: "DISABLE" } } });
        // Only mode creates the mesh-wide policy.
        expect(byType(resources, PEER_AUTHENTICATION)).toEqual([]);
    });

    test("built from code without the parser, a spec istiod would refuse stops the component before its children", async () => {
        const { MeshMtlsPolicy } = await import("../../components/dataPlane/mtlsPolicy");
        recorded.length = 0;
        expect(
            () =>
                new MeshMtlsPolicy("direct", {
                    rootNamespace: "istio-system",
                    exceptions: [
                        {
                            name: "mysql",
                            namespace: "db",
                            selector: {},
                            ports: [{ port: 3306, mode: "PERMISSIVE" }],
                        },
                    ],
                }),
        ).toThrow(
            "exception db/mysql: port modes need a selector: istiod refuses them in a namespace-wide PeerAuthentication",
        );
        await registrationsSettled();
        expect(byType(recorded, PEER_AUTHENTICATION)).toEqual([]);
    });
});
