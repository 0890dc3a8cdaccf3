// The install plan: for each profile, ambient, gateway and addon combination, what
// the stack installs (charts and manifests, release names, namespaces, versions,
// the workload that shows each is ready). Pure: no Pulumi runtime, no cluster.
import { installPlan, PlanEntry, planEntries } from "../../components/charts/plan";
import { chartsOf } from "../../components/charts/releases";
import { componentVersions } from "../../components/status/outputs";
import { parseStackConfig, StackConfig } from "../../components/config";

/** A config as the parser makes it, at Istio 1.29.6, with the official (remote) sources. */
function config(raw: Record<string, unknown> = {}): StackConfig {
    return parseStackConfig({ version: "1.29.6", gatewayApi: { enabled: false }, ...raw }, __dirname);
}

/** One line per entry: what `npm run status` and the mesh read of it. */
function summary(plan: PlanEntry[]): string[] {
    return plan.map(
        (e) =>
            `${e.component}: ${e.chart} ${"release" in e ? e.release : e.file} in ${e.namespace} at ${e.version}` +
            (e.workload ? `, ready when ${e.workload.kind}/${e.workload.name}` : ""),
    );
}

describe("installPlan", () => {
    test("minimal: base and istiod only", () => {
        expect(summary(installPlan(config({ profile: "minimal" })))).toEqual([
            "base: base istio-base in istio-system at 1.29.6",
            "istiod: istiod istiod in istio-system at 1.29.6, ready when Deployment/istiod",
        ]);
    });

    test("default: an ingress gateway after the control plane", () => {
        expect(summary(installPlan(config({ profile: "default" })))).toEqual([
            "base: base istio-base in istio-system at 1.29.6",
            "istiod: istiod istiod in istio-system at 1.29.6, ready when Deployment/istiod",
            "istio-ingressgateway: gateway istio-ingressgateway in istio-system at 1.29.6, ready when Deployment/istio-ingressgateway",
        ]);
    });

    test("demo: both gateways and the four addons from the release's manifests", () => {
        expect(summary(installPlan(config({ profile: "demo" })))).toEqual([
            "base: base istio-base in istio-system at 1.29.6",
            "istiod: istiod istiod in istio-system at 1.29.6, ready when Deployment/istiod",
            "istio-ingressgateway: gateway istio-ingressgateway in istio-system at 1.29.6, ready when Deployment/istio-ingressgateway",
            "istio-egressgateway: gateway istio-egressgateway in istio-system at 1.29.6, ready when Deployment/istio-egressgateway",
            "prometheus: addon manifest prometheus.yaml in istio-system at 1.29.6, ready when Deployment/prometheus",
            "grafana: addon manifest grafana.yaml in istio-system at 1.29.6, ready when Deployment/grafana",
            "kiali: addon manifest kiali.yaml in istio-system at 1.29.6, ready when Deployment/kiali",
            "jaeger: addon manifest jaeger.yaml in istio-system at 1.29.6, ready when Deployment/jaeger",
        ]);
    });

    test("ambient: the CNI node agent in kube-system and ztunnel, both DaemonSets, before the gateways", () => {
        expect(summary(installPlan(config({ profile: "ambient" })))).toEqual([
            "base: base istio-base in istio-system at 1.29.6",
            "istiod: istiod istiod in istio-system at 1.29.6, ready when Deployment/istiod",
            "cni: cni istio-cni in kube-system at 1.29.6, ready when DaemonSet/istio-cni-node",
            "ztunnel: ztunnel ztunnel in istio-system at 1.29.6, ready when DaemonSet/ztunnel",
            "istio-ingressgateway: gateway istio-ingressgateway in istio-system at 1.29.6, ready when Deployment/istio-ingressgateway",
        ]);
    });

    test("settings over the profile: no gateways, one addon", () => {
        const c = config({
            profile: "demo",
            gateways: [],
            addons: { prometheus: true, grafana: false, kiali: false, jaeger: false },
        });
        expect(summary(installPlan(c))).toEqual([
            "base: base istio-base in istio-system at 1.29.6",
            "istiod: istiod istiod in istio-system at 1.29.6, ready when Deployment/istiod",
            "prometheus: addon manifest prometheus.yaml in istio-system at 1.29.6, ready when Deployment/prometheus",
        ]);
    });

    test("another control plane namespace, and CNI in a namespace of its own", () => {
        const c = config({
            profile: "minimal",
            namespace: "mesh-control",
            cni: { enabled: true, namespace: "istio-cni" },
        });
        expect(summary(installPlan(c))).toEqual([
            "base: base istio-base in mesh-control at 1.29.6",
            "istiod: istiod istiod in mesh-control at 1.29.6, ready when Deployment/istiod",
            "cni: cni istio-cni in istio-cni at 1.29.6, ready when DaemonSet/istio-cni-node",
        ]);
    });

    test("a gateway in its own namespace is installed there, under its own name", () => {
        const c = config({
            profile: "minimal",
            gateways: [{ name: "edge", kind: "ingress", namespace: "edge-system" }],
        });
        expect(summary(planEntries(installPlan(c), "gateway"))).toEqual([
            "edge: gateway edge in edge-system at 1.29.6, ready when Deployment/edge",
        ]);
    });

    test("canary revisions: one istiod per revision, each at its version from that version's charts", () => {
        const c = parseStackConfig(
            {
                version: "1.30.3",
                profile: "minimal",
                gatewayApi: { enabled: false },
                revisions: [{ name: "1-29-6", version: "1.29.6" }, { name: "1-30-3" }],
                revisionTags: { default: "1-29-6" },
            },
            __dirname,
        );
        const istiods = planEntries(installPlan(c), "istiod");
        expect(summary(istiods)).toEqual([
            "istiod 1-29-6: istiod istiod-1-29-6 in istio-system at 1.29.6, ready when Deployment/istiod-1-29-6",
            "istiod 1-30-3: istiod istiod-1-30-3 in istio-system at 1.30.3, ready when Deployment/istiod-1-30-3",
        ]);
        expect(istiods.map((e) => e.source)).toEqual([c.chartSources["1.29.6"], c.chartSources["1.30.3"]]);
        // Each control plane's values name its own revision.
        expect(istiods.map((e) => e.values.revision)).toEqual(["1-29-6", "1-30-3"]);
    });

    test("a revision at a version without a chart source cannot be planned", () => {
        const c = config({ profile: "minimal" });
        const stray = { ...c.revisions[0], name: "old", version: { ...c.version, minor: 28, text: "1.28.10" } };
        expect(() => installPlan({ ...c, revisions: [stray] })).toThrow("no chart source for Istio 1.28.10");
    });

    test("each chart's values are what the chart is installed with: the gateway's name, CNI's namespace, base's default revision", () => {
        const plan = installPlan(config({ profile: "ambient", revision: "1-29-6" }));
        expect(planEntries(plan, "gateway")[0].values.name).toBe("istio-ingressgateway");
        expect(planEntries(plan, "cni")[0].values.global).toEqual({ istioNamespace: "istio-system" });
        expect(planEntries(plan, "base")[0].values.defaultRevision).toBe("");
        expect(planEntries(plan, "istiod")[0].release).toBe("istiod-1-29-6");
    });

    test("the release data downloads the charts of the plan, at the stack's version", () => {
        expect(chartsOf(config({ profile: "ambient" }))).toEqual(["base", "istiod", "cni", "ztunnel", "gateway"]);
        expect(chartsOf(config({ profile: "minimal" }))).toEqual(["base", "istiod"]);
    });

    test("the components output names the sources as the stack config sets them, not the mirror standing in", () => {
        const c = config({
            profile: "demo",
            addons: { prometheus: true, grafana: false, kiali: false, jaeger: false },
        });
        const resolved = {
            ...c,
            chartSource: "/mirror/charts",
            chartSources: { "1.29.6": "/mirror/charts" },
            addonSource: "/mirror/addons",
        };
        const versions = componentVersions(installPlan(resolved), c);
        expect(new Set(versions.map((v) => v.source))).toEqual(new Set([c.chartSource, c.addonSource]));
        expect(versions.find((v) => v.component === "prometheus")).toEqual({
            component: "prometheus",
            chart: "addon manifest",
            version: "1.29.6",
            namespace: "istio-system",
            workload: { kind: "Deployment", name: "prometheus" },
            source: c.addonSource,
        });
        expect(versions.find((v) => v.component === "base")).not.toHaveProperty("workload");
    });
});
