// What each addon manifest of an Istio release (samples/addons) runs and serves:
// release data, like a chart's names for its workloads. The install plan
// (plan.ts) takes each addon's workload from here; the addons component
// (addons/observability.ts) its Service, port and pod selector.
import { Addon } from "../config";

/** How each addon's manifest runs and serves its UI: Deployment, Service name, port and pod selector. */
export const ADDON_UI: Record<
    Addon,
    { deployment: string; service: string; port: number; targetPort: number; selector: Record<string, string> }
> = {
    prometheus: {
        deployment: "prometheus",
        service: "prometheus",
        port: 9090,
        targetPort: 9090,
        selector: {
            "app.kubernetes.io/component": "server",
            "app.kubernetes.io/name": "prometheus",
            "app.kubernetes.io/instance": "prometheus",
        },
    },
    grafana: {
        deployment: "grafana",
        service: "grafana",
        port: 3000,
        targetPort: 3000,
        selector: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" },
    },
    kiali: {
        deployment: "kiali",
        service: "kiali",
        port: 20001,
        targetPort: 20001,
        selector: { "app.kubernetes.io/name": "kiali", "app.kubernetes.io/instance": "kiali" },
    },
    jaeger: { deployment: "jaeger", service: "tracing", port: 80, targetPort: 16686, selector: { app: "jaeger" } },
};
