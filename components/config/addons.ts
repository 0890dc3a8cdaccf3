// `addons`: which observability addons run, and how their UIs are reached.
import { isIP } from "net";
import { ADDONS, Addon, EXPOSURE_MODES, ExposureMode } from "./allowed";
import { DOMAIN, GATEWAY_NAME, NAMESPACE_NAME, readListedName, readName, SECRET_NAME } from "./names";
import { ParsedGateways } from "./gateways";
import { childKey, field, isPlainObject, isSet, Reader, UniqueValues } from "./reader";
import { AddonAccess, AddonExposure } from "./types";

export const ADDON_SETTINGS = [
    ...ADDONS,
    "expose",
    "anonymousAccess",
    "kialiWriteAccess",
    "allowFromNamespaces",
] as const;
/** No longer read; kept known so that a stack still setting it is told what replaced it. */
export const RETIRED_EXPOSE_SETTINGS = ["allowUnauthenticated"] as const;
export const EXPOSE_SETTINGS = [
    "mode",
    "domain",
    "gateway",
    "nodePorts",
    "tls",
    "sourceRanges",
    "jwt",
    ...RETIRED_EXPOSE_SETTINGS,
] as const;
export const TLS_SETTINGS = ["credentialName", "insecureHttp"] as const;
export const JWT_SETTINGS = ["issuer", "jwksUri"] as const;

/** Which exposure mode each expose setting belongs to. */
const SETTING_MODE: Record<"domain" | "gateway" | "nodePorts" | "tls" | "sourceRanges" | "jwt", ExposureMode> = {
    domain: "host",
    gateway: "host",
    nodePorts: "nodePort",
    tls: "host",
    sourceRanges: "host",
    jwt: "host",
};

/** An IPv4 or IPv6 address, optionally with a prefix length: what an AuthorizationPolicy's ipBlocks take. */
export function isCidr(v: string): boolean {
    const [address, prefix, ...rest] = v.split("/");
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    if (!/^\d{1,3}$/.test(prefix)) return false;
    return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The top-level key of Grafana's admin password, a Pulumi secret of its own (not inside `addons`, a plain object). */
export const GRAFANA_PASSWORD_KEY = "grafanaAdminPassword";

/** Shorter admin passwords are refused: the login is reachable from outside the cluster. */
export const GRAFANA_PASSWORD_MIN_LENGTH = 12;

const SET_PASSWORD = `pulumi config set --secret istio-mesh:${GRAFANA_PASSWORD_KEY} <password>`;

/** The addons without a login of their own: exposed by host name, only a token at the gateway keeps them closed. */
export const ADDONS_WITHOUT_LOGIN: readonly Addon[] = ["prometheus", "jaeger"];

/**
 * Checks `grafanaAdminPassword` without ever showing it; true if a usable one is given.
 * The value is not kept: the program reads it again as a Pulumi secret.
 */
export function readGrafanaPassword(r: Reader, v: unknown): boolean {
    if (!isSet(v)) return false;
    if (typeof v === "string" && v.length >= GRAFANA_PASSWORD_MIN_LENGTH) return true;
    r.invalidSecret(
        GRAFANA_PASSWORD_KEY,
        `is not a password of at least ${GRAFANA_PASSWORD_MIN_LENGTH} characters; set one with ${SET_PASSWORD}`,
    );
    return false;
}

export interface ParsedAddons {
    enabled: Addon[];
    exposure: AddonExposure;
    access: AddonAccess;
    /** `enabled` is the list meant: read without problems, from a valid profile or set addon by addon. */
    known: boolean;
    /** Grafana's admin login comes from the secret `grafanaAdminPassword`. */
    grafanaAdminFromSecret: boolean;
}

/**
 * Reads `addons`; `nodePorts` holds the stack's node ports so far (the gateways'),
 * `grafanaPassword` whether a usable `grafanaAdminPassword` is given.
 */
export function readAddons(
    r: Reader,
    v: unknown,
    defaults: Addon[],
    nodePorts: UniqueValues<number>,
    grafanaPassword: boolean,
): ParsedAddons {
    const readable = !isSet(v) || isPlainObject(v);
    const raw = r.object("addons", v, ADDON_SETTINGS) ?? {};
    const enabled = ADDONS.filter((a) => r.boolean(childKey("addons", a), field(raw, a)) ?? defaults.includes(a));
    const known =
        readable &&
        r.valid(...ADDONS.map((a) => childKey("addons", a))) &&
        (r.valid("profile") || ADDONS.every((a) => isSet(field(raw, a))));
    const exposure: AddonExposure = {
        mode: "none",
        domain: "",
        gateway: "istio-ingressgateway",
        nodePorts: {},
        tls: { credentialName: "", insecureHttp: false },
        sourceRanges: [],
    };
    const access = readAccess(r, raw, enabled, known);
    const grafanaAdminFromSecret = grafanaPassword && enabled.includes("grafana");
    const e = r.object("addons.expose", field(raw, "expose"), EXPOSE_SETTINGS);
    if (!e) return { enabled, exposure, access, known, grafanaAdminFromSecret };

    exposure.mode = r.oneOf("addons.expose.mode", field(e, "mode"), EXPOSURE_MODES, "an exposure mode") ?? "none";
    const modeKnown = r.valid("addons.expose.mode");
    exposure.domain = readName(r, "addons.expose.domain", field(e, "domain"), DOMAIN) ?? "";
    exposure.gateway = readName(r, "addons.expose.gateway", field(e, "gateway"), GATEWAY_NAME) ?? exposure.gateway;

    if (isSet(field(e, "allowUnauthenticated"))) {
        r.invalid(
            "addons.expose.allowUnauthenticated",
            field(e, "allowUnauthenticated"),
            "is no longer a setting: every addon asks for a login, exposed or not; for anonymous read-only access to addons not exposed by host name, set addons.anonymousAccess: true",
        );
    }
    const tls = r.object("addons.expose.tls", field(e, "tls"), TLS_SETTINGS) ?? {};
    exposure.tls.credentialName =
        readName(r, "addons.expose.tls.credentialName", field(tls, "credentialName"), SECRET_NAME) ?? "";
    exposure.tls.insecureHttp = r.boolean("addons.expose.tls.insecureHttp", field(tls, "insecureHttp")) ?? false;

    exposure.sourceRanges = r.items(
        "addons.expose.sourceRanges",
        field(e, "sourceRanges"),
        "CIDR ranges",
        undefined,
        (range, key) =>
            typeof range === "string" && isCidr(range)
                ? range
                : r.invalid(key, range, "is not an IP address or CIDR range such as 203.0.113.0/24 or 2001:db8::/32"),
    );
    const jwt = r.object("addons.expose.jwt", field(e, "jwt"), JWT_SETTINGS);
    if (jwt) {
        const issuer = r.text("addons.expose.jwt.issuer", field(jwt, "issuer"), "is not text");
        const jwksUri = r.text("addons.expose.jwt.jwksUri", field(jwt, "jwksUri"), "is not text");
        if (!issuer)
            r.required(
                "addons.expose.jwt.issuer",
                "the issuer (iss claim) of the tokens to accept, such as https://login.example.com",
            );
        if (jwksUri !== undefined && !/^https:\/\/[^\s/]+/.test(jwksUri)) {
            r.invalid("addons.expose.jwt.jwksUri", jwksUri, "is not an https:// URL of the issuer's JSON Web Key Set");
        }
        if (!jwksUri) r.required("addons.expose.jwt.jwksUri", "the https:// URL of the issuer's JSON Web Key Set");
        if (issuer && jwksUri && /^https:\/\//.test(jwksUri)) exposure.jwt = { issuer, jwksUri };
    }

    const ports = r.object("addons.expose.nodePorts", field(e, "nodePorts"), ADDONS) ?? {};
    for (const addon of ADDONS) {
        const key = childKey("addons.expose.nodePorts", addon);
        const rawPort = field(ports, addon);
        const port = r.integer(key, rawPort, 30000, 32767);
        if (port === undefined || !nodePorts.claim(key, port, rawPort)) continue;
        exposure.nodePorts[addon] = port;
        if (known && !enabled.includes(addon)) {
            r.invalid(
                key,
                rawPort,
                `is for addon ${addon}, which is off; turn it on (addons.${addon}: true) or remove the port`,
            );
        }
    }

    if (!modeKnown) return { enabled, exposure, access, known, grafanaAdminFromSecret };
    for (const [setting, mode] of Object.entries(SETTING_MODE)) {
        const value = field(e, setting);
        const given = setting === "nodePorts" ? Object.keys(ports).length > 0 : isSet(value);
        if (given && exposure.mode !== mode) {
            r.invalid(`addons.expose.${setting}`, value, `needs addons.expose.mode ${mode} (it is ${exposure.mode})`);
        }
    }
    if (exposure.mode === "host" && !isSet(field(e, "domain"))) {
        r.required(
            "addons.expose.domain",
            "mode host serves the addons as <addon>.<domain>, e.g. domain mesh.example.com",
        );
    }
    if (exposure.mode !== "none" && enabled.length === 0 && known) {
        r.invalid("addons.expose.mode", exposure.mode, `exposes no addon: enable one of ${ADDONS.join(", ")}`);
    }
    if (exposure.tls.credentialName !== "" && exposure.tls.insecureHttp) {
        r.invalid(
            "addons.expose.tls.insecureHttp",
            field(tls, "insecureHttp"),
            "contradicts addons.expose.tls.credentialName, which serves the hosts over HTTPS and redirects HTTP; remove one of them",
        );
    }
    return { enabled, exposure, access, known, grafanaAdminFromSecret };
}

/** Reads `anonymousAccess`, `kialiWriteAccess` and `allowFromNamespaces`: who may use the addons. */
function readAccess(r: Reader, raw: Record<string, unknown>, enabled: Addon[], known: boolean): AddonAccess {
    const anonymous = r.boolean("addons.anonymousAccess", field(raw, "anonymousAccess")) ?? false;
    const kialiWrite = r.boolean("addons.kialiWriteAccess", field(raw, "kialiWriteAccess")) ?? false;
    if (kialiWrite && known && !enabled.includes("kiali")) {
        r.invalid(
            "addons.kialiWriteAccess",
            field(raw, "kialiWriteAccess"),
            "is for addon kiali, which is off; turn it on (addons.kiali: true) or remove the setting",
        );
    }
    if (anonymous && kialiWrite && enabled.includes("kiali")) {
        r.invalid(
            "addons.kialiWriteAccess",
            field(raw, "kialiWriteAccess"),
            "contradicts addons.anonymousAccess: true: every visitor could patch workloads and change Istio config through Kiali; keep Kiali read-only or give it a login (remove anonymousAccess)",
        );
    }
    const listed = new Set<string>();
    const fromNamespaces = r.items(
        "addons.allowFromNamespaces",
        field(raw, "allowFromNamespaces"),
        "namespace names",
        undefined,
        (item, key) => {
            const name = readListedName(r, key, item, NAMESPACE_NAME);
            if (name === undefined) return undefined;
            if (listed.has(name)) return r.invalid(key, name, "is listed twice");
            listed.add(name);
            return name;
        },
    );
    return { anonymous, kialiWrite, fromNamespaces };
}

/** The release's addon manifests are written for istio-system and put their objects there. */
export function checkAddonNamespace(r: Reader, addons: ParsedAddons, namespace: string): void {
    if (!addons.known || addons.enabled.length === 0 || namespace === "istio-system" || !r.valid("namespace")) return;
    r.invalid(
        "namespace",
        namespace,
        `cannot hold the addons (${addons.enabled.join(", ")}): the release's addon manifests are written for istio-system; turn them off under addons or keep namespace istio-system`,
    );
}

/**
 * An exposure reaches the addons from outside the cluster, so it needs a login for
 * every addon: Grafana's admin password, and by host name HTTPS and a token at the
 * gateway for the addons that have no login of their own. Anonymous access never
 * goes with a host name. Asked for once the exposure itself is valid: a bad mode,
 * domain or gateway is the root cause.
 */
export function checkExposureSecurity(r: Reader, addons: ParsedAddons, grafanaPassword: boolean): void {
    const { exposure, enabled, access } = addons;
    if (!addons.known || !r.valid("profile", "namespace", "gateways", "addons")) return;
    if (exposure.mode === "none") return;
    if (exposure.mode === "host" && access.anonymous) {
        r.invalid(
            "addons.anonymousAccess",
            true,
            "cannot go with addons.expose.mode host: a host name reaches the addons from the network; anonymous access is for addons reached by kubectl port-forward (mode none) or on the local cluster's node ports (mode nodePort)",
        );
        return;
    }
    if (exposure.mode === "host" && exposure.tls.credentialName === "" && !exposure.tls.insecureHttp) {
        r.required(
            "addons.expose.tls.credentialName",
            "mode host serves the addons over HTTPS with this kubernetes.io/tls Secret in the ingress gateway's namespace (created by you or cert-manager, for *.<domain>), and redirects HTTP; to serve plain HTTP instead, set addons.expose.tls.insecureHttp: true",
        );
    }
    const withoutLogin = enabled.filter((a) => ADDONS_WITHOUT_LOGIN.includes(a));
    if (exposure.mode === "host" && withoutLogin.length > 0 && exposure.jwt === undefined) {
        r.required(
            "addons.expose.jwt",
            `mode host serves ${withoutLogin.join(", ")}, which ${withoutLogin.length === 1 ? "has" : "have"} no login of ${withoutLogin.length === 1 ? "its" : "their"} own: set jwt.issuer and jwt.jwksUri so the ingress gateway lets in only requests with a valid token of your issuer, or turn ${withoutLogin.length === 1 ? "it" : "them"} off (${withoutLogin.map((a) => `addons.${a}: false`).join(", ")})`,
        );
    }
    if (enabled.includes("grafana") && !access.anonymous && !grafanaPassword && r.valid(GRAFANA_PASSWORD_KEY)) {
        r.required(
            GRAFANA_PASSWORD_KEY,
            `Grafana is exposed (addons.expose.mode ${exposure.mode}) and asks for its admin login: set its password as a Pulumi secret with ${SET_PASSWORD} (at least ${GRAFANA_PASSWORD_MIN_LENGTH} characters), or turn Grafana off (addons.grafana: false)`,
        );
    }
}

/** With mode host, the addon hosts are served by an ingress gateway of this stack. */
export function checkExposureGateway(r: Reader, addons: ParsedAddons, gateways: ParsedGateways): void {
    const { exposure } = addons;
    if (exposure.mode !== "host" || !gateways.known || !r.valid("addons.expose.mode", "addons.expose.gateway")) return;
    const ingress = gateways.gateways.filter((g) => g.value.kind === "ingress").map((g) => g.value.name);
    if (ingress.includes(exposure.gateway)) return;
    r.invalid(
        "addons.expose.gateway",
        exposure.gateway,
        `is not an ingress gateway of this stack; ingress gateways: ${ingress.join(", ") || "none (add one under gateways)"}`,
    );
}
