// `istiodValues`, the escape hatch into istiod's chart values. It is merged last,
// so a value the stack sets itself would silently win over the stack setting made
// for it: the stack would report one thing and run another. Those are refused,
// each with the setting to use instead.
import { childKey, isPlainObject, isSet, Reader } from "./reader";

/**
 * Every value `istiodValues()` in values.ts sets, with what to do instead (a unit
 * test keeps the two in step). A path covers everything below it.
 */
export const STACK_MANAGED_ISTIOD_VALUES: Readonly<Record<string, string>> = {
    profile: "use istio-mesh:profile instead",
    revision: "use istio-mesh:revision or the names in istio-mesh:revisions instead",
    revisionTags: "use istio-mesh:revisionTags instead: the stack owns the tag webhooks, so moving a tag is an update",
    "global.istioNamespace": "use istio-mesh:namespace instead",
    "base.validationFailurePolicy":
        "it is Fail on purpose: istiod switches its webhook to Fail itself, and Ignore would let invalid config through while istiod starts",
    "pilot.traceSampling": "use istio-mesh:mesh.tracingSampling instead",
    "pilot.cni.enabled": "use istio-mesh:cni.enabled instead",
    "pilot.autoscaleEnabled":
        "it is off in profile demo and on in the others; size istiod with pilot.replicaCount (demo) or pilot.autoscaleMin and pilot.autoscaleMax",
    "meshConfig.accessLogFile": "use istio-mesh:mesh.accessLogFile instead",
    "meshConfig.enableAutoMtls": "use istio-mesh:mesh.enableAutoMtls instead",
    "meshConfig.outboundTrafficPolicy": "use istio-mesh:mesh.outboundTrafficPolicy instead",
    "meshConfig.enableTracing": "it follows istio-mesh:mesh.tracingSampling (0 turns tracing off)",
    "meshConfig.rootNamespace":
        "it is the control-plane namespace (istio-mesh:namespace), where the mesh-wide PeerAuthentication of istio-mesh:mesh.mtls.mode is created",
};

/** Deeper than any chart value; deeper input is a mistake (or an attack on the recursive code downstream). */
const MAX_DEPTH = 32;
/** More values than any values file holds; the walk stops here even on a cyclic object. */
const MAX_VALUES = 100_000;

/** Reads istiod chart values at `key` (the stack's, or one revision's). */
export function readIstiodValues(r: Reader, v: unknown, key = "istiodValues"): Record<string, unknown> {
    if (!isSet(v)) return {};
    if (!isPlainObject(v)) {
        r.invalid(key, v, "is not an object of istiod chart values");
        return {};
    }
    checkShape(r, v, key);
    checkStackManaged(r, v, key);
    return v;
}

/** Bounded depth and size, and no `__proto__` key: merging values assigns keys, and that one would set a prototype. */
function checkShape(r: Reader, values: Record<string, unknown>, rootKey: string): void {
    interface Pending {
        key: string;
        value: unknown;
        depth: number;
        /** The first-level value it lies under, which a message about depth names. */
        top: { key: string; value: unknown };
        /** An element of a list (where `undefined` is a hole, not an unset key). */
        inList?: boolean;
    }
    // An explicit stack, not recursion: the input decides how deep the walk goes.
    const pending: Pending[] = [{ key: rootKey, value: values, depth: 0, top: { key: rootKey, value: values } }];
    let walked = 0;
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
        const { key, value, depth, top, inList } = next;
        if (depth > MAX_DEPTH) {
            r.invalid(top.key, top.value, `is nested more than ${MAX_DEPTH} levels deep; no istiod chart value is`);
            return;
        }
        if (++walked > MAX_VALUES) {
            r.invalid(rootKey, values, `holds more than ${MAX_VALUES} values; no istiod values file does`);
            return;
        }
        if (!Array.isArray(value) && !isPlainObject(value) && !isChartScalar(value, inList === true)) {
            r.invalid(
                key,
                value,
                "is not a chart value; values are strings, finite numbers, booleans, null, lists and maps",
            );
            continue;
        }
        const children: [string | number, unknown][] = Array.isArray(value)
            ? Array.from(value, (child: unknown, i): [number, unknown] => [i, child])
            : isPlainObject(value)
              ? Object.entries(value)
              : [];
        for (const [k, child] of children) {
            const childPath = childKey(key, k);
            if (k === "__proto__") {
                r.invalid(childPath, child, "is not a valid chart value name; merging the values would drop it");
                continue;
            }
            const childTop = depth === 0 ? { key: childPath, value: child } : top;
            pending.push({
                key: childPath,
                value: child,
                depth: depth + 1,
                top: childTop,
                inList: Array.isArray(value),
            });
        }
    }
}

/**
 * What a values file can hold at a leaf; Helm would get anything else changed
 * (Infinity becomes null) or not at all (a function, a Date's fields).
 * `undefined` is an unset map key, never a list element (a hole JSON turns into null).
 */
function isChartScalar(v: unknown, inList: boolean): boolean {
    if (v === undefined) return !inList;
    return (
        v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))
    );
}

function checkStackManaged(r: Reader, values: Record<string, unknown>, rootKey: string): void {
    // A map on the way to a managed value that is replaced by a scalar, a list or
    // null replaces everything the stack set under it (Helm deletes a key set to null).
    const replaced = new Map<string, { value: unknown; paths: string[] }>();
    for (const [path, instead] of Object.entries(STACK_MANAGED_ISTIOD_VALUES)) {
        const segments = path.split(".");
        let node: Record<string, unknown> = values;
        let key = rootKey;
        for (const [i, segment] of segments.entries()) {
            if (!Object.prototype.hasOwnProperty.call(node, segment)) break;
            const value = node[segment];
            key = childKey(key, segment);
            if (i === segments.length - 1) {
                r.invalid(key, value, `is set by the stack; ${instead}`);
            } else if (!isPlainObject(value)) {
                const entry = replaced.get(key) ?? { value, paths: [] };
                entry.paths.push(path);
                replaced.set(key, entry);
                break;
            } else {
                node = value;
            }
        }
    }
    for (const [key, { value, paths }] of replaced) {
        r.invalid(key, value, `is not an object; it would replace values the stack sets (${paths.join(", ")})`);
    }
}
