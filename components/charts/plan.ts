// The install plan: what a stack installs on its cluster, as data. One pure
// function of the validated config; every consumer reads it instead of deciding
// for itself: the mesh builds one component per entry (istioMesh.ts), the release
// data downloads each entry's chart or manifest (releases.ts), the `components`
// output and `npm run status` check each entry's workload, the render tests and
// the benchmark's Helm path install the same charts with the same values. Adding
// a chart is one entry here (and its values builder), plus at most one small
// component. The plan is of one cluster: a stack spanning several plans each.
import { Addon, GatewayConfig, RevisionConfig, StackConfig } from "../config";
import { installedCharts, IstioChart } from "../config/installedCharts";
import { ADDON_UI } from "./addonManifests";
import { baseValues, cniValues, gatewayValues, istiodValues, Values, ztunnelValues } from "./values";

/** The workload whose readiness tells whether a component is up. */
export interface Workload {
    kind: "Deployment" | "DaemonSet";
    name: string;
}

/** What every entry says. */
interface PlanEntryBase {
    /** Its name in the stack's `components` output and `npm run status`: "base", "istiod", a gateway's name... */
    component: string;
    /** The namespace it is installed in. */
    namespace: string;
    /** The Istio release it comes from. */
    version: string;
    /**
     * Where it is read from: the chart source of its version, or the addon source,
     * as `config` has them (after resolveReleaseData, the local directory standing in).
     */
    source: string;
    /** The workload that shows it is ready; base has none (its CRDs are checked instead). */
    workload?: Workload;
}

/** A Helm chart, installed as one release. */
export interface ChartEntry extends PlanEntryBase {
    chart: IstioChart;
    /** The Helm release name (the gateway and istiod charts name their workloads after it). */
    release: string;
    /** The chart values, from the values builders (values.ts). */
    values: Values;
}

/** Istio's CRDs and cluster-wide objects. */
export interface BaseEntry extends ChartEntry {
    chart: "base";
}

/** One control plane: a revision's istiod. */
export interface IstiodEntry extends ChartEntry {
    chart: "istiod";
    revision: RevisionConfig;
    workload: Workload;
}

/** A node agent: the CNI plugin's or ambient's ztunnel. */
export interface NodeAgentEntry extends ChartEntry {
    chart: "cni" | "ztunnel";
    workload: Workload;
}

/** An ingress or egress gateway. */
export interface GatewayEntry extends ChartEntry {
    chart: "gateway";
    gateway: GatewayConfig;
    workload: Workload;
}

/** An observability addon, from the release's own manifest. */
export interface AddonEntry extends PlanEntryBase {
    chart: "addon manifest";
    addon: Addon;
    /** The manifest's file name in the addon source. */
    file: string;
    workload: Workload;
}

export type PlanEntry = BaseEntry | IstiodEntry | NodeAgentEntry | GatewayEntry | AddonEntry;

/** The name the istiod chart gives a revision's Deployment and Service (and the stack its release). */
export function istiodDeploymentName(revision: string): string {
    return revision ? `istiod-${revision}` : "istiod";
}

/**
 * Everything the stack installs, in install order: base, one istiod per revision,
 * cni, ztunnel, the gateways, the addons. The Gateway API CRDs are not in it: whether
 * the stack installs them depends on what the cluster has (preflight/gatewayApiPlan.ts).
 * @throws Error when a revision at another Istio version has no chart source in `config.chartSources`
 */
export function installPlan(config: StackConfig): PlanEntry[] {
    const version = config.version.text;
    const charts = installedCharts(config);
    const chartSource = config.chartSource;
    const plan: PlanEntry[] = [
        {
            component: "base",
            chart: "base",
            release: "istio-base",
            namespace: config.namespace,
            version,
            source: chartSource,
            values: baseValues(config),
        },
    ];
    for (const revision of config.revisions) {
        // The stack's own version may be missing from chartSources in a config built by hand.
        const source =
            config.chartSources[revision.version.text] ?? (revision.version.text === version ? chartSource : undefined);
        if (source === undefined) throw new Error(`no chart source for Istio ${revision.version.text}`);
        const release = istiodDeploymentName(revision.name);
        plan.push({
            component: config.revisions.length === 1 ? "istiod" : `istiod ${revision.name || "default"}`,
            chart: "istiod",
            release,
            namespace: config.namespace,
            version: revision.version.text,
            source,
            values: istiodValues(config, revision),
            revision,
            workload: { kind: "Deployment", name: release },
        });
    }
    if (charts.includes("cni")) {
        plan.push({
            component: "cni",
            chart: "cni",
            release: "istio-cni",
            // kube-system by default, where node-level agents belong and privileged pods are allowed.
            namespace: config.cni.namespace,
            version,
            source: chartSource,
            values: cniValues(config),
            workload: { kind: "DaemonSet", name: "istio-cni-node" },
        });
    }
    if (charts.includes("ztunnel")) {
        plan.push({
            component: "ztunnel",
            chart: "ztunnel",
            release: "ztunnel",
            namespace: config.namespace,
            version,
            source: chartSource,
            values: ztunnelValues(config),
            workload: { kind: "DaemonSet", name: "ztunnel" },
        });
    }
    for (const gateway of config.gateways) {
        plan.push({
            component: gateway.name,
            chart: "gateway",
            release: gateway.name,
            namespace: gateway.namespace,
            version,
            source: chartSource,
            values: gatewayValues(config, gateway),
            gateway,
            workload: { kind: "Deployment", name: gateway.name },
        });
    }
    for (const addon of config.addons.enabled) {
        plan.push({
            component: addon,
            chart: "addon manifest",
            addon,
            file: `${addon}.yaml`,
            namespace: config.namespace,
            version,
            source: config.addonSource,
            workload: { kind: "Deployment", name: ADDON_UI[addon].deployment },
        });
    }
    return plan;
}

/** The plan's entries of one kind, typed: `planEntries(plan, "gateway")`. */
export function planEntries<C extends PlanEntry["chart"]>(
    plan: readonly PlanEntry[],
    chart: C,
): (PlanEntry & { chart: C })[] {
    return plan.filter((e): e is PlanEntry & { chart: C } => e.chart === chart);
}
