/* eslint-disable @typescript-eslint/no-explicit-any -- the addon manifests are free-form YAML */
// Closed addons: how the settings read, what the hardening transforms make of the
// release's own manifests, who each addon's NetworkPolicy lets in, and the shipped
// stacks' addons as the policy pack sees them (the stack's own resources recorded
// through Pulumi's mocks, the manifests' objects through the component's transforms).
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import {
    addonHardening,
    CLUSTER_ROLE_TYPE,
    CONFIG_MAP_TYPE,
    grafanaAdminFromSecret,
    grafanaAnonymousAccess,
    grafanaWithoutInitialAdmin,
    KIALI_LOGIN_ANNOTATION,
    kialiLogin,
    kialiReadOnlyRole,
    prometheusWithoutAdminApis,
} from "../../components/addons/hardening";
import { addonChildTransforms, addonIngressRules, AddonPeers } from "../../components/addons/observability";
import { parseStackConfig, projectConfigKeys, StackConfig } from "../../components/config";
import { chainTransforms, DEPLOYMENT_TYPE } from "../../components/charts/transforms";
import { checkAddonAccess, checkClosedAddons, PolicyResourceView } from "../../policy/rules";
import { configParser } from "./configParser";
import { recorded, RecordedResource, stopMocks, useRecordingMocks } from "./mocks";
import { testReleaseRoot } from "../support/releases";

const { parse, problems } = configParser("1.29.6");
const addonsDir = () => path.join(testReleaseRoot(), "1.29.6/addons");

const HOST = {
    mode: "host",
    domain: "mesh.example.com",
    tls: { credentialName: "addons-tls" },
};
const JWT = { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" };
const base = { profile: "demo", grafanaAdminPassword: "a-long-enough-password" };
/** The verbs that only read, written out here: the module's own list is what is under test. */
const READ_VERBS = ["get", "list", "watch"];

describe("addon access settings", () => {
    test("closed by default: no anonymous access, Kiali read-only, nobody else let in", () => {
        expect(parse({ profile: "demo" }).addons.access).toEqual({
            anonymous: false,
            kialiWrite: false,
            fromNamespaces: [],
        });
    });

    test("unexposed addons need no password: without one, Grafana creates no admin user", () => {
        const c = parse({ profile: "demo" });
        expect(c.addons.exposure.mode).toBe("none");
        expect(c.addons.grafanaAdminFromSecret).toBe(false);
    });

    test("anonymous access, Kiali write access and more namespaces are read when asked for", () => {
        const c = parse({
            profile: "demo",
            addons: { anonymousAccess: true, allowFromNamespaces: ["monitoring", "ops"], expose: { mode: "nodePort" } },
        });
        expect(c.addons.access).toEqual({ anonymous: true, kialiWrite: false, fromNamespaces: ["monitoring", "ops"] });
        expect(parse({ profile: "demo", addons: { kialiWriteAccess: true } }).addons.access.kialiWrite).toBe(true);
    });

    test("source ranges and a JWT issuer are read for host exposure", () => {
        const c = parse({
            ...base,
            addons: {
                expose: {
                    ...HOST,
                    sourceRanges: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"],
                    jwt: JWT,
                },
            },
        });
        expect(c.addons.exposure.sourceRanges).toEqual(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
        expect(c.addons.exposure.jwt).toEqual(JWT);
    });

    test("Grafana and Kiali alone, which have logins of their own, need no token by host name", () => {
        const c = parse({ ...base, addons: { prometheus: false, jaeger: false, expose: HOST } });
        expect(c.addons.exposure.jwt).toBeUndefined();
    });

    test.each([
        [
            "Prometheus and Jaeger by host name without a token",
            { ...base, addons: { expose: HOST } },
            "istio-mesh:addons.expose.jwt: is required; mode host serves prometheus, jaeger, which have no login of their own: set jwt.issuer and jwt.jwksUri so the ingress gateway lets in only requests with a valid token of your issuer, or turn them off (addons.prometheus: false, addons.jaeger: false)",
        ],
        [
            "Jaeger alone by host name without a token",
            { ...base, addons: { prometheus: false, expose: HOST } },
            "istio-mesh:addons.expose.jwt: is required; mode host serves jaeger, which has no login of its own: set jwt.issuer and jwt.jwksUri so the ingress gateway lets in only requests with a valid token of your issuer, or turn it off (addons.jaeger: false)",
        ],
        [
            "anonymous access by host name",
            { ...base, addons: { anonymousAccess: true, expose: { ...HOST, jwt: JWT } } },
            "istio-mesh:addons.anonymousAccess: true cannot go with addons.expose.mode host: a host name reaches the addons from the network; anonymous access is for addons reached by kubectl port-forward (mode none) or on the local cluster's node ports (mode nodePort)",
        ],
        [
            "anonymous visitors with Kiali's write access",
            { profile: "demo", addons: { anonymousAccess: true, kialiWriteAccess: true } },
            "istio-mesh:addons.kialiWriteAccess: true contradicts addons.anonymousAccess: true: every visitor could patch workloads and change Istio config through Kiali; keep Kiali read-only or give it a login (remove anonymousAccess)",
        ],
        [
            "Kiali write access with Kiali off",
            { profile: "minimal", addons: { grafana: true, kialiWriteAccess: true } },
            "istio-mesh:addons.kialiWriteAccess: true is for addon kiali, which is off; turn it on (addons.kiali: true) or remove the setting",
        ],
        [
            "anonymous access that is not a boolean",
            { profile: "demo", addons: { anonymousAccess: "yes" } },
            'istio-mesh:addons.anonymousAccess: "yes" is not a boolean; allowed: true, false',
        ],
        [
            "a namespace that is not a namespace name",
            { profile: "demo", addons: { allowFromNamespaces: ["Monitoring"] } },
            "istio-mesh:addons.allowFromNamespaces[0]: \"Monitoring\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            "a namespace listed twice",
            { profile: "demo", addons: { allowFromNamespaces: ["ops", "ops"] } },
            'istio-mesh:addons.allowFromNamespaces[1]: "ops" is listed twice',
        ],
        [
            "namespaces not given as a list",
            { profile: "demo", addons: { allowFromNamespaces: "ops" } },
            'istio-mesh:addons.allowFromNamespaces: "ops" is not a list of namespace names',
        ],
        [
            "the former allowUnauthenticated",
            { profile: "demo", addons: { expose: { mode: "nodePort", allowUnauthenticated: true } } },
            "istio-mesh:addons.expose.allowUnauthenticated: true is no longer a setting: every addon asks for a login, exposed or not; for anonymous read-only access to addons not exposed by host name, set addons.anonymousAccess: true",
        ],
    ])("refused: %s", (_what, raw, message) => {
        expect(problems(raw)).toEqual([message]);
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

// The hardening transforms on the release's own addon manifests, parsed as the
// ConfigFile hands them to the transforms.
function manifestDocs(addon: string): Record<string, any>[] {
    return (
        yaml.loadAll(fs.readFileSync(path.join(addonsDir(), `${addon}.yaml`), "utf8")) as Record<string, any>[]
    ).filter((d) => d?.kind);
}

function manifest(addon: string, kind: string, name: string): Record<string, any> {
    const found = manifestDocs(addon).find((d) => d.kind === kind && d.metadata?.name === name);
    if (!found) throw new Error(`${addon}.yaml has no ${kind} ${name}`);
    return found;
}

/** The provider's type token of a manifest object: `kubernetes:<group>/<version>:<kind>`. */
function typeOf(doc: Record<string, any>): string {
    const apiVersion = String(doc.apiVersion);
    return `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${doc.kind}`;
}

function apply(t: pulumi.ResourceTransform, doc: Record<string, any>): Record<string, any> | undefined {
    const result = t({ custom: true, type: typeOf(doc), name: "x", props: doc, opts: {} }) as
        pulumi.ResourceTransformResult | undefined;
    return result?.props as Record<string, any> | undefined;
}

const container = (props: Record<string, any>, name: string) =>
    props.spec.template.spec.containers.find((c: { name: string }) => c.name === name);
const grafanaEnv = (props: Record<string, any>) =>
    Object.fromEntries(container(props, "grafana").env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe("the addons are closed, exposed or not", () => {
    const grafana = () => manifest("grafana", "Deployment", "grafana");

    test("as shipped, Grafana makes every visitor an Admin and its admin login is admin/admin", () => {
        expect(grafanaEnv(grafana())).toMatchObject({
            GF_AUTH_ANONYMOUS_ENABLED: "true",
            GF_AUTH_ANONYMOUS_ORG_ROLE: "Admin",
            GF_SECURITY_ADMIN_USER: "admin",
            GF_SECURITY_ADMIN_PASSWORD: "admin",
        });
    });

    test("Grafana: anonymous access off, every other setting kept", () => {
        const env = grafanaEnv(apply(grafanaAnonymousAccess(false), grafana())!);
        expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
        expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
        expect(env.GF_PATHS_DATA).toBe("/var/lib/grafana/");
    });

    test("Grafana: anonymous access, when asked for, is Viewer", () => {
        const env = grafanaEnv(apply(grafanaAnonymousAccess(true), grafana())!);
        expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("true");
        expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe("Viewer");
    });

    test("Grafana: without a password of the stack's, no admin user and no admin/admin", () => {
        const env = grafanaEnv(apply(grafanaWithoutInitialAdmin, grafana())!);
        expect(env.GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION).toBe("true");
        expect(env.GF_SECURITY_ADMIN_USER).toBeUndefined();
        expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    });

    test("Grafana: with one, the admin login comes from the Secret, not admin/admin", () => {
        const env = grafanaEnv(apply(grafanaAdminFromSecret("grafana-admin"), grafana())!);
        expect(env.GF_SECURITY_ADMIN_USER).toEqual({ secretKeyRef: { name: "grafana-admin", key: "admin-user" } });
        expect(env.GF_SECURITY_ADMIN_PASSWORD).toEqual({
            secretKeyRef: { name: "grafana-admin", key: "admin-password" },
        });
    });

    test("Kiali: token login and view-only mode instead of anonymous, and a restart when either changes", () => {
        const shipped = yaml.load(manifest("kiali", "ConfigMap", "kiali").data["config.yaml"]) as any;
        expect(shipped.auth.strategy).toBe("anonymous");
        expect(shipped.deployment.view_only_mode).toBe(false);
        const config = yaml.load(
            apply(kialiLogin("token", true), manifest("kiali", "ConfigMap", "kiali"))!.data["config.yaml"],
        ) as any;
        expect(config.auth).toEqual({ ...shipped.auth, strategy: "token" });
        expect(config.deployment).toEqual({ ...shipped.deployment, view_only_mode: true });
        const deployment = apply(kialiLogin("token", true), manifest("kiali", "Deployment", "kiali"))!;
        expect(deployment.spec.template.metadata.annotations[KIALI_LOGIN_ANNOTATION]).toBe("token, view-only");
        expect(deployment.spec.template.spec).toEqual(manifest("kiali", "Deployment", "kiali").spec.template.spec);
        const anonymous = apply(kialiLogin("anonymous", true), manifest("kiali", "Deployment", "kiali"))!;
        expect(anonymous.spec.template.metadata.annotations[KIALI_LOGIN_ANNOTATION]).toBe("anonymous, view-only");
    });

    test("Kiali: its ClusterRole only reads (and checks tokens); as shipped it patches workloads and namespaces", () => {
        const shipped = manifest("kiali", "ClusterRole", "kiali");
        const verbs = (rules: any[]) => new Set(rules.flatMap((r) => r.verbs));
        expect(verbs(shipped.rules)).toEqual(new Set([...READ_VERBS, "patch", "create", "post", "delete"]));
        const role = apply(kialiReadOnlyRole, shipped)!;
        const writes = role.rules.filter((r: any) => r.verbs.some((v: string) => !READ_VERBS.includes(v)));
        expect(writes).toEqual([
            { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        ]);
        // Every resource it could read it still reads, except what only had write verbs (port-forward).
        const readable = (rules: any[]) =>
            rules.filter((r) => r.verbs.some((v: string) => READ_VERBS.includes(v))).flatMap((r) => r.resources);
        expect(readable(role.rules)).toEqual(readable(shipped.rules));
        expect(role.rules.flatMap((r: any) => r.resources)).not.toContain("pods/portforward");
    });

    test("Kiali: write access, when asked for, keeps the release's ClusterRole and leaves view-only mode off", async () => {
        const shipped = manifest("kiali", "ClusterRole", "kiali");
        const withWrite = chainTransforms(...addonHardening({ kialiWrite: true }));
        expect(await withWrite({ custom: true, type: CLUSTER_ROLE_TYPE, name: "x", props: shipped, opts: {} })).toBe(
            undefined,
        );
        const cm = (await withWrite({
            custom: true,
            type: CONFIG_MAP_TYPE,
            name: "x",
            props: manifest("kiali", "ConfigMap", "kiali"),
            opts: {},
        }))!.props as Record<string, any>;
        expect((yaml.load(cm.data["config.yaml"]) as any).deployment.view_only_mode).toBe(false);
    });

    test("Prometheus: no lifecycle or admin API and no reloader that needs them, every other flag kept", () => {
        const shipped = manifest("prometheus", "Deployment", "prometheus");
        const server = container(shipped, "prometheus-server").args;
        expect(server).toContain("--web.enable-lifecycle");
        expect(container(shipped, "prometheus-server-configmap-reload").args).toContain(
            "--reload-url=http://127.0.0.1:9090/-/reload",
        );
        const closed = apply(prometheusWithoutAdminApis, shipped)!;
        expect(closed.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["prometheus-server"]);
        expect(container(closed, "prometheus-server").args).toEqual(
            server.filter((a: string) => a !== "--web.enable-lifecycle"),
        );
    });

    test("other objects are left as they are", () => {
        for (const t of addonHardening({})) {
            expect(apply(t, manifest("jaeger", "Deployment", "jaeger"))).toBeUndefined();
            expect(apply(t, manifest("grafana", "ConfigMap", "grafana"))).toBeUndefined();
        }
        expect(DEPLOYMENT_TYPE).toBe(typeOf(manifest("jaeger", "Deployment", "jaeger")));
    });
});

describe("who reaches each addon's pods", () => {
    const closed: AddonPeers = {
        addons: ["prometheus", "grafana", "kiali", "jaeger"],
        exposure: parse({ profile: "demo" }).addons.exposure,
        fromNamespaces: [],
    };
    const grafanaPods = {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" } },
    };

    test("unexposed: only the other addons (which query and scrape each other)", () => {
        const rules = addonIngressRules("prometheus", closed);
        expect(rules).toHaveLength(1);
        expect(rules[0].ports).toBeUndefined();
        expect(rules[0].from).toContainEqual(grafanaPods);
        expect(rules[0].from).toHaveLength(3);
        expect(addonIngressRules("grafana", { ...closed, addons: ["grafana"] })).toEqual([]);
    });

    test("Jaeger also takes spans from every namespace, on its collector ports only", () => {
        expect(addonIngressRules("jaeger", { ...closed, addons: ["jaeger"] })).toEqual([
            {
                from: [{ namespaceSelector: {} }],
                ports: [9411, 14268, 14250, 4317, 4318].map((port) => ({ protocol: "TCP", port })),
            },
        ]);
    });

    test("by host name: the ingress gateway's pods, on the UI port", () => {
        const exposure = parse({ ...base, addons: { expose: { ...HOST, jwt: JWT } } }).addons.exposure;
        const rules = addonIngressRules("kiali", {
            ...closed,
            addons: ["kiali"],
            exposure,
            gateway: { namespace: "gateways", selector: "ingressgateway" },
        });
        expect(rules).toEqual([
            {
                from: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gateways" } },
                        podSelector: { matchLabels: { istio: "ingressgateway" } },
                    },
                ],
                ports: [{ protocol: "TCP", port: 20001 }],
            },
        ]);
    });

    test("listed namespaces, on the UI and API ports", () => {
        expect(addonIngressRules("grafana", { ...closed, addons: ["grafana"], fromNamespaces: ["ops"] })).toEqual([
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ops" } } }],
                ports: [{ protocol: "TCP", port: 3000 }],
            },
        ]);
    });

    test("by node port: any address, on the UI port only", () => {
        const exposure = parse({ profile: "demo", addons: { anonymousAccess: true, expose: { mode: "nodePort" } } })
            .addons.exposure;
        expect(addonIngressRules("prometheus", { ...closed, addons: ["prometheus"], exposure })).toEqual([
            {
                from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
                ports: [{ protocol: "TCP", port: 9090 }],
            },
        ]);
    });
});

/**
 * Resolves once no resource has reached the mocks for 20 turns of the event loop:
 * registrations wait for their inputs (the namespace's name), so they trickle in
 * after the component's constructor. A resource still missing then can only make
 * the rules below fail (a policy they do not see), never pass.
 */
async function registrationsSettled(): Promise<void> {
    let quiet = 0;
    let seen = recorded.length;
    while (quiet < 20) {
        await new Promise((resolve) => setImmediate(resolve));
        quiet = recorded.length === seen ? quiet + 1 : 0;
        seen = recorded.length;
    }
}

// The shipped stacks, rendered as the engine would and judged by the pack's rules.
describe("the shipped stacks' addons through the policy pack", () => {
    beforeAll(useRecordingMocks);
    afterAll(stopMocks);

    const projectDir = path.resolve(__dirname, "../..");
    const stackKeys = (file: string) =>
        projectConfigKeys(
            (yaml.load(fs.readFileSync(path.join(projectDir, file), "utf8")) as { config: Record<string, unknown> })
                .config,
        );

    /** The stack's resources as the pack sees them: the mesh's own, and every addon manifest object transformed. */
    async function render(stack: string, raw: Record<string, unknown>): Promise<PolicyResourceView[]> {
        recorded.length = 0;
        const { IstioMesh } = await import("../../components/istioMesh");
        const root = testReleaseRoot();
        const config: StackConfig = parseStackConfig(
            { ...raw, chartSource: `${root}/{version}/charts`, addonSource: `${root}/{version}/addons` },
            projectDir,
        );
        const password = raw.grafanaAdminPassword;
        const grafanaAdminPassword = typeof password === "string" ? pulumi.secret(password) : undefined;
        const mesh = new IstioMesh("istio", { config, grafanaAdminPassword });
        await new Promise<void>((resolve) => pulumi.all([mesh.urn, mesh.addonUrls]).apply(() => resolve()));
        await registrationsSettled();
        const view = (type: string, name: string, props: Record<string, any>): PolicyResourceView => ({
            type,
            urn: `urn:pulumi:${stack}::istio-mesh::${type}::${name}`,
            name,
            props,
        });
        const own = recorded
            .filter((r: RecordedResource) => r.type.startsWith("kubernetes:") && !r.type.includes(":helm.sh/"))
            .map((r) => view(r.type, r.name, r.inputs));
        const transform = chainTransforms(
            ...addonChildTransforms(config.addons.access, config.addons.grafanaAdminFromSecret),
        );
        const manifests: PolicyResourceView[] = [];
        for (const addon of config.addons.enabled) {
            for (const doc of manifestDocs(addon)) {
                const type = typeOf(doc);
                const result = await transform({ custom: true, type, name: doc.metadata.name, props: doc, opts: {} });
                manifests.push(view(type, doc.metadata.name, (result?.props as Record<string, any>) ?? doc));
            }
        }
        return [...own, ...manifests];
    }

    test("dev: every addon closed, exposed by host name behind a token, fenced", async () => {
        const resources = await render("dev", {
            ...stackKeys("Pulumi.dev.yaml"),
            grafanaAdminPassword: "dev-password-long",
        });
        const policies = resources.filter((r) => r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy");
        expect(policies.map((p) => (p.props.metadata as { name: string }).name).sort()).toEqual([
            "grafana-access",
            "jaeger-access",
            "kiali-access",
            "prometheus-access",
        ]);
        expect(checkClosedAddons(resources)).toEqual([]);
        expect(checkAddonAccess(resources)).toEqual([]);
    });

    test("dev without its token requirement would fail the pack: Prometheus and Jaeger readable by host name", async () => {
        // The config refuses this; the pack holds on its own for a program that skips the config.
        const resources = (
            await render("dev", { ...stackKeys("Pulumi.dev.yaml"), grafanaAdminPassword: "dev-password-long" })
        ).filter((r) => !/^addons-(jwt|require-jwt)$/.test((r.props.metadata as { name?: string })?.name ?? ""));
        expect(checkClosedAddons(resources).map((v) => v.message.replace(/:.*/s, ""))).toEqual([
            "Deployment istio-system/prometheus has no login of its own and is served by host name (prometheus.mesh.dev.example.com) without a token required at the gateway",
            "Deployment istio-system/jaeger has no login of its own and is served by host name (jaeger.mesh.dev.example.com) without a token required at the gateway",
        ]);
    });

    test("local: anonymous Viewer on node ports passes the rules for every stack, and is named by the one outside local/dev", async () => {
        const resources = await render("local", stackKeys("Pulumi.local.yaml"));
        expect(checkClosedAddons(resources)).toEqual([]);
        expect(checkAddonAccess(resources).map((v) => v.message.replace(/ Fix:.*/, ""))).toEqual([
            "Deployment istio-system/grafana is exposed by Service istio-system/grafana-nodeport (NodePort) with GF_AUTH_ANONYMOUS_ENABLED=true (role Viewer): every visitor is let in.",
            "Deployment istio-system/kiali is exposed by Service istio-system/kiali-nodeport (NodePort) with auth.strategy anonymous: every visitor acts with Kiali's own cluster-wide rights.",
        ]);
    });

    test("the release's manifests as shipped fail the rules for every stack, each door named", async () => {
        const views = ["prometheus", "grafana", "kiali", "jaeger"].flatMap((addon) =>
            manifestDocs(addon).map((doc) => ({
                type: typeOf(doc),
                urn: `urn:pulumi:dev::istio-mesh::${typeOf(doc)}::${doc.metadata.name}`,
                name: doc.metadata.name,
                props: doc,
            })),
        );
        expect(checkClosedAddons(views).map((v) => v.message.replace(/:.*/s, ""))).toEqual([
            "Deployment istio-system/prometheus runs with --web.enable-lifecycle",
            "Deployment istio-system/prometheus has no NetworkPolicy selecting its pods",
            "Deployment istio-system/grafana lets every visitor in as Admin (GF_AUTH_ANONYMOUS_ORG_ROLE)",
            "Deployment istio-system/grafana has its admin password written in its spec (GF_SECURITY_ADMIN_PASSWORD)",
            "Deployment istio-system/grafana has no NetworkPolicy selecting its pods",
            "Deployment istio-system/kiali takes anonymous visitors and its ClusterRole kiali may patch, create, post, delete",
            "Deployment istio-system/kiali has no NetworkPolicy selecting its pods",
            "Deployment istio-system/jaeger has no NetworkPolicy selecting its pods",
        ]);
    });
});
