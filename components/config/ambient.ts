// Ambient data plane: `ambientNamespaces` (existing namespaces whose pods ztunnel
// serves instead of a sidecar) and `waypoints` (a waypoint proxy per namespace,
// declared as a Gateway API Gateway that istiod turns into a Deployment).
import { ControlPlane } from "./controlPlane";
import { LIMITS } from "./limits";
import { GATEWAY_NAME, NAMESPACE_NAME, readListedName, readName, readRequiredName, SYSTEM_NAMESPACES } from "./names";
import { childKey, field, ListShape, Reader, UniqueValues } from "./reader";

export const WAYPOINTS: ListShape = {
    items: "waypoints",
    settings: ["namespace", "name", "for"],
    limit: LIMITS.waypoints,
};

/** What traffic a waypoint handles (its `istio.io/waypoint-for` label), as Istio names it. */
export const WAYPOINT_TRAFFIC = ["service", "workload", "all", "none"] as const;
export type WaypointTraffic = (typeof WAYPOINT_TRAFFIC)[number];

export interface WaypointConfig {
    /** An ambient namespace of this stack (listed in ambientNamespaces); one waypoint per namespace. */
    namespace: string;
    /** Names the Gateway and the Deployment and Service istiod creates for it. @default "waypoint" */
    name: string;
    /** @default "service" (Istio's own default for a waypoint) */
    for: WaypointTraffic;
}

/**
 * Reads `ambientNamespaces`: only with profile ambient (which installs ztunnel), not
 * system namespaces or the control plane's, each once, and none also in
 * `injectionNamespaces` (a pod gets either a sidecar or ztunnel, not both).
 */
export function readAmbientNamespaces(
    r: Reader,
    v: unknown,
    control: ControlPlane,
    injectionNamespaces: string[],
): string[] {
    const list = r.list("ambientNamespaces", v, "namespace names", LIMITS.ambientNamespaces) ?? [];
    if (list.length > 0 && control.profile !== "ambient" && r.valid("profile")) {
        r.invalid(
            "ambientNamespaces",
            list,
            `needs profile ambient (it is ${control.profile}): only profile ambient installs ztunnel, which serves these namespaces' pods`,
        );
        return [];
    }
    const seen = new UniqueValues<string>(r, "list each namespace once");
    const namespaces: string[] = [];
    for (let i = 0; i < list.length; i++) {
        const key = childKey("ambientNamespaces", i);
        const namespace = readListedName(r, key, list[i], NAMESPACE_NAME);
        if (namespace === undefined) continue;
        if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
            r.invalid(key, namespace, "is a Kubernetes system namespace; its pods must stay outside the mesh");
        } else if (namespace === control.namespace && r.valid("namespace")) {
            r.invalid(key, namespace, "is the control-plane namespace; istiod and ztunnel in it stay outside the mesh");
        } else if (injectionNamespaces.includes(namespace)) {
            r.invalid(
                key,
                namespace,
                "is also in injectionNamespaces; a namespace's pods get a sidecar or ztunnel, not both: remove it from one of the two lists",
            );
        } else if (seen.claim(key, namespace)) {
            namespaces.push(namespace);
        }
    }
    return namespaces;
}

/** Reads `waypoints`: one per ambient namespace of this stack. */
export function readWaypoints(r: Reader, v: unknown, ambientNamespaces: string[]): WaypointConfig[] {
    const perNamespace = new UniqueValues<string>(r, "a namespace's istio.io/use-waypoint label names one waypoint");
    return r.objects("waypoints", v, WAYPOINTS, (w, key): WaypointConfig | undefined => {
        const namespaceKey = childKey(key, "namespace");
        const namespace = readRequiredName(
            r,
            namespaceKey,
            field(w, "namespace"),
            NAMESPACE_NAME,
            "the ambient namespace the waypoint serves",
        );
        const name = readName(r, childKey(key, "name"), field(w, "name"), GATEWAY_NAME) ?? "waypoint";
        const traffic =
            r.oneOf(childKey(key, "for"), field(w, "for"), WAYPOINT_TRAFFIC, "a waypoint traffic type") ?? "service";
        if (namespace === undefined || !r.valid(key)) return undefined;
        if (!ambientNamespaces.includes(namespace)) {
            if (!r.valid("ambientNamespaces", "profile")) return undefined;
            return r.invalid(
                namespaceKey,
                namespace,
                `is not in ambientNamespaces (${ambientNamespaces.join(", ") || "none"}); a waypoint serves ambient workloads: enrol the namespace there first`,
            );
        }
        return perNamespace.claim(namespaceKey, namespace) ? { namespace, name, for: traffic } : undefined;
    });
}
