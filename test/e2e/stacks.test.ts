// Every shipped stack deployed, as a user would bring it up on a cluster: the
// settings of Pulumi.local.yaml, Pulumi.dev.yaml and Pulumi.prod.yaml, each brought
// up (dev and prod through the policy pack, as CI runs them), checked with
// `npm run status`, previewed as a no-op and destroyed. The stacks are named
// e2e-stacks-<shipped name>, with the shipped file copied and only the kubeconfig
// pointed at the test cluster, so the checkout's own stacks and files are never
// touched; the policy pack is told that the prod copy is production.
//
// dev is set up as its comment asks: the Grafana password as a secret, and a TLS
// Secret addons-tls in istio-system made before the first `up`. prod's ingress
// gateway is a LoadBalancer: the local cluster's stand-in (scripts/local-lb.ts)
// gives it an address from 127.0.240.0/24. A gateway whose address never comes
// fails within its loadBalancerTimeoutSeconds, named.
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    exists,
    freshStack,
    kubeconfig,
    kubectl,
    kubectlJson,
    MINIMAL_MESH,
    projectDir,
    removeGatewayApiCrds,
    requireCluster,
    saveArtifact,
} from "./harness";

const policyDir = path.join(projectDir, "policy");
const quiet = { onOutput: () => undefined, onError: () => undefined };
/** The stand-in's pool (scripts/local-lb-lib.ts DEFAULT_POOL). */
const LOOPBACK_POOL = /^127\.0\.240\.([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$/;

interface ShippedStack {
    shipped: "local" | "dev" | "prod";
    /** Held to the policy pack on up and preview. */
    policy: boolean;
    /** What a user does on the cluster before the first `up`, as the stack file's comment asks. */
    before?: (stack: Stack) => Promise<void>;
    /** Removes what `before` made by hand (the stack never deletes what it did not create). */
    after?: () => void;
}

const SHIPPED: ShippedStack[] = [
    { shipped: "local", policy: false },
    {
        shipped: "dev",
        policy: true,
        before: async (stack) => {
            await stack.setConfig("istio-mesh:grafanaAdminPassword", { value: "e2e-stacks-grafana", secret: true });
            kubectl("create", "namespace", "istio-system");
            createTlsSecret("istio-system", "addons-tls", "*.mesh.dev.example.com");
        },
        after: () => kubectl("delete", "namespace", "istio-system", "--ignore-not-found", "--wait=true"),
    },
    { shipped: "prod", policy: true },
];

/** What the stack's `gateways` output says of each gateway (components/mesh.ts GatewayStatus). */
interface GatewayOutput {
    name: string;
    namespace: string;
    serviceType: string;
    addresses: string[];
}

const stackName = (shipped: string) => `e2e-stacks-${shipped}`;
const STUCK = "e2e-stacks-stuck";

/** Policy config marking the prod copy as production for every rule (the pack's config is per rule). */
let policyConfig: string;
const cleanupErrors: string[] = [];

function istioCrds(): string[] {
    return kubectlJson<{ items: { metadata: { name: string } }[] }>("crd")
        .items.map((c) => c.metadata.name)
        .filter((n) => n.endsWith(".istio.io") || n.endsWith(".gateway.networking.k8s.io"));
}

function istioWebhooks(): string[] {
    return kubectl("get", "mutatingwebhookconfigurations,validatingwebhookconfigurations", "-o", "name")
        .split("\n")
        .filter((n) => /\/istio/.test(n));
}

/** A kubernetes.io/tls Secret with a fresh self-signed certificate for `host`. */
function createTlsSecret(namespace: string, name: string, host: string): void {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-stacks-tls-"));
    try {
        const [key, cert] = [path.join(dir, "tls.key"), path.join(dir, "tls.crt")];
        const selfSigned = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1".split(" ");
        execFileSync(
            "openssl",
            [
                ...selfSigned,
                "-subj",
                `/CN=${host}`,
                "-addext",
                `subjectAltName=DNS:${host}`,
                "-keyout",
                key,
                "-out",
                cert,
            ],
            { stdio: "ignore" },
        );
        kubectl("create", "secret", "tls", name, "-n", namespace, `--cert=${cert}`, `--key=${key}`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Runs one cleanup step, recording (not swallowing) its error; the suite's last test reports them. */
async function cleanup(what: string, step: () => unknown): Promise<void> {
    try {
        await step();
    } catch (e) {
        cleanupErrors.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
}

/** The stack's own leftovers (it keeps the CRDs on destroy by design) and its state, for the next stack. */
async function removeStack(stack: Stack, name: string): Promise<void> {
    await cleanup(`${name}: destroy`, () => stack.destroy(quiet));
    await cleanup(`${name}: remove the stack`, () => stack.workspace.removeStack(name, { force: true }));
    await cleanup(`${name}: remove its stack file`, () =>
        fs.rmSync(path.join(projectDir, `Pulumi.${name}.yaml`), { force: true }),
    );
    await cleanup(`${name}: delete the kept Istio CRDs`, () => {
        const crds = istioCrds().filter((c) => c.endsWith(".istio.io"));
        if (crds.length > 0) kubectl("delete", "crd", ...crds, "--wait=true");
    });
    await cleanup(`${name}: delete the kept Gateway API CRDs`, () => removeGatewayApiCrds());
}

beforeAll(() => {
    requireCluster();
    // The suite starts from a cluster without Istio: each stack's first install is under test.
    expect({
        namespace: exists("namespace", "istio-system"),
        crds: istioCrds(),
        webhooks: istioWebhooks(),
    }).toEqual({ namespace: false, crds: [], webhooks: [] });
    const rules = [
        "no-demo-profile",
        "no-anonymous-addons",
        "control-plane-replicas",
        "control-plane-disruption-budgets",
        "strict-mtls",
        "crds-retained",
        "secure-sources",
        "pinned-images",
    ];
    policyConfig = path.join(os.tmpdir(), `e2e-stacks-policy-${process.pid}.json`);
    fs.writeFileSync(
        policyConfig,
        JSON.stringify(Object.fromEntries(rules.map((r) => [r, { prodStacks: [stackName("prod")] }]))),
    );
});

afterAll(() => fs.rmSync(policyConfig, { force: true }));

/** `npm run status -- --stack NAME`: its exit status and output. */
function status(stack: Stack, name: string): { code: number | null; output: string } {
    const r = spawnSync("npm", ["run", "--silent", "status", "--", "--stack", name, "--kubeconfig", kubeconfig], {
        cwd: projectDir,
        encoding: "utf8",
        env: { ...process.env, ...stack.workspace.envVars },
        timeout: 120_000,
    });
    return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

// One test per stack, in the order given (not describe blocks, whose order among
// top-level tests is jest's to choose): the last test reports every cleanup.
test.each(SHIPPED)(
    "the shipped stack $shipped: up (dev and prod through the policy pack), npm run status, a no-op preview, destroy",
    async ({ shipped, policy, before, after }) => {
        const name = stackName(shipped);
        const stack = await freshStack(projectDir, name, {
            configFile: path.join(projectDir, `Pulumi.${shipped}.yaml`),
            config: {},
        });
        const policyOptions = policy ? { policyPacks: [policyDir], policyPackConfigs: [policyConfig] } : {};
        try {
            await before?.(stack);
            const up = await stack.up({ ...quiet, ...policyOptions });
            expect(up.summary.result).toBe("succeeded");

            // LoadBalancer gateways got an address from the stand-in's loopback pool, the one the Service carries.
            for (const g of up.outputs.gateways.value as GatewayOutput[]) {
                if (g.serviceType !== "LoadBalancer") continue;
                const svc = kubectlJson("service", g.name, "-n", g.namespace);
                expect(g.addresses).toEqual([svc.status.loadBalancer.ingress[0].ip]);
                expect(g.addresses[0]).toMatch(LOOPBACK_POOL);
            }

            const checked = status(stack, name);
            expect({ code: checked.code, output: checked.output }).toEqual({ code: 0, output: expect.any(String) });

            // The pack judged the up; the preview is about the stack alone. A "read" is the
            // stack's look at its own last outputs, no change.
            const preview = await stack.preview(quiet);
            const changes = Object.entries(preview.changeSummary).filter(([op]) => op !== "same" && op !== "read");
            expect(changes).toEqual([]);

            const destroy = await stack.destroy(quiet);
            expect(destroy.summary.result).toBe("succeeded");
            expect({
                istiods: kubectl("get", "deployments", "-A", "-l", "app=istiod", "-o", "name").trim(),
                webhooks: istioWebhooks(),
                // dev's namespace was the user's (made before the first up): used, not owned, and left.
                namespace: exists("namespace", "istio-system"),
            }).toEqual({ istiods: "", webhooks: [], namespace: before !== undefined });
        } finally {
            await removeStack(stack, name);
            if (after) await cleanup(`${name}: what was made by hand before the first up`, after);
        }
    },
    900_000,
);

test("a LoadBalancer gateway whose address never comes fails up within its loadBalancerTimeoutSeconds, named", async () => {
    // A load balancer that cannot give this one Service an address: an admission
    // policy refuses every write of its status, so the stand-in's is refused too.
    const policy = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: STUCK },
        spec: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [
                    { apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["services/status"] },
                ],
            },
            validations: [
                { expression: `object.metadata.name != '${STUCK}'`, message: "this test holds back the address" },
            ],
        },
    };
    const binding = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: STUCK },
        spec: { policyName: STUCK, validationActions: ["Deny"] },
    };
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: [policy, binding] }),
    });
    const name = "e2e-stacks-lb-timeout";
    const stack = await freshStack(projectDir, name, {
        config: {
            ...Object.fromEntries(Object.entries(MINIMAL_MESH).map(([k, v]) => [k, { value: v }])),
            "istio-mesh:version": { value: "1.29.6" },
            "istio-mesh:gateways": {
                value: JSON.stringify([
                    { name: STUCK, kind: "ingress", serviceType: "LoadBalancer", loadBalancerTimeoutSeconds: 20 },
                ]),
            },
        },
    });
    try {
        let output = "";
        const failed = await stack
            .up({ onOutput: (o) => (output += o), onError: (o) => (output += o) })
            .then(() => false)
            .catch((e: unknown) => {
                output += String(e);
                return true;
            });
        saveArtifact("stacks-lb-timeout.txt", output);
        expect(failed).toBe(true);
        expect(output).toContain(`istio-system/${STUCK}`);
        expect(output).toContain("Service was not allocated an IP address");
        // The stand-in tried and was refused: the address was held back, not forgotten.
        const svc = kubectlJson("service", STUCK, "-n", "istio-system");
        expect(svc.status.loadBalancer ?? {}).toEqual({});
    } finally {
        await removeStack(stack, name);
        await cleanup("the admission policy", () =>
            kubectl(
                "delete",
                "validatingadmissionpolicybinding,validatingadmissionpolicy",
                STUCK,
                "--ignore-not-found",
            ),
        );
    }
}, 600_000);

test("every cleanup step succeeded", () => {
    expect(cleanupErrors).toEqual([]);
});
