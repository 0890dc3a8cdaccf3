// Which Istio charts a stack installs: the one rule behind the install plan
// (charts/plan.ts), which the mesh, the release data, the benchmark and the status
// command read, and behind the parser's check of a local chart source, which runs
// before there is a whole config to plan from. Pure and in config/ so that both
// can read it (config is the bottom layer).
import { Profile } from "./allowed";

/** The charts this stack installs, by their names in the Istio Helm repository. */
export type IstioChart = "base" | "istiod" | "cni" | "gateway" | "ztunnel";

/** The settings that decide which charts are installed. */
export interface ChartSettings {
    profile: Profile;
    cni: { enabled: boolean };
    gateways: readonly unknown[];
}

/**
 * The charts of the stack's own Istio version, in the order messages list them:
 * base and istiod always (istiod once per revision at that version), a gateway
 * chart when there are gateways, cni when it is on, ztunnel for the ambient profile.
 */
export function installedCharts(settings: ChartSettings): IstioChart[] {
    const charts: IstioChart[] = ["base", "istiod"];
    if (settings.gateways.length > 0) charts.push("gateway");
    if (settings.cni.enabled) charts.push("cni");
    if (settings.profile === "ambient") charts.push("ztunnel");
    return charts;
}
