// `addons`: which observability addons run, and how their UIs are reached.
import { ADDONS, Addon, EXPOSURE_MODES, ExposureMode } from "./allowed";
import { DOMAIN, GATEWAY_NAME, readName } from "./names";
import { ParsedGateways } from "./gateways";
import { childKey, field, isPlainObject, isSet, Reader, UniqueValues } from "./reader";
import { AddonExposure } from "./types";

const ADDON_SETTINGS = [...ADDONS, "expose"] as const;
const EXPOSE_SETTINGS = ["mode", "domain", "gateway", "nodePorts"] as const;

/** Which exposure mode each expose setting belongs to. */
const SETTING_MODE: Record<"domain" | "gateway" | "nodePorts", ExposureMode> = {
    domain: "host",
    gateway: "host",
    nodePorts: "nodePort",
};

export interface ParsedAddons {
    enabled: Addon[];
    exposure: AddonExposure;
    /** `enabled` is the list meant: read without problems, from a valid profile or set addon by addon. */
    known: boolean;
}

/** Reads `addons`; `nodePorts` holds the stack's node ports so far (the gateways'). */
export function readAddons(r: Reader, v: unknown, defaults: Addon[], nodePorts: UniqueValues<number>): ParsedAddons {
    const readable = !isSet(v) || isPlainObject(v);
    const raw = r.object("addons", v, ADDON_SETTINGS) ?? {};
    const enabled = ADDONS.filter((a) => r.boolean(childKey("addons", a), field(raw, a)) ?? defaults.includes(a));
    const known =
        readable &&
        r.valid(...ADDONS.map((a) => childKey("addons", a))) &&
        (r.valid("profile") || ADDONS.every((a) => isSet(field(raw, a))));
    const exposure: AddonExposure = { mode: "none", domain: "", gateway: "istio-ingressgateway", nodePorts: {} };
    const e = r.object("addons.expose", field(raw, "expose"), EXPOSE_SETTINGS);
    if (!e) return { enabled, exposure, known };

    exposure.mode = r.oneOf("addons.expose.mode", field(e, "mode"), EXPOSURE_MODES, "an exposure mode") ?? "none";
    const modeKnown = r.valid("addons.expose.mode");
    exposure.domain = readName(r, "addons.expose.domain", field(e, "domain"), DOMAIN) ?? "";
    exposure.gateway = readName(r, "addons.expose.gateway", field(e, "gateway"), GATEWAY_NAME) ?? exposure.gateway;

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

    if (!modeKnown) return { enabled, exposure, known };
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
    return { enabled, exposure, known };
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
