// Reads and validates every key of the stack configuration. Pure: it needs no
// Pulumi runtime, so each error message can be tested directly. Every error names
// the key, the bad value and what is allowed, and all problems are reported at
// once, before a single resource is registered.
import * as fs from "fs";
import * as path from "path";
import { parseVersion, Version } from "./version";

/** The config namespace of this project (`istio-mesh:<key>` in Pulumi.<stack>.yaml). */
export const CONFIG_NAMESPACE = "istio-mesh";

/**
 * This project's keys out of a config map such as `pulumi.runtime.allConfig()` or a
 * stack file's `config:` section, without the `istio-mesh:` prefix; other
 * namespaces (`kubernetes:...`) are left out.
 */
export function projectConfigKeys<T>(all: Record<string, T>): Record<string, T> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

/** Istio minor versions whose charts this stack has been rendered and tested against. */
export const SUPPORTED_MINORS = ["1.28", "1.29", "1.30"] as const;

/**
 * Installation profiles, named after istioctl's: what each enables by default is in
 * `profileDefaults`. The Helm charts know demo, ambient and preview as `profile`
 * values; default and minimal differ only in which components are installed.
 */
export const PROFILES = ["default", "demo", "minimal", "ambient", "preview"] as const;
export type Profile = (typeof PROFILES)[number];

export const ADDONS = ["prometheus", "grafana", "kiali", "jaeger"] as const;
export type Addon = (typeof ADDONS)[number];

export const SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const GATEWAY_KINDS = ["ingress", "egress"] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

export const UPGRADE_STRATEGIES = ["in-place", "canary"] as const;
export type UpgradeStrategy = (typeof UPGRADE_STRATEGIES)[number];

export const OUTBOUND_POLICIES = ["ALLOW_ANY", "REGISTRY_ONLY"] as const;
export type OutboundTrafficPolicy = (typeof OUTBOUND_POLICIES)[number];

export const EXPOSURE_MODES = ["none", "nodePort", "host"] as const;
export type ExposureMode = (typeof EXPOSURE_MODES)[number];

/** Where the official Istio charts are published. */
export const DEFAULT_CHART_SOURCE = "https://istio-release.storage.googleapis.com/charts";
/** The release's own addon manifests (samples/addons at the release tag). */
export const DEFAULT_ADDON_SOURCE = "https://raw.githubusercontent.com/istio/istio/{version}/samples/addons";

export interface GatewayPort {
    name: string;
    port: number;
    targetPort: number;
    nodePort?: number;
}

export interface GatewayConfig {
    /** Release and workload name, e.g. istio-ingressgateway. */
    name: string;
    kind: GatewayKind;
    namespace: string;
    serviceType: ServiceType;
    /** Empty: the chart's own ports. */
    ports: GatewayPort[];
    replicas: number;
}

export interface WorkloadRef {
    namespace: string;
    kind: "Deployment" | "StatefulSet" | "DaemonSet";
    name: string;
}

export interface AddonExposure {
    mode: ExposureMode;
    /** Host names are `<addon>.<domain>` (mode host). */
    domain: string;
    /** The ingress gateway whose pods serve the addon hosts (mode host). */
    gateway: string;
    /** Fixed node ports per addon (mode nodePort); unset ones are assigned by Kubernetes. */
    nodePorts: Partial<Record<Addon, number>>;
}

export interface MeshSettings {
    accessLogFile: string;
    /** Percentage of requests traced, 0-100. */
    tracingSampling: number;
    outboundTrafficPolicy: OutboundTrafficPolicy;
    enableAutoMtls: boolean;
}

export interface StackConfig {
    version: Version;
    profile: Profile;
    namespace: string;
    /** istiod revision ("" is the default revision). */
    revision: string;
    upgradeStrategy: UpgradeStrategy;
    /** Helm repository URL, oci:// registry or local directory of <chart>-<version>.tgz. */
    chartSource: string;
    /** URL or local directory holding <addon>.yaml manifests. */
    addonSource: string;
    retainCrdsOnDestroy: boolean;
    mesh: MeshSettings;
    cni: { enabled: boolean; namespace: string };
    gateways: GatewayConfig[];
    addons: { enabled: Addon[]; exposure: AddonExposure };
    injectionNamespaces: string[];
    sidecarRollout: WorkloadRef[];
    /** Extra values merged last into istiod's values: the escape hatch. */
    istiodValues: Record<string, unknown>;
}

/**
 * The project folder (the one holding Pulumi.yaml) at or above `from`: relative
 * paths in stack config are relative to it, whether the program runs built from
 * bin/ or as TypeScript from the project.
 */
export function findProjectDir(from: string): string {
    for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml at or above ${from}`);
    }
}

/** Thrown with every configuration problem found, one per line. */
export class ConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

const KNOWN_KEYS = [
    "version",
    "profile",
    "namespace",
    "revision",
    "upgradeStrategy",
    "chartSource",
    "addonSource",
    "retainCrdsOnDestroy",
    "mesh",
    "cni",
    "gateways",
    "addons",
    "injectionNamespaces",
    "sidecarRollout",
    "istiodValues",
] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What a profile turns on when the stack config does not say otherwise. */
export function profileDefaults(profile: Profile): {
    gateways: GatewayKind[];
    addons: Addon[];
    cni: boolean;
    tracingSampling: number;
    accessLogFile: string;
} {
    switch (profile) {
        case "minimal":
            return { gateways: [], addons: [], cni: false, tracingSampling: 1, accessLogFile: "" };
        case "demo":
            return {
                gateways: ["ingress", "egress"],
                addons: [...ADDONS],
                cni: false,
                tracingSampling: 100,
                accessLogFile: "/dev/stdout",
            };
        case "ambient":
            return { gateways: ["ingress"], addons: [], cni: true, tracingSampling: 1, accessLogFile: "" };
        case "default":
        case "preview":
            return { gateways: ["ingress"], addons: [], cni: false, tracingSampling: 1, accessLogFile: "" };
    }
}

/** The gateway a profile installs for a kind, named as istioctl names it. */
export function defaultGateway(kind: GatewayKind, namespace: string): GatewayConfig {
    return {
        name: kind === "ingress" ? "istio-ingressgateway" : "istio-egressgateway",
        kind,
        namespace,
        serviceType: kind === "ingress" ? "LoadBalancer" : "ClusterIP",
        ports: [],
        replicas: 1,
    };
}

/** Collects problems while reading one raw config map. */
class Reader {
    readonly problems: string[] = [];

    constructor(private readonly raw: Record<string, unknown>) {}

    fail(key: string, value: unknown, allowed: string): void {
        this.problems.push(`${CONFIG_NAMESPACE}:${key}: ${show(value)} ${allowed}`);
    }

    has(key: string): boolean {
        return this.raw[key] !== undefined;
    }

    /** The value of a key, JSON-decoded when Pulumi handed an object over as text. */
    value(key: string): unknown {
        const v = this.raw[key];
        if (typeof v === "string" && /^\s*[[{]/.test(v)) {
            try {
                return JSON.parse(v);
            } catch {
                return v;
            }
        }
        return v;
    }

    string(key: string, fallback: string): string {
        const v = this.value(key);
        if (v === undefined) return fallback;
        if (typeof v !== "string") {
            this.fail(key, v, "is not a string");
            return fallback;
        }
        return v;
    }

    oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T, what: string): T {
        const v = this.string(key, fallback);
        if (!(allowed as readonly string[]).includes(v)) {
            this.fail(key, v, `is not ${what}; allowed: ${allowed.join(", ")}`);
            return fallback;
        }
        return v as T;
    }

    boolean(key: string, fallback: boolean): boolean {
        return asBoolean(this, key, this.value(key), fallback);
    }

    object(key: string, allowedKeys: readonly string[]): Record<string, unknown> {
        const v = this.value(key);
        if (v === undefined) return {};
        if (!isPlainObject(v)) {
            this.fail(key, v, "is not an object");
            return {};
        }
        for (const k of Object.keys(v)) {
            if (!allowedKeys.includes(k)) {
                this.fail(`${key}.${k}`, v[k], `is not a known setting; allowed: ${allowedKeys.join(", ")}`);
            }
        }
        return v;
    }
}

function asBoolean(r: Reader, key: string, v: unknown, fallback: boolean): boolean {
    if (v === undefined) return fallback;
    if (typeof v === "boolean") return v;
    if (v === "true" || v === "false") return v === "true";
    r.fail(key, v, "is not a boolean; allowed: true, false");
    return fallback;
}

function asInteger(r: Reader, key: string, v: unknown, min: number, max: number): number | undefined {
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
        r.fail(key, v, `is not a whole number from ${min} to ${max}`);
        return undefined;
    }
    return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
    return typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
}

/** Substitutes `{version}` so one setting can serve every release. */
export function expandSource(source: string, version: string): string {
    return source.split("{version}").join(version);
}

export function isRemoteSource(source: string): boolean {
    return /^(https?|oci):\/\//.test(source);
}

/**
 * Parses the stack configuration.
 * @param raw keys without the `istio-mesh:` prefix; values as Pulumi hands them over
 *   (strings, with objects and lists as JSON text) or already decoded.
 * @param baseDir the directory relative local sources are resolved against.
 */
export function parseStackConfig(raw: Record<string, unknown>, baseDir: string): StackConfig {
    const r = new Reader(raw);

    for (const key of Object.keys(raw)) {
        if (!(KNOWN_KEYS as readonly string[]).includes(key)) {
            r.fail(key, raw[key], `is not a known setting; allowed: ${KNOWN_KEYS.join(", ")}`);
        }
    }

    let version: Version = { major: 0, minor: 0, patch: 0, text: "0.0.0" };
    if (!r.has("version")) {
        r.problems.push(
            `${CONFIG_NAMESPACE}:version: is required; set it to an Istio release such as 1.29.6 (supported minors: ${SUPPORTED_MINORS.join(", ")})`,
        );
    } else {
        const text = r.string("version", "");
        const parsed = parseVersion(text);
        if (!parsed) {
            r.fail("version", text, "is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6");
        } else if (!(SUPPORTED_MINORS as readonly string[]).includes(`${parsed.major}.${parsed.minor}`)) {
            r.fail("version", text, `is not a supported release; supported minors: ${SUPPORTED_MINORS.join(", ")}`);
        } else {
            version = parsed;
        }
    }

    const profile = r.oneOf("profile", PROFILES, "default", "a profile");
    const defaults = profileDefaults(profile);

    const namespace = r.string("namespace", "istio-system");
    if (!DNS_LABEL.test(namespace)) r.fail("namespace", namespace, "is not a valid namespace name (DNS label)");

    const revision = r.string("revision", "");
    if (revision !== "" && (!DNS_LABEL.test(revision) || revision === "default")) {
        r.fail(
            "revision",
            revision,
            'is not a valid revision; use a DNS label such as 1-30-3 (not "default"), or "" for the default revision',
        );
    }
    const upgradeStrategy = r.oneOf("upgradeStrategy", UPGRADE_STRATEGIES, "in-place", "an upgrade strategy");
    if (upgradeStrategy === "canary" && revision === "") {
        r.fail(
            "upgradeStrategy",
            upgradeStrategy,
            `needs ${CONFIG_NAMESPACE}:revision set: canary control planes are told apart by revision`,
        );
    }

    const chartSource = resolveSource(r, "chartSource", DEFAULT_CHART_SOURCE, version.text, baseDir);
    const addonSource = resolveSource(r, "addonSource", DEFAULT_ADDON_SOURCE, version.text, baseDir);
    const retainCrdsOnDestroy = r.boolean("retainCrdsOnDestroy", true);

    const meshRaw = r.object("mesh", ["accessLogFile", "tracingSampling", "outboundTrafficPolicy", "enableAutoMtls"]);
    const mesh: MeshSettings = {
        accessLogFile: defaults.accessLogFile,
        tracingSampling: defaults.tracingSampling,
        outboundTrafficPolicy: "ALLOW_ANY",
        enableAutoMtls: true,
    };
    if (meshRaw.accessLogFile !== undefined) {
        if (typeof meshRaw.accessLogFile === "string") mesh.accessLogFile = meshRaw.accessLogFile;
        else
            r.fail(
                "mesh.accessLogFile",
                meshRaw.accessLogFile,
                'is not a string; use "/dev/stdout" or "" to turn access logs off',
            );
    }
    if (meshRaw.tracingSampling !== undefined) {
        const s = meshRaw.tracingSampling;
        if (typeof s === "number" && s >= 0 && s <= 100) mesh.tracingSampling = s;
        else r.fail("mesh.tracingSampling", s, "is not a percentage from 0 to 100");
    }
    if (meshRaw.outboundTrafficPolicy !== undefined) {
        const p = meshRaw.outboundTrafficPolicy;
        if ((OUTBOUND_POLICIES as readonly unknown[]).includes(p))
            mesh.outboundTrafficPolicy = p as OutboundTrafficPolicy;
        else r.fail("mesh.outboundTrafficPolicy", p, `is not a policy; allowed: ${OUTBOUND_POLICIES.join(", ")}`);
    }
    mesh.enableAutoMtls = asBoolean(r, "mesh.enableAutoMtls", meshRaw.enableAutoMtls, true);

    const cniRaw = r.object("cni", ["enabled", "namespace"]);
    const cni = {
        enabled: asBoolean(r, "cni.enabled", cniRaw.enabled, defaults.cni),
        namespace: typeof cniRaw.namespace === "string" ? cniRaw.namespace : "kube-system",
    };
    if (cniRaw.namespace !== undefined && (typeof cniRaw.namespace !== "string" || !DNS_LABEL.test(cniRaw.namespace))) {
        r.fail("cni.namespace", cniRaw.namespace, "is not a valid namespace name (DNS label)");
    }
    if (profile === "ambient" && !cni.enabled) {
        r.fail(
            "cni.enabled",
            false,
            "contradicts profile ambient: ambient mode redirects traffic with the CNI plugin; remove cni.enabled or choose another profile",
        );
    }

    const gateways = parseGateways(r, defaults.gateways, namespace);
    const addons = parseAddons(r, defaults.addons, gateways);
    if (addons.enabled.length > 0 && namespace !== "istio-system") {
        r.fail(
            "namespace",
            namespace,
            `cannot hold the addons (${addons.enabled.join(", ")}): the release's addon manifests are written for istio-system; turn them off under addons or keep namespace istio-system`,
        );
    }

    const injectionNamespaces = parseStringList(r, "injectionNamespaces", ["default"], DNS_LABEL, "a namespace name");
    if (profile === "ambient" && r.has("injectionNamespaces") && injectionNamespaces.length > 0) {
        r.fail(
            "injectionNamespaces",
            injectionNamespaces,
            "contradicts profile ambient: ambient workloads get no sidecar; label namespaces istio.io/dataplane-mode=ambient yourself, or set [] here",
        );
    }
    const sidecarRollout = parseRollout(r);

    const istiodRaw = r.value("istiodValues") ?? {};
    if (!isPlainObject(istiodRaw)) r.fail("istiodValues", istiodRaw, "is not an object of istiod chart values");
    const istiodValues = isPlainObject(istiodRaw) ? istiodRaw : {};

    if (r.problems.length > 0) throw new ConfigError(r.problems);
    return {
        version,
        profile,
        namespace,
        revision,
        upgradeStrategy,
        chartSource,
        addonSource,
        retainCrdsOnDestroy,
        mesh,
        cni,
        gateways,
        addons,
        injectionNamespaces: profile === "ambient" && !r.has("injectionNamespaces") ? [] : injectionNamespaces,
        sidecarRollout,
        istiodValues,
    };
}

function resolveSource(r: Reader, key: string, fallback: string, version: string, baseDir: string): string {
    const source = expandSource(r.string(key, fallback), version);
    if (isRemoteSource(source)) return source;
    if (/^[a-z]+:\/\//.test(source)) {
        r.fail(
            key,
            source,
            "is not a source; use https:// (Helm repository or web folder), oci:// (registry) or a local directory",
        );
        return source;
    }
    const dir = path.resolve(baseDir, source);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
        r.fail(key, source, `is not an existing directory (resolved to ${dir}); {version} is replaced by the release`);
    }
    return dir;
}

function parseStringList(r: Reader, key: string, fallback: string[], pattern: RegExp, what: string): string[] {
    const v = r.value(key);
    if (v === undefined) return fallback;
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
        r.fail(key, v, "is not a list of strings");
        return fallback;
    }
    for (const s of v as string[]) if (!pattern.test(s)) r.fail(key, s, `is not ${what}`);
    return v as string[];
}

function parseGateways(r: Reader, defaultKinds: GatewayKind[], namespace: string): GatewayConfig[] {
    const v = r.value("gateways");
    if (v === undefined) return defaultKinds.map((k) => defaultGateway(k, namespace));
    if (!Array.isArray(v)) {
        r.fail("gateways", v, "is not a list of gateways");
        return [];
    }
    const allowed = ["name", "kind", "namespace", "serviceType", "ports", "replicas"];
    const seen = new Set<string>();
    return v.flatMap((g: unknown, i: number): GatewayConfig[] => {
        const key = `gateways[${i}]`;
        if (!isPlainObject(g)) {
            r.fail(key, g, "is not an object with name, kind, serviceType, ports");
            return [];
        }
        for (const k of Object.keys(g)) {
            if (!allowed.includes(k))
                r.fail(`${key}.${k}`, g[k], `is not a known setting; allowed: ${allowed.join(", ")}`);
        }
        if (typeof g.name !== "string" || !DNS_LABEL.test(g.name)) {
            r.fail(
                `${key}.name`,
                g.name ?? null,
                "is required: every gateway needs a name (a DNS label such as istio-ingressgateway)",
            );
            return [];
        }
        if (seen.has(g.name)) r.fail(`${key}.name`, g.name, "is used by two gateways; names must be unique");
        seen.add(g.name);
        const kind = g.kind ?? "ingress";
        if (!(GATEWAY_KINDS as readonly unknown[]).includes(kind)) {
            r.fail(`${key}.kind`, kind, `is not a gateway kind; allowed: ${GATEWAY_KINDS.join(", ")}`);
        }
        const base = defaultGateway(kind === "egress" ? "egress" : "ingress", namespace);
        const serviceType = g.serviceType ?? base.serviceType;
        if (!(SERVICE_TYPES as readonly unknown[]).includes(serviceType)) {
            r.fail(`${key}.serviceType`, serviceType, `is not a Service type; allowed: ${SERVICE_TYPES.join(", ")}`);
        }
        const gwNamespace = g.namespace ?? namespace;
        if (typeof gwNamespace !== "string" || !DNS_LABEL.test(gwNamespace)) {
            r.fail(`${key}.namespace`, gwNamespace, "is not a valid namespace name (DNS label)");
        }
        const replicas = g.replicas === undefined ? 1 : (asInteger(r, `${key}.replicas`, g.replicas, 0, 100) ?? 1);
        return [
            {
                name: g.name,
                kind: base.kind,
                namespace: String(gwNamespace),
                serviceType: serviceType as ServiceType,
                ports: parsePorts(r, `${key}.ports`, g.ports, serviceType as ServiceType),
                replicas,
            },
        ];
    });
}

function parsePorts(r: Reader, key: string, v: unknown, serviceType: ServiceType): GatewayPort[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
        r.fail(key, v, "is not a list of ports {name, port, targetPort, nodePort}");
        return [];
    }
    return v.flatMap((p: unknown, i: number): GatewayPort[] => {
        const pk = `${key}[${i}]`;
        if (!isPlainObject(p) || typeof p.name !== "string" || !DNS_LABEL.test(p.name)) {
            r.fail(pk, p, "needs a name (a DNS label such as http2) and a port");
            return [];
        }
        const port = asInteger(r, `${pk}.port`, p.port, 1, 65535);
        const targetPort = p.targetPort === undefined ? port : asInteger(r, `${pk}.targetPort`, p.targetPort, 1, 65535);
        let nodePort: number | undefined;
        if (p.nodePort !== undefined) {
            if (serviceType === "ClusterIP") {
                r.fail(
                    `${pk}.nodePort`,
                    p.nodePort,
                    "needs serviceType NodePort or LoadBalancer; a ClusterIP Service has no node ports",
                );
            } else {
                nodePort = asInteger(r, `${pk}.nodePort`, p.nodePort, 30000, 32767);
            }
        }
        if (port === undefined || targetPort === undefined) return [];
        return [{ name: p.name, port, targetPort, ...(nodePort !== undefined ? { nodePort } : {}) }];
    });
}

function parseAddons(
    r: Reader,
    defaults: Addon[],
    gateways: GatewayConfig[],
): { enabled: Addon[]; exposure: AddonExposure } {
    const raw = r.object("addons", [...ADDONS, "expose"]);
    const enabled = ADDONS.filter((a) => asBoolean(r, `addons.${a}`, raw[a], defaults.includes(a)));
    const exposure: AddonExposure = { mode: "none", domain: "", gateway: "istio-ingressgateway", nodePorts: {} };
    const e = raw.expose;
    if (e === undefined) return { enabled, exposure };
    if (!isPlainObject(e)) {
        r.fail("addons.expose", e, "is not an object {mode, domain, gateway, nodePorts}");
        return { enabled, exposure };
    }
    const allowed = ["mode", "domain", "gateway", "nodePorts"];
    for (const k of Object.keys(e)) {
        if (!allowed.includes(k))
            r.fail(`addons.expose.${k}`, e[k], `is not a known setting; allowed: ${allowed.join(", ")}`);
    }
    const mode = e.mode ?? "none";
    if (!(EXPOSURE_MODES as readonly unknown[]).includes(mode)) {
        r.fail("addons.expose.mode", mode, `is not an exposure mode; allowed: ${EXPOSURE_MODES.join(", ")}`);
        return { enabled, exposure };
    }
    exposure.mode = mode as ExposureMode;
    if (exposure.mode === "host") {
        if (typeof e.domain !== "string" || !DNS_SUBDOMAIN.test(e.domain)) {
            r.fail(
                "addons.expose.domain",
                e.domain ?? null,
                "is required with mode host: addons are served as <addon>.<domain>, e.g. domain mesh.example.com",
            );
        } else {
            exposure.domain = e.domain;
        }
        const gw = typeof e.gateway === "string" ? e.gateway : exposure.gateway;
        if (!gateways.some((g) => g.name === gw && g.kind === "ingress")) {
            r.fail(
                "addons.expose.gateway",
                gw,
                `is not an ingress gateway of this stack; ingress gateways: ${
                    gateways
                        .filter((g) => g.kind === "ingress")
                        .map((g) => g.name)
                        .join(", ") || "none (add one under gateways)"
                }`,
            );
        }
        exposure.gateway = gw;
    }
    if (e.nodePorts !== undefined) {
        if (!isPlainObject(e.nodePorts)) {
            r.fail("addons.expose.nodePorts", e.nodePorts, "is not a map of addon to node port");
        } else {
            for (const [addon, port] of Object.entries(e.nodePorts)) {
                if (!(ADDONS as readonly string[]).includes(addon)) {
                    r.fail(`addons.expose.nodePorts.${addon}`, port, `is not an addon; allowed: ${ADDONS.join(", ")}`);
                    continue;
                }
                const n = asInteger(r, `addons.expose.nodePorts.${addon}`, port, 30000, 32767);
                if (n !== undefined) exposure.nodePorts[addon as Addon] = n;
            }
            if (exposure.mode !== "nodePort" && Object.keys(e.nodePorts).length > 0) {
                r.fail(
                    "addons.expose.nodePorts",
                    e.nodePorts,
                    `needs addons.expose.mode nodePort (it is ${exposure.mode})`,
                );
            }
        }
    }
    if (exposure.mode !== "none" && enabled.length === 0) {
        r.fail("addons.expose.mode", exposure.mode, "exposes no addon: enable one of " + ADDONS.join(", "));
    }
    return { enabled, exposure };
}

function parseRollout(r: Reader): WorkloadRef[] {
    const v = r.value("sidecarRollout");
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
        r.fail("sidecarRollout", v, "is not a list of {namespace, kind, name}");
        return [];
    }
    const kinds = ["Deployment", "StatefulSet", "DaemonSet"];
    return v.flatMap((w: unknown, i: number): WorkloadRef[] => {
        const key = `sidecarRollout[${i}]`;
        if (!isPlainObject(w)) {
            r.fail(key, w, "is not an object {namespace, kind, name}");
            return [];
        }
        const kind = w.kind ?? "Deployment";
        if (!kinds.includes(String(kind)))
            r.fail(`${key}.kind`, kind, `is not a workload kind; allowed: ${kinds.join(", ")}`);
        if (typeof w.namespace !== "string" || !DNS_LABEL.test(w.namespace))
            r.fail(`${key}.namespace`, w.namespace ?? null, "is required (a namespace name)");
        if (typeof w.name !== "string" || !DNS_SUBDOMAIN.test(w.name))
            r.fail(`${key}.name`, w.name ?? null, "is required (the workload's name)");
        return [{ namespace: String(w.namespace), kind: kind as WorkloadRef["kind"], name: String(w.name) }];
    });
}
