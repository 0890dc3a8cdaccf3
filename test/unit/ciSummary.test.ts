// The CI summary (scripts/ci/summary.ts): from the engine's event log to what a
// reviewer reads in the pull request and the drift report. Events are shaped as
// the CLI writes them with --event-log (see test/e2e/pipeline.test.ts for the real ones).
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { markdown, parseEventLog, report } from "../../scripts/ci/summary";

const urn = (type: string, name: string) => `urn:pulumi:dev::istio-mesh::istio-mesh:index:IstioMesh$${type}::${name}`;
let seq = 0;
const pre = (op: string, type: string, name: string, extra: object = {}): EngineEvent =>
    ({
        sequence: seq++,
        timestamp: 0,
        resourcePreEvent: { metadata: { op, urn: urn(type, name), type, provider: "", ...extra } },
    }) as unknown as EngineEvent;
const ISTIOD = "istio-istiod-chart:istio-system/istiod";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

test("planned changes: one line per resource with what differs; unchanged, refreshed, read and provider steps left out", () => {
    const r = report([
        pre("refresh", DEPLOYMENT, ISTIOD),
        pre("same", "kubernetes:core/v1:Namespace", "istio-namespace-namespace"),
        pre("read", "pulumi:pulumi:StackReference", "organization/istio-mesh/dev"),
        pre("create", "pulumi:providers:kubernetes", "default_4_24_1"),
        pre("update", DEPLOYMENT, ISTIOD, {
            detailedDiff: { "spec.replicas": { kind: "update", inputDiff: false } },
            diffs: ["spec"],
        }),
        pre("create", "kubernetes:core/v1:Service", "istio-gw:istio-system/istio-ingressgateway", { diffs: [] }),
    ]);
    expect(r.changes).toEqual([
        { op: "update", name: ISTIOD, type: DEPLOYMENT, properties: ["spec.replicas"] },
        {
            op: "create",
            name: "istio-gw:istio-system/istio-ingressgateway",
            type: "kubernetes:core/v1:Service",
            properties: [],
        },
    ]);
});

test("a replacement is reported once, as a replace", () => {
    const crd = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
    const r = report([
        pre("create-replacement", crd, "istio-base-chart:gateways.networking.istio.io"),
        pre("replace", crd, "istio-base-chart:gateways.networking.istio.io"),
        pre("delete-replaced", crd, "istio-base-chart:gateways.networking.istio.io"),
    ]);
    expect(r.changes.map((c) => c.op)).toEqual(["replace"]);
});

test("the preview summary names the changes, the policy verdict and the errors, and starts with the stack's marker", () => {
    const events = [
        pre("update", DEPLOYMENT, ISTIOD, { diffs: ["spec"] }),
        {
            policyEvent: {
                resourceUrn: urn(DEPLOYMENT, ISTIOD),
                message: "istiod needs at least 2 replicas in prod.\nreplicas is 1",
                color: "never",
                policyName: "istiod-replicas",
                policyPackName: "istio-mesh",
                policyPackVersion: "0.1.0",
                policyPackVersionTag: "0.1.0",
                enforcementLevel: "mandatory",
            },
        },
        { diagnosticEvent: { message: "preview failed\n", color: "never", severity: "error" } },
        { diagnosticEvent: { message: "preview failed\n", color: "never", severity: "error" } },
    ] as unknown as EngineEvent[];
    const md = markdown({
        kind: "preview",
        stack: "prod",
        exitCode: 255,
        report: report(events),
        output: "diff text",
        outputFile: "preview-prod.txt",
    });
    expect(md.split("\n").slice(0, 8)).toEqual([
        "<!-- istio-mesh-ci:preview:prod -->",
        "### pulumi preview of stack `prod`",
        "",
        "Planned: 1 to update; policy pack: 1 mandatory, 0 advisory violation(s); **FAILED** (exit 255).",
        "",
        "| operation | resource | type | what differs |",
        "| --- | --- | --- | --- |",
        `| update | \`${ISTIOD}\` | \`${DEPLOYMENT}\` | spec |`,
    ]);
    expect(md).toContain(
        `- **[mandatory] istiod-replicas** on \`${ISTIOD}\`: istiod needs at least 2 replicas in prod. replicas is 1`,
    );
    expect(md.match(/- preview failed/g)).toHaveLength(1);
    expect(md).toContain("diff text");
});

test("the drift summary says whether the stack drifted, or that the check itself failed", () => {
    const drifted = report([pre("update", DEPLOYMENT, ISTIOD, { diffs: ["spec"] })]);
    const md = (exitCode: number, r = drifted) =>
        markdown({ kind: "drift", stack: "prod", exitCode, report: r, output: "", outputFile: "drift-prod.txt" });
    expect(md(255)).toContain("**DRIFT**: 1 resource(s) differ from what the stack applied.");
    expect(md(255)).toContain(`| update | \`${ISTIOD}\` |`);
    expect(md(0, report([]))).toContain("**No drift**");
    expect(md(255, report([]))).toContain("**The drift check failed** (exit 255)");
});

test("a summary fits in one GitHub comment however long the diff, and says where the rest is", () => {
    const many = Array.from({ length: 400 }, (_, i) => pre("create", DEPLOYMENT, `chart:ns/deployment-${i}`));
    const md = markdown({
        kind: "preview",
        stack: "dev",
        exitCode: 0,
        report: report(many),
        output: "x".repeat(500_000),
        outputFile: "preview-dev.txt",
    });
    expect(md.length).toBeLessThanOrEqual(60_000);
    expect(md).toContain("… and 250 more (see the artifact).");
    expect(md).toMatch(
        /<summary>Output \(first \d+ of 500000 characters\); the whole of it is the artifact <code>preview-dev.txt<\/code><\/summary>/,
    );
});

test("a cut-off last line of the event log (a killed run) is skipped, the rest is read", () => {
    const line = JSON.stringify(pre("update", DEPLOYMENT, ISTIOD));
    expect(parseEventLog(`${line}\n{"sequence": 9, "resourcePre`)).toHaveLength(1);
});
