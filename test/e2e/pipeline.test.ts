// The CI pipeline's scripts (scripts/ci/*.sh, called by .github/workflows) on the
// local cluster, with the real CLI and a policy pack made for the test:
// preview.sh refuses to run without a policy pack, is stopped by a mandatory
// violation before anything changes, and otherwise writes the diff and a summary
// naming the planned changes; up.sh applies; drift.sh passes on an untouched
// cluster and fails, naming the resource, after a hand `kubectl scale` of an
// object the stack owns; up.sh takes the change back.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    cliEnv,
    destroyAndRemove,
    exists,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubectl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    PROJECT,
    projectDir,
    saveArtifact,
    setConfigValues,
} from "./harness";
import type { Stack } from "@pulumi/pulumi/automation";

jest.setTimeout(600_000);

const STACK = "e2e-pipeline";
const NS = "istio-system";
const GRAFANA_PASSWORD = "pipeline-grafana-admin-password";
let stack: Stack;
let tmp: string;
let out: string;

/**
 * A policy pack in a temp dir, resolving `@pulumi/policy` and `@pulumi/pulumi` from
 * the project's node_modules (the pulumi-analyzer-policy launcher resolves them
 * from the pack's folder). One rule on the control plane namespace, at `level`.
 */
function policyPack(name: string, level: "advisory" | "mandatory"): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), `runtime: nodejs\ndescription: ${name}\n`);
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify({ name, version: "0.0.1", private: true, main: "index.js" }),
    );
    fs.writeFileSync(
        path.join(dir, "index.js"),
        `const { PolicyPack } = require("@pulumi/policy");
new PolicyPack(${JSON.stringify(name)}, {
    policies: [{
        name: "ci-test-namespace-${level}",
        description: "The test's ${level} rule on the control plane namespace.",
        enforcementLevel: ${JSON.stringify(level)},
        validateResource: (args, reportViolation) => {
            if (args.type === "kubernetes:core/v1:Namespace" && args.props.metadata?.name === ${JSON.stringify(NS)}) {
                reportViolation("namespace ${NS} seen by the ${level} test rule");
            }
        },
    }],
});
`,
    );
    return dir;
}

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs scripts/ci/<script> STACK as the workflows do, with the given policy pack. */
function ci(script: string, pack: string, stackName = STACK, env: Record<string, string | undefined> = {}): Run {
    const r = spawnSync("bash", [path.join(projectDir, "scripts/ci", script), stackName], {
        encoding: "utf8",
        env: {
            ...cliEnv(),
            ISTIO_MESH_POLICY_PACK: pack,
            ISTIO_MESH_CI_OUT: out,
            // As in every suite but the lifecycle (harness.ts, freshStack): the scripts
            // are under test, not the CLI's intermediate checkpoints.
            PULUMI_SKIP_CHECKPOINTS: "true",
            GITHUB_STEP_SUMMARY: path.join(out, "step-summary.md"),
            ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
    });
    const run = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    saveArtifact(`pipeline-${script}-${stackName}.log`, `exit ${run.code}\n${run.stdout}\n---\n${run.stderr}`);
    return run;
}

const read = (file: string) => fs.readFileSync(path.join(out, file), "utf8");

let blocking: string;
let advisory: string;
const suite = footprint({ stacks: [[PROJECT, STACK]] }, MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT);

beforeAll(async () => {
    suite.assertCleanStart();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-pipeline-"));
    out = path.join(tmp, "out");
    blocking = policyPack("blocking-pack", "mandatory");
    advisory = policyPack("advisory-pack", "advisory");
    stack = await freshStack(projectDir, STACK, { configFile: path.join(projectDir, "Pulumi.local.yaml"), config: {} });
    // The scripts are under test, not the mesh: its smallest control plane will do,
    // with demo's istiod (no autoscaler, so its replica count is the stack's and a
    // hand `kubectl scale` is drift).
    await setConfigValues(stack, { ...MINIMAL_MESH, "istio-mesh:profile": "demo" });
}, 600_000);

afterAll(
    () =>
        suite.cleanUp([
            ["destroy and remove the stack", () => destroyAndRemove(stack)],
            ...MESH_KEPT_ON_DESTROY,
            ["remove the temp folder", () => tmp && fs.rmSync(tmp, { recursive: true, force: true })],
        ]),
    600_000,
);

test("1. without a policy pack the scripts stop and say which setting points where", () => {
    const missing = path.join(tmp, "no-such-pack");
    for (const script of ["preview.sh", "up.sh"]) {
        const r = ci(script, missing);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`policy pack directory ${missing} does not exist (ISTIO_MESH_POLICY_PACK)`);
    }
    // A real environment's stack whose passphrase secret is missing from the CI's
    // store (it arrives empty) is refused before pulumi runs.
    const prod = ci("preview.sh", advisory, "prod", { PULUMI_CONFIG_PASSPHRASE: "" });
    expect(prod.code).toBe(2);
    expect(prod.stderr).toContain("stack prod: no secrets passphrase; set PULUMI_CONFIG_PASSPHRASE");
    // On a runner the default state folder would vanish with the checkout.
    const runner = ci("drift.sh", advisory, STACK, { GITHUB_ACTIONS: "true", PULUMI_BACKEND_URL: undefined });
    expect(runner.code).toBe(2);
    expect(runner.stderr).toContain(
        "PULUMI_BACKEND_URL is not set; on a CI runner the stacks' state must live in a backend",
    );
    expect(exists("namespace", NS)).toBe(false);
});

test("2. a mandatory policy violation fails the preview, is named in the summary, and changes nothing", () => {
    const r = ci("preview.sh", blocking);
    expect(r.code).not.toBe(0);
    const md = read(`preview-${STACK}.md`);
    expect(md).toContain("<!-- istio-mesh-ci:preview:e2e-pipeline -->");
    expect(md).toContain(
        "**[mandatory] ci-test-namespace-mandatory** on `istio-namespace-namespace`: The test's mandatory rule on the control plane namespace. namespace istio-system seen by the mandatory test rule",
    );
    expect(md).toContain("**FAILED**");
    expect(exists("namespace", NS)).toBe(false);
});

test("3. preview.sh writes the diff and a summary naming the planned changes of a fresh stack", async () => {
    const r = ci("preview.sh", advisory, STACK, { ISTIO_MESH_GRAFANA_ADMIN_PASSWORD: GRAFANA_PASSWORD });
    expect(r.code).toBe(0);
    // The Grafana password from the CI's secret store is a Pulumi secret of the stack, never plain text.
    expect((await stack.getConfig("istio-mesh:grafanaAdminPassword")).value).toBe(GRAFANA_PASSWORD);
    expect(fs.readFileSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), "utf8")).not.toContain(GRAFANA_PASSWORD);
    const diff = read(`preview-${STACK}.txt`);
    const md = read(`preview-${STACK}.md`);
    saveArtifact("pipeline-preview.md", md);
    // The diff is the CLI's: istiod's Deployment with its image.
    expect(diff).toMatch(
        /\+ kubernetes:apps\/v1:Deployment: \(create\)\n\s+\[urn=\S+::istio-istiod-chart:istio-system\/istiod\]/,
    );
    expect(diff).toContain("docker.io/istio/pilot:1.29.6");
    // The summary names each planned change, and the advisory violation without failing.
    expect(md).toMatch(/^Planned: \d+ to create; policy pack: 0 mandatory, 1 advisory violation\(s\); succeeded\.$/m);
    expect(md).toContain("| create | `istio-istiod-chart:istio-system/istiod` | `kubernetes:apps/v1:Deployment` |");
    expect(md).toContain("| create | `istio-namespace-namespace` | `kubernetes:core/v1:Namespace` |");
    expect(md).toContain("**[advisory] ci-test-namespace-advisory** on `istio-namespace-namespace`");
    expect(read("step-summary.md")).toContain(md);
    // A preview changes nothing.
    expect(exists("namespace", NS)).toBe(false);
});

test("4. up.sh applies the stack and checks that it is ready", () => {
    const r = ci("up.sh", advisory);
    expect(r.code).toBe(0);
    const istiod = kubectlJson("deployment", "istiod", "-n", NS);
    expect(istiod.status.readyReplicas).toBe(1);
    expect(read(`up-${STACK}.md`)).toMatch(/^Applied: \d+ to create; policy pack: .*; succeeded\.$/m);
    // scripts/status.sh's verdict, after the update.
    expect(r.stdout).toContain(`Istio 1.29.6 (stack ${STACK})`);
    expect(r.stdout).toContain("installation verified: every component is ready");
});

test("5. drift.sh passes when the cluster holds what the stack applied", () => {
    const r = ci("drift.sh", advisory);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`drift check of ${STACK}: no drift`);
    expect(read(`drift-${STACK}.md`)).toContain("**No drift**");
});

test("6. drift.sh fails and names the resource after a hand change to an object the stack owns; up.sh takes it back", () => {
    kubectl("scale", "deployment/istiod", "-n", NS, "--replicas=3");
    const r = ci("drift.sh", advisory);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`drift check of ${STACK}: DRIFT in 1 resources`);
    expect(r.stderr).toMatch(/update kubernetes:apps\/v1:Deployment istio-istiod-chart:istio-system\/istiod \(.*spec/);
    const md = read(`drift-${STACK}.md`);
    saveArtifact("pipeline-drift.md", md);
    expect(md).toContain("**DRIFT**: 1 resource(s) differ from what the stack applied.");
    expect(md).toContain("| update | `istio-istiod-chart:istio-system/istiod` | `kubernetes:apps/v1:Deployment` |");
    expect(read(`drift-${STACK}.txt`)).toMatch(/replicas\s*:\s*3\s*=>\s*1/);

    const repair = ci("up.sh", advisory);
    expect(repair.code).toBe(0);
    expect(kubectlJson("deployment", "istiod", "-n", NS).spec.replicas).toBe(1);
});
