// Closed addons on the local cluster, with the real engine and the real istiod.
//
// No traffic flows here: KWOK pods run no process and there is no CNI to enforce a
// NetworkPolicy, and the addons run no Envoy. So "an unexposed addon refuses an
// anonymous request" is proved where it is decided: in what the addons' pods run
// with (Grafana's environment, which overrides its ini; Kiali's ConfigMap; the
// Prometheus command line), in what the API server's own authorizer lets Kiali's
// service account do, and in the NetworkPolicy on each addon's pods. Exposed by host
// name, the gateway's policies are checked as istiod's webhook accepted them, and
// the shipped dev stack goes through the policy pack in a real `pulumi preview`.
import { Stack } from "@pulumi/pulumi/automation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    cliEnv,
    destroyAndRemove,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    istioctl,
    kubeconfig,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    PROJECT,
    projectDir,
    saveArtifact,
    waitFor,
} from "./harness";

jest.setTimeout(900_000);

const STACK = "e2e-addon-access";
const NS = "istio-system";
const ADDONS = ["prometheus", "grafana", "kiali", "jaeger"];
const quiet = { onOutput: () => undefined };
const JWT = { issuer: "https://login.example.com", jwksUri: "https://login.example.com/jwks.json" };
let stack: Stack;

/**
 * What the addon's running pod was created with (the pod, not only its Deployment),
 * once a rollout has left only one.
 */
async function pod(selector: Record<string, string>) {
    const label = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    return waitFor(`one pod ${label} in ${NS}`, 120, () => {
        const pods = kubectlJson("pods", "-n", NS, "-l", label).items;
        return pods.length === 1 ? pods[0] : undefined;
    });
}

function env(p: { spec: { containers: { name: string; env?: { name: string; value?: string }[] }[] } }, c: string) {
    const container = p.spec.containers.find((x) => x.name === c);
    return Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value ?? "(from a reference)"]));
}

/** Whether the API server's authorizer lets `user` do `verb` on `resource` (`kubectl auth can-i`). */
function canI(user: string, verb: string, resource: string): boolean {
    const r = spawnSync(
        "kubectl",
        ["--kubeconfig", kubeconfig, "auth", "can-i", verb, resource, "--all-namespaces", "--as", user],
        {
            encoding: "utf8",
        },
    );
    const answer = r.stdout.trim();
    if (answer !== "yes" && answer !== "no")
        throw new Error(`kubectl auth can-i ${verb} ${resource}: ${r.stdout}${r.stderr}`);
    return answer === "yes";
}

const POD_LABELS: Record<string, Record<string, string>> = {
    prometheus: {
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "prometheus",
    },
    grafana: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana" },
    kiali: { "app.kubernetes.io/name": "kiali", "app.kubernetes.io/instance": "kiali" },
    jaeger: { app: "jaeger" },
};

const DEV_STACK = "e2e-addon-dev";
const suite = footprint(
    // The addons' cluster-wide RBAC is named after them.
    {
        stacks: [
            [PROJECT, STACK],
            [PROJECT, DEV_STACK],
        ],
        clusterPrefixes: ADDONS,
    },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await freshStack(projectDir, STACK, {
        config: {
            "istio-mesh:version": { value: "1.29.6" },
            "istio-mesh:profile": { value: "minimal" },
            "istio-mesh:injectionNamespaces": { value: "[]" },
            "istio-mesh:gatewayApi": { value: JSON.stringify({ enabled: false }) },
            "istio-mesh:gateways": {
                value: JSON.stringify([{ name: "istio-ingressgateway", kind: "ingress", serviceType: "NodePort" }]),
            },
            // Every addon on, none exposed, nothing said about access: the defaults.
            "istio-mesh:addons": {
                value: JSON.stringify({ prometheus: true, grafana: true, kiali: true, jaeger: true }),
            },
        },
    });
}, 600_000);

afterAll(async () => {
    await suite.cleanUp([["destroy and remove the stack", () => destroyAndRemove(stack)], ...MESH_KEPT_ON_DESTROY]);
}, 600_000);

// First, while the cluster holds nothing of the suite's: a preview reads the cluster.
test("the shipped dev stack passes the policy pack in a real preview", async () => {
    const name = DEV_STACK;
    const dev = await freshStack(projectDir, name, { configFile: path.join(projectDir, "Pulumi.dev.yaml") });
    try {
        await dev.setConfig("kubernetes:kubeconfig", { value: kubeconfig });
        await dev.setConfig("istio-mesh:grafanaAdminPassword", { value: "e2e-dev-grafana-password", secret: true });
        const r = spawnSync(
            "pulumi",
            ["preview", "--stack", name, "--non-interactive", "--policy-pack", path.join(projectDir, "policy")],
            { cwd: projectDir, env: cliEnv(), encoding: "utf8" },
        );
        const output = `${r.stdout}${r.stderr}`;
        saveArtifact("addon-access-dev-policy.txt", output);
        expect(output.slice(output.indexOf("Policies:"))).toContain("✅ istio-mesh@v0.1.0");
        expect(output).not.toContain("[mandatory]");
        expect(r.status).toBe(0);
    } finally {
        await dev.workspace.removeStack(name);
        fs.rmSync(path.join(projectDir, `Pulumi.${name}.yaml`), { force: true });
    }
});

test("unexposed addons ask for a login, Kiali only reads, and only the other addons reach their pods", async () => {
    await stack.up(quiet);

    // Grafana: no anonymous visitor, and no admin/admin (no password set: no admin user at all).
    const grafana = env(await pod(POD_LABELS.grafana), "grafana");
    expect(grafana.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(grafana.GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
    expect(grafana.GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION).toBe("true");
    expect(grafana.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();

    // Kiali: a Kubernetes token to log in, view-only, and restarted with that config.
    const kialiConfig = kubectlJson("configmap", "kiali", "-n", NS).data["config.yaml"];
    expect(kialiConfig).toMatch(/^auth:\n(  .*\n)*  strategy: token$/m);
    expect(kialiConfig).toMatch(/^deployment:\n(  .*\n)*  view_only_mode: true$/m);
    expect((await pod(POD_LABELS.kiali)).metadata.annotations["istio-mesh.io/kiali-login"]).toBe("token, view-only");
    // What its service account may do, as the API server's authorizer answers.
    const kiali = `system:serviceaccount:${NS}:kiali`;
    expect(canI(kiali, "list", "deployments")).toBe(true);
    expect(canI(kiali, "get", "virtualservices.networking.istio.io")).toBe(true);
    expect(canI(kiali, "patch", "deployments")).toBe(false);
    expect(canI(kiali, "patch", "namespaces")).toBe(false);
    expect(canI(kiali, "delete", "virtualservices.networking.istio.io")).toBe(false);
    expect(canI(kiali, "create", "pods/portforward")).toBe(false);

    // Prometheus: no lifecycle or admin API, so nothing to shut it down or delete series with.
    const prometheus = await pod(POD_LABELS.prometheus);
    expect(prometheus.spec.containers.map((c: { name: string }) => c.name)).toEqual(["prometheus-server"]);
    const args: string[] = prometheus.spec.containers[0].args;
    expect(args).toContain("--config.file=/etc/config/prometheus.yml");
    expect(args.filter((a) => /^--web\.enable-(lifecycle|admin-api)/.test(a))).toEqual([]);

    // A NetworkPolicy per addon, selecting exactly its pod, letting in only the other
    // addons (and, on Jaeger's collector ports only, the mesh's spans).
    const peers = (addon: string) =>
        ADDONS.filter((a) => a !== addon).map((a) => ({ podSelector: { matchLabels: POD_LABELS[a] } }));
    for (const addon of ADDONS) {
        const np = kubectlJson("networkpolicy", `${addon}-access`, "-n", NS);
        expect(np.spec.policyTypes).toEqual(["Ingress"]);
        expect(np.spec.podSelector).toEqual({ matchLabels: POD_LABELS[addon] });
        const selected = kubectlJson(
            "pods",
            "-n",
            NS,
            "-l",
            Object.entries(POD_LABELS[addon])
                .map(([k, v]) => `${k}=${v}`)
                .join(","),
        );
        expect(selected.items.map((p: { metadata: { labels: Record<string, string> } }) => p.metadata.labels)).toEqual([
            expect.objectContaining(POD_LABELS[addon]),
        ]);
        const collector =
            addon === "jaeger"
                ? [
                      {
                          from: [{ namespaceSelector: {} }],
                          ports: [9411, 14268, 14250, 4317, 4318].map((port) => ({ protocol: "TCP", port })),
                      },
                  ]
                : [];
        expect({ addon, ingress: np.spec.ingress }).toEqual({ addon, ingress: [{ from: peers(addon) }, ...collector] });
    }
});

test("exposed by host name: every host behind a token and the allowed ranges, the gateway let in to the UI ports; Kiali writes only when asked", async () => {
    await stack.setConfig("istio-mesh:addons", {
        value: JSON.stringify({
            prometheus: true,
            grafana: true,
            kiali: true,
            jaeger: true,
            kialiWriteAccess: true,
            expose: {
                mode: "host",
                domain: "mesh.example.com",
                tls: { insecureHttp: true },
                sourceRanges: ["203.0.113.0/24", "2001:db8::/32"],
                jwt: JWT,
            },
        }),
    });
    await stack.setConfig("istio-mesh:grafanaAdminPassword", { value: "e2e-grafana-admin-password", secret: true });
    await stack.up(quiet);

    const hosts = ADDONS.flatMap((a) => [`${a}.mesh.example.com`, `${a}.mesh.example.com:*`]);
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
    expect(jwt.jwtRules).toEqual([{ ...JWT, forwardOriginalToken: true }]);
    const requireJwt = kubectlJson("authorizationpolicies.security.istio.io", "addons-require-jwt", "-n", NS).spec;
    expect(requireJwt).toEqual({
        selector,
        action: "DENY",
        rules: [{ to: [{ operation: { hosts } }], from: [{ source: { notRequestPrincipals: ["*"] } }] }],
    });

    // Grafana now logs its admin in with the stack's password, still with nobody anonymous.
    const grafana = env(await pod(POD_LABELS.grafana), "grafana");
    expect(grafana.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(grafana.GF_SECURITY_ADMIN_PASSWORD).toBe("(from a reference)");
    expect(grafana.GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION).toBeUndefined();

    // Asked for, Kiali gets the release's rights back (as every Kiali had before): the
    // same authorizer question now answers yes, and Kiali's UI offers changes again.
    const kiali = `system:serviceaccount:${NS}:kiali`;
    expect(canI(kiali, "patch", "deployments")).toBe(true);
    expect(kubectlJson("configmap", "kiali", "-n", NS).data["config.yaml"]).toMatch(
        /^deployment:\n(  .*\n)*  view_only_mode: false$/m,
    );
    expect((await pod(POD_LABELS.kiali)).metadata.annotations["istio-mesh.io/kiali-login"]).toBe("token");

    // The ingress gateway's pods reach each addon's UI port, and nothing else new.
    const gatewayPeer = {
        from: [
            {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": NS } },
                podSelector: { matchLabels: { istio: "ingressgateway" } },
            },
        ],
    };
    const uiPorts: Record<string, number[]> = {
        prometheus: [9090],
        grafana: [3000],
        kiali: [20001],
        jaeger: [16686, 16685],
    };
    for (const addon of ADDONS) {
        const ingress = kubectlJson("networkpolicy", `${addon}-access`, "-n", NS).spec.ingress;
        expect({ addon, rule: ingress[1] }).toEqual({
            addon,
            rule: { ...gatewayPeer, ports: uiPorts[addon].map((port) => ({ protocol: "TCP", port })) },
        });
        expect(ingress.filter((r: { from?: unknown }) => r.from === undefined)).toEqual([]);
    }

    // Istio's analyzers find no error in what the stack made.
    const analysis = istioctl("analyze", "-n", NS, "--output-threshold", "Error");
    expect(analysis).not.toMatch(/Error \[/);
});
