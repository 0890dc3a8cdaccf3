// The names the stack's own charts and manifests give to namespaced objects. The
// gateway chart names a gateway's Deployment, Service, ServiceAccount and Role
// after the gateway, so a gateway that takes one of these names in the same
// namespace would overwrite (or be selected by) a part of the stack itself.
import { Addon, Profile } from "./allowed";
import { AddonExposure, CniSettings } from "./types";

/** Namespaced objects each addon's release manifest creates (Deployments, Services, ServiceAccounts). */
const ADDON_OBJECT_NAMES: Record<Addon, readonly string[]> = {
    prometheus: ["prometheus"],
    grafana: ["grafana"],
    kiali: ["kiali"],
    jaeger: ["jaeger", "tracing", "zipkin", "jaeger-collector"],
};

export interface StackLayout {
    /** The control plane namespace. */
    namespace: string;
    profile: Profile;
    cni: CniSettings;
    addons: { enabled: Addon[]; exposure: AddonExposure };
}

/** What part of the stack already uses `name` in `namespace`, or undefined when the name is free there. */
export function stackObjectNamed(layout: StackLayout, namespace: string, name: string): string | undefined {
    if (namespace === layout.namespace) {
        // Any revision: during a canary upgrade two istiods run side by side, and
        // revision tags add istiod-revision-tag-<tag> Services.
        if (name === "istiod" || name.startsWith("istiod-")) {
            return "istiod (its Deployment, Service and ServiceAccount are istiod or istiod-<revision>)";
        }
        if (name === "istio-reader-service-account") return "the base chart's ServiceAccount";
        if (layout.profile === "ambient" && name === "ztunnel") return "ztunnel (its DaemonSet and ServiceAccount)";
        for (const addon of layout.addons.enabled) {
            if (ADDON_OBJECT_NAMES[addon].includes(name)) return `addon ${addon} (its Deployment or Services)`;
            if (layout.addons.exposure.mode === "nodePort" && name === `${addon}-nodeport`) {
                return `addon ${addon}'s node-port Service`;
            }
        }
    }
    if (layout.cni.enabled && namespace === layout.cni.namespace && name === "istio-cni") {
        return "the CNI plugin's ServiceAccount";
    }
    return undefined;
}
