// Addon hosts restricted by client address or by a JWT issuer: how the settings read.
import { configParser } from "./configParser";

const { parse, problems } = configParser("1.29.6");

const HOST = {
    mode: "host",
    domain: "mesh.example.com",
    tls: { credentialName: "addons-tls" },
};
const base = { profile: "demo", grafanaAdminPassword: "a-long-enough-password" };

describe("addon access restrictions", () => {
    test("source ranges and a JWT issuer are read for host exposure", () => {
        const c = parse({
            ...base,
            addons: {
                expose: {
                    ...HOST,
                    sourceRanges: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
                    jwt: { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" },
                },
            },
        });
        expect(c.addons.exposure.sourceRanges).toEqual(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
        expect(c.addons.exposure.jwt).toEqual({
            issuer: "https://login.example.com",
            jwksUri: "https://login.example.com/jwks.json",
        });
    });

    test("bad ranges, an incomplete or plain-HTTP key set, and restrictions outside host mode are refused", () => {
        expect(
            problems({
                ...base,
                addons: {
                    expose: {
                        ...HOST,
                        sourceRanges: ["10.0.0.0/33", "example.com", "10.0.0.0/8"],
                        jwt: { jwksUri: "http://login.example.com/jwks.json" },
                    },
                },
            }),
        ).toEqual([
            'istio-mesh:addons.expose.sourceRanges[0]: "10.0.0.0/33" is not an IP address or CIDR range such as 203.0.113.0/24 or 2001:db8::/32',
            'istio-mesh:addons.expose.sourceRanges[1]: "example.com" is not an IP address or CIDR range such as 203.0.113.0/24 or 2001:db8::/32',
            "istio-mesh:addons.expose.jwt.issuer: is required; the issuer (iss claim) of the tokens to accept, such as https://login.example.com",
            'istio-mesh:addons.expose.jwt.jwksUri: "http://login.example.com/jwks.json" is not an https:// URL of the issuer\'s JSON Web Key Set',
        ]);
        expect(problems({ ...base, addons: { expose: { mode: "nodePort", sourceRanges: ["10.0.0.0/8"] } } })).toEqual([
            'istio-mesh:addons.expose.sourceRanges: ["10.0.0.0/8"] needs addons.expose.mode host (it is nodePort)',
        ]);
    });
});
