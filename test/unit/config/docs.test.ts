// docs/configuration.md is tested against the declarations it describes: every key
// the parser knows has a row, and every bound of limits.ts is the one documented.
import * as fs from "fs";
import * as path from "path";
import { LIMITS, STACK_SETTINGS } from "../../../components/config";

const doc = fs.readFileSync(path.resolve(__dirname, "../../../docs/configuration.md"), "utf8");

test("every key of the stack configuration has a row in docs/configuration.md", () => {
    const undocumented = STACK_SETTINGS.filter((key) => !new RegExp(`^\\| \`${key}[.\`]`, "m").test(doc));
    expect(undocumented).toEqual([]);
});

test("every list bound is documented as it is declared", () => {
    const documented: Record<keyof typeof LIMITS, string> = {
        gateways: "gateways",
        gatewayPorts: "gateways[].ports",
        revisions: "revisions",
        injectionNamespaces: "injectionNamespaces",
        sidecarRollout: "sidecarRollout",
        ambientNamespaces: "ambientNamespaces",
        waypoints: "waypoints",
        mtlsExceptions: "mesh.mtls.exceptions",
        externalServices: "mesh.mtls.externalServices",
        externalAddresses: "mesh.mtls.externalServices[].addresses",
    };
    for (const [limit, key] of Object.entries(documented)) {
        const limitsTable = doc.slice(doc.indexOf("\n## Limits"), doc.indexOf("\n## ", doc.indexOf("\n## Limits") + 1));
        const row = limitsTable.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
        expect({ key, bound: row?.split("|")[2].trim() }).toEqual({
            key,
            bound: String(LIMITS[limit as keyof typeof LIMITS].max),
        });
    }
});
