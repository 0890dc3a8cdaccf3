// addons: settings of another exposure mode or of an addon that is off, and exposure with logins and TLS.
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("settings that belong to another mode, or to an addon that is off, are refused", () => {
    test.each([
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", domain: "mesh.example.com" } } },
            'istio-mesh:addons.expose.domain: "mesh.example.com" needs addons.expose.mode host (it is nodePort)',
        ],
        [
            { profile: "demo", addons: { expose: { gateway: "istio-ingressgateway" } } },
            'istio-mesh:addons.expose.gateway: "istio-ingressgateway" needs addons.expose.mode host (it is none)',
        ],
        [
            { addons: { grafana: true, expose: { mode: "nodePort", nodePorts: { kiali: "32001" } } } },
            'istio-mesh:addons.expose.nodePorts.kiali: "32001" is for addon kiali, which is off; turn it on (addons.kiali: true) or remove the port',
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: "Mesh.Example.com" } } },
            'istio-mesh:addons.expose.domain: "Mesh.Example.com" is not a valid domain; use a DNS name such as mesh.example.com: lowercase labels of at most 63 characters, at most 242 characters in all',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

// Issue 8, part 2: an exposure never lets anyone in without a login, unless the stack says so by name.
// (Host exposure of Prometheus and Jaeger, which need a token: test/unit/addonAccess.test.ts.)
describe("addon exposure with authentication and TLS", () => {
    const withLogins = { prometheus: false, jaeger: false };
    const password = "correct horse battery";
    const SET = "pulumi config set --secret istio-mesh:grafanaAdminPassword <password>";

    test.each([
        [
            { profile: "demo", addons: { expose: { mode: "nodePort" } } },
            `istio-mesh:grafanaAdminPassword: is required; Grafana is exposed (addons.expose.mode nodePort) and asks for its admin login: set its password as a Pulumi secret with ${SET} (at least 12 characters), or turn Grafana off (addons.grafana: false)`,
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: { ...withLogins, expose: { mode: "host", domain: "m.example.com" } },
            },
            "istio-mesh:addons.expose.tls.credentialName: is required; mode host serves the addons over HTTPS with this kubernetes.io/tls Secret in the ingress gateway's namespace (created by you or cert-manager, for *.<domain>), and redirects HTTP; to serve plain HTTP instead, set addons.expose.tls.insecureHttp: true",
        ],
        [
            { profile: "demo", grafanaAdminPassword: "short", addons: { expose: { mode: "nodePort" } } },
            `istio-mesh:grafanaAdminPassword: (secret value not shown) is not a password of at least 12 characters; set one with ${SET}`,
        ],
        [
            { grafanaAdminPassword: 12345678901234 },
            `istio-mesh:grafanaAdminPassword: (secret value not shown) is not a password of at least 12 characters; set one with ${SET}`,
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: {
                    ...withLogins,
                    expose: {
                        mode: "host",
                        domain: "m.example.com",
                        tls: { credentialName: "tls", insecureHttp: true },
                    },
                },
            },
            "istio-mesh:addons.expose.tls.insecureHttp: true contradicts addons.expose.tls.credentialName, which serves the hosts over HTTPS and redirects HTTP; remove one of them",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", tls: { credentialName: "tls" } } } },
            'istio-mesh:addons.expose.tls: {"credentialName":"tls"} needs addons.expose.mode host (it is nodePort)',
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort", allowUnauthenticated: true } } },
            "istio-mesh:addons.expose.allowUnauthenticated: true is no longer a setting: every addon asks for a login, exposed or not; for anonymous read-only access to addons not exposed by host name, set addons.anonymousAccess: true",
        ],
        [
            {
                profile: "demo",
                grafanaAdminPassword: password,
                addons: { expose: { mode: "host", domain: "m.example.com", tls: { credentialName: "TLS_cert" } } },
            },
            "istio-mesh:addons.expose.tls.credentialName: \"TLS_cert\" is not a valid Secret name; use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters, such as addons-tls",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: "m.example.com", tls: { cert: "x" } } } },
            'istio-mesh:addons.expose.tls.cert: "x" is not a known setting; allowed: credentialName, insecureHttp',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a message never shows the password", () => {
        const secret = "hunter2";
        expect(problems({ grafanaAdminPassword: secret }).join("\n")).not.toContain(secret);
    });

    test("a password that looks like JSON is still a password", () => {
        const c = parse({
            profile: "demo",
            grafanaAdminPassword: '["not", "a list"]',
            addons: { expose: { mode: "nodePort" } },
        });
        expect(c.addons.grafanaAdminFromSecret).toBe(true);
    });

    test("plain HTTP is an explicit choice, logins still required", () => {
        const c = parse({
            profile: "demo",
            grafanaAdminPassword: password,
            addons: { ...withLogins, expose: { mode: "host", domain: "m.example.com", tls: { insecureHttp: true } } },
        });
        expect(c.addons.exposure.tls).toEqual({ credentialName: "", insecureHttp: true });
        expect(c.addons.grafanaAdminFromSecret).toBe(true);
    });

    test("without Grafana, an exposure needs no password", () => {
        const c = parse({ addons: { kiali: true, expose: { mode: "nodePort" } } });
        expect(c.addons.grafanaAdminFromSecret).toBe(false);
    });
});

describe("messages name the key, the value and what is allowed", () => {
    test.each([
        [
            { addons: { loki: true } },
            "istio-mesh:addons.loki: true is not a known setting; allowed: prometheus, grafana, kiali, jaeger, expose, anonymousAccess, kialiWriteAccess, allowFromNamespaces",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host" } } },
            "istio-mesh:addons.expose.domain: is required; mode host serves the addons as <addon>.<domain>, e.g. domain mesh.example.com",
        ],
        [
            { profile: "minimal", addons: { grafana: true, expose: { mode: "host", domain: "mesh.example.com" } } },
            'istio-mesh:addons.expose.gateway: "istio-ingressgateway" is not an ingress gateway of this stack; ingress gateways: none (add one under gateways)',
        ],
        [
            { addons: { expose: { mode: "nodePort" } } },
            'istio-mesh:addons.expose.mode: "nodePort" exposes no addon: enable one of prometheus, grafana, kiali, jaeger',
        ],
        [
            { profile: "demo", namespace: "mesh" },
            'istio-mesh:namespace: "mesh" cannot hold the addons (prometheus, grafana, kiali, jaeger): the release\'s addon manifests are written for istio-system; turn them off under addons or keep namespace istio-system',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
