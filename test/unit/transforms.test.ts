/* eslint-disable @typescript-eslint/no-explicit-any -- the addon manifests are free-form YAML */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import {
    chainTransforms,
    CONFIG_MAP_TYPE,
    CRD_TYPE,
    DEPLOYMENT_TYPE,
    grafanaAdminFromSecret,
    grafanaWithoutAnonymousAccess,
    KIALI_STRATEGY_ANNOTATION,
    kialiTokenLogin,
    prometheusWithoutLifecycleApi,
    ignoreIstiodOwnedWebhookFields,
    ownDeclaredFields,
    retainCrds,
    RETAIN_ON_DESTROY_ANNOTATION,
    SERVICE_TYPE,
    skipServiceSettleWait,
    WEBHOOK_TYPES,
} from "../../components/transforms";
import { RETAIN_ANNOTATION } from "../../policy/rules";
import { testReleaseRoot } from "../support/releases";

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

// The hardening transforms run on the release's own addon manifests, parsed as the
// ConfigFile hands them to the transforms.
describe("exposed addons run with logins", () => {
    const addons = path.join(testReleaseRoot(), "1.29.6/addons");
    const KINDS: Record<string, string> = { Deployment: DEPLOYMENT_TYPE, ConfigMap: CONFIG_MAP_TYPE };
    function manifest(addon: string, kind: string, name: string): Record<string, any> {
        const docs = yaml.loadAll(fs.readFileSync(path.join(addons, `${addon}.yaml`), "utf8")) as Record<string, any>[];
        const found = docs.find((d) => d?.kind === kind && d.metadata?.name === name);
        if (!found) throw new Error(`${addon}.yaml has no ${kind} ${name}`);
        return found;
    }
    function transformed(t: pulumi.ResourceTransform, addon: string, kind: string, name: string) {
        return apply(t, KINDS[kind], manifest(addon, kind, name))?.props as Record<string, any>;
    }
    const container = (props: Record<string, any>, name: string) =>
        props.spec.template.spec.containers.find((c: { name: string }) => c.name === name);
    const envOf = (props: Record<string, any>) =>
        Object.fromEntries(container(props, "grafana").env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

    test("the shipped Grafana makes every visitor an Admin", () => {
        expect(envOf(manifest("grafana", "Deployment", "grafana"))).toMatchObject({
            GF_AUTH_ANONYMOUS_ENABLED: "true",
            GF_AUTH_ANONYMOUS_ORG_ROLE: "Admin",
        });
    });

    test("Grafana: anonymous access off", () => {
        const env = envOf(transformed(grafanaWithoutAnonymousAccess, "grafana", "Deployment", "grafana"));
        expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
        expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
        expect(env.GF_PATHS_DATA).toBe("/var/lib/grafana/");
    });

    test("Grafana: the admin login comes from the Secret, not admin/admin", () => {
        const env = envOf(transformed(grafanaAdminFromSecret("grafana-admin"), "grafana", "Deployment", "grafana"));
        expect(env.GF_SECURITY_ADMIN_USER).toEqual({ secretKeyRef: { name: "grafana-admin", key: "admin-user" } });
        expect(env.GF_SECURITY_ADMIN_PASSWORD).toEqual({
            secretKeyRef: { name: "grafana-admin", key: "admin-password" },
        });
    });

    test("Kiali: token login instead of anonymous, and a restart when the strategy changes", () => {
        const shipped = yaml.load(manifest("kiali", "ConfigMap", "kiali").data["config.yaml"]) as any;
        expect(shipped.auth.strategy).toBe("anonymous");
        const config = yaml.load(
            transformed(kialiTokenLogin, "kiali", "ConfigMap", "kiali").data["config.yaml"],
        ) as any;
        expect(config.auth).toEqual({ ...shipped.auth, strategy: "token" });
        expect(config.deployment).toEqual(shipped.deployment);
        const deployment = transformed(kialiTokenLogin, "kiali", "Deployment", "kiali");
        expect(deployment.spec.template.metadata.annotations[KIALI_STRATEGY_ANNOTATION]).toBe("token");
        expect(deployment.spec.template.spec).toEqual(manifest("kiali", "Deployment", "kiali").spec.template.spec);
    });

    test("Prometheus: no lifecycle API, every other flag kept", () => {
        const shipped = container(manifest("prometheus", "Deployment", "prometheus"), "prometheus-server").args;
        expect(shipped).toContain("--web.enable-lifecycle");
        const args = container(
            transformed(prometheusWithoutLifecycleApi, "prometheus", "Deployment", "prometheus"),
            "prometheus-server",
        ).args;
        expect(args).toEqual(shipped.filter((a: string) => a !== "--web.enable-lifecycle"));
    });

    test("other objects are left as they are", () => {
        for (const t of [grafanaWithoutAnonymousAccess, kialiTokenLogin, prometheusWithoutLifecycleApi]) {
            expect(apply(t, DEPLOYMENT_TYPE, manifest("jaeger", "Deployment", "jaeger"))).toBeUndefined();
            expect(apply(t, CONFIG_MAP_TYPE, manifest("grafana", "ConfigMap", "grafana"))).toBeUndefined();
        }
    });
});
