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
