// Which workloads get sidecars: `injectionNamespaces` (namespaces labelled for
// injection, each following a tag or revision) and `sidecarRollout` (workloads
// restarted when the proxy changes).
// Each entry becomes a Pulumi resource named after it, so a duplicate would not
// even reach the cluster: it would stop the program with a duplicate-URN error;
// two different workloads whose names spell the same resource name get distinct
// ones (rolloutResourceNames).
import { WORKLOAD_KINDS } from "./allowed";
import { ControlPlane } from "./controlPlane";
import { LIMITS } from "./limits";
import { NAMESPACE_NAME, readListedName, readRequiredName, SYSTEM_NAMESPACES, WORKLOAD_NAME } from "./names";
import { childKey, field, isPlainObject, isSet, ListShape, Reader, UniqueValues } from "./reader";
import { DEFAULT_TAG, resolveFollows, Revisions } from "./revisions";
import { NamespaceEnrollment, WorkloadRef } from "./types";

export const SIDECAR_ROLLOUT: ListShape = {
    items: "workloads",
    settings: ["namespace", "kind", "name"],
    limit: LIMITS.sidecarRollout,
};

export const ENROLLMENT_SETTINGS = ["name", "revision", "restartOnChange"] as const;

/** Reads `injectionNamespaces`: names, or {name, revision, restartOnChange} for namespaces that follow a tag. */
export function readInjectionNamespaces(
    r: Reader,
    v: unknown,
    control: ControlPlane,
    revs: Revisions,
): NamespaceEnrollment[] {
    const ambient = control.profile === "ambient";
    if (!isSet(v)) {
        if (ambient) return [];
        const follows = defaultFollows(revs);
        if (follows === undefined) return [];
        return [{ name: "default", follows, revision: revs.defaultRevision ?? "", restartOnChange: false }];
    }
    // Profile ambient labels no namespace for sidecars by default, but sidecar and
    // ambient workloads share one mesh: a namespace can move from one to the other.
    const seen = new UniqueValues<string>(r, "list each namespace once");
    const what = `namespace names or {${ENROLLMENT_SETTINGS.join(", ")}}`;
    return r.items("injectionNamespaces", v, what, LIMITS.injectionNamespaces, (listed, key) => {
        const item = isPlainObject(listed) ? r.item(key, listed, ENROLLMENT_SETTINGS) : undefined;
        const nameKey = item ? childKey(key, "name") : key;
        const namespace = item
            ? readRequiredName(r, nameKey, field(item, "name"), NAMESPACE_NAME, "the namespace to label")
            : readListedName(r, key, listed, NAMESPACE_NAME);
        const follows = item && isSet(field(item, "revision")) ? field(item, "revision") : defaultFollows(revs);
        const restartOnChange =
            (item && r.boolean(childKey(key, "restartOnChange"), field(item, "restartOnChange"))) ?? false;
        if (namespace === undefined) return undefined;
        if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
            r.invalid(
                nameKey,
                namespace,
                "is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down",
            );
            return undefined;
        }
        if (namespace === control.namespace && r.valid("namespace")) {
            r.invalid(
                nameKey,
                namespace,
                "is the control-plane namespace; the stack owns it, and istiod and the addons in it must not get sidecars",
            );
            return undefined;
        }
        const followsKey = childKey(key, "revision");
        if (follows === undefined) {
            if (r.valid("revisions", "revisionTags")) {
                r.required(
                    followsKey,
                    `the stack runs several revisions and has no default tag; name the tag or revision this namespace follows (${revs.revisions.map((rev) => rev.name).join(", ")})`,
                );
            }
            return undefined;
        }
        if (typeof follows !== "string") {
            r.invalid(followsKey, follows, "is not a tag or revision name");
            return undefined;
        }
        const revision = follows === "" ? "" : resolveFollows(r, followsKey, follows, revs);
        if (revision === undefined || !seen.claim(nameKey, namespace)) return undefined;
        return { name: namespace, follows, revision, restartOnChange };
    });
}

/** The default tag when there is one; else the single revision ("" for the unnamed default revision). */
function defaultFollows(revs: Revisions): string | undefined {
    if (revs.tags[DEFAULT_TAG] !== undefined) return DEFAULT_TAG;
    return revs.revisions.length === 1 ? revs.revisions[0].name : undefined;
}

/**
 * Reads `sidecarRollout`. `stackWorkload` names the part of the stack a workload
 * is (istiod, a gateway, an addon), or undefined: those the stack updates with
 * their charts, so a restart stamp on them would roll the control plane itself.
 */
export function readSidecarRollout(
    r: Reader,
    v: unknown,
    stackWorkload: (namespace: string, name: string) => string | undefined = () => undefined,
): WorkloadRef[] {
    const seen = new UniqueValues<string>(r, "list each workload once");
    return r.objects("sidecarRollout", v, SIDECAR_ROLLOUT, (w, key): WorkloadRef | undefined => {
        const kindKey = childKey(key, "kind");
        const kind = r.oneOf(kindKey, field(w, "kind"), WORKLOAD_KINDS, "a workload kind") ?? "Deployment";
        const namespace = readRequiredName(
            r,
            childKey(key, "namespace"),
            field(w, "namespace"),
            NAMESPACE_NAME,
            "the namespace of the workload",
        );
        const name = readRequiredName(r, childKey(key, "name"), field(w, "name"), WORKLOAD_NAME, "the workload's name");
        if (namespace === undefined || name === undefined || !r.valid(kindKey)) return undefined;
        const workload: WorkloadRef = { namespace, kind, name };
        if (!seen.claim(key, `${namespace}/${kind}/${name}`, workload)) return undefined;
        const own = stackWorkload(namespace, name);
        if (own === undefined) return workload;
        return r.invalid(
            childKey(key, "name"),
            name,
            `is the stack's own ${own} in namespace ${namespace}: the stack updates it with its chart, and a restart stamp would roll it on every proxy change; remove it from sidecarRollout`,
        );
    });
}

/**
 * The name of each workload's restart patch, in list order: `<namespace>-<kind>-<name>`,
 * as before; two different workloads can spell the same one (namespace a-deployment,
 * name w and namespace a, name deployment-w), and then every later one is named
 * `<namespace>/<kind>/<name>`, which no other workload can spell (a namespace holds no
 * '/'). So both are restarted, and an entry that was alone keeps its name.
 */
export function rolloutResourceNames(workloads: readonly WorkloadRef[]): string[] {
    const taken = new Set<string>();
    return workloads.map((w) => {
        const legacy = `${w.namespace}-${w.kind.toLowerCase()}-${w.name}`;
        const name = taken.has(legacy) ? `${w.namespace}/${w.kind.toLowerCase()}/${w.name}` : legacy;
        taken.add(name);
        return name;
    });
}
