// The data-plane line of `npm run status`: per revision, the proxies connected
// to its istiod, whether each has applied what istiod last sent, and their
// versions, from istiod's /debug/syncz (reached through the API server's pod
// proxy on 15014). Pure, so the unit tests need no cluster.

/** One entry of istiod's /debug/syncz (pilot/pkg/xds/debug.go SyncStatus); only what the line reads. */
export interface SyncStatus {
    proxy?: string;
    proxy_type?: string;
    cluster_id?: string;
    istio_version?: string;
    /** Per type URL: the nonce istiod sent last and the one the proxy acknowledged. */
    resources?: Record<string, { sent?: string; acked?: string; lastError?: string }>;
}

/** What one istiod pod answered: its syncz, or why there is none. */
export interface SynczResult {
    pod: string;
    syncz?: SyncStatus[];
    error?: string;
}

/**
 * A proxy is SYNCED when, for every type istiod has sent it, it acknowledged the
 * last nonce sent; STALE otherwise (as `istioctl proxy-status` judges per type).
 */
export function proxySynced(s: SyncStatus): boolean {
    return Object.values(s.resources ?? {}).every((r) => !r.sent || r.sent === r.acked);
}

/** Short type names of what a proxy has not acknowledged (CDS, LDS, ...). */
function staleTypes(s: SyncStatus): string[] {
    return Object.entries(s.resources ?? {})
        .filter(([, r]) => r.sent && r.sent !== r.acked)
        .map(([type]) => shortType(type));
}

const SHORT_TYPES: Record<string, string> = {
    "type.googleapis.com/envoy.config.cluster.v3.Cluster": "CDS",
    "type.googleapis.com/envoy.config.listener.v3.Listener": "LDS",
    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration": "RDS",
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment": "EDS",
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret": "SDS",
    "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig": "ECDS",
    "type.googleapis.com/istio.workload.Address": "WDS",
    "type.googleapis.com/istio.security.Authorization": "WADS",
};

function shortType(typeUrl: string): string {
    return SHORT_TYPES[typeUrl] ?? typeUrl.replace(/^.*\//, "");
}

/** At most this many stale proxies are named on the line; the rest are counted. */
const NAMED_STALE = 3;

/**
 * `data plane <revision>: N proxies (S SYNCED, T STALE), versions 1.30.3 x2, ...`;
 * stale proxies named with the types they have not acknowledged; istiod pods
 * that did not answer named with the reason.
 */
export function dataPlaneLine(revision: string, results: SynczResult[]): string {
    const proxies = results.flatMap((r) => r.syncz ?? []);
    const failed = results.filter((r) => r.error !== undefined);
    const head = `data plane ${revision}:`;
    if (results.length === 0) return `${head} no istiod pod`;
    if (failed.length === results.length) {
        return `${head} unknown (${failed.map((f) => `${f.pod}: ${f.error}`).join("; ")})`;
    }
    const stale = proxies.filter((p) => !proxySynced(p));
    const versions = new Map<string, number>();
    for (const p of proxies) {
        const v = p.istio_version || "unknown";
        versions.set(v, (versions.get(v) ?? 0) + 1);
    }
    const parts = [
        `${proxies.length} ${proxies.length === 1 ? "proxy" : "proxies"} (${proxies.length - stale.length} SYNCED, ${stale.length} STALE)`,
    ];
    if (versions.size > 0) {
        const sorted = [...versions.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
        parts.push(`versions ${sorted.map(([v, n]) => `${v} x${n}`).join(", ")}`);
    }
    if (stale.length > 0) {
        const named = stale.slice(0, NAMED_STALE).map((p) => `${p.proxy ?? "?"} (${staleTypes(p).join(",")})`);
        const more = stale.length > NAMED_STALE ? ` and ${stale.length - NAMED_STALE} more` : "";
        parts.push(`STALE: ${named.join(", ")}${more}`);
    }
    if (failed.length > 0) parts.push(`not answering: ${failed.map((f) => `${f.pod}: ${f.error}`).join("; ")}`);
    return `${head} ${parts.join("; ")}`;
}
