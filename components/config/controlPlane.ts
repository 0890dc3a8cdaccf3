// The settings that place and identify the control plane: version, profile,
// namespace, revision and upgrade strategy. Every other section depends on them.
import { parseVersion, Version } from "./version";
import {
    NEWEST_KNOWN_PATCH,
    PROFILES,
    Profile,
    SUPPORTED_MINORS,
    UPGRADE_STRATEGIES,
    UpgradeStrategy,
} from "./allowed";
import { NAMESPACE_NAME, readName, refuseName, REVISION, SYSTEM_NAMESPACES } from "./names";
import { field, isSet, Reader } from "./reader";

export interface ControlPlane {
    /** A placeholder 0.0.0 when the version was refused (see `r.valid("version")`). */
    version: Version;
    profile: Profile;
    namespace: string;
    revision: string;
    upgradeStrategy: UpgradeStrategy;
}

/**
 * Namespaces that must not hold the control plane: the stack creates its namespace
 * and deletes it on destroy, and Kubernetes keeps these for itself.
 */
const KUBERNETES_NAMESPACES: readonly string[] = [...SYSTEM_NAMESPACES, "default"];

export function readControlPlane(r: Reader, root: Record<string, unknown>): ControlPlane {
    const version = readVersion(r, "version", field(root, "version")) ?? PLACEHOLDER_VERSION;
    const profile = r.oneOf("profile", field(root, "profile"), PROFILES, "a profile") ?? "default";

    let namespace = readName(r, "namespace", field(root, "namespace"), NAMESPACE_NAME) ?? "istio-system";
    if (KUBERNETES_NAMESPACES.includes(namespace)) {
        r.invalid(
            "namespace",
            namespace,
            "is not a valid control-plane namespace: Kubernetes keeps kube-system, kube-public, kube-node-lease and default for itself, and the stack deletes its namespace on destroy; use one of its own such as istio-system",
        );
        namespace = "istio-system";
    }

    const revision = readRevision(r, field(root, "revision"));
    // Listed revisions run side by side: changing the version of the CRDs and CNI is then a canary step.
    const listed = isSet(field(root, "revisions"));
    const upgradeStrategy =
        r.oneOf("upgradeStrategy", field(root, "upgradeStrategy"), UPGRADE_STRATEGIES, "an upgrade strategy") ??
        (listed ? "canary" : "in-place");
    if (upgradeStrategy === "canary" && revision === "" && !listed && r.valid("revision")) {
        r.invalid(
            "upgradeStrategy",
            upgradeStrategy,
            "needs istio-mesh:revision (or istio-mesh:revisions) set: canary control planes are told apart by revision",
        );
    }
    return { version, profile, namespace, revision, upgradeStrategy };
}

/** Stands in for a refused version, so later checks have a value; `r.valid("version")` tells it apart. */
const PLACEHOLDER_VERSION: Version = { major: 0, minor: 0, patch: 0, text: "0.0.0" };

/** An Istio release of a supported minor; undefined (and a problem) when it is refused, or unset and `required`. */
export function readVersion(r: Reader, key: string, v: unknown, required = true): Version | undefined {
    if (!isSet(v)) {
        if (!required) return undefined;
        return r.required(
            key,
            `set it to an Istio release such as 1.29.6 (supported minors: ${SUPPORTED_MINORS.join(", ")})`,
        );
    }
    const parsed = typeof v === "string" ? parseVersion(v) : undefined;
    if (!parsed) {
        r.invalid(key, v, "is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6");
        return undefined;
    }
    if (!(SUPPORTED_MINORS as readonly string[]).includes(`${parsed.major}.${parsed.minor}`)) {
        r.invalid(key, v, `is not a supported release; supported minors: ${SUPPORTED_MINORS.join(", ")}`);
        return undefined;
    }
    const minor = `${parsed.major}.${parsed.minor}` as (typeof SUPPORTED_MINORS)[number];
    const newest = NEWEST_KNOWN_PATCH[minor];
    if (parsed.patch > newest) {
        r.invalid(
            key,
            v,
            `is not a known Istio release; known ${minor} releases: ${minor}.0 to ${minor}.${newest} (a newer patch needs a newer istio-mesh, which knows it)`,
        );
        return undefined;
    }
    return parsed;
}

function readRevision(r: Reader, v: unknown): string {
    if (v === "") return "";
    const revision = readName(r, "revision", v, REVISION);
    if (revision === "default") {
        // "default" is the tag Istio gives the default revision; as a revision it would clash with it.
        refuseName(r, "revision", revision, REVISION);
        return "";
    }
    return revision ?? "";
}
