// The application stack's settings (`istio-mesh-app:<key>` in Pulumi.<stack>.yaml)
// and what it needs of the mesh stack's outputs. Pure functions: every problem is
// found, and reported at once, before a single resource is registered.
import * as fs from "fs";
import * as path from "path";
import { IngressRouteInput, ServiceRouteInput, TrafficApi } from "./traffic/types";
import { readIngressRoute, readServiceRoute, readTrafficApi } from "./traffic/validate";
import { childKey, field, isPlainObject, Reader, show } from "../../components/config/reader";
import { GATEWAY_NAME, NAMESPACE_NAME, SYSTEM_NAMESPACES } from "../../components/config/names";

export const APP_CONFIG_NAMESPACE = "istio-mesh-app";

/** The release's samples, by Istio version. */
export const DEFAULT_SAMPLE_SOURCE = "https://raw.githubusercontent.com/istio/istio/{version}/samples";

/** The bookinfo manifest, relative to the samples folder. */
export const BOOKINFO_MANIFEST = "bookinfo/platform/kube/bookinfo.yaml";

const SETTINGS = [
    "meshStack",
    "namespace",
    "trafficApi",
    "sampleSource",
    "bookinfo",
    "hello",
    "routes",
    "ingress",
] as const;

export interface AppConfig {
    /** The mesh stack, as <organization>/<project>/<stack>. */
    meshStack: string;
    namespace: string;
    trafficApi: TrafficApi;
    /** URL or absolute directory of the release's samples; `{version}` is the mesh's Istio version. */
    sampleSource: string;
    bookinfo: boolean;
    hello: boolean;
    /** Routes as written; checked here, and again by each component. */
    routes: ServiceRouteInput[];
    /** The ingress route as written; checked once the gateway's ports are known (checkMesh). */
    ingress?: IngressRouteInput & { gateway?: string };
}

/**
 * Pulumi hands every value over as text; objects and lists as JSON. Keys of
 * other namespaces (kubernetes:...) are not ours.
 */
export function appConfigValues(all: Record<string, string>): Record<string, unknown> {
    const values: Record<string, unknown> = {};
    for (const [k, text] of Object.entries(all)) {
        if (!k.startsWith(`${APP_CONFIG_NAMESPACE}:`)) continue;
        let value: unknown = text;
        if (/^\s*[[{]/.test(text) || text === "true" || text === "false") {
            try {
                value = JSON.parse(text);
            } catch {
                value = text;
            }
        }
        values[k.slice(APP_CONFIG_NAMESPACE.length + 1)] = value;
    }
    return values;
}

const STACK_NAME = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;

/** The package's reader, naming keys as `istio-mesh-app:<key>`; a null inside a route reads as unset. */
function appReader(): Reader {
    return new Reader({ namespace: APP_CONFIG_NAMESPACE, nullMeansUnset: true });
}

/**
 * Reads and checks the settings. `stack` and `organization` give the default
 * mesh stack (the same stack name in project istio-mesh); `programDir` resolves a
 * relative sampleSource; `mirror`, the mesh's release mirror
 * (ISTIO_MESH_RELEASE_MIRROR), stands in for the official samples as it does for
 * the mesh's charts: `<mirror>/istio/<version>/samples`.
 */
export function parseAppConfig(
    values: Record<string, unknown>,
    defaults: { organization: string; stack: string; programDir: string; mirror?: string },
): AppConfig {
    const r = appReader();
    const given = (k: (typeof SETTINGS)[number]): unknown => field(values, k);
    r.object("", values, SETTINGS);
    let meshStack = `${defaults.organization}/istio-mesh/${defaults.stack}`;
    const rawMeshStack = given("meshStack");
    if (rawMeshStack !== undefined) {
        if (typeof rawMeshStack === "string" && STACK_NAME.test(rawMeshStack)) {
            meshStack = rawMeshStack;
        } else {
            r.invalid(
                "meshStack",
                rawMeshStack,
                "is not a stack name; write <organization>/<project>/<stack>, such as organization/istio-mesh/local",
            );
        }
    }
    let namespace = "default";
    const ns = given("namespace");
    if (ns !== undefined) {
        if (
            typeof ns === "string" &&
            ns.length <= NAMESPACE_NAME.maxLength &&
            NAMESPACE_NAME.pattern.test(ns) &&
            !(SYSTEM_NAMESPACES as readonly string[]).includes(ns)
        ) {
            namespace = ns;
        } else {
            r.invalid(
                "namespace",
                ns,
                "is not an application namespace; use an existing namespace's name (a DNS label), not kube-system, kube-public or kube-node-lease",
            );
        }
    }
    const trafficApi = readTrafficApi(r, "trafficApi", given("trafficApi")) ?? "istio";

    let sampleSource = defaults.mirror
        ? path.join(path.resolve(defaults.mirror), "istio", "{version}", "samples")
        : DEFAULT_SAMPLE_SOURCE;
    const s = given("sampleSource");
    if (s !== undefined) {
        if (typeof s !== "string" || s.length === 0) {
            r.invalid("sampleSource", s, "is not a URL or directory of the release's samples");
        } else {
            sampleSource = /^https?:\/\//.test(s) ? s : path.resolve(defaults.programDir, s);
        }
    }
    const bookinfo = r.boolean("bookinfo", given("bookinfo")) ?? true;
    const hello = r.boolean("hello", given("hello")) ?? true;

    const routes: ServiceRouteInput[] = [];
    const rawRoutes = r.list("routes", given("routes"), "service routes") ?? [];
    const services = new Map<string, number>();
    rawRoutes.forEach((raw, i) => {
        const routeKey = childKey("routes", i);
        const route = readServiceRoute(r, routeKey, raw, trafficApi);
        if (!route) return;
        const earlier = services.get(route.service);
        if (earlier !== undefined) {
            r.invalid(
                childKey(routeKey, "service"),
                route.service,
                `is a duplicate of routes[${earlier}].service; one route per Service (it names the Service's VirtualService or HTTPRoute)`,
            );
            return;
        }
        services.set(route.service, i);
        routes.push(raw as ServiceRouteInput);
    });

    let ingress: AppConfig["ingress"];
    const raw = given("ingress");
    if (raw !== undefined) {
        if (!isPlainObject(raw)) {
            r.invalid("ingress", raw, "is not an object; its settings are gateway, name, hosts, port, paths");
        } else {
            const { gateway, ...route } = raw;
            const gatewayName =
                typeof gateway === "string" &&
                gateway.length <= GATEWAY_NAME.maxLength &&
                GATEWAY_NAME.pattern.test(gateway);
            if (gateway !== undefined && !gatewayName) {
                r.invalid(
                    "ingress.gateway",
                    gateway,
                    "is not a gateway name; use the name of one of the mesh stack's ingress gateways, such as istio-ingressgateway",
                );
            }
            // The port is checked against the gateway's once the mesh is read; the rest now.
            const checked = readIngressRoute(r, "ingress", route, 1, undefined);
            // A mesh route (VirtualService for `mesh`, HTTPRoute on a Service) governs what
            // sidecars send; the ingress gateway forwards straight to the Service's pods.
            checked?.paths.forEach((p, i) => {
                const routed = services.get(p.service);
                if (routed === undefined) return;
                r.invalid(
                    `ingress.paths[${i}].service`,
                    p.service,
                    `has version rules (routes[${routed}]), which apply to requests from sidecars, not to the ones the ingress gateway forwards: those would bypass its weights and canary (istioctl analyze: IST0140); send the path to a front Service such as productpage`,
                );
            });
            // Checked above (readIngressRoute), and again against the gateway by checkMesh.
            ingress = raw as unknown as AppConfig["ingress"];
        }
    }

    r.throwIfAny("invalid stack configuration");
    return { meshStack, namespace, trafficApi, sampleSource, bookinfo, hello, routes, ...(ingress ? { ingress } : {}) };
}

/** One ingress or egress gateway, as the mesh stack's `gateways` output lists it. */
export interface MeshGateway {
    name: string;
    kind: string;
    namespace: string;
    ports: { name: string; port: number; nodePort?: number }[];
}

/** What the application needs of the mesh stack. */
export interface MeshView {
    version: string;
    revision: string;
    injectionNamespaces: string[];
    /** The gateway the ingress route is bound to; only when an ingress route is configured. */
    ingressGateway?: MeshGateway;
}

/** The mesh stack's outputs this program reads, and why: a missing one is reported with the reason. */
export const MESH_OUTPUTS = {
    version: "the Istio version, which picks the release's samples",
    revision: "the istiod revision that injects the application's pods",
    injectionNamespaces: "the namespaces the mesh labels for sidecar injection",
    gateways: "the mesh's ingress gateway, which the ingress route is bound to",
} as const;
export type MeshOutputName = keyof typeof MESH_OUTPUTS;

/**
 * Checks the mesh stack's outputs against the settings: each output needed is
 * there and has the shape this program reads, the application namespace is one
 * the mesh labels for injection, and the ingress gateway exists. `outputs` holds
 * what the stack reference returned (undefined for a missing output).
 */
export function checkMesh(config: AppConfig, outputs: Partial<Record<MeshOutputName, unknown>>): MeshView {
    const r = appReader();
    /** A problem with the mesh stack's output `name`, which is no setting of this stack. */
    const badOutput = (name: MeshOutputName, value: unknown, rule: string): undefined => {
        r.problems.push(`mesh stack ${config.meshStack}: output ${name}: ${show(value)} ${rule}`);
        return undefined;
    };
    const missing = (name: MeshOutputName): undefined => {
        r.problems.push(
            `mesh stack ${config.meshStack}: has no output "${name}" (${MESH_OUTPUTS[name]}); run \`pulumi up\` on the mesh stack with an istio-mesh version that exports it, or check ${APP_CONFIG_NAMESPACE}:meshStack`,
        );
        return undefined;
    };
    const text = (name: "version" | "revision"): string | undefined => {
        const v = outputs[name];
        if (v === undefined || v === null) return missing(name);
        if (typeof v === "string") return v;
        return badOutput(name, v, "is not text");
    };
    const version = text("version");
    const revision = text("revision");

    let injectionNamespaces: string[] | undefined;
    const ns = outputs.injectionNamespaces;
    if (ns === undefined || ns === null) {
        missing("injectionNamespaces");
    } else if (!Array.isArray(ns) || !ns.every((n) => typeof n === "string")) {
        badOutput("injectionNamespaces", ns, "is not a list of namespace names");
    } else {
        injectionNamespaces = ns as string[];
        if (!injectionNamespaces.includes(config.namespace)) {
            r.invalid(
                "namespace",
                config.namespace,
                `is not labelled for sidecar injection by the mesh stack ${config.meshStack} (its injectionNamespaces: ${injectionNamespaces.join(", ") || "none"}); add it to istio-mesh:injectionNamespaces there and run \`pulumi up\` on the mesh first, or use one of those`,
            );
        }
    }

    let ingressGateway: MeshGateway | undefined;
    if (config.ingress) {
        const gws = outputs.gateways;
        if (gws === undefined || gws === null) {
            missing("gateways");
        } else if (!Array.isArray(gws) || !gws.every(isMeshGateway)) {
            badOutput("gateways", gws, "is not a list of gateways {name, kind, namespace, ports}");
        } else {
            const ingresses = gws.filter((g) => g.kind === "ingress");
            const wanted = config.ingress.gateway;
            ingressGateway = wanted === undefined ? ingresses[0] : ingresses.find((g) => g.name === wanted);
            if (!ingressGateway) {
                if (wanted === undefined) {
                    r.required(
                        "ingress.gateway",
                        `the mesh stack ${config.meshStack} has no ingress gateway; add one to istio-mesh:gateways, or leave ingress out`,
                    );
                } else {
                    r.invalid(
                        "ingress.gateway",
                        wanted,
                        `is not an ingress gateway of the mesh stack ${config.meshStack}; allowed: ${ingresses.map((g) => g.name).join(", ") || "none"}`,
                    );
                }
            } else {
                const { gateway: _unused, ...route } = config.ingress;
                void _unused;
                const ports = ingressGateway.ports.map((p) => p.port);
                const http =
                    ingressGateway.ports.find((p) => p.name === "http2") ??
                    ingressGateway.ports.find((p) => p.name === "http");
                readIngressRoute(r, "ingress", route, http?.port, ports);
            }
        }
    }
    if (config.bookinfo && version !== undefined && !/^https?:\/\//.test(config.sampleSource)) {
        const manifest = bookinfoManifest(config.sampleSource, version);
        if (!fs.existsSync(manifest)) {
            r.invalid(
                "sampleSource",
                config.sampleSource,
                `has no ${manifest} for the mesh's Istio ${version}; point it at the samples folder of that release ({version} is replaced), or set bookinfo false`,
            );
        }
    }
    r.throwIfAny("the application cannot be deployed on this mesh");
    return {
        version: version ?? "",
        revision: revision ?? "",
        injectionNamespaces: injectionNamespaces ?? [],
        ...(ingressGateway ? { ingressGateway } : {}),
    };
}

function isMeshGateway(g: unknown): g is MeshGateway {
    if (typeof g !== "object" || g === null) return false;
    const o = g as Record<string, unknown>;
    return (
        typeof o.name === "string" &&
        typeof o.kind === "string" &&
        typeof o.namespace === "string" &&
        Array.isArray(o.ports) &&
        o.ports.every((p) => typeof p === "object" && p !== null && typeof (p as { port: unknown }).port === "number")
    );
}

/** Where the bookinfo manifest comes from for this Istio version. */
export function bookinfoManifest(sampleSource: string, version: string): string {
    const source = sampleSource.split("{version}").join(version);
    return /^https?:\/\//.test(source)
        ? `${source.replace(/\/$/, "")}/${BOOKINFO_MANIFEST}`
        : path.join(source, BOOKINFO_MANIFEST);
}
