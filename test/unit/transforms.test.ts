import * as pulumi from "@pulumi/pulumi";
import {
    CRD_TYPE,
    DEPLOYMENT_TYPE,
    ignoreIstiodOwnedWebhookFields,
    preInjectGatewayImage,
    keepAndAdoptCrds,
    WEBHOOK_TYPES,
} from "../../components/transforms";

function apply(
    t: pulumi.ResourceTransform,
    type: string,
    props: pulumi.Inputs = {},
    opts: pulumi.ResourceOptions = {},
) {
    return t({ custom: true, type, name: "x", props, opts }) as pulumi.ResourceTransformResult | undefined;
}

describe("CRD retention and adoption", () => {
    test("CRDs are kept on destroy by default", () => {
        expect(apply(keepAndAdoptCrds(true), CRD_TYPE)?.opts.retainOnDelete).toBe(true);
    });
    test("purging is an explicit choice", () => {
        expect(apply(keepAndAdoptCrds(false), CRD_TYPE)?.opts.retainOnDelete).toBe(false);
    });
    test("CRDs another install left behind are taken over, keeping the chart's own annotations", () => {
        const props = {
            metadata: {
                name: "virtualservices.networking.istio.io",
                annotations: { "helm.sh/resource-policy": "keep" },
            },
        };
        expect(apply(keepAndAdoptCrds(true), CRD_TYPE, props)?.props.metadata).toEqual({
            name: "virtualservices.networking.istio.io",
            annotations: { "helm.sh/resource-policy": "keep", "pulumi.com/patchForce": "true" },
        });
    });
    test("other resources are left as they are", () => {
        expect(apply(keepAndAdoptCrds(true), DEPLOYMENT_TYPE)).toBeUndefined();
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

describe("gateway image on a simulated cluster", () => {
    const gatewayDeployment = {
        spec: {
            template: {
                metadata: { labels: { "sidecar.istio.io/inject": "true", app: "istio-ingressgateway" } },
                spec: { containers: [{ name: "istio-proxy", image: "auto" }] },
            },
        },
    };

    test("the placeholder image is replaced by the proxy image and the pod skips injection", () => {
        const result = apply(
            preInjectGatewayImage("docker.io/istio/proxyv2:1.29.6"),
            DEPLOYMENT_TYPE,
            gatewayDeployment,
        );
        const template = (result?.props as typeof gatewayDeployment).spec.template;
        expect(template.spec.containers[0].image).toBe("docker.io/istio/proxyv2:1.29.6");
        expect(template.metadata.labels).toEqual({ "sidecar.istio.io/inject": "false", app: "istio-ingressgateway" });
    });

    test("a Deployment with real images is untouched", () => {
        const plain = {
            spec: { template: { spec: { containers: [{ name: "grafana", image: "grafana/grafana:11" }] } } },
        };
        expect(apply(preInjectGatewayImage("p"), DEPLOYMENT_TYPE, plain)).toBeUndefined();
    });
});
