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
import { ENVIRONMENTS } from "./allowed";
import { readAmbientNamespaces, readWaypoints } from "./ambient";
import { readControlPlane } from "./controlPlane";
import { readGatewayApi } from "./gatewayApi";
import { checkGatewayNames, checkIngressReplicas, readGateways } from "./gateways";
import { readInjectionNamespaces, readSidecarRollout } from "./injection";
import { readIstiodValues } from "./istiodValues";
import { readRevisions, readSidecarMigration, resolveFollows } from "./revisions";
import { readCni, readMesh } from "./mesh";
import { stackObjectNamed } from "./ownedNames";
import { profileDefaults } from "./profiles";
import { childKey, field, isPlainObject, Reader, UniqueValues } from "./reader";
import { installedCharts } from "./installedCharts";
import { checkLocalFiles, DEFAULT_ADDON_SOURCE, DEFAULT_CHART_SOURCE, readSource } from "./sources";
import { StackConfig } from "./types";

/** Every key of the stack configuration, in the order messages list them. */
export const STACK_SETTINGS = [
    "version",
    "profile",
    "namespace",
    "revision",
    "revisions",
    "revisionTags",
    "upgradeStrategy",
    "chartSource",
    "addonSource",
    "retainCrdsOnDestroy",
    "adoptExisting",
    "mesh",
    "cni",
    "gateways",
    "addons",
    GRAFANA_PASSWORD_KEY,
    "injectionNamespaces",
    "sidecarRollout",
    "sidecarMigration",
    "istiodValues",
    "ambientNamespaces",
    "waypoints",
    "gatewayApi",
    "environment",
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

    const environment = r.oneOf("environment", field(root, "environment"), ENVIRONMENTS, "an environment");
    const control = readControlPlane(r, root);
    const defaults = profileDefaults(control.profile);
    const version = r.valid("version") ? control.version.text : undefined;
    const chartSource = readSource(r, root, "chartSource", DEFAULT_CHART_SOURCE, version, baseDir);
    const addonSource = readSource(r, root, "addonSource", DEFAULT_ADDON_SOURCE, version, baseDir);
    const retainCrdsOnDestroy = r.boolean("retainCrdsOnDestroy", field(root, "retainCrdsOnDestroy")) ?? true;
    const adoptExisting = r.boolean("adoptExisting", field(root, "adoptExisting")) ?? false;
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
    checkIngressReplicas(r, gateways);

    const revs = readRevisions(r, root, control);
    const injectionNamespaces = readInjectionNamespaces(r, field(root, "injectionNamespaces"), control, revs);
    const sidecarMigration = readSidecarMigration(r, field(root, "sidecarMigration"));
    // A gateway pinned to a tag runs the revision behind it: moving the tag restarts the gateway.
    for (const g of gateways.gateways) {
        if (g.value.follows === undefined) continue;
        const revision = resolveFollows(r, childKey(g.key, "revision"), g.value.follows, revs);
        if (revision !== undefined) g.value.revision = revision;
    }
    const layout = { namespace: control.namespace, profile: control.profile, cni, addons };
    const sidecarRollout = readSidecarRollout(r, field(root, "sidecarRollout"), (namespace, name) => {
        // Judged only against a namespace and profile that were given right: a fallback would blame the wrong name.
        if (!r.valid("namespace", "profile", "cni", "gateways")) return undefined;
        const gateway = gateways.gateways.find((g) => g.value.namespace === namespace && g.value.name === name);
        return gateway ? `gateway ${name}` : stackObjectNamed(layout, namespace, name);
    });
    const istiodValues = readIstiodValues(r, field(root, "istiodValues"));
    const ambientNamespaces = readAmbientNamespaces(
        r,
        field(root, "ambientNamespaces"),
        control,
        injectionNamespaces.map((n) => n.name),
    );
    const waypoints = readWaypoints(r, field(root, "waypoints"), ambientNamespaces);
    const gatewayApi = readGatewayApi(
        r,
        field(root, "gatewayApi"),
        r.valid("version") ? control.version : undefined,
        baseDir,
    );

    /** Istio version -> where its charts are: the stack's version and each revision's. */
    const chartSources: Record<string, string> = {};
    if (version !== undefined) {
        // Judged only against settings given right: base (and istiod) otherwise.
        const charts = installedCharts(
            r.valid("profile", "gateways", "cni")
                ? { profile: control.profile, cni, gateways: gateways.gateways }
                : { profile: "minimal", cni: { enabled: false }, gateways: [] },
        );
        const rule = "a local chart source holds <chart>-<version>.tgz for every chart the stack installs";
        const istiodVersions = new Set(revs.revisions.map((rev) => rev.version.text));
        checkLocalFiles(
            r,
            chartSource,
            charts
                .filter((chart) => chart !== "istiod" || istiodVersions.has(version))
                .map((chart) => `${chart}-${version}.tgz`),
            rule,
        );
        chartSources[version] = chartSource.location;
        // A control plane at another version takes its istiod chart from the source at that version.
        for (const other of istiodVersions) {
            if (other === version) continue;
            const source = readSource(r, root, "chartSource", DEFAULT_CHART_SOURCE, other, baseDir);
            checkLocalFiles(r, source, [`istiod-${other}.tgz`], rule);
            chartSources[other] = source.location;
        }
        if (addons.known) {
            checkLocalFiles(
                r,
                addonSource,
                addons.enabled.map((addon) => `${addon}.yaml`),
                "a local addon source holds <addon>.yaml for every addon that is on",
            );
        }
    }

    r.throwIfAny();
    return {
        ...control,
        ...(environment !== undefined ? { environment } : {}),
        revision: revs.defaultRevision ?? revs.revisions[0]?.name ?? "",
        revisions: revs.revisions,
        revisionTags: revs.tags,
        sidecarMigration,
        chartSource: chartSource.location,
        chartSources,
        addonSource: addonSource.location,
        retainCrdsOnDestroy,
        adoptExisting,
        mesh,
        cni,
        gateways: gateways.gateways.map((g) => g.value),
        addons: {
            enabled: addons.enabled,
            exposure: addons.exposure,
            access: addons.access,
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
