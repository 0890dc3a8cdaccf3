// No input shape crashes the parser: every value is accepted or refused with a message naming a key.
import { ConfigError, parseStackConfig, STACK_SETTINGS } from "../../../components/config";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("no input shape crashes the parser", () => {
    let nestedList: unknown = 1;
    let nestedMap: unknown = 1;
    for (let i = 0; i < 10_000; i++) {
        nestedList = [nestedList];
        nestedMap = { a: nestedMap };
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const shapes: unknown[] = [
        null,
        0,
        -1,
        Infinity,
        NaN,
        "",
        "x".repeat(100_000),
        "ünïcødé 🚀\u202e\u0000\n",
        [],
        {},
        [null],
        [[]],
        [{}],
        nestedList,
        nestedMap,
        cyclic,
        BigInt(5),
        Symbol("s"),
        () => 1,
        new Date(0),
        new Map(),
        Object.create(null),
        "[".repeat(100_000) + "]".repeat(100_000),
        '{"__proto__": {"name": "x"}}',
        // A sparse array: forEach and flatMap skip its holes.
        [, , 1],
        true,
        "3",
    ];
    const wrappers: ((v: unknown) => unknown)[] = [
        (v) => v,
        (v) => [v],
        (v) => ({ name: v, namespace: v, kind: v, enabled: v, tracingSampling: v, grafana: v, expose: v }),
        (v) => ({ expose: { mode: "nodePort", domain: v, gateway: v, nodePorts: { grafana: v, loki: v } } }),
        (v) => [{ name: "gw", serviceType: v, replicas: v, ports: [v, { name: v, port: v, nodePort: v }] }],
        (v) => ({ pilot: { cni: v }, meshConfig: v, [String(typeof v)]: v }),
        (v) => ({
            mtls: {
                mode: v,
                exceptions: [v, { name: v, namespace: v, selector: v, mode: v, ports: v }],
                externalServices: [v, { name: v, host: v, port: v, protocol: v, namespace: v, addresses: [v] }],
            },
        }),
        (v) => ({
            mtls: {
                exceptions: [{ name: "a", namespace: "db", selector: { app: v, [typeof v]: "x" }, ports: { 1: v } }],
                externalServices: [{ name: "b", host: "b.example.com", port: 1, addresses: v }],
            },
        }),
    ];

    /**
     * Where a value holds what no stack file (YAML, JSON) and no Helm values can:
     * functions, symbols, bigints, numbers that are not finite, class instances
     * (Date, Map), array holes, cycles. An object property set to undefined is absent.
     */
    function notJson(value: unknown, at: string, seen = new Set<object>()): string[] {
        if (value === null || typeof value === "string" || typeof value === "boolean") return [];
        if (typeof value === "number") return Number.isFinite(value) ? [] : [`${at}: ${value}`];
        if (typeof value !== "object") return [`${at}: a ${typeof value}`];
        if (seen.has(value)) return [`${at}: a cycle`];
        const proto = Object.getPrototypeOf(value) as object | null;
        if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
            return [`${at}: a ${proto.constructor.name}`];
        }
        seen.add(value);
        const found = Array.isArray(value)
            ? Array.from(value, (v: unknown, i) => notJson(v === undefined ? Symbol("hole") : v, `${at}[${i}]`, seen))
            : Object.entries(value)
                  .filter(([, v]) => v !== undefined)
                  .map(([k, v]) => notJson(v, `${at}.${k}`, seen));
        seen.delete(value);
        return found.flat();
    }

    test("every shape in every setting is accepted as plain data that round-trips, or refused by a ConfigError whose messages each name a key", () => {
        for (const key of [...STACK_SETTINGS, "unknown"]) {
            for (const shape of shapes) {
                for (const wrap of wrappers) {
                    let error: unknown;
                    let accepted: unknown;
                    try {
                        accepted = parse({ [key]: wrap(shape) });
                    } catch (e) {
                        error = e;
                    }
                    if (error === undefined) {
                        // What was accepted is data a stack file could have said and the
                        // charts receive as it is: JSON, unchanged by a round trip, and the
                        // same on a second reading of the same input.
                        const input = { key, shape: shapes.indexOf(shape), wrapper: wrappers.indexOf(wrap) };
                        expect({ ...input, notJson: notJson(accepted, "config") }).toEqual({ ...input, notJson: [] });
                        expect(JSON.parse(JSON.stringify(accepted))).toEqual(accepted);
                        expect(parse({ [key]: wrap(shape) })).toEqual(accepted);
                        continue;
                    }
                    expect(error).toBeInstanceOf(ConfigError);
                    for (const problem of (error as ConfigError).problems) {
                        expect(problem).toMatch(/^istio-mesh:[^\s:][^\n]*$/);
                        expect(problem.length).toBeLessThan(1000);
                    }
                }
            }
        }
    });

    test.each([
        [{ pilot: { replicaCount: Infinity } }, "istiodValues.pilot.replicaCount: Infinity"],
        [{ pilot: { env: [, "x"] } }, "istiodValues.pilot.env[0]: undefined"],
        [{ pilot: { hook: () => 1 } }, "istiodValues.pilot.hook: a function"],
        [{ global: { built: new Date(0) } }, "istiodValues.global.built: [object Date]"],
    ])("istiodValues that no values file can hold are refused, named: %p", (values, named) => {
        // Found by the round-trip check above: Helm would have got null, or nothing.
        expect(problems({ istiodValues: values })).toEqual([
            `istio-mesh:${named} is not a chart value; values are strings, finite numbers, booleans, null, lists and maps`,
        ]);
    });

    test.each([null, "config", 5, [["version", "1.29.6"]]])("a config map that is not a map: %p", (raw) => {
        // The type says a map; a script in plain JavaScript may still hand over anything.
        expect(() => parseStackConfig(raw as unknown as Record<string, unknown>, __dirname)).toThrow(ConfigError);
    });
});
