// Reads and validates every key of the stack configuration. Pure: it needs no
// Pulumi runtime, so each error message can be tested directly. Every error names
// the key, the bad value and what is allowed; all problems are reported at once,
// before a single resource is registered, and a bad value is reported once, not
// again through the settings derived from it.
import {
    checkAddonNamespace,
    checkExposureGateway,
    checkExposureSecurity,
    GRAFANA_PASSWORD_KEY,
    readAddons,
    readGrafanaPassword,
} from "./addons";
import { readAmbientNamespaces, readWaypoints } from "./ambient";
import { readControlPlane } from "./controlPlane";
import { readGatewayApi } from "./gatewayApi";
import { checkGatewayNames, readGateways } from "./gateways";
import { readInjectionNamespaces, readSidecarRollout } from "./injection";
import { readIstiodValues } from "./istiodValues";
import { readCni, readMesh } from "./mesh";
import { profileDefaults } from "./profiles";
import { ConfigError, field, isPlainObject, Reader, UniqueValues } from "./reader";
import { checkLocalFiles, DEFAULT_ADDON_SOURCE, DEFAULT_CHART_SOURCE, readSource } from "./sources";
import { StackConfig } from "./types";

/** Every key of the stack configuration, in the order messages list them. */
export const STACK_SETTINGS = [
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
    GRAFANA_PASSWORD_KEY,
    "injectionNamespaces",
    "sidecarRollout",
    "istiodValues",
    "ambientNamespaces",
    "waypoints",
    "gatewayApi",
] as const;

/**
 * Parses the stack configuration.
 * @param raw keys without the `istio-mesh:` prefix; values as Pulumi hands them over
 *   (strings, with objects and lists as JSON text) or already decoded.
 * @param baseDir the directory relative local sources are resolved against.
 * @throws ConfigError listing every problem found.
 */
export function parseStackConfig(raw: Record<string, unknown>, baseDir: string): StackConfig {
    const r = new Reader();
    const root = r.object("", decodeJsonText(raw), STACK_SETTINGS) ?? {};

    const control = readControlPlane(r, root);
    const defaults = profileDefaults(control.profile);
    const version = r.valid("version") ? control.version.text : undefined;
    const chartSource = readSource(r, root, "chartSource", DEFAULT_CHART_SOURCE, version, baseDir);
    const addonSource = readSource(r, root, "addonSource", DEFAULT_ADDON_SOURCE, version, baseDir);
    const retainCrdsOnDestroy = r.boolean("retainCrdsOnDestroy", field(root, "retainCrdsOnDestroy")) ?? true;
    const mesh = readMesh(r, field(root, "mesh"), defaults, control);
    const cni = readCni(r, field(root, "cni"), defaults, control.profile);

    const nodePorts = new UniqueValues<number>(r, "a node port serves one Service in the whole cluster");
    const gateways = readGateways(r, field(root, "gateways"), defaults.gateways, control.namespace, nodePorts);
    const grafanaPassword = readGrafanaPassword(r, field(root, GRAFANA_PASSWORD_KEY));
    const addons = readAddons(r, field(root, "addons"), defaults.addons, nodePorts, grafanaPassword);
    checkGatewayNames(r, gateways.gateways, { namespace: control.namespace, profile: control.profile, cni, addons });
    checkExposureGateway(r, addons, gateways);
    checkAddonNamespace(r, addons, control.namespace);
    checkExposureSecurity(r, addons, grafanaPassword);

    const injectionNamespaces = readInjectionNamespaces(r, field(root, "injectionNamespaces"), control);
    const sidecarRollout = readSidecarRollout(r, field(root, "sidecarRollout"));
    const istiodValues = readIstiodValues(r, field(root, "istiodValues"));
    const ambientNamespaces = readAmbientNamespaces(r, field(root, "ambientNamespaces"), control, injectionNamespaces);
    const waypoints = readWaypoints(r, field(root, "waypoints"), ambientNamespaces);
    const gatewayApi = readGatewayApi(
        r,
        field(root, "gatewayApi"),
        r.valid("version") ? control.version : undefined,
        baseDir,
    );

    if (version !== undefined) {
        const charts = ["base", "istiod"];
        if (r.valid("profile", "gateways", "cni")) {
            if (gateways.gateways.length > 0) charts.push("gateway");
            if (cni.enabled) charts.push("cni");
            if (control.profile === "ambient") charts.push("ztunnel");
        }
        checkLocalFiles(
            r,
            chartSource,
            charts.map((chart) => `${chart}-${version}.tgz`),
            "a local chart source holds <chart>-<version>.tgz for every chart the stack installs",
        );
        if (addons.known) {
            checkLocalFiles(
                r,
                addonSource,
                addons.enabled.map((addon) => `${addon}.yaml`),
                "a local addon source holds <addon>.yaml for every addon that is on",
            );
        }
    }

    if (r.problems.length > 0) throw new ConfigError(r.problems);
    return {
        ...control,
        chartSource: chartSource.location,
        addonSource: addonSource.location,
        retainCrdsOnDestroy,
        mesh,
        cni,
        gateways: gateways.gateways.map((g) => g.value),
        addons: {
            enabled: addons.enabled,
            exposure: addons.exposure,
            grafanaAdminFromSecret: addons.grafanaAdminFromSecret,
        },
        injectionNamespaces,
        sidecarRollout,
        istiodValues,
        ambientNamespaces,
        waypoints,
        gatewayApi,
    };
}

/** Pulumi hands a top-level object or list over as JSON text; anything else stays as it is. */
function decodeJsonText(raw: unknown): unknown {
    if (!isPlainObject(raw)) return raw;
    return Object.fromEntries(
        Object.entries(raw).map(([key, value]) => {
            // A password is text, whatever it starts with.
            if (key === GRAFANA_PASSWORD_KEY) return [key, value];
            if (typeof value !== "string" || !/^\s*[[{]/.test(value)) return [key, value];
            try {
                return [key, JSON.parse(value) as unknown];
            } catch {
                // Not JSON after all: the setting's own check says what it should be.
                return [key, value];
            }
        }),
    );
}
