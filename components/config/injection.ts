// Which workloads get sidecars: `injectionNamespaces` (namespaces labelled for
// injection, each following a tag or revision) and `sidecarRollout` (workloads
// restarted when the proxy changes).
// Each entry becomes a Pulumi resource named after it, so a duplicate would not
// even reach the cluster: it would stop the program with a duplicate-URN error.
import { WORKLOAD_KINDS } from "./allowed";
import { ControlPlane } from "./controlPlane";
import { NAMESPACE_NAME, readListedName, readRequiredName, SYSTEM_NAMESPACES, WORKLOAD_NAME } from "./names";
import { childKey, field, isPlainObject, isSet, Reader, UniqueValues } from "./reader";
import { DEFAULT_TAG, resolveFollows, Revisions } from "./revisions";
import { NamespaceEnrollment, WorkloadRef } from "./types";

const ROLLOUT_SETTINGS = ["namespace", "kind", "name"] as const;

const ENROLLMENT_SETTINGS = ["name", "revision", "restartOnChange"] as const;

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
    const list = r.list("injectionNamespaces", v, `namespace names or {${ENROLLMENT_SETTINGS.join(", ")}}`) ?? [];
    const seen = new UniqueValues<string>(r, "list each namespace once");
    const namespaces: NamespaceEnrollment[] = [];
    for (let i = 0; i < list.length; i++) {
        const key = childKey("injectionNamespaces", i);
        const item = isPlainObject(list[i]) ? r.item(key, list[i], ENROLLMENT_SETTINGS) : undefined;
        const nameKey = item ? childKey(key, "name") : key;
        const namespace = item
            ? readRequiredName(r, nameKey, field(item, "name"), NAMESPACE_NAME, "the namespace to label")
            : readListedName(r, key, list[i], NAMESPACE_NAME);
        const follows = item && isSet(field(item, "revision")) ? field(item, "revision") : defaultFollows(revs);
        const restartOnChange =
            (item && r.boolean(childKey(key, "restartOnChange"), field(item, "restartOnChange"))) ?? false;
        if (namespace === undefined) continue;
        if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
            r.invalid(
                nameKey,
                namespace,
                "is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down",
            );
            continue;
        }
        if (namespace === control.namespace && r.valid("namespace")) {
            r.invalid(
                nameKey,
                namespace,
                "is the control-plane namespace; the stack owns it, and istiod and the addons in it must not get sidecars",
            );
            continue;
        }
        const followsKey = childKey(key, "revision");
        if (follows === undefined) {
            if (r.valid("revisions", "revisionTags")) {
                r.required(
                    followsKey,
                    `the stack runs several revisions and has no default tag; name the tag or revision this namespace follows (${revs.revisions.map((rev) => rev.name).join(", ")})`,
                );
            }
            continue;
        }
        if (typeof follows !== "string") {
            r.invalid(followsKey, follows, "is not a tag or revision name");
            continue;
        }
        const revision = follows === "" ? "" : resolveFollows(r, followsKey, follows, revs);
        if (revision === undefined || !seen.claim(nameKey, namespace)) continue;
        namespaces.push({ name: namespace, follows, revision, restartOnChange });
    }
    return namespaces;
}

/** The default tag when there is one; else the single revision ("" for the unnamed default revision). */
function defaultFollows(revs: Revisions): string | undefined {
    if (revs.tags[DEFAULT_TAG] !== undefined) return DEFAULT_TAG;
    return revs.revisions.length === 1 ? revs.revisions[0].name : undefined;
}

export function readSidecarRollout(r: Reader, v: unknown): WorkloadRef[] {
    const list = r.list("sidecarRollout", v, `workloads {${ROLLOUT_SETTINGS.join(", ")}}`) ?? [];
    const seen = new UniqueValues<string>(r, "list each workload once");
    // SidecarRollout names each patch <namespace>-<kind>-<name>, which two different workloads can share.
    const resourceNames = new Map<string, string>();
    const workloads: WorkloadRef[] = [];
    for (let i = 0; i < list.length; i++) {
        const key = childKey("sidecarRollout", i);
        const w = r.item(key, list[i], ROLLOUT_SETTINGS);
        if (!w) continue;
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
        if (namespace === undefined || name === undefined || !r.valid(kindKey)) continue;
        const workload: WorkloadRef = { namespace, kind, name };
        if (!seen.claim(key, `${namespace}/${kind}/${name}`, workload)) continue;
        const resourceName = `${namespace}-${kind.toLowerCase()}-${name}`;
        const other = resourceNames.get(resourceName);
        if (other !== undefined) {
            r.invalid(
                key,
                workload,
                `would get the same Pulumi resource name as ${other} (${resourceName}); restart one of the two by hand`,
            );
            continue;
        }
        resourceNames.set(resourceName, key);
        workloads.push(workload);
    }
    return workloads;
}
