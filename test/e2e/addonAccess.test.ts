// Addon hosts behind Istio's own access control, with the real engine and the real
// istiod: the ingress gateway gets a DENY policy for sources outside the allowed
// ranges, and a RequestAuthentication with a DENY policy for requests without a
// valid token of the configured issuer; istiod's validating webhook accepts them and
// `istioctl analyze` finds nothing wrong. (No traffic flows on the local cluster,
// so the policies are proved accepted and attached, not enforced.)
import { Stack } from "@pulumi/pulumi/automation";
import {
    destroyAndRemove,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    istioctl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    PROJECT,
    projectDir,
} from "./harness";

jest.setTimeout(600_000);

const STACK = "e2e-addon-access";
const NS = "istio-system";
const quiet = { onOutput: () => undefined };
let stack: Stack;
const suite = footprint({ stacks: [[PROJECT, STACK]] }, MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await freshStack(projectDir, STACK, {
        config: {
            "istio-mesh:version": { value: "1.29.6" },
            "istio-mesh:profile": { value: "minimal" },
            "istio-mesh:injectionNamespaces": { value: "[]" },
            "istio-mesh:gateways": {
                value: JSON.stringify([{ name: "istio-ingressgateway", kind: "ingress", serviceType: "NodePort" }]),
            },
            "istio-mesh:addons": {
                value: JSON.stringify({
                    grafana: true,
                    expose: {
                        mode: "host",
                        domain: "mesh.example.com",
                        tls: { insecureHttp: true },
                        sourceRanges: ["203.0.113.0/24", "2001:db8::/32"],
                        jwt: { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" },
                    },
                }),
            },
            "istio-mesh:grafanaAdminPassword": { value: "e2e-grafana-admin-password", secret: true },
        },
    });
}, 600_000);

afterAll(
    () => suite.cleanUp([["destroy and remove the stack", () => destroyAndRemove(stack)], ...MESH_KEPT_ON_DESTROY]),
    600_000,
);

test("the addon hosts are closed to other sources and to requests without a token, by policies istiod accepts", async () => {
    await stack.up(quiet);
    const hosts = ["grafana.mesh.example.com", "grafana.mesh.example.com:*"];
    const selector = { matchLabels: { istio: "ingressgateway" } };

    const ranges = kubectlJson("authorizationpolicies.security.istio.io", "addons-source-ranges", "-n", NS).spec;
    expect(ranges).toEqual({
        selector,
        action: "DENY",
        rules: [
            {
                to: [{ operation: { hosts } }],
                from: [{ source: { notRemoteIpBlocks: ["203.0.113.0/24", "2001:db8::/32"] } }],
            },
        ],
    });
    const jwt = kubectlJson("requestauthentications.security.istio.io", "addons-jwt", "-n", NS).spec;
    expect(jwt.jwtRules).toEqual([
        {
            issuer: "https://login.example.com",
            jwksUri: "https://login.example.com/jwks.json",
            forwardOriginalToken: true,
        },
    ]);
    const requireJwt = kubectlJson("authorizationpolicies.security.istio.io", "addons-require-jwt", "-n", NS).spec;
    expect(requireJwt.rules).toEqual([
        { to: [{ operation: { hosts } }], from: [{ source: { notRequestPrincipals: ["*"] } }] },
    ]);

    // Istio's analyzers find no error in what the stack made.
    const analysis = istioctl("analyze", "-n", NS, "--output-threshold", "Error");
    expect(analysis).not.toMatch(/Error \[/);

    await stack.destroy(quiet);
});
