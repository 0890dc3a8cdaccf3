// The policy pack through the real CLI, as CI runs it: `pulumi preview
// --policy-pack policy` against the local cluster. The shipped prod config passes,
// a deliberately bad prod config fails with every rule's message, a stack declared
// production by its tag or its config gets the production rules whatever its name,
// and the local stack passes (it declares itself local).
//
// Chart and addon sources: the local release folders, and for the bad config the
// same files served over plain HTTP by a server on 127.0.0.1 (a Helm repository
// index made by `helm repo index`), so the preview really fetches from http://.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import {
    cliEnv,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubeconfig,
    MESH_FOOTPRINT,
    projectDir,
    PROJECT,
    releaseMirror,
    saveArtifact,
} from "./harness";

const version = "1.29.6";
/** The release's folder in the mirror: read lazily, so a missing mirror fails the suite with its message. */
const releaseDir = () => path.join(releaseMirror(), "istio", version);
const policyDir = path.join(projectDir, "policy");

interface PreviewResult {
    status: number | null;
    output: string;
}

/** How a stack declares what it is, besides its config file. */
interface Declaration {
    /** Stack tags set before the preview (`pulumi stack tag set`). */
    tags?: Record<string, string>;
    /** Leave istio-mesh:environment out of the config (the harness declares its stacks local otherwise). */
    undeclaredConfig?: boolean;
}

/** `pulumi preview --policy-pack policy` of a fresh stack with `config` (YAML text); the stack is removed after. */
async function previewWithPolicy(
    stackName: string,
    config: string,
    declaration: Declaration = {},
): Promise<PreviewResult> {
    const configFile = path.join(os.tmpdir(), `Pulumi.${stackName}.yaml`);
    fs.writeFileSync(configFile, config);
    const stack = await freshStack(projectDir, stackName, { configFile });
    try {
        if (declaration.undeclaredConfig) await stack.removeConfig("istio-mesh:environment");
        for (const [key, value] of Object.entries(declaration.tags ?? {})) await stack.setTag(key, value);
        const args = ["preview", "--stack", stackName, "--non-interactive", "--policy-pack", policyDir];
        // Asynchronous: the bad case's HTTP server runs in this process and must keep answering.
        return await new Promise<PreviewResult>((resolve, reject) => {
            const child = spawn("pulumi", args, { cwd: projectDir, env: cliEnv() });
            let output = "";
            child.stdout.on("data", (d: Buffer) => (output += d.toString()));
            child.stderr.on("data", (d: Buffer) => (output += d.toString()));
            child.on("error", reject);
            child.on("close", (status) => resolve({ status, output }));
        });
    } finally {
        await stack.workspace.removeStack(stackName, { force: true });
        fs.rmSync(path.join(projectDir, `Pulumi.${stackName}.yaml`), { force: true });
        fs.rmSync(configFile, { force: true });
    }
}

/** The policy section of a preview's output (the violations, or the pack's ✅). */
function policySection(output: string): string {
    const start = output.indexOf("Policies:");
    return start < 0 ? "" : output.slice(start, output.indexOf("\nOutputs:", start) >>> 0);
}

/** Serves `root` on 127.0.0.1 over plain HTTP. */
async function serveDir(root: string): Promise<{ url: string; close: () => Promise<void> }> {
    const server = http.createServer((req, res) => {
        const file = path.join(root, path.normalize(decodeURIComponent(req.url ?? "/")));
        if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

const localSources = () => `
  kubernetes:kubeconfig: ${kubeconfig}
  istio-mesh:chartSource: ${path.join(releaseMirror(), "istio", "{version}", "charts")}
  istio-mesh:addonSource: ${path.join(releaseMirror(), "istio", "{version}", "addons")}
  istio-mesh:gatewayApi:
    source: ${path.join(releaseMirror(), "gateway-api", "{version}")}
`;

/** Previews create nothing, but the mesh's checks read the cluster: nothing of a mesh may be there. */
const suite = footprint(
    {
        stacks: [
            "e2e-policy-prod",
            "e2e-policy-prod-bad",
            "e2e-policy-local",
            "e2e-policy-tagged",
            "e2e-policy-declared",
        ].map((s) => [PROJECT, s]),
    },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(() => {
    suite.assertCleanStart();
    if (!fs.existsSync(path.join(projectDir, "bin", "policy", "index.js"))) {
        throw new Error("bin/policy/index.js is missing: run npm run build (npm ci and npm test do)");
    }
});

afterAll(() => suite.cleanUp([]));

test("the shipped prod config passes every rule", async () => {
    const prod = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
    const r = await previewWithPolicy("e2e-policy-prod", prod + localSources());
    saveArtifact("policy-prod.txt", r.output);
    expect(policySection(r.output)).toContain("✅ istio-mesh@v0.1.0");
    // Declared production by its config: judged so, with no warning about its name.
    expect(r.output).not.toContain("environment-declared");
    expect(r.output).not.toContain("[mandatory]");
    expect(r.status).toBe(0);
}, 300_000);

test("a bad prod config fails with a message per rule, naming the resource, the value and the fix", async () => {
    // The release's charts and manifests over plain HTTP, a Helm repository as Helm makes one.
    const served = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-http-"));
    fs.mkdirSync(path.join(served, "charts"));
    for (const f of fs.readdirSync(path.join(releaseDir(), "charts"))) {
        fs.copyFileSync(path.join(releaseDir(), "charts", f), path.join(served, "charts", f));
    }
    fs.cpSync(path.join(releaseDir(), "addons"), path.join(served, "addons"), { recursive: true });
    const index = spawnSync("helm", ["repo", "index", path.join(served, "charts")], { encoding: "utf8" });
    expect(index.stderr).toBe("");
    const server = await serveDir(served);
    try {
        const bad = `config:
  kubernetes:kubeconfig: ${kubeconfig}
  istio-mesh:environment: production
  istio-mesh:version: "${version}"
  istio-mesh:profile: demo
  istio-mesh:chartSource: ${server.url}/charts
  istio-mesh:addonSource: ${server.url}/addons
  istio-mesh:gatewayApi:
    source: ${path.join(releaseMirror(), "gateway-api", "{version}")}
  istio-mesh:retainCrdsOnDestroy: false
  istio-mesh:istiodValues:
    global:
      tag: latest
  istio-mesh:addons:
    anonymousAccess: true
    expose:
      mode: nodePort
`;
        const r = await previewWithPolicy("e2e-policy-prod-bad", bad);
        const section = policySection(r.output);
        saveArtifact("policy-violations.txt", section);
        expect(r.status).not.toBe(0);
        expect(section).toContain("❌ istio-mesh@v0.1.0");
        const expected: [string, RegExp][] = [
            ["no-demo-profile", /profile demo \(the stack's profile output\).*Fix: istio-mesh:profile: default/],
            ["no-demo-profile", /Service istio-system\/grafana-nodeport exposes an addon on a node port/],
            [
                "no-anonymous-addons",
                /Deployment istio-system\/grafana is exposed by Service istio-system\/grafana-nodeport \(NodePort\) with GF_AUTH_ANONYMOUS_ENABLED=true \(role Viewer\)/,
            ],
            ["no-anonymous-addons", /Deployment istio-system\/kiali is exposed .* with auth\.strategy anonymous/],
            ["control-plane-replicas", /Deployment istio-system\/istiod runs 1 replica and no autoscaler/],
            ["control-plane-replicas", /Deployment istio-system\/istio-ingressgateway runs 1 replica/],
            ["control-plane-disruption-budgets", /Deployment istio-system\/istiod has no PodDisruptionBudget/],
            ["strict-mtls", /no mesh-wide STRICT mTLS: no PeerAuthentication without selector in istio-system/],
            [
                "crds-retained",
                /CustomResourceDefinition virtualservices\.networking\.istio\.io would be deleted by pulumi destroy \(istio-mesh.io\/retain-on-destroy: false\)/,
            ],
            [
                "secure-sources",
                new RegExp(
                    `istiod comes from http://127\\.0\\.0\\.1:\\d+/charts over plain HTTP.*Fix: istio-mesh:chartSource`,
                ),
            ],
            [
                "secure-sources",
                new RegExp(
                    `grafana comes from http://127\\.0\\.0\\.1:\\d+/addons over plain HTTP.*Fix: istio-mesh:addonSource`,
                ),
            ],
            [
                "pinned-images",
                /Deployment istio-system\/istiod container discovery uses image docker\.io\/istio\/pilot:latest, a floating version/,
            ],
        ];
        for (const [rule, message] of expected) {
            const block = section.split(/\n\s+- \[/).filter((b) => b.startsWith(`mandatory]  ${rule} `));
            expect({ rule, found: block.some((b) => message.test(b.replace(/\n\s*/g, " "))) }).toEqual({
                rule,
                found: true,
            });
        }
    } finally {
        await server.close();
        fs.rmSync(served, { recursive: true, force: true });
    }
}, 300_000);

// Issue 22: what a stack declares decides, not its name. The smallest control plane
// (istiod alone, one replica under an autoscaler whose floor is 1) fails the
// production rule control-plane-replicas, so the rule running is visible.
describe("a stack declared production gets the production rules whatever its name", () => {
    const minimal = `config:
  kubernetes:kubeconfig: ${kubeconfig}
  istio-mesh:version: "${version}"
  istio-mesh:profile: minimal
  istio-mesh:gatewayApi:
    enabled: false
  istio-mesh:chartSource: ${path.join(releaseMirror(), "istio", "{version}", "charts")}
`;
    const replicasViolation = (output: string) =>
        policySection(output)
            .split(/\n\s+- \[/)
            .filter((b) => b.startsWith("mandatory]  control-plane-replicas "))
            .map((b) => b.replace(/\n\s*/g, " "));

    test("by its stack tag: stack e2e-policy-tagged", async () => {
        const r = await previewWithPolicy("e2e-policy-tagged", minimal, {
            undeclaredConfig: true,
            tags: { "istio-mesh:environment": "production" },
        });
        saveArtifact("policy-tagged.txt", r.output);
        expect(replicasViolation(r.output)).toEqual([
            expect.stringMatching(
                /^mandatory\]  control-plane-replicas .*stack e2e-policy-tagged \(production, by tag\): HorizontalPodAutoscaler istio-system\/istiod scales Deployment istio-system\/istiod down to minReplicas 1/,
            ),
        ]);
        expect(r.status).not.toBe(0);
    }, 300_000);

    test("by its config: stack e2e-policy-declared; the same stack declared local gets no production rule", async () => {
        const declared = await previewWithPolicy(
            "e2e-policy-declared",
            minimal + "  istio-mesh:environment: production\n",
        );
        expect(replicasViolation(declared.output)).toEqual([
            expect.stringMatching(/stack e2e-policy-declared \(production, by config\): HorizontalPodAutoscaler/),
        ]);
        const local = await previewWithPolicy("e2e-policy-declared", minimal + "  istio-mesh:environment: local\n");
        expect(replicasViolation(local.output)).toEqual([]);
        expect(policySection(local.output)).toContain("✅ istio-mesh@v0.1.0");
        expect(local.status).toBe(0);
    }, 300_000);
});

test("the local stack passes: it declares itself local, with local sources", async () => {
    const local = fs
        .readFileSync(path.join(projectDir, "Pulumi.local.yaml"), "utf8")
        .replace("./.cluster/kubeconfig", kubeconfig);
    const r = await previewWithPolicy("e2e-policy-local", local);
    expect(policySection(r.output)).toContain("✅ istio-mesh@v0.1.0");
    expect(r.status).toBe(0);
}, 300_000);
