// istiodValues, the escape hatch: nothing the stack sets itself can be overridden through it.
import { STACK_MANAGED_ISTIOD_VALUES } from "../../../components/config";
import { istiodValues } from "../../../components/charts/values";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("istiodValues cannot override what the stack sets", () => {
    test.each([
        [
            { revision: "canary" },
            'istio-mesh:istiodValues.revision: "canary" is set by the stack; use istio-mesh:revision or the names in istio-mesh:revisions instead',
        ],
        [
            { profile: "demo" },
            'istio-mesh:istiodValues.profile: "demo" is set by the stack; use istio-mesh:profile instead',
        ],
        [
            { global: { istioNamespace: "mesh" } },
            'istio-mesh:istiodValues.global.istioNamespace: "mesh" is set by the stack; use istio-mesh:namespace instead',
        ],
        [
            { pilot: { cni: { enabled: true } } },
            "istio-mesh:istiodValues.pilot.cni.enabled: true is set by the stack; use istio-mesh:cni.enabled instead",
        ],
        [
            { meshConfig: { outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } } },
            'istio-mesh:istiodValues.meshConfig.outboundTrafficPolicy: {"mode":"REGISTRY_ONLY"} is set by the stack; use istio-mesh:mesh.outboundTrafficPolicy instead',
        ],
        [
            { base: { validationFailurePolicy: "Ignore" } },
            'istio-mesh:istiodValues.base.validationFailurePolicy: "Ignore" is set by the stack; it is Fail on purpose: istiod switches its webhook to Fail itself, and Ignore would let invalid config through while istiod starts',
        ],
        [
            { pilot: { autoscaleEnabled: false } },
            "istio-mesh:istiodValues.pilot.autoscaleEnabled: false is set by the stack; it is off in profile demo and on in the others; size istiod with pilot.replicaCount (demo) or pilot.autoscaleMin and pilot.autoscaleMax",
        ],
        [
            { meshConfig: { rootNamespace: "mesh-config" } },
            'istio-mesh:istiodValues.meshConfig.rootNamespace: "mesh-config" is set by the stack; it is the control-plane namespace (istio-mesh:namespace), where the mesh-wide PeerAuthentication of istio-mesh:mesh.mtls.mode is created',
        ],
        [
            { meshConfig: null },
            "istio-mesh:istiodValues.meshConfig: null is not an object; it would replace values the stack sets (meshConfig.accessLogFile, meshConfig.enableAutoMtls, meshConfig.outboundTrafficPolicy, meshConfig.enableTracing, meshConfig.rootNamespace)",
        ],
        [
            JSON.parse('{"global": {"__proto__": {"hub": "evil"}}}') as Record<string, unknown>,
            'istio-mesh:istiodValues.global.__proto__: {"hub":"evil"} is not a valid chart value name; merging the values would drop it',
        ],
    ])("%j", (istiodValues, message) => {
        expect(problems({ istiodValues })).toEqual([message]);
    });

    test("values the stack leaves alone pass through", () => {
        const istiodValues = {
            pilot: { replicaCount: 3, cni: { provider: "multus" } },
            global: { hub: "mirror.example" },
        };
        expect(parse({ istiodValues }).istiodValues).toEqual(istiodValues);
    });

    test("every value istiodValues() sets is guarded, and every guard names a value it sets", () => {
        const leaves = (v: unknown, prefix = ""): string[] =>
            typeof v === "object" && v !== null && !Array.isArray(v)
                ? Object.entries(v).flatMap(([k, c]) => leaves(c, prefix ? `${prefix}.${k}` : k))
                : [prefix];
        const set = leaves(istiodValues(parse({ profile: "demo", revision: "1-29-6" })));
        const guarded = Object.keys(STACK_MANAGED_ISTIOD_VALUES);
        const covers = (guard: string, leaf: string) => leaf === guard || leaf.startsWith(`${guard}.`);
        expect(set.filter((leaf) => !guarded.some((g) => covers(g, leaf)))).toEqual([]);
        expect(guarded.filter((g) => !set.some((leaf) => covers(g, leaf)))).toEqual([]);
    });

    test("a value nested deeper than any chart's is refused, not recursed into", () => {
        let deep: unknown = "leaf";
        for (let i = 0; i < 40; i++) deep = { a: deep };
        expect(problems({ istiodValues: { pilot: deep } })).toEqual([
            'istio-mesh:istiodValues.pilot: {"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":{"a":… is nested more than 32 levels deep; no istiod chart value is',
        ]);
    });
});
