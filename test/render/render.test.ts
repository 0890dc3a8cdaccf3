// The values this stack builds, rendered by the real helm binary from the real
// Istio charts of two releases, and checked for what a platform engineer relies on.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { parseStackConfig, projectConfigKeys, StackConfig } from "../../components/config";
import { ChartEntry, installPlan, planEntries } from "../../components/charts/plan";
import { chartAt, IstioChart } from "../../components/charts/values";
import { testReleaseRoot } from "../support/releases";

const shared = testReleaseRoot();

interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifests are free-form
    spec?: any;
}

function config(version: string, raw: Record<string, unknown> = {}): StackConfig {
    return parseStackConfig({ version, chartSource: `${shared}/{version}/charts`, ...raw }, __dirname);
}

/** The install plan's entries of one chart: what the mesh installs, with the values it installs them with. */
function planned<C extends IstioChart>(c: StackConfig, chart: C): (ChartEntry & { chart: C })[] {
    return planEntries(installPlan(c), chart);
}

/** `helm template` of one entry of the install plan (its chart, release, namespace and values), parsed. */
function render(entry: ChartEntry): K8sObject[] {
    const valuesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-render-")), "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(entry.values));
    const out = execFileSync(
        "helm",
        [
            "template",
            entry.release,
            chartAt(entry.chart, entry.source, entry.version).chart,
            "-n",
            entry.namespace,
            "-f",
            valuesFile,
        ],
        {
            encoding: "utf8",
            maxBuffer: 64 * 1024 * 1024,
        },
    );
    return (yaml.loadAll(out) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
}

function chartCrdNames(version: string): string[] {
    const tgz = path.join(shared, version, "charts", `base-${version}.tgz`);
    const text = execFileSync("tar", ["-xzOf", tgz, "base/files/crd-all.gen.yaml"], {
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
    });
    return (yaml.loadAll(text) as (K8sObject | null)[])
        .filter((d): d is K8sObject => d?.kind === "CustomResourceDefinition")
        .map((d) => d.metadata.name)
        .sort();
}

const deploymentImages = (docs: K8sObject[], name: string): string[] =>
    docs
        .filter((d) => d.kind === "Deployment" && d.metadata.name === name)
        .flatMap((d) => d.spec.template.spec.containers.map((c: { image: string }) => c.image));

describe.each(["1.29.6", "1.30.3"])("Istio %s", (version) => {
    test("base installs every CRD the release ships", () => {
        const c = config(version);
        const crds = render(planned(c, "base")[0])
            .filter((d) => d.kind === "CustomResourceDefinition")
            .map((d) => d.metadata.name)
            .sort();
        expect(crds.length).toBeGreaterThanOrEqual(14);
        expect(crds).toEqual(chartCrdNames(version));
    });

    test("istiod runs docker.io/istio/pilot at the release version", () => {
        const c = config(version);
        const docs = render(planned(c, "istiod")[0]);
        expect(deploymentImages(docs, "istiod")).toEqual([`docker.io/istio/pilot:${version}`]);
    });

    test("the validator fails closed from the first apply", () => {
        const c = config(version);
        const webhook = render(planned(c, "istiod")[0]).find((d) => d.kind === "ValidatingWebhookConfiguration");
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifest
        expect((webhook as any).webhooks.map((w: { failurePolicy: string }) => w.failurePolicy)).toEqual(["Fail"]);
    });

    test("the mesh's root namespace, home of the mesh-wide mTLS policy, is the control plane namespace", () => {
        const c = config(version, { namespace: "mesh-control", mesh: { mtls: { mode: "STRICT" } } });
        const meshConfig = render(planned(c, "istiod")[0]).find(
            (d) => d.kind === "ConfigMap" && d.metadata.name === "istio",
        );
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifest
        const mesh = yaml.load((meshConfig as any).data.mesh) as { rootNamespace: string };
        expect(mesh.rootNamespace).toBe("mesh-control");
    });

    test("a gateway's proxy image is left to istiod's injector", () => {
        const c = config(version, { profile: "demo" });
        const gw = planned(c, "gateway")[0];
        const docs = render(gw);
        expect(deploymentImages(docs, gw.release)).toEqual(["auto"]);
        const template = docs.find((d) => d.kind === "Deployment")?.spec.template;
        expect(template.metadata.labels["sidecar.istio.io/inject"]).toBe("true");
    });

    test("a gateway of 2 or more replicas gets a PodDisruptionBudget over its pods; one replica gets none", () => {
        const c = config(version, {
            gateways: [
                { name: "istio-ingressgateway", kind: "ingress", replicas: 3 },
                { name: "istio-egressgateway", kind: "egress", replicas: 1 },
            ],
        });
        const [ha, single] = planned(c, "gateway");
        const haDocs = render(ha);
        const pdb = haDocs.find((d) => d.kind === "PodDisruptionBudget");
        const podLabels = haDocs.find((d) => d.kind === "Deployment")?.spec.template.metadata.labels;
        expect(pdb?.spec.minAvailable).toBe(1);
        for (const [k, v] of Object.entries(pdb?.spec.selector.matchLabels ?? {})) expect(podLabels[k]).toBe(v);
        const singleDocs = render(single);
        expect(singleDocs.filter((d) => d.kind === "PodDisruptionBudget")).toEqual([]);
    });

    test("CNI is a DaemonSet in kube-system and istiod is told about it", () => {
        const c = config(version, { cni: { enabled: true } });
        const cni = render(planned(c, "cni")[0]);
        const daemonSets = cni.filter((d) => d.kind === "DaemonSet");
        expect(daemonSets.map((d) => [d.metadata.name, d.metadata.namespace])).toEqual([
            ["istio-cni-node", "kube-system"],
        ]);
        expect(daemonSets[0].spec.template.spec.containers[0].image).toBe(`docker.io/istio/install-cni:${version}`);
        const injector = render(planned(c, "istiod")[0]).find(
            (d) => d.kind === "ConfigMap" && d.metadata.name === "istio-sidecar-injector",
        );
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered manifest
        expect(JSON.parse((injector as any).data.values).pilot.cni.enabled).toBe(true);
    });

    test("a NodePort ingress gateway has the runbook's node ports", () => {
        const c = config(version, {
            gateways: [
                {
                    name: "istio-ingressgateway",
                    serviceType: "NodePort",
                    ports: [
                        { name: "http2", port: 80, targetPort: 8080, nodePort: 31380 },
                        { name: "https", port: 443, targetPort: 8443, nodePort: 31390 },
                    ],
                },
            ],
        });
        const docs = render(planned(c, "gateway")[0]);
        const service = docs.find((d) => d.kind === "Service");
        expect(service?.metadata.name).toBe("istio-ingressgateway");
        expect(service?.spec.type).toBe("NodePort");
        expect(service?.spec.ports).toEqual([
            { name: "http2", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 31380 },
            { name: "https", port: 443, protocol: "TCP", targetPort: 8443, nodePort: 31390 },
        ]);
        expect(service?.spec.selector).toEqual({ app: "istio-ingressgateway", istio: "ingressgateway" });
        // The proxy comes from istiod's injector, which is why gateways wait for istiod.
        expect(deploymentImages(docs, "istio-ingressgateway")).toEqual(["auto"]);
        expect(docs.some((d) => d.kind === "HorizontalPodAutoscaler")).toBe(false);
    });

    test("the demo profile yields the demo install's workloads", () => {
        const c = config(version, { profile: "demo" });
        const workloads = [...render(planned(c, "istiod")[0]), ...planned(c, "gateway").flatMap(render)]
            .filter((d) => d.kind === "Deployment")
            .map((d) => d.metadata.name)
            .sort();
        expect(workloads).toEqual(["istio-egressgateway", "istio-ingressgateway", "istiod"]);
        const egress = render(planned(c, "gateway")[1]);
        expect(egress.find((d) => d.kind === "Service")?.spec.type).toBe("ClusterIP");
    });
});

describe("the prod example stack", () => {
    const file = yaml.load(fs.readFileSync(path.resolve(__dirname, "../../Pulumi.prod.yaml"), "utf8")) as {
        config: Record<string, unknown>;
    };
    // Its own settings, with the charts read from the local release folder instead of the network.
    const c = parseStackConfig(
        { ...projectConfigKeys(file.config), chartSource: `${shared}/{version}/charts` },
        path.resolve(__dirname, "../.."),
    );

    test("istiod never runs fewer than three replicas", () => {
        const docs = render(planned(c, "istiod")[0]);
        const hpa = docs.find((d) => d.kind === "HorizontalPodAutoscaler");
        expect(hpa?.spec.minReplicas).toBe(3);
        expect(hpa?.spec.scaleTargetRef.name).toBe(`istiod-${c.revision}`);
    });
});
