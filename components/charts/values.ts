// Helm values for each Istio chart, built from the typed stack config. The same
// functions feed the components and the render tests, so what is rendered in the
// tests is what is deployed.
import * as path from "path";
import { GatewayConfig, isRemoteSource, Profile, RevisionConfig, StackConfig } from "../config";
import type { IstioChart } from "../config/installedCharts";

export type { IstioChart } from "../config/installedCharts";

export type Values = Record<string, unknown>;

/** The `profile` value the Istio charts understand; default and minimal have none. */
export function chartProfile(profile: Profile): string | undefined {
    return profile === "demo" || profile === "ambient" || profile === "preview" ? profile : undefined;
}

/** Where a chart comes from, in the shape Chart v4 (and `helm template`) take. */
export interface ChartLocation {
    /** A chart name, an oci:// reference or a local .tgz path. */
    chart: string;
    /** Set for repository and OCI charts; a local archive is already one version. */
    version?: string;
    /** Set for an https:// Helm repository. */
    repo?: string;
}

export function chartLocation(chart: IstioChart, config: Pick<StackConfig, "chartSource" | "version">): ChartLocation {
    return chartAt(chart, config.chartSource, config.version.text);
}

/** Where `chart` at `version` comes from, when `source` (a chartSource) holds it. */
export function chartAt(chart: IstioChart, source: string, version: string): ChartLocation {
    if (source.startsWith("oci://")) return { chart: `${source.replace(/\/$/, "")}/${chart}`, version };
    if (isRemoteSource(source)) return { chart, version, repo: source };
    return { chart: path.join(source, `${chart}-${version}.tgz`) };
}

/** The settings every chart's values read. */
export type ChartValueSettings = Pick<StackConfig, "profile" | "revision" | "namespace">;

/** Values every chart shares: profile, revision, control plane namespace. */
function commonValues(config: ChartValueSettings, revision = config.revision): Values {
    const profile = chartProfile(config.profile);
    return {
        ...(profile ? { profile } : {}),
        ...(revision ? { revision } : {}),
        global: { istioNamespace: config.namespace },
    };
}

export function baseValues(config: ChartValueSettings & Pick<StackConfig, "revisionTags">): Values {
    return {
        ...commonValues(config),
        // The default-revision validator in the base chart is patched by istiod just
        // like istiod's own; render the policy istiod converges to (see istiodValues).
        base: { validationFailurePolicy: VALIDATION_FAILURE_POLICY },
        // The cluster-wide default validator calls the revision behind the default tag
        // (or the unnamed default revision); a lone named revision has none.
        defaultRevision: config.revisionTags.default ?? (config.revision === "" ? "default" : ""),
    };
}

/**
 * istiod flips its validating webhook from Ignore to Fail once it has seen it reject
 * invalid config. Rendering Fail from the start means the flip changes nothing, no
 * diff appears, and no invalid resource slips through while istiod starts.
 */
export const VALIDATION_FAILURE_POLICY = "Fail";

/** The values of one control plane: the stack's settings, then istiodValues, then the revision's own values. */
export function istiodValues(
    config: ChartValueSettings & Pick<StackConfig, "mesh" | "cni" | "istiodValues" | "revisions">,
    revision: RevisionConfig = config.revisions[0],
): Values {
    const mesh = config.mesh;
    const merged = deepMerge(
        {
            ...commonValues(config, revision.name),
            // The stack owns the tags' webhooks as resources of their own (revisionTag.ts).
            revisionTags: [],
            base: { validationFailurePolicy: VALIDATION_FAILURE_POLICY },
            pilot: {
                traceSampling: mesh.tracingSampling,
                cni: { enabled: config.cni.enabled },
                // One replica everywhere keeps the demo and local footprints small;
                // production stacks raise it through istiodValues.
                autoscaleEnabled: config.profile !== "demo",
            },
            meshConfig: {
                accessLogFile: mesh.accessLogFile,
                enableAutoMtls: mesh.enableAutoMtls,
                outboundTrafficPolicy: { mode: mesh.outboundTrafficPolicy },
                enableTracing: mesh.tracingSampling > 0,
                // The chart's default, pinned: the mesh-wide PeerAuthentication of
                // mesh.mtls.mode is mesh-wide only in the root namespace.
                rootNamespace: config.namespace,
            },
        },
        config.istiodValues,
    );
    return deepMerge(merged, revision.istiodValues);
}

export function cniValues(config: ChartValueSettings): Values {
    return commonValues(config);
}

export function ztunnelValues(config: ChartValueSettings): Values {
    return { ...commonValues(config) };
}

/** The `istio` label the gateway chart gives a gateway's pods (its name less "istio-"); Istio Gateway resources select on it. */
export function gatewaySelectorLabel(gateway: Pick<GatewayConfig, "name">): string {
    return gateway.name.replace(/^istio-/, "");
}

export function gatewayValues(config: ChartValueSettings, gateway: GatewayConfig): Values {
    const service: Values = { type: gateway.serviceType };
    if (gateway.ports.length > 0) {
        service.ports = gateway.ports.map((p) => ({
            name: p.name,
            port: p.port,
            protocol: "TCP",
            targetPort: p.targetPort,
            ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
        }));
    }
    return {
        ...commonValues(config, gateway.revision ?? config.revision),
        // Pin the replica count: an HPA would fight the stack over it.
        replicaCount: gateway.replicas,
        autoscaling: { enabled: false },
        // The chart has no PodDisruptionBudget unless asked, and renders one only
        // for 2 or more replicas: then a node drain keeps at least one gateway pod.
        podDisruptionBudget: { minAvailable: 1 },
        name: gateway.name,
        service,
    };
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Merges `override` into `base` the way Helm merges values files: maps deeply, lists replaced. */
export function deepMerge(base: Values, override: Values): Values {
    const out: Values = { ...base };
    for (const [k, v] of Object.entries(override)) {
        const b = out[k];
        out[k] = isObject(b) && isObject(v) ? deepMerge(b, v) : v;
    }
    return out;
}
