// Kubernetes' naming rules, as they apply to the names this stack gives or takes.
// The length is checked before the pattern, so a huge value never reaches a regex.
import { isSet, Reader } from "./reader";

export interface NameRule {
    /** What the name is, as a message says it: "namespace name". */
    what: string;
    maxLength: number;
    pattern: RegExp;
    /** How to write a valid one. */
    hint: string;
}

/** RFC 1123 label: namespaces, Service port names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1035 label: Service names, which must start with a letter. */
export const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: Deployment, StatefulSet and DaemonSet names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A host name's domain: a subdomain whose labels are at most 63 characters, as DNS requires. */
const DNS_DOMAIN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

export const NAMESPACE_NAME: NameRule = {
    what: "namespace name",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "use a DNS label: lowercase letters, digits and '-', at most 63 characters",
};

export const GATEWAY_NAME: NameRule = {
    what: "gateway name",
    maxLength: 63,
    pattern: DNS_1035_LABEL,
    hint: "it names the gateway's Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway",
};

export const PORT_NAME: NameRule = {
    what: "port name",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as http2",
};

export const REVISION: NameRule = {
    what: "revision",
    // istiod's Service is istiod-<revision>, and a Service name has at most 63 characters.
    maxLength: 63 - "istiod-".length,
    pattern: DNS_LABEL,
    hint: 'use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision',
};

export const WORKLOAD_NAME: NameRule = {
    what: "workload name",
    maxLength: 253,
    pattern: DNS_SUBDOMAIN,
    hint: "use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
};

export const DOMAIN: NameRule = {
    what: "domain",
    // Hosts are <addon>.<domain>, and a host name has at most 253 characters.
    maxLength: 253 - "prometheus.".length,
    pattern: DNS_DOMAIN,
    hint: "use a DNS name such as mesh.example.com: lowercase labels of at most 63 characters, at most 242 characters in all",
};

export const SECRET_NAME: NameRule = {
    what: "Secret name",
    maxLength: 253,
    pattern: DNS_SUBDOMAIN,
    hint: "use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters, such as addons-tls",
};

export const MTLS_EXCEPTION_NAME: NameRule = {
    what: "exception name",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "it names the PeerAuthentication, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as mysql",
};

export const EXTERNAL_SERVICE_NAME: NameRule = {
    what: "external service name",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "it names the ServiceEntry and the DestinationRule, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as external-mysql",
};

export const EXTERNAL_HOST: NameRule = {
    what: "host",
    maxLength: 253,
    // Two labels at least: a DestinationRule reads a short name as a Service of its
    // own namespace. The last label is not all digits: an IP address is no DNS name.
    pattern: /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+(?![0-9]+$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    hint: "use a fully qualified DNS name such as mysql.example.com: lowercase labels of at most 63 characters, at most 253 characters in all, no wildcard (the host is resolved by DNS) and no IP address (list those under addresses)",
};

/** A label value: at most 63 characters, empty or alphanumeric at both ends (so no `*`, which Istio refuses). */
export const LABEL_VALUE: NameRule = {
    what: "label value",
    maxLength: 63,
    pattern: /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/,
    hint: "use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, as text (quote a number: \"1\")",
};

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A Kubernetes label key: a name of at most 63 characters, optionally after a DNS subdomain prefix and `/`. */
export function isLabelKey(key: string): boolean {
    if (key.length > 253 + 1 + 63) return false;
    const slash = key.indexOf("/");
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
    return name.length <= 63 && LABEL_NAME.test(name);
}

export const LABEL_KEY_HINT =
    "use a Kubernetes label key such as app or app.kubernetes.io/name: a name of at most 63 letters, digits, '-', '_' and '.', optionally after a DNS prefix and '/' (no '*', which Istio refuses)";

/** Namespaces Kubernetes runs its own components in; Istio does not inject them. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"] as const;

/** A name that follows `rule`, or undefined when it is unset or was refused. */
export function readName(r: Reader, key: string, v: unknown, rule: NameRule): string | undefined {
    if (!isSet(v)) return undefined;
    if (typeof v === "string" && v.length <= rule.maxLength && rule.pattern.test(v)) return v;
    return refuseName(r, key, v, rule);
}

/** An item of a list of names: unlike an unset setting, an empty item is refused. */
export function readListedName(r: Reader, key: string, v: unknown, rule: NameRule): string | undefined {
    return isSet(v) ? readName(r, key, v, rule) : refuseName(r, key, v, rule);
}

/** A name that must be set: `why` says what it names. */
export function readRequiredName(r: Reader, key: string, v: unknown, rule: NameRule, why: string): string | undefined {
    return isSet(v) ? readName(r, key, v, rule) : r.required(key, why);
}

export function refuseName(r: Reader, key: string, v: unknown, rule: NameRule): undefined {
    r.invalid(key, v, `is not a valid ${rule.what}; ${rule.hint}`);
    return undefined;
}
