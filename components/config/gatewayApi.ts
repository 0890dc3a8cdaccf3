// `gatewayApi`: the Kubernetes Gateway API CRDs (standard channel) that istiod's
// Gateway API support and ambient waypoints need. Istio's charts do not ship them;
// the stack installs the version the chosen Istio release is built against.
import { Version } from "./version";
import { SUPPORTED_MINORS } from "./allowed";
import { field, isSet, Reader } from "./reader";
import { checkLocalFiles, readSource } from "./sources";
import { GatewayApiSettings } from "./types";

export const GATEWAY_API_SETTINGS = ["enabled", "source", "takeOver", "deleteCrdsOnDestroy"] as const;

/** The official release downloads; `{version}` is the Gateway API version, e.g. v1.5.1. */
export const DEFAULT_GATEWAY_API_SOURCE = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}";

/** The file of the standard channel in a release (and in a local source directory). */
export const GATEWAY_API_MANIFEST = "standard-install.yaml";

/**
 * The Gateway API version each supported Istio minor is built against: the
 * `sigs.k8s.io/gateway-api` requirement of the release's go.mod. Istio 1.30 reads
 * TLSRoute and ListenerSet only from the v1.5 CRDs.
 */
export const GATEWAY_API_FOR_ISTIO: Record<(typeof SUPPORTED_MINORS)[number], string> = {
    "1.28": "v1.4.1",
    "1.29": "v1.4.1",
    "1.30": "v1.5.1",
};

/** The Gateway API version Istio `version` is built against; undefined for a minor this stack does not know. */
export function gatewayApiVersionFor(version: Version): string | undefined {
    const minor = `${version.major}.${version.minor}`;
    return (GATEWAY_API_FOR_ISTIO as Record<string, string | undefined>)[minor];
}

/**
 * Reads `gatewayApi`. `version` is undefined when istio-mesh:version was refused:
 * the source is then not checked, as its only problem would be the version's.
 */
export function readGatewayApi(
    r: Reader,
    v: unknown,
    version: Version | undefined,
    baseDir: string,
): GatewayApiSettings {
    const raw = r.object("gatewayApi", v, GATEWAY_API_SETTINGS) ?? {};
    const enabled = r.boolean("gatewayApi.enabled", field(raw, "enabled")) ?? true;
    const deleteCrdsOnDestroy = r.boolean("gatewayApi.deleteCrdsOnDestroy", field(raw, "deleteCrdsOnDestroy")) ?? false;
    const apiVersion = version ? gatewayApiVersionFor(version) : undefined;
    // Settings of CRDs the stack does not install are refused as such: the off switch
    // is the root cause, not whatever else is wrong with them.
    const off = !enabled && r.valid("gatewayApi.enabled");
    for (const setting of off ? ["source", "takeOver"] : []) {
        const value = field(raw, setting);
        if (!isSet(value)) continue;
        r.invalid(
            `gatewayApi.${setting}`,
            value,
            "is for the Gateway API CRDs, which the stack does not install (gatewayApi.enabled: false); remove it, or turn them on",
        );
    }
    const takeOver = (!off && r.boolean("gatewayApi.takeOver", field(raw, "takeOver"))) || false;
    const source = readSource(
        r,
        { "gatewayApi.source": off ? undefined : field(raw, "source") },
        "gatewayApi.source",
        DEFAULT_GATEWAY_API_SOURCE,
        apiVersion,
        baseDir,
    );
    if (enabled && apiVersion !== undefined) {
        checkLocalFiles(
            r,
            source,
            [GATEWAY_API_MANIFEST],
            `a local Gateway API source holds the release's ${GATEWAY_API_MANIFEST}; {version} is replaced by ${apiVersion}, the version Istio ${version?.text ?? ""} is built against`,
        );
    }
    return { enabled, version: apiVersion ?? "", source: source.location, takeOver, deleteCrdsOnDestroy };
}
