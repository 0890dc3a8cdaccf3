import * as pulumi from "@pulumi/pulumi";
import {
    chainTransforms,
    CRD_TYPE,
    DEPLOYMENT_TYPE,
    ignoreIstiodOwnedWebhookFields,
    ownDeclaredFields,
    retainCrds,
    RETAIN_ON_DESTROY_ANNOTATION,
    SERVICE_TYPE,
    skipServiceSettleWait,
    TransformScope,
    WEBHOOK_TYPES,
} from "../../components/charts/transforms";
import { RETAIN_ANNOTATION } from "../../policy/rules";

function apply(
    t: pulumi.ResourceTransform,
    type: string,
    props: pulumi.Inputs = {},
    opts: pulumi.ResourceOptions = {},
) {
    return t({ custom: true, type, name: "x", props, opts }) as pulumi.ResourceTransformResult | undefined;
}

describe("CRD retention", () => {
    test("CRDs are kept on destroy by default", () => {
        expect(apply(retainCrds(true), CRD_TYPE)?.opts.retainOnDelete).toBe(true);
    });
    test("purging is an explicit choice", () => {
        expect(apply(retainCrds(false), CRD_TYPE)?.opts.retainOnDelete).toBe(false);
    });
    test("other resources are left as they are", () => {
        expect(apply(retainCrds(true), DEPLOYMENT_TYPE)).toBeUndefined();
    });
    test("each CRD says what the option says, for the policy pack (which cannot see the option)", () => {
        for (const retain of [true, false]) {
            const props = { metadata: { name: "gateways.networking.istio.io", annotations: { a: "b" } } };
            const result = apply(retainCrds(retain), CRD_TYPE, props);
            expect(result?.props.metadata.annotations).toEqual({
                a: "b",
                [RETAIN_ON_DESTROY_ANNOTATION]: String(retain),
            });
            expect(result?.opts.retainOnDelete).toBe(retain);
        }
        // The pack reads the annotation under the same name.
        expect(RETAIN_ANNOTATION).toBe(RETAIN_ON_DESTROY_ANNOTATION);
    });
});

describe("ownership of declared fields", () => {
    test("chart children take back fields another manager holds, keeping their own annotations", () => {
        const props = { metadata: { name: "istiod", annotations: { "helm.sh/resource-policy": "keep" } } };
        expect(apply(ownDeclaredFields, DEPLOYMENT_TYPE, props)?.props.metadata).toEqual({
            name: "istiod",
            annotations: { "helm.sh/resource-policy": "keep", "pulumi.com/patchForce": "true" },
        });
        expect(apply(ownDeclaredFields, CRD_TYPE, {})?.props.metadata.annotations).toEqual({
            "pulumi.com/patchForce": "true",
        });
    });
    test("the chart itself and non-Kubernetes resources are untouched", () => {
        expect(apply(ownDeclaredFields, "kubernetes:helm.sh/v4:Chart")).toBeUndefined();
        expect(apply(ownDeclaredFields, "pulumi:pulumi:StackReference")).toBeUndefined();
    });
});

describe("webhook fields istiod owns", () => {
    test.each(WEBHOOK_TYPES)("%s ignores caBundle and failurePolicy, keeping other ignores", (type) => {
        const result = apply(ignoreIstiodOwnedWebhookFields, type, {}, { ignoreChanges: ["metadata.labels"] });
        expect(result?.opts.ignoreChanges).toEqual([
            "metadata.labels",
            "webhooks[*].clientConfig.caBundle",
            "webhooks[*].failurePolicy",
        ]);
    });
    test("a Deployment keeps every diff", () => {
        expect(apply(ignoreIstiodOwnedWebhookFields, DEPLOYMENT_TYPE)).toBeUndefined();
    });
});

describe("Service awaits", () => {
    test("ClusterIP and NodePort Services are not held for the provider's endpoint settle time", () => {
        for (const type of [undefined, "ClusterIP", "NodePort"]) {
            const result = apply(skipServiceSettleWait, SERVICE_TYPE, { metadata: { name: "istiod" }, spec: { type } });
            expect(result?.props.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
        }
    });
    test("a LoadBalancer Service is awaited: its address is an output of the stack", () => {
        expect(apply(skipServiceSettleWait, SERVICE_TYPE, { spec: { type: "LoadBalancer" } })).toBeUndefined();
    });
});

describe("chainTransforms", () => {
    test("applies every transform in turn, each seeing the previous one's result", async () => {
        const chained = chainTransforms(ownDeclaredFields, skipServiceSettleWait);
        const result = await chained({
            type: SERVICE_TYPE,
            name: "istiod",
            custom: true,
            props: { metadata: { name: "istiod" }, spec: { type: "ClusterIP" } },
            opts: {},
        });
        expect((result?.props as { metadata: { annotations: Record<string, string> } }).metadata.annotations).toEqual({
            "pulumi.com/patchForce": "true",
            "pulumi.com/skipAwait": "true",
        });
    });

    test("says nothing changed when no transform applies", async () => {
        const chained = chainTransforms(retainCrds(true), ignoreIstiodOwnedWebhookFields);
        expect(await chained({ type: SERVICE_TYPE, name: "x", custom: true, props: {}, opts: {} })).toBeUndefined();
    });
});

describe("TransformScope: one transform for a whole tree, in the engine's order", () => {
    const STACK = "urn:pulumi:dev::istio-mesh::";
    /** A transform that appends `mark` to the object's `marks`, so a test sees which ran and in what order. */
    const marking =
        (mark: string): pulumi.ResourceTransform =>
        (args) => ({
            props: { ...args.props, marks: [...((args.props.marks as string[] | undefined) ?? []), mark] },
            opts: args.opts,
        });
    /** The marks the scope's transform leaves on a child registered under the parent with this URN. */
    async function marksUnder(scope: TransformScope, parentUrn: string): Promise<string[]> {
        const parent = { urn: pulumi.output(parentUrn) } as unknown as pulumi.Resource;
        const result = (await scope.transform({
            custom: true,
            type: CRD_TYPE,
            name: "child",
            props: {},
            opts: { parent },
        })) as pulumi.ResourceTransformResult;
        return result.props.marks as string[];
    }
    const chart = "istio-mesh:index:IstioMesh$istio-mesh:index:IstioBase$kubernetes:helm.sh/v4:Chart";

    test("a chart's child gets its chart's transforms, then the scope's own", async () => {
        const scope = new TransformScope(marking("stack"));
        expect(scope.delegate({ type: "kubernetes:helm.sh/v4:Chart", name: "istio-base" }, marking("base"))).toBe(true);
        expect(scope.delegate({ type: "kubernetes:helm.sh/v4:Chart", name: "istio-istiod" }, marking("istiod"))).toBe(
            true,
        );
        expect(await marksUnder(scope, `${STACK}${chart}::istio-base`)).toEqual(["base", "stack"]);
        expect(await marksUnder(scope, `${STACK}${chart}::istio-istiod`)).toEqual(["istiod", "stack"]);
    });

    test("a component's transforms reach every descendant, innermost first; elsewhere only the scope's own", async () => {
        const scope = new TransformScope(marking("stack"));
        scope.delegate({ type: "istio-mesh:index:ObservabilityAddons", subtree: true }, marking("addons"));
        scope.delegate({ type: "kubernetes:yaml/v2:ConfigGroup", name: "istio-addons-grafana" }, marking("group"));
        const group = "istio-mesh:index:IstioMesh$istio-mesh:index:ObservabilityAddons$kubernetes:yaml/v2:ConfigGroup";
        expect(await marksUnder(scope, `${STACK}${group}::istio-addons-grafana`)).toEqual(["group", "addons", "stack"]);
        expect(
            await marksUnder(
                scope,
                `${STACK}istio-mesh:index:IstioMesh$istio-mesh:index:ObservabilityAddons::istio-addons`,
            ),
        ).toEqual(["addons", "stack"]);
        expect(await marksUnder(scope, `${STACK}${chart}::istio-base`)).toEqual(["stack"]);
    });

    test("a second delegate for the same place is refused, so it registers its transforms itself", () => {
        const scope = new TransformScope(marking("stack"));
        expect(scope.delegate({ type: "istio-mesh:index:GatewayApiCrds", subtree: true }, marking("a"))).toBe(true);
        expect(scope.delegate({ type: "istio-mesh:index:GatewayApiCrds", subtree: true }, marking("b"))).toBe(false);
    });
});
