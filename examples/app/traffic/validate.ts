// Reads traffic rules from untyped input (stack config, or arguments built by
// other code) and refuses, before a single resource is registered, whatever
// istiod or the Gateway API would refuse or apply otherwise than written. Every
// problem names the setting, the bad value and what is allowed; one read reports
// them all. The reading itself (values shown, objects, lists, numbers, names) is
// the package's own config reader, so the stack and the application read alike.
import { childKey, isSet, Reader } from "../../../components/config/reader";
import {
    DNS_1035_LABEL,
    DNS_LABEL,
    isLabelKey,
    LABEL_VALUE,
    NameRule,
    readName,
} from "../../../components/config/names";
import {
    FaultAbort,
    FaultDelay,
    HeaderCanary,
    IngressPath,
    IngressRouteSpec,
    PATH_MATCHES,
    PathMatch,
    RETRY_CONDITIONS,
    Retries,
    ServiceRoute,
    TRAFFIC_APIS,
    TrafficApi,
} from "./types";

/**
 * The reader of traffic rules: the package's config reader, with keys as the
 * caller writes them (`istio-mesh-app:routes[0]`, or a component's `route`) and a
 * null inside a rule read as unset.
 */
export class TrafficReader extends Reader {
    constructor() {
        super({ namespace: "", nullMeansUnset: true });
    }
}

/** Service names are RFC 1035 labels. */
const SERVICE_NAME: NameRule = {
    what: "Service name",
    maxLength: 63,
    pattern: DNS_1035_LABEL,
    hint: "use a DNS label that starts with a letter: lowercase letters, digits and '-', at most 63 characters",
};

/** A version names a subset, a label value and (Gateway API) a Service `<service>-<version>`. */
const VERSION_NAME: NameRule = {
    what: "version",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "use the pods' `version` label value as a DNS label: lowercase letters, digits and '-', such as v1",
};

/** Route and Gateway names. */
const OBJECT_NAME: NameRule = {
    what: "name",
    maxLength: 63,
    pattern: DNS_LABEL,
    hint: "use a DNS label: lowercase letters, digits and '-', at most 63 characters",
};

/**
 * Header names: HTTP/2 carries them lowercase and Envoy compares them lowercased,
 * and istiod accepts only letters, digits, '-' and '_' in a match.
 */
const HEADER_NAME: NameRule = {
    what: "header name",
    maxLength: 256,
    pattern: /^[a-z0-9][-_a-z0-9]*$/,
    hint: "use lowercase letters, digits, '-' and '_', such as lab",
};

/** Host names an ingress serves: `*`, a DNS name, or `*.` and a DNS name. */
const HOST = /^(\*|(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*)$/;

/** Request paths: absolute, without spaces, query or fragment. */
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

/** Longest duration accepted: a day. */
const MAX_DURATION_MS = 86_400_000;

/**
 * A duration as `500ms`, `2s` or `0.5s`, in milliseconds. Both APIs get it in a
 * form they parse: Istio protobuf seconds (`0.5s`), the Gateway API `500ms`.
 */
export function readDuration(r: Reader, key: string, v: unknown): number | undefined {
    if (!isSet(v)) return undefined;
    const rule = "is not a duration; write milliseconds or seconds such as 500ms, 2s or 0.5s, from 1ms to 86400s";
    if (typeof v !== "string") return r.invalid(key, v, rule);
    const m = /^(\d{1,8})ms$/.exec(v) ?? /^(\d{1,5}(\.\d{1,3})?)s$/.exec(v);
    if (!m) return r.invalid(key, v, rule);
    const ms = v.endsWith("ms") ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
    if (ms < 1 || ms > MAX_DURATION_MS) return r.invalid(key, v, rule);
    return ms;
}

/** The traffic API setting. */
export function readTrafficApi(r: Reader, key: string, v: unknown): TrafficApi | undefined {
    return r.oneOf(key, v, TRAFFIC_APIS, "a traffic API");
}

function readLabels(r: Reader, key: string, v: unknown): Record<string, string> | undefined {
    const map = r.map(key, v, "pod labels such as {app: reviews}");
    if (!map) return undefined;
    const labels: [string, string][] = [];
    for (const [k, value] of Object.entries(map)) {
        const labelKey = childKey(key, k);
        if (k === "version") {
            r.invalid(labelKey, value, "is set by each version; leave `version` out of the selector");
        } else if (!isLabelKey(k)) {
            r.invalid(
                labelKey,
                k,
                "is not a label key; use a name such as app, optionally prefixed by a DNS subdomain and '/'",
            );
        } else if (
            typeof value !== "string" ||
            value.length > LABEL_VALUE.maxLength ||
            !LABEL_VALUE.pattern.test(value)
        ) {
            r.invalid(
                labelKey,
                value,
                "is not a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
            );
        } else {
            labels.push([k, value]);
        }
    }
    if (labels.length === 0 && Object.keys(map).length === 0) {
        return r.invalid(key, v, "selects no pods; give the labels of the Service's pods such as {app: reviews}");
    }
    return Object.fromEntries(labels);
}

const ROUTE_SETTINGS = [
    "service",
    "port",
    "targetPort",
    "versions",
    "selector",
    "weights",
    "canary",
    "timeout",
    "retries",
    "fault",
] as const;

/**
 * One Service's traffic rules. `api` decides what can be rendered: the Gateway
 * API's standard channel has no retries and no fault injection, so those are
 * refused for it rather than dropped.
 */
export function readServiceRoute(
    r: Reader,
    key: string,
    v: unknown,
    api: TrafficApi | undefined,
): ServiceRoute | undefined {
    const o = r.item(key, v, ROUTE_SETTINGS);
    if (!o) return undefined;
    const before = r.problems.length;

    const service = !isSet(o.service)
        ? r.required(`${key}.service`, "the name of the Service in the application namespace, such as reviews")
        : readName(r, `${key}.service`, o.service, SERVICE_NAME);
    const port = !isSet(o.port)
        ? r.required(`${key}.port`, "the Service port the rules apply to, a whole number from 1 to 65535")
        : r.integer(`${key}.port`, o.port, 1, 65535);
    const targetPort = r.integer(`${key}.targetPort`, o.targetPort, 1, 65535);
    const selector = readLabels(r, `${key}.selector`, o.selector);

    const versions: string[] = [];
    const rawVersions = r.list(`${key}.versions`, o.versions, "versions");
    if (rawVersions === undefined) {
        if (!isSet(o.versions)) {
            r.required(`${key}.versions`, "list the values of the pods' `version` label, such as [v1, v2]");
        }
    } else if (rawVersions.length === 0 || rawVersions.length > 16) {
        r.invalid(
            `${key}.versions`,
            rawVersions,
            "must list from 1 to 16 versions (the Gateway API allows 16 backends per rule)",
        );
    } else {
        rawVersions.forEach((rv, i) => {
            const version = readName(r, `${key}.versions[${i}]`, rv, VERSION_NAME);
            if (version === undefined) return;
            if (versions.includes(version)) {
                r.invalid(`${key}.versions[${i}]`, version, "is listed twice; list each version once");
                return;
            }
            if (service !== undefined && `${service}-${version}`.length > 63) {
                r.invalid(
                    `${key}.versions[${i}]`,
                    version,
                    `makes the Service name ${service}-${version} longer than 63 characters (the Gateway API routes to one Service per version)`,
                );
                return;
            }
            versions.push(version);
        });
    }
    const versionsOk = r.problems.length === before;
    const isVersion = (itemKey: string, value: string): boolean => {
        if (!versionsOk || versions.includes(value)) return true;
        r.invalid(itemKey, value, `is not one of the versions; allowed: ${versions.join(", ")}`);
        return false;
    };

    let weights: Record<string, number> | undefined;
    const weightsKey = childKey(key, "weights");
    const rawWeights = r.map(weightsKey, o.weights, "versions to percentages such as {v1: 90, v2: 10}");
    if (rawWeights) {
        const entries: [string, number][] = [];
        for (const [version, w] of Object.entries(rawWeights)) {
            const weight = r.integer(childKey(weightsKey, version), w, 0, 100);
            if (isVersion(weightsKey, version) && weight !== undefined) entries.push([version, weight]);
        }
        const total = entries.reduce((sum, [, w]) => sum + w, 0);
        const given = Object.keys(rawWeights).length;
        if (entries.length === given && entries.length > 0 && total !== 100) {
            r.invalid(
                weightsKey,
                rawWeights,
                `add up to ${total}; the weights are percentages of the Service's traffic and must add up to 100`,
            );
        } else if (given === 0) {
            r.invalid(
                weightsKey,
                rawWeights,
                "sends traffic nowhere; give at least one version 100, or leave weights out",
            );
        }
        weights = Object.fromEntries(entries);
    }

    let canary: HeaderCanary | undefined;
    const c = r.object(`${key}.canary`, o.canary, ["header", "value", "version"]);
    if (c) {
        const header = !isSet(c.header)
            ? r.required(`${key}.canary.header`, "the request header that selects the canary, such as lab")
            : readName(r, `${key}.canary.header`, c.header, HEADER_NAME);
        let value: string | undefined;
        if (!isSet(c.value)) {
            r.required(`${key}.canary.value`, "the header's exact value, such as canary");
        } else if (
            typeof c.value !== "string" ||
            c.value.length === 0 ||
            c.value.length > 4096 ||
            /[^\x20-\x7e]/.test(c.value)
        ) {
            r.invalid(`${key}.canary.value`, c.value, "is not a header value: 1 to 4096 printable ASCII characters");
        } else {
            value = c.value;
        }
        const version = !isSet(c.version)
            ? r.required(`${key}.canary.version`, "the version the header's requests go to, one of the versions")
            : readName(r, `${key}.canary.version`, c.version, VERSION_NAME);
        if (
            version !== undefined &&
            isVersion(`${key}.canary.version`, version) &&
            header !== undefined &&
            value !== undefined
        ) {
            canary = { header, value, version };
        }
    }

    const timeoutMs = readDuration(r, `${key}.timeout`, o.timeout);
    const retries = readRetries(r, `${key}.retries`, o.retries);
    const fault = readFault(r, `${key}.fault`, o.fault);
    if (api === "gateway-api") {
        if (isSet(o.retries)) {
            r.invalid(
                `${key}.retries`,
                o.retries,
                "cannot be written as Gateway API: the standard channel's HTTPRoute has no retry field; use trafficApi istio for retries, or leave them out",
            );
        }
        if (isSet(o.fault)) {
            r.invalid(
                `${key}.fault`,
                o.fault,
                "cannot be written as Gateway API: HTTPRoute has no fault injection; use trafficApi istio for delays and aborts, or leave fault out",
            );
        }
    }

    if (r.problems.length > before || service === undefined || port === undefined) return undefined;
    return {
        service,
        port,
        versions,
        selector: selector ?? { app: service },
        targetPort: targetPort ?? port,
        weights: weights ?? { [versions[0]]: 100 },
        ...(canary ? { canary } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(retries ? { retries } : {}),
        ...(fault ? { fault } : {}),
    };
}

function readRetries(r: Reader, key: string, v: unknown): Retries | undefined {
    const o = r.object(key, v, ["attempts", "perTryTimeout", "retryOn"]);
    if (!o) return undefined;
    const before = r.problems.length;
    const attempts = !isSet(o.attempts)
        ? r.required(`${key}.attempts`, "how many times a failed request is retried, from 1 to 10")
        : r.integer(`${key}.attempts`, o.attempts, 1, 10);
    const perTryTimeoutMs = readDuration(r, `${key}.perTryTimeout`, o.perTryTimeout);
    const conditions: string[] = [];
    const list = r.list(`${key}.retryOn`, o.retryOn, "retry conditions");
    list?.forEach((c, i) => {
        if (typeof c === "string" && ((RETRY_CONDITIONS as readonly string[]).includes(c) || /^[1-5]\d\d$/.test(c))) {
            if (!conditions.includes(c)) conditions.push(c);
        } else {
            r.invalid(
                `${key}.retryOn[${i}]`,
                c,
                `is not a retry condition; allowed: ${RETRY_CONDITIONS.join(", ")}, or an HTTP status code such as 503`,
            );
        }
    });
    if (r.problems.length > before || attempts === undefined) return undefined;
    return {
        attempts,
        ...(perTryTimeoutMs !== undefined ? { perTryTimeoutMs } : {}),
        ...(conditions.length > 0 ? { retryOn: conditions } : {}),
    };
}

function readFault(r: Reader, key: string, v: unknown): { delay?: FaultDelay; abort?: FaultAbort } | undefined {
    const o = r.object(key, v, ["delay", "abort"]);
    if (!o) return undefined;
    const before = r.problems.length;
    let delay: FaultDelay | undefined;
    const d = r.object(`${key}.delay`, o.delay, ["fixedDelay", "percent"]);
    if (d) {
        const fixedDelayMs = !isSet(d.fixedDelay)
            ? r.required(`${key}.delay.fixedDelay`, "the delay added to each affected request, such as 7s")
            : readDuration(r, `${key}.delay.fixedDelay`, d.fixedDelay);
        const percent = r.number(`${key}.delay.percent`, d.percent, 0, 100, "a percentage") ?? 100;
        if (fixedDelayMs !== undefined) delay = { fixedDelayMs, percent };
    }
    let abort: FaultAbort | undefined;
    const a = r.object(`${key}.abort`, o.abort, ["httpStatus", "percent"]);
    if (a) {
        const httpStatus = !isSet(a.httpStatus)
            ? r.required(`${key}.abort.httpStatus`, "the HTTP status returned instead, such as 500")
            : r.integer(`${key}.abort.httpStatus`, a.httpStatus, 200, 599);
        const percent = r.number(`${key}.abort.percent`, a.percent, 0, 100, "a percentage") ?? 100;
        if (httpStatus !== undefined) abort = { httpStatus, percent };
    }
    if (r.problems.length === before && !delay && !abort) {
        r.invalid(
            key,
            v,
            "injects nothing; give a delay {fixedDelay, percent}, an abort {httpStatus, percent}, or both",
        );
    }
    if (r.problems.length > before) return undefined;
    return { ...(delay ? { delay } : {}), ...(abort ? { abort } : {}) };
}

const INGRESS_SETTINGS = ["name", "hosts", "port", "paths"] as const;
const PATH_SETTINGS = ["path", "match", "service", "port"] as const;

/**
 * The ingress route. `defaultPort` is the gateway's HTTP port, used when `port`
 * is unset; `gatewayPorts` are its Service's ports, which the route's port must be
 * one of (istiod programs a Gateway server only on a port its gateway exposes).
 */
export function readIngressRoute(
    r: Reader,
    key: string,
    v: unknown,
    defaultPort: number | undefined,
    gatewayPorts: number[] | undefined,
): IngressRouteSpec | undefined {
    const o = r.object(key, v, INGRESS_SETTINGS);
    if (!o) return undefined;
    const before = r.problems.length;
    const name = readName(r, `${key}.name`, o.name, OBJECT_NAME) ?? "ingress";

    const hosts: string[] = [];
    const rawHosts = r.list(`${key}.hosts`, o.hosts, "host names");
    rawHosts?.forEach((h, i) => {
        if (typeof h !== "string" || h.length > 253 || !HOST.test(h)) {
            r.invalid(
                `${key}.hosts[${i}]`,
                h,
                "is not a host name; use *, a DNS name such as bookinfo.example.com, or *.example.com",
            );
        } else if (!hosts.includes(h)) {
            hosts.push(h);
        }
    });
    if (hosts.includes("*") && hosts.length > 1) {
        r.invalid(
            `${key}.hosts`,
            o.hosts,
            "lists * with other names; * already serves every host, so give * alone or only names",
        );
    }
    if (rawHosts !== undefined && rawHosts.length === 0) {
        r.invalid(`${key}.hosts`, o.hosts, "serves no host; give * or host names, or leave hosts out for *");
    }

    let port = r.integer(`${key}.port`, o.port, 1, 65535);
    if (port !== undefined && gatewayPorts !== undefined && !gatewayPorts.includes(port)) {
        r.invalid(
            `${key}.port`,
            o.port,
            `is not a port of the ingress gateway's Service; allowed: ${gatewayPorts.join(", ")}`,
        );
        port = undefined;
    }
    if (!isSet(o.port)) {
        port = defaultPort;
        if (port === undefined) {
            r.required(
                `${key}.port`,
                "the ingress gateway has no port named http or http2; give the gateway port the route listens on",
            );
        }
    }

    const paths: IngressPath[] = [];
    const rawPaths = r.list(`${key}.paths`, o.paths, "paths {path, match, service, port}");
    if (rawPaths === undefined && !isSet(o.paths)) {
        r.required(
            `${key}.paths`,
            "list the paths served, such as [{path: /productpage, match: exact, service: productpage, port: 9080}]",
        );
    } else if (rawPaths !== undefined && (rawPaths.length === 0 || rawPaths.length > 64)) {
        r.invalid(`${key}.paths`, rawPaths, "must list from 1 to 64 paths");
    }
    const seen = new Map<string, string>();
    rawPaths?.forEach((raw, i) => {
        const pk = `${key}.paths[${i}]`;
        const p = r.item(pk, raw, PATH_SETTINGS);
        if (!p) return;
        let path: string | undefined;
        if (!isSet(p.path)) {
            r.required(`${pk}.path`, "the request path, starting with /");
        } else if (typeof p.path !== "string" || p.path.length > 1024 || !PATH.test(p.path)) {
            r.invalid(
                `${pk}.path`,
                p.path,
                "is not a request path: it starts with / and has no spaces, query (?) or fragment (#), at most 1024 characters",
            );
        } else {
            path = p.path;
        }
        const match: PathMatch = r.oneOf(`${pk}.match`, p.match, PATH_MATCHES, "a path match") ?? "prefix";
        const service = !isSet(p.service)
            ? r.required(`${pk}.service`, "the Service the path goes to, such as productpage")
            : readName(r, `${pk}.service`, p.service, SERVICE_NAME);
        const servicePort = !isSet(p.port)
            ? r.required(`${pk}.port`, "the Service port, a whole number from 1 to 65535")
            : r.integer(`${pk}.port`, p.port, 1, 65535);
        if (path === undefined || service === undefined || servicePort === undefined) return;
        const id = `${match} ${path}`;
        const earlier = seen.get(id);
        if (earlier !== undefined) {
            r.invalid(
                `${pk}.path`,
                path,
                `is a duplicate of ${earlier}.path with the same match; each path and match once`,
            );
            return;
        }
        seen.set(id, pk);
        paths.push({ path, match, service, port: servicePort });
    });

    if (r.problems.length > before || port === undefined) return undefined;
    return { name, hosts: hosts.length > 0 ? hosts : ["*"], port, paths };
}
