// No input shape crashes the parser: every value is accepted or refused with a message naming a key.
import { ConfigError, parseStackConfig, STACK_SETTINGS } from "../../../components/config";
import { configParser } from "../configParser";

const { parse } = configParser("1.29.6");

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

    test("every shape in every setting is accepted, or refused by a ConfigError whose messages each name a key", () => {
        for (const key of [...STACK_SETTINGS, "unknown"]) {
            for (const shape of shapes) {
                for (const wrap of wrappers) {
                    let error: unknown;
                    try {
                        parse({ [key]: wrap(shape) });
                    } catch (e) {
                        error = e;
                    }
                    if (error === undefined) continue;
                    expect(error).toBeInstanceOf(ConfigError);
                    for (const problem of (error as ConfigError).problems) {
                        expect(problem).toMatch(/^istio-mesh:[^\s:][^\n]*$/);
                        expect(problem.length).toBeLessThan(1000);
                    }
                }
            }
        }
    });

    test.each([null, "config", 5, [["version", "1.29.6"]]])("a config map that is not a map: %p", (raw) => {
        // The type says a map; a script in plain JavaScript may still hand over anything.
        expect(() => parseStackConfig(raw as unknown as Record<string, unknown>, __dirname)).toThrow(ConfigError);
    });
});
