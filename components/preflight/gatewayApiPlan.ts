// What the stack does with the Gateway API CRDs, decided before any resource is
// registered from what the cluster already has: install or upgrade them (the
// stack's own, or none yet), or leave them to whoever installed them. The CRDs
// carry the release's `gateway.networking.k8s.io/bundle-version` and channel
// annotations; the stack marks the ones it applies with its stack id (which
// survives a rename or a move of the stack), so a later run finds them its own.
// Whoever owns them, the stack never applies the standard channel over the
// experimental one, nor an older release over a newer one. `planGatewayApi` is pure.
import { GatewayApiSettings } from "../config";
import { OWNER_ANNOTATION } from "../cluster/marks";

export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
export const BUNDLE_VERSION_ANNOTATION = "gateway.networking.k8s.io/bundle-version";
export const CHANNEL_ANNOTATION = "gateway.networking.k8s.io/channel";

/** A Gateway API CRD found on the cluster. */
export interface FoundCrd {
    name: string;
    /** The bundle-version annotation; undefined when absent. */
    bundleVersion?: string;
    channel?: string;
    owner?: string;
}

export type GatewayApiPlan =
    | { action: "install"; version: string; note: string }
    | { action: "leave"; installed: string; note: string; warn: boolean };

/** v1.5.1 -> [1, 5, 1]; undefined for anything else (a -dev or -rc build, a missing annotation). */
export function parseBundleVersion(v: string | undefined): [number, number, number] | undefined {
    const m = v ? /^v(\d+)\.(\d+)\.(\d+)$/.exec(v) : null;
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function compareBundleVersions(a: [number, number, number], b: [number, number, number]): number {
    return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

const TAKE_OVER = "istio-mesh:gatewayApi.takeOver: true";
const HAND_OFF = "istio-mesh:gatewayApi.enabled: false";

/**
 * Decides what to do with the Gateway API CRDs.
 * @param settings the validated `gatewayApi` section (enabled).
 * @param istioVersion for the messages, e.g. "1.30.3".
 * @param found the gateway.networking.k8s.io CRDs on the cluster.
 * @param owner this stack's id as the owner annotation holds it, or a test of an
 *   annotation's value (the stack's id, its name before ids, a destroyed stack's id).
 */
export function planGatewayApi(
    settings: GatewayApiSettings,
    istioVersion: string,
    found: FoundCrd[],
    owner: string | ((annotation: string | undefined) => boolean),
): GatewayApiPlan {
    const wanted = settings.version;
    const wantedParsed = parseBundleVersion(wanted);
    if (!wantedParsed) throw new Error(`no Gateway API version for Istio ${istioVersion}`);
    if (found.length === 0) {
        return { action: "install", version: wanted, note: `installing Gateway API ${wanted} CRDs (standard channel)` };
    }
    // The highest version among the CRDs: a partly upgraded set counts as that version.
    const versions = found.map((c) => c.bundleVersion ?? "(no bundle-version)");
    const parsed = found.map((c) => parseBundleVersion(c.bundleVersion));
    const known = parsed.filter((p): p is [number, number, number] => p !== undefined);
    const highest = known.sort(compareBundleVersions).at(-1);
    const installed = highest ? `v${highest.join(".")}` : [...new Set(versions)].join(", ");
    const isOurs = typeof owner === "string" ? (a: string | undefined) => a === owner : owner;
    const ours = found.some((c) => isOurs(c.owner));
    const experimental = found.filter((c) => c.channel === "experimental").map((c) => c.name);
    const newer = highest !== undefined && compareBundleVersions(highest, wantedParsed) > 0;

    if (experimental.length > 0) {
        // Applying the standard channel would drop the experimental kinds' fields (and
        // their objects' data) that another controller relies on: never, whoever owns them.
        return {
            action: "leave",
            installed,
            warn: true,
            note: `the cluster has Gateway API CRDs of the experimental channel (${experimental.join(", ")})${ours ? ", applied over the stack's own" : ", installed by someone else"}; the stack leaves them and never applies the standard channel over them (it would drop their experimental fields). Set ${HAND_OFF} to say so and silence this`,
        };
    }
    if (ours) {
        if (newer) {
            // Never downgraded: a CRD served at a newer version holds objects the older schema may not read.
            return {
                action: "install",
                version: installed,
                note: `keeping Gateway API ${installed} CRDs, newer than ${wanted} of Istio ${istioVersion}: the stack never downgrades them`,
            };
        }
        return {
            action: "install",
            version: wanted,
            note:
                installed === wanted
                    ? `Gateway API ${wanted} CRDs (standard channel)`
                    : `upgrading Gateway API CRDs ${installed} -> ${wanted} with Istio ${istioVersion}`,
        };
    }
    const names = found.map((c) => c.name).join(", ");
    if (highest === undefined) {
        if (settings.takeOver) {
            return {
                action: "install",
                version: wanted,
                note: `replacing Gateway API CRDs of no known version with ${wanted} (${TAKE_OVER})`,
            };
        }
        return {
            action: "leave",
            installed,
            warn: true,
            note: `the cluster has Gateway API CRDs without a ${BUNDLE_VERSION_ANNOTATION} annotation (${names}), installed by someone else; the stack leaves them. To replace them with ${wanted}, set ${TAKE_OVER}`,
        };
    }
    if (newer) {
        return {
            action: "leave",
            installed,
            warn: false,
            note: `the cluster has Gateway API ${installed} CRDs, newer than ${wanted} of Istio ${istioVersion}, installed by someone else; the stack leaves them as they are`,
        };
    }
    if (installed === wanted) {
        if (settings.takeOver) {
            return { action: "install", version: wanted, note: `taking over Gateway API ${wanted} CRDs` };
        }
        return {
            action: "leave",
            installed,
            warn: false,
            note: `the cluster has Gateway API ${installed} CRDs already, installed by someone else; the stack leaves them (${TAKE_OVER} makes them the stack's)`,
        };
    }
    if (settings.takeOver) {
        return {
            action: "install",
            version: wanted,
            note: `taking over Gateway API ${installed} CRDs and upgrading them to ${wanted} (${TAKE_OVER})`,
        };
    }
    return {
        action: "leave",
        installed,
        warn: true,
        note: `the cluster has Gateway API ${installed} CRDs, older than ${wanted} that Istio ${istioVersion} is built against, installed by someone else; the stack leaves them, and istiod ignores the kinds ${installed} lacks. To upgrade them with the stack, set ${TAKE_OVER}; if another tool owns them, set ${HAND_OFF}`,
    };
}

interface CrdObject {
    metadata: { name: string; annotations?: Record<string, string> };
    spec: { group: string };
}

/** The Gateway API CRDs among the cluster's CRDs (read once, with the ownership inventory). */
export function gatewayApiCrds(crds: CrdObject[]): FoundCrd[] {
    return crds
        .filter((crd) => crd.spec.group === GATEWAY_API_GROUP)
        .map((crd) => {
            const a = crd.metadata.annotations ?? {};
            return {
                name: crd.metadata.name,
                bundleVersion: a[BUNDLE_VERSION_ANNOTATION],
                channel: a[CHANNEL_ANNOTATION],
                owner: a[OWNER_ANNOTATION],
            };
        })
        .sort((x, y) => x.name.localeCompare(y.name));
}
