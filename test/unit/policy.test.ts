// The policy pack's rule functions on hand-made resources: the cases the end-to-end
// preview cannot easily produce (an autoscaler floor, a PDB that selects other
// pods, a digest, a mesh-wide policy that is only PERMISSIVE) and the stack classes.
import {
    checkCrdsRetained,
    checkDisruptionBudgets,
    checkPinnedImages,
    checkReplicas,
    checkSources,
    checkStrictMtls,
    classifyStack,
    DEFAULT_STACK_CLASSES,
    PolicyResourceView,
    readKnown,
    stackOfUrn,
} from "../../policy/rules";

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

describe("stack classes", () => {
    test("the stack name comes from the URN; prod wins over dev; unknown stacks are other", () => {
        expect(stackOfUrn("urn:pulumi:prod-eu::istio-mesh::pulumi:pulumi:Stack::x")).toBe("prod-eu");
        expect(classifyStack("prod-eu", DEFAULT_STACK_CLASSES)).toBe("prod");
        expect(classifyStack("production", DEFAULT_STACK_CLASSES)).toBe("prod");
        expect(classifyStack("local", DEFAULT_STACK_CLASSES)).toBe("dev");
        expect(classifyStack("e2e-lifecycle", DEFAULT_STACK_CLASSES)).toBe("dev");
        expect(classifyStack("staging", DEFAULT_STACK_CLASSES)).toBe("other");
        expect(classifyStack("preprod", DEFAULT_STACK_CLASSES)).toBe("other");
        expect(classifyStack("dev", { prodStacks: ["dev"], devStacks: ["dev"] })).toBe("prod");
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
