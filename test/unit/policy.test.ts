// The policy pack's rule functions on hand-made resources: the cases the end-to-end
// preview cannot easily produce (an autoscaler floor, a PDB that selects other
// pods, a digest, a mesh-wide policy that is only PERMISSIVE) and the stack classes.
import * as fs from "fs";
import * as path from "path";
import {
    checkCrdsRetained,
    checkDisruptionBudgets,
    checkPinnedImages,
    checkReplicas,
    checkSources,
    checkStrictMtls,
    DEFAULT_STACK_CLASSES,
    PolicyResourceView,
    readKnown,
    sourceProblem,
    stackEnvironment,
    stackOfUrn,
} from "../../policy/rules";
import { judgeStack, Rule, RULES, stackClasses } from "../../policy/pack";

const urn = (type: string, name: string) => `urn:pulumi:prod::istio-mesh::${type}::${name}`;

function res(type: string, props: Record<string, unknown>): PolicyResourceView {
    const name = (props.metadata as { name?: string } | undefined)?.name ?? "x";
    return { type: `kubernetes:${type}`, urn: urn(`kubernetes:${type}`, name), name, props };
}

function istiod(replicas?: number): PolicyResourceView {
    return res("apps/v1:Deployment", {
        kind: "Deployment",
        metadata: { name: "istiod", namespace: "istio-system", labels: { "helm.sh/chart": "istiod-1.29.6" } },
        spec: {
            ...(replicas !== undefined ? { replicas } : {}),
            template: {
                metadata: { labels: { app: "istiod", "istio.io/rev": "default" } },
                spec: { containers: [{ name: "discovery", image: "docker.io/istio/pilot:1.29.6" }] },
            },
        },
    });
}

const hpa = (min?: number) =>
    res("autoscaling/v2:HorizontalPodAutoscaler", {
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "istiod", namespace: "istio-system" },
        spec: {
            scaleTargetRef: { kind: "Deployment", name: "istiod" },
            ...(min !== undefined ? { minReplicas: min } : {}),
        },
    });

describe("stack environments: declared by tag or config, the name only a fallback to production", () => {
    const none = new Map<string, string>();
    const tagged = (value: string) => new Map([["istio-mesh:environment", value]]);
    const kind = (stack: string, tags = none, configured?: string) =>
        stackEnvironment(stack, tags, configured, DEFAULT_STACK_CLASSES).kind;

    test("the stack name comes from the URN", () => {
        expect(stackOfUrn("urn:pulumi:prod-eu::istio-mesh::pulumi:pulumi:Stack::x")).toBe("prod-eu");
    });

    test("a declaration decides, whatever the name", () => {
        expect(kind("e2e-anything", tagged("production"))).toBe("production");
        expect(kind("dev-eu", none, "production")).toBe("production");
        expect(kind("prod", tagged("development"))).toBe("development");
        expect(kind("production-eu", none, "local")).toBe("local");
        expect(stackEnvironment("x", tagged("local"), "local", DEFAULT_STACK_CLASSES)).toEqual({
            kind: "local",
            declaredBy: "tag",
            conflicts: [],
        });
        expect(stackEnvironment("x", none, "development", DEFAULT_STACK_CLASSES)).toEqual({
            kind: "development",
            declaredBy: "config",
            conflicts: [],
        });
    });

    test("undeclared: production names get production rules, with a warning; no name exempts a stack", () => {
        for (const stack of ["prod", "prod-eu", "production", "production-eu", "eu-prod", "eu-production"]) {
            expect(stackEnvironment(stack, none, undefined, DEFAULT_STACK_CLASSES)).toEqual({
                kind: "production",
                declaredBy: "name",
                conflicts: [],
                warning: expect.stringContaining(
                    `stack ${stack} declares no environment (stack tag istio-mesh:environment, or config istio-mesh:environment: production, development or local); held to the production rules because its name matches`,
                ) as unknown as string,
            });
        }
        for (const stack of ["local", "dev", "dev-eu", "e2e-lifecycle", "smoke", "bench", "staging", "preprod"]) {
            expect(stackEnvironment(stack, none, "", DEFAULT_STACK_CLASSES)).toEqual({
                kind: "other",
                declaredBy: "nothing",
                conflicts: [],
                warning: `stack ${stack} declares no environment (stack tag istio-mesh:environment, or config istio-mesh:environment: production, development or local); held to every rule but production's, exempt from none (a name never exempts a stack)`,
            });
        }
        expect(stackEnvironment("eu-live", none, undefined, { prodStacks: ["eu-live"] }).kind).toBe("production");
    });

    test("a contradiction or an unknown value is reported and judged by the strictest", () => {
        expect(stackEnvironment("x", tagged("local"), "production", DEFAULT_STACK_CLASSES)).toEqual({
            kind: "production",
            declaredBy: "tag",
            conflicts: [
                "stack tag istio-mesh:environment says local but config istio-mesh:environment says production",
            ],
        });
        expect(stackEnvironment("x", tagged("prod"), undefined, DEFAULT_STACK_CLASSES)).toEqual({
            kind: "production",
            declaredBy: "nothing",
            conflicts: ['stack tag istio-mesh:environment is "prod", not one of production, development, local'],
        });
        expect(stackEnvironment("x", tagged("staging"), "development", DEFAULT_STACK_CLASSES).kind).toBe("development");
    });

    test("a value unknown during preview reads as undefined; other errors still throw", () => {
        expect(
            readKnown(() => {
                throw new Error("string value at .gateways can't be known during preview");
            }),
        ).toBeUndefined();
        expect(() =>
            readKnown(() => {
                throw new Error("boom");
            }),
        ).toThrow("boom");
    });
});

describe("control-plane-replicas", () => {
    test("one replica without an autoscaler is refused with the fix", () => {
        const [v] = checkReplicas([istiod()]);
        expect(v.message).toContain("Deployment istio-system/istiod runs 1 replica and no autoscaler");
        expect(v.message).toContain("istiodValues.pilot.autoscaleMin >= 2");
    });

    test("the autoscaler's floor counts instead of the Deployment's replicas", () => {
        expect(checkReplicas([istiod(), hpa(3)])).toEqual([]);
        expect(checkReplicas([istiod(5), hpa()])[0].message).toContain("down to minReplicas 1");
        expect(checkReplicas([istiod(2)])).toEqual([]);
    });
});

describe("control-plane-disruption-budgets", () => {
    const pdb = (matchLabels: Record<string, string>, namespace = "istio-system") =>
        res("policy/v1:PodDisruptionBudget", {
            metadata: { name: "istiod", namespace },
            spec: { minAvailable: 1, selector: { matchLabels } },
        });

    test("a PDB must select the workload's pods in its namespace", () => {
        expect(checkDisruptionBudgets([istiod(2), pdb({ app: "istiod" })])).toEqual([]);
        expect(checkDisruptionBudgets([istiod(2), pdb({ app: "other" })])).toHaveLength(1);
        expect(checkDisruptionBudgets([istiod(2), pdb({ app: "istiod" }, "elsewhere")])).toHaveLength(1);
        expect(checkDisruptionBudgets([istiod(2), pdb({})])).toHaveLength(1);
    });
});

describe("strict-mtls", () => {
    const pa = (mode: string, namespace = "istio-system", selector?: Record<string, string>) =>
        res("security.istio.io/v1:PeerAuthentication", {
            kind: "PeerAuthentication",
            metadata: { name: "default", namespace },
            spec: { mtls: { mode }, ...(selector ? { selector: { matchLabels: selector } } : {}) },
        });

    test("only a selector-less STRICT policy in the control plane namespace counts", () => {
        expect(checkStrictMtls([istiod(2), pa("STRICT")])).toEqual([]);
        expect(checkStrictMtls([istiod(2), pa("PERMISSIVE")])[0].message).toContain(
            "PeerAuthentication istio-system/default mode PERMISSIVE",
        );
        expect(checkStrictMtls([istiod(2), pa("STRICT", "db")])).toHaveLength(1);
        expect(checkStrictMtls([istiod(2), pa("STRICT", "istio-system", { app: "x" })])).toHaveLength(1);
    });
});

describe("crds-retained, pinned-images, secure-sources", () => {
    const crd = (annotations: Record<string, string>, group = "networking.istio.io") =>
        res("apiextensions.k8s.io/v1:CustomResourceDefinition", {
            kind: "CustomResourceDefinition",
            metadata: { name: `gateways.${group}`, annotations },
            spec: { group, names: { kind: "Gateway" } },
        });

    test("an Istio CRD without the retain annotation is refused; other CRDs are not ours to judge", () => {
        expect(checkCrdsRetained([crd({ "istio-mesh.io/retain-on-destroy": "true" })])).toEqual([]);
        expect(checkCrdsRetained([crd({})])[0].message).toContain("(istio-mesh.io/retain-on-destroy: unset)");
        expect(checkCrdsRetained([crd({}, "gateway.networking.k8s.io")])).toEqual([]);
    });

    test("latest and untagged images are refused; tags, digests and the injector's auto pass", () => {
        const withImage = (image: string) =>
            res("apps/v1:Deployment", {
                kind: "Deployment",
                metadata: { name: "w", namespace: "n" },
                spec: { template: { spec: { containers: [{ name: "c", image }] } } },
            });
        expect(checkPinnedImages([withImage("registry:5000/istio/pilot")])).toHaveLength(1);
        expect(checkPinnedImages([withImage("grafana/grafana:latest")])).toHaveLength(1);
        expect(checkPinnedImages([withImage("registry:5000/istio/pilot:1.29.6")])).toEqual([]);
        expect(checkPinnedImages([withImage("istio/pilot@sha256:abc")])).toEqual([]);
        expect(checkPinnedImages([withImage("auto")])).toEqual([]);
    });

    test("http:// sources are refused naming the setting; https, oci and directories pass", () => {
        const stack = (sources: [string, string][]): PolicyResourceView => ({
            type: "pulumi:pulumi:Stack",
            urn: urn("pulumi:pulumi:Stack", "istio-mesh-prod"),
            name: "istio-mesh-prod",
            props: { components: sources.map(([chart, source]) => ({ component: chart, chart, source })) },
        });
        const v = checkSources([
            stack([
                ["istiod", "http://mirror/charts"],
                ["addon manifest", "HTTP://mirror/addons"],
                ["base", "https://istio-release.storage.googleapis.com/charts"],
                ["gateway", "oci://registry/istio"],
                ["cni", "/mirror/1.29.6/charts"],
            ]),
        ]);
        expect(v.map((x) => x.message.match(/Fix: istio-mesh:(\w+)/)?.[1])).toEqual(["chartSource", "addonSource"]);
    });
});

// Issue 22: an exception's scope is judged, not only the mesh-wide mode.
describe("strict-mtls judges the exceptions' scope", () => {
    const pa = (namespace: string, spec: Record<string, unknown>, name = "default") =>
        res("security.istio.io/v1:PeerAuthentication", {
            kind: "PeerAuthentication",
            metadata: { name, namespace },
            spec,
        });
    const meshStrict = pa("istio-system", { mtls: { mode: "STRICT" } });

    test.each(["DISABLE", "PERMISSIVE"])("a namespace-wide %s exception is refused, naming the namespace", (mode) => {
        expect(checkStrictMtls([istiod(2), meshStrict, pa("legacy", { mtls: { mode } }, "legacy")])).toEqual([
            {
                urn: "urn:pulumi:prod::istio-mesh::kubernetes:security.istio.io/v1:PeerAuthentication::legacy",
                message: `PeerAuthentication legacy/legacy has no selector and mode ${mode}: every workload in namespace legacy accepts plain text, not just the one that needs it. Fix: give the exception in istio-mesh:mesh.mtls.exceptions a selector for that workload, and port modes for the ports that need plain text (e.g. selector {app: mysql}, ports {"3306": PERMISSIVE}).`,
            },
        ]);
    });

    test("the runbook's MySQL exception (a workload, one port) passes, and so does a namespace-wide STRICT", () => {
        const mysql = pa(
            "db",
            { selector: { matchLabels: { app: "mysql" } }, portLevelMtls: { "3306": { mode: "PERMISSIVE" } } },
            "mysql",
        );
        const workloadDisable = pa(
            "db",
            { selector: { matchLabels: { app: "legacy" } }, mtls: { mode: "DISABLE" } },
            "l",
        );
        expect(
            checkStrictMtls([istiod(2), meshStrict, mysql, workloadDisable, pa("shop", { mtls: { mode: "STRICT" } })]),
        ).toEqual([]);
    });
});

describe("secure-sources: every release-data source", () => {
    const stack = (components: [string, string][], releaseSources?: [string, string][]): PolicyResourceView => ({
        type: "pulumi:pulumi:Stack",
        urn: urn("pulumi:pulumi:Stack", "istio-mesh-prod"),
        name: "istio-mesh-prod",
        props: {
            components: components.map(([chart, source]) => ({ component: chart, chart, source })),
            ...(releaseSources
                ? { releaseSources: releaseSources.map(([setting, source]) => ({ setting, source })) }
                : {}),
        },
    });

    test("the Gateway API CRDs' and every revision's chart source are judged, each source once", () => {
        const v = checkSources([
            stack(
                [
                    ["istiod", "https://charts.example.com"],
                    ["addon manifest", "http://mirror/addons"],
                ],
                [
                    ["chartSource", "https://charts.example.com"],
                    ["chartSource (Istio 1.28.10)", "http://old-mirror/charts"],
                    ["addonSource", "http://mirror/addons"],
                    ["gatewayApi.source", "http://mirror/gateway-api/v1.4.1"],
                ],
            ),
        ]).map((x) => x.message);
        expect(v).toEqual([
            "addon manifest comes from http://mirror/addons over plain HTTP; anyone on the path can change what gets installed. Fix: istio-mesh:addonSource over https://, an oci:// registry or a local mirror directory.",
            "istio-mesh:chartSource (Istio 1.28.10) reads release data from http://old-mirror/charts over plain HTTP; anyone on the path can change what gets installed. Fix: istio-mesh:chartSource over https://, an oci:// registry or a local mirror directory.",
            "istio-mesh:gatewayApi.source reads release data from http://mirror/gateway-api/v1.4.1 over plain HTTP; anyone on the path can change what gets installed. Fix: istio-mesh:gatewayApi.source over https://, an oci:// registry or a local mirror directory.",
        ]);
    });

    test.each([
        ["http://127.0.0.1:8080/charts", "over plain HTTP; anyone on the path can change what gets installed"],
        ["ftp://mirror/charts", "over ftp://, which is not a release-data source"],
        ["https:///charts", "with no host"],
        ["oci://:5000/istio", "with no registry"],
        ["https://charts.example.com", undefined],
        ["oci://registry.example.com:5000/istio", undefined],
        ["file:///mirror/charts", undefined],
        ["/mirror/1.29.6/charts", undefined],
    ])("%s", (source, problem) => {
        expect(sourceProblem(source)).toBe(problem);
    });
});

// The rules on whole stacks, as the engine hands them over: which rules a stack gets
// follows its declaration, not its name.
describe("which rules a stack gets", () => {
    const stackOf = (name: string, environment?: string): PolicyResourceView => ({
        type: "pulumi:pulumi:Stack",
        urn: `urn:pulumi:${name}::istio-mesh::pulumi:pulumi:Stack::istio-mesh-${name}`,
        name: `istio-mesh-${name}`,
        props: { profile: "demo", components: [], ...(environment !== undefined ? { environment } : {}) },
    });
    const single = (name: string) => {
        const d = istiod(1);
        return { ...d, urn: d.urn.replace("urn:pulumi:prod::", `urn:pulumi:${name}::`) };
    };
    const rule = (name: string) => RULES.find((r) => r.name === name) as Rule;
    const run = (ruleName: string, stack: string, environment?: string, tags = new Map<string, string>()) =>
        judgeStack(rule(ruleName), [stackOf(stack, environment), single(stack)], tags, stackClasses(undefined)).map(
            (v) => v.message,
        );

    test("a stack declared production by config or tag gets production rules whatever its name", () => {
        expect(run("control-plane-replicas", "e2e-eu", "production")).toEqual([
            "stack e2e-eu (production, by config): Deployment istio-system/istiod runs 1 replica and no autoscaler; production needs at least 2 so one pod can be drained or lost. Fix: gateways[].replicas >= 2 for a gateway, istiodValues.pilot.autoscaleMin >= 2 (or pilot.replicaCount with autoscaling off) for istiod.",
        ]);
        expect(
            run("control-plane-replicas", "dev-eu", "", new Map([["istio-mesh:environment", "production"]])),
        ).toHaveLength(1);
        expect(run("control-plane-replicas", "production-eu")).toHaveLength(1);
        expect(run("control-plane-replicas", "prod", "development")).toEqual([]);
    });

    test("e2e* and dev* names no longer skip the demo and addon rules; a declaration does", () => {
        expect(run("no-demo-profile", "e2e-x")[0]).toMatch(/^stack e2e-x \(other, undeclared\): profile demo/);
        expect(run("no-demo-profile", "dev-x")).toHaveLength(1);
        expect(run("no-demo-profile", "dev-x", "development")).toEqual([]);
        expect(run("no-demo-profile", "x", "local")).toEqual([]);
        expect(rule("no-anonymous-addons").appliesTo).toEqual(["production", "other", "development"]);
    });

    test("the fallback by name is an advisory warning; a contradiction is mandatory", () => {
        expect(rule("environment-declared").enforcementLevel).toBe("advisory");
        expect(run("environment-declared", "prod-eu")).toEqual([
            "stack prod-eu (production, by name): stack prod-eu declares no environment (stack tag istio-mesh:environment, or config istio-mesh:environment: production, development or local); held to the production rules because its name matches prod-* (the fallback by name)",
        ]);
        expect(run("environment-declared", "prod-eu", "production")).toEqual([]);
        expect(rule("environment-consistent").enforcementLevel).toBe("mandatory");
        expect(
            run("environment-consistent", "x", "local", new Map([["istio-mesh:environment", "production"]])),
        ).toEqual([
            "stack x (production, by tag): stack tag istio-mesh:environment says production but config istio-mesh:environment says local; judged as production until fixed. Fix: one value, production, development or local, in the stack tag and the config.",
        ]);
    });
});

test("docs/policy.md lists every rule with its level and the stacks it applies to", () => {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../docs/policy.md"), "utf8");
    const everywhere = ["production", "development", "local", "other"];
    for (const r of RULES) {
        const scope = everywhere.every((k) => r.appliesTo.includes(k as Rule["appliesTo"][number]))
            ? "every stack"
            : r.appliesTo.join(", ");
        expect(doc).toContain(`| \`${r.name}\` | ${scope} | ${r.enforcementLevel} |`);
    }
});
