// Absurd sizes (issue 22): each list has an upper bound well above any real stack
// (components/config/limits.ts); a longer one is one problem naming the bound and
// why, and nothing downstream walks it.
import { LIMITS } from "../../../components/config";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

const many = (n: number, item: (i: number) => unknown) => Array.from({ length: n }, (_, i) => item(i));
const mtls = (field: string, list: unknown[]) => ({ mesh: { mtls: { [field]: list } } });

// Each list: the key messages name, its limit, and a config holding `n` valid items.
const LISTS: [string, keyof typeof LIMITS, (n: number) => Record<string, unknown>][] = [
    ["gateways", "gateways", (n) => ({ gateways: many(n, (i) => ({ name: `gw-${i}` })) })],
    ["revisions", "revisions", (n) => ({ revisions: many(n, (i) => ({ name: `r${i}` })) })],
    ["injectionNamespaces", "injectionNamespaces", (n) => ({ injectionNamespaces: many(n, (i) => `ns-${i}`) })],
    [
        "sidecarRollout",
        "sidecarRollout",
        (n) => ({ sidecarRollout: many(n, (i) => ({ namespace: "shop", name: `w-${i}` })) }),
    ],
    [
        "ambientNamespaces",
        "ambientNamespaces",
        (n) => ({ profile: "ambient", ambientNamespaces: many(n, (i) => `ns-${i}`) }),
    ],
    [
        "waypoints",
        "waypoints",
        (n) => ({
            profile: "ambient",
            ambientNamespaces: many(Math.min(n, 1000), (i) => `ns-${i}`),
            waypoints: many(n, (i) => ({ namespace: `ns-${i}` })),
        }),
    ],
    [
        "mesh.mtls.exceptions",
        "mtlsExceptions",
        (n) =>
            mtls(
                "exceptions",
                many(n, (i) => ({ name: `e-${i}`, namespace: `ns-${i}`, mode: "PERMISSIVE" })),
            ),
    ],
    [
        "mesh.mtls.externalServices",
        "externalServices",
        (n) =>
            mtls(
                "externalServices",
                many(n, (i) => ({ name: `s-${i}`, host: `s${i}.example.com`, port: 443, protocol: "TLS" })),
            ),
    ],
    [
        "mesh.mtls.externalServices[0].addresses",
        "externalAddresses",
        (n) =>
            mtls("externalServices", [
                { name: "s", host: "s.example.com", port: 1, addresses: many(n, (i) => `10.0.${i >> 8}.${i & 255}`) },
            ]),
    ],
];

describe("every list has an upper bound", () => {
    test.each(LISTS)("%s: at most its bound", (key, limit, config) => {
        const { max, why } = LIMITS[limit];
        expect(() => parse(config(max))).not.toThrow();
        const refused = problems(config(max + 1));
        expect(refused).toHaveLength(1);
        expect(refused[0]).toMatch(
            new RegExp(
                `^istio-mesh:${key.replace(/[.[\]]/g, "\\$&")}: \\[.*… lists ${max + 1} items; at most ${max} are allowed: `,
            ),
        );
        expect(refused[0].endsWith(why)).toBe(true);
    });

    test("the bounds as documented", () => {
        expect(Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, v.max]))).toEqual({
            gateways: 20,
            gatewayPorts: 50,
            revisions: 4,
            injectionNamespaces: 1000,
            sidecarRollout: 1000,
            ambientNamespaces: 1000,
            waypoints: 1000,
            mtlsExceptions: 200,
            externalServices: 200,
            externalAddresses: 64,
        });
    });
});
