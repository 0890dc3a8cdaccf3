// The shape of the stack configuration in one table, assembled from the
// declarations each topic reads with (the settings of each object, the lists of
// objects and their bounds): a unit test holds the configuration reference
// (docs/configuration.md) to it, key by key.
import { ADDONS } from "./allowed";
import { ADDON_SETTINGS, EXPOSE_SETTINGS, JWT_SETTINGS, RETIRED_EXPOSE_SETTINGS, TLS_SETTINGS } from "./addons";
import { WAYPOINTS } from "./ambient";
import { GATEWAY_API_SETTINGS } from "./gatewayApi";
import { GATEWAY_PORTS, GATEWAYS } from "./gateways";
import { ENROLLMENT_SETTINGS, SIDECAR_ROLLOUT } from "./injection";
import { CNI_SETTINGS, MESH_SETTINGS } from "./mesh";
import { EXTERNAL_SERVICES, MTLS_EXCEPTIONS, MTLS_SETTINGS } from "./mtls";
import { STACK_SETTINGS } from "./parse";
import { MIGRATION_SETTINGS, REVISIONS } from "./revisions";

/** A key that holds settings of its own: an object, or a list whose items are objects (`list`). */
export interface DeclaredShape {
    settings: readonly string[];
    list: boolean;
}

const object = (settings: readonly string[]): DeclaredShape => ({ settings, list: false });
const list = (settings: readonly string[]): DeclaredShape => ({ settings, list: true });

/**
 * Every key of the stack configuration that holds settings, as messages name it
 * (`gateways[]` for the items of a list), with the settings it takes. A key
 * missing here holds a value: text, a number, a flag, a list of names, or a map
 * whose keys are data (labels, revision tags, istiod chart values).
 */
export const STACK_SHAPES: Readonly<Record<string, DeclaredShape>> = {
    "": object(STACK_SETTINGS),
    mesh: object(MESH_SETTINGS),
    "mesh.mtls": object(MTLS_SETTINGS),
    "mesh.mtls.exceptions": list(MTLS_EXCEPTIONS.settings),
    "mesh.mtls.externalServices": list(EXTERNAL_SERVICES.settings),
    cni: object(CNI_SETTINGS),
    gateways: list(GATEWAYS.settings),
    "gateways[].ports": list(GATEWAY_PORTS.settings),
    addons: object(ADDON_SETTINGS),
    "addons.expose": object(EXPOSE_SETTINGS),
    "addons.expose.tls": object(TLS_SETTINGS),
    "addons.expose.jwt": object(JWT_SETTINGS),
    "addons.expose.nodePorts": object(ADDONS),
    revisions: list(REVISIONS.settings),
    injectionNamespaces: list(ENROLLMENT_SETTINGS),
    sidecarRollout: list(SIDECAR_ROLLOUT.settings),
    sidecarMigration: object(MIGRATION_SETTINGS),
    waypoints: list(WAYPOINTS.settings),
    gatewayApi: object(GATEWAY_API_SETTINGS),
};

/** Keys still known only to tell a stack that sets them what replaced them: not documented as settings. */
export const RETIRED_SETTINGS: readonly string[] = RETIRED_EXPOSE_SETTINGS.map((s) => `addons.expose.${s}`);

/** Every key a stack can set, in declaration order, retired ones left out. */
export function declaredKeys(): string[] {
    const keys: string[] = [];
    for (const [parent, shape] of Object.entries(STACK_SHAPES)) {
        const prefix = parent === "" ? "" : `${parent}${shape.list ? "[]" : ""}.`;
        for (const setting of shape.settings) keys.push(`${prefix}${setting}`);
    }
    return keys.filter((key) => !RETIRED_SETTINGS.includes(key));
}
