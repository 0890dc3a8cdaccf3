// Which workloads get sidecars: `injectionNamespaces` (namespaces labelled for
// injection) and `sidecarRollout` (workloads restarted when the proxy changes).
// Each entry becomes a Pulumi resource named after it, so a duplicate would not
// even reach the cluster: it would stop the program with a duplicate-URN error.
import { WORKLOAD_KINDS } from "./allowed";
import { ControlPlane } from "./controlPlane";
import { NAMESPACE_NAME, readListedName, readRequiredName, SYSTEM_NAMESPACES, WORKLOAD_NAME } from "./names";
import { childKey, field, isSet, Reader, UniqueValues } from "./reader";
import { WorkloadRef } from "./types";

const ROLLOUT_SETTINGS = ["namespace", "kind", "name"] as const;

export function readInjectionNamespaces(r: Reader, v: unknown, control: ControlPlane): string[] {
    const ambient = control.profile === "ambient";
    if (!isSet(v)) return ambient ? [] : ["default"];
    // Profile ambient labels no namespace for sidecars by default, but sidecar and
    // ambient workloads share one mesh: a namespace can move from one to the other.
    const list = r.list("injectionNamespaces", v, "namespace names") ?? [];
    const seen = new UniqueValues<string>(r, "list each namespace once");
    const namespaces: string[] = [];
    for (let i = 0; i < list.length; i++) {
        const key = childKey("injectionNamespaces", i);
        const namespace = readListedName(r, key, list[i], NAMESPACE_NAME);
        if (namespace === undefined) continue;
        if ((SYSTEM_NAMESPACES as readonly string[]).includes(namespace)) {
            r.invalid(
                key,
                namespace,
                "is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down",
            );
        } else if (namespace === control.namespace && r.valid("namespace")) {
            r.invalid(
                key,
                namespace,
                "is the control-plane namespace; the stack owns it, and istiod and the addons in it must not get sidecars",
            );
        } else if (seen.claim(key, namespace)) {
            namespaces.push(namespace);
        }
    }
    return namespaces;
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
