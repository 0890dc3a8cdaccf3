// docs/configuration.md is tested against the declarations it describes: every key
// the parser declares is documented and every documented key is declared; each
// documented default is what the parser gives when the key is unset; each closed
// list of allowed values and each range is the one the parser enforces; and every
// bound of limits.ts is the one documented.
import * as fs from "fs";
import * as path from "path";
import {
    DEFAULT_ADDON_SOURCE,
    DEFAULT_CHART_SOURCE,
    DEFAULT_GATEWAY_API_SOURCE,
    LIMITS,
    Profile,
    StackConfig,
    STACK_SETTINGS,
} from "../../../components/config";
import { declaredKeys, RETIRED_SETTINGS, STACK_SHAPES } from "../../../components/config/shapes";
import { configParser } from "../configParser";

const doc = fs.readFileSync(path.resolve(__dirname, "../../../docs/configuration.md"), "utf8");
const { parse, problems } = configParser("1.29.6");

/** A row of the reference table: `| key | default | allowed / example | meaning |`. */
interface Row {
    key: string;
    default: string;
    allowed: string;
    line: string;
}

/** The rows of the reference table (the one whose header starts with `| key | default |`), `<a\|b>` expanded. */
function referenceRows(): Row[] {
    const start = doc.indexOf("| key | default |");
    const table = doc.slice(start, doc.indexOf("\n\n", start)).split("\n").slice(2);
    return table.flatMap((line) => {
        const cells = line.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, "|"));
        const key = /^`([^`]+)`$/.exec(cells[1])?.[1] ?? `(unreadable: ${cells[1]})`;
        const alternatives = /^(.*)<([^>]+)>$/.exec(key);
        const keys = alternatives ? alternatives[2].split("|").map((a) => alternatives[1] + a) : [key];
        return keys.map((k) => ({ key: k, default: cells[2], allowed: cells[3], line }));
    });
}

const rows = referenceRows();
const rowOf = (key: string): Row | undefined => rows.find((r) => r.key === key);

/** The key's parent, as STACK_SHAPES names it: `gateways[].ports` -> `gateways`, `mesh.mtls` -> `mesh`. */
function parentOf(key: string): string {
    const at = key.lastIndexOf(".");
    return at < 0 ? "" : key.slice(0, at).replace(/\[\]$/, "");
}

/**
 * Documented: a row of its own; or settings that are all documented; or an item
 * setting of a list (or object) whose documented ancestor's row lists the item's
 * settings as `{a, b, c}`, in the declared order.
 */
function documented(key: string): boolean {
    if (rowOf(key)) return true;
    const own = STACK_SHAPES[key];
    const settings = own?.settings.map((s) => `${key}.${s}`).filter((k) => !RETIRED_SETTINGS.includes(k));
    if (own && !own.list && settings?.every(documented)) return true;
    const parent = parentOf(key);
    const shape = STACK_SHAPES[parent];
    if (!shape) return false;
    const braces = `{${shape.settings.join(", ")}}`;
    for (let ancestor = parent; ; ancestor = parentOf(ancestor)) {
        const row = rowOf(ancestor);
        if (row) return row.line.includes(braces);
        if (ancestor === "") return false;
    }
}

test("every declared key is documented in docs/configuration.md, and every documented key is declared", () => {
    const declared = declaredKeys();
    // The walk reaches into objects and the items of lists: a flat list would pass for nothing.
    expect(declared).toEqual(expect.arrayContaining(["version", "mesh.mtls.mode", "gateways[].ports[].nodePort"]));
    expect(declared.filter((key) => !documented(key))).toEqual([]);
    expect(rows.map((r) => r.key).filter((key) => !declared.includes(key))).toEqual([]);
    // The top-level keys, as the parser lists them in its messages, are the declared ones.
    expect(declared.filter((key) => !key.includes("."))).toEqual([...STACK_SETTINGS]);
});

/** The raw config that sets `key` (dotted, no list items) to `value`. */
function setting(key: string, value: unknown): Record<string, unknown> {
    return key
        .split(".")
        .reverse()
        .reduce<unknown>((inner, part) => ({ [part]: inner }), value) as Record<string, unknown>;
}

/** A backticked literal as YAML would read it: `1`, `""`, `[]`, `{}`, `[default]`, `ALLOW_ANY`. */
function literal(text: string): unknown {
    const list = /^\[([^\]"]*)\]$/.exec(text);
    if (list) return list[1] === "" ? [] : list[1].split(",").map((item) => item.trim());
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/** Where the parsed config holds a key whose path there differs from the setting's. */
const PARSED_AT: Record<string, (c: StackConfig) => unknown> = {
    "addons.anonymousAccess": (c) => c.addons.access.anonymous,
    "addons.kialiWriteAccess": (c) => c.addons.access.kialiWrite,
    "addons.allowFromNamespaces": (c) => c.addons.access.fromNamespaces,
    injectionNamespaces: (c) => c.injectionNamespaces.map((n) => n.name),
};
const parsedAt = (config: StackConfig, key: string): unknown =>
    PARSED_AT[key]?.(config) ??
    key
        .replace(/^addons\.expose\./, "addons.exposure.")
        .split(".")
        .reduce<unknown>((value, part) => (value as Record<string, unknown>)[part], config);

/** Defaults the code declares as constants with `{version}` still in them (the parsed config has it replaced). */
const DEFAULT_SOURCES: Record<string, string> = {
    chartSource: DEFAULT_CHART_SOURCE,
    addonSource: DEFAULT_ADDON_SOURCE,
    "gatewayApi.source": DEFAULT_GATEWAY_API_SOURCE,
};

test("every documented default is what the parser gives when the key is unset, per profile where it says so", () => {
    const checked: string[] = [];
    const wrong: { key: string; profile: string; documented: unknown; parsed: unknown }[] = [];
    for (const row of rows) {
        const plain = /^`([^`]*)`(?: \((.*)\))?$/.exec(row.default);
        if (!plain) continue;
        const cases: [Profile, unknown][] = [["default", literal(plain[1])]];
        for (const [, value, profile] of (plain[2] ?? "").matchAll(/`([^`]*)` in (demo|ambient)/g)) {
            cases.push([profile as Profile, literal(value)]);
        }
        for (const [profile, documentedValue] of cases) {
            const parsed =
                DEFAULT_SOURCES[row.key] !== undefined
                    ? DEFAULT_SOURCES[row.key]
                    : parsedAt(parse({ profile }), row.key);
            if (JSON.stringify(parsed) !== JSON.stringify(documentedValue)) {
                wrong.push({ key: row.key, profile, documented: documentedValue, parsed });
            }
        }
        checked.push(row.key);
    }
    expect(wrong).toEqual([]);
    // Most keys have a plain default: a table the test could not read would pass for nothing.
    expect(checked.length).toBeGreaterThan(25);
});

/** The problems the parser reports at `key` itself when it is set to `value`. */
const problemsAt = (key: string, value: unknown): string[] => {
    try {
        parse(setting(key, value));
        return [];
    } catch {
        return problems(setting(key, value)).filter((p) => p.startsWith(`istio-mesh:${key}: `));
    }
};

test("every closed list of allowed values is the one the parser enforces, in the same order", () => {
    const checked: string[] = [];
    for (const row of rows) {
        if (!/^`[^`]+`(, `[^`]+`)+$/.test(row.allowed)) continue;
        const allowed = [...row.allowed.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        expect({ key: row.key, refused: problemsAt(row.key, "no-such-value") }).toEqual({
            key: row.key,
            refused: [expect.stringMatching(new RegExp(`; allowed: ${allowed.join(", ")}$`))],
        });
        checked.push(row.key);
    }
    expect(checked).toEqual(expect.arrayContaining(["profile", "mesh.outboundTrafficPolicy", "adoptExisting"]));
});

test("every documented range is the one the parser enforces: its ends taken, one past them refused", () => {
    const checked: string[] = [];
    for (const row of rows) {
        const range = /^`(\d+)`–`(\d+)`$/.exec(row.allowed);
        if (!range) continue;
        const [min, max] = [Number(range[1]), Number(range[2])];
        const rule = new RegExp(`is not (a whole number|a percentage) from ${min} to ${max}$`);
        expect({ key: row.key, min: problemsAt(row.key, min), max: problemsAt(row.key, max) }).toEqual({
            key: row.key,
            min: [],
            max: [],
        });
        expect({ key: row.key, below: problemsAt(row.key, min - 1), above: problemsAt(row.key, max + 1) }).toEqual({
            key: row.key,
            below: [expect.stringMatching(rule)],
            above: [expect.stringMatching(rule)],
        });
        checked.push(row.key);
    }
    expect(checked).toEqual(expect.arrayContaining(["mesh.tracingSampling", "sidecarMigration.batchSize"]));
});

test("every list bound is documented as it is declared", () => {
    const documentedAt: Record<keyof typeof LIMITS, string> = {
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
    for (const [limit, key] of Object.entries(documentedAt)) {
        const limitsTable = doc.slice(doc.indexOf("\n## Limits"), doc.indexOf("\n## ", doc.indexOf("\n## Limits") + 1));
        const row = limitsTable.split("\n").find((line) => line.startsWith(`| \`${key}\` |`));
        expect({ key, bound: row?.split("|")[2].trim() }).toEqual({
            key,
            bound: String(LIMITS[limit as keyof typeof LIMITS].max),
        });
    }
});
