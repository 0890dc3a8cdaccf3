// The release's addon manifests are demo-grade: Grafana makes every visitor an
// Admin with admin/admin as the admin login, Kiali lets anyone in with its own
// rights to patch workloads and namespaces and to change Istio config
// cluster-wide, Prometheus serves its lifecycle API. Each transform below closes
// one of these doors on every addon, exposed or not (docs/addons.md). They match
// the manifests' objects by kind and name, so an addon release that renames them
// is left as it is; the unit tests run them on the shipped manifests and notice.
// Plain functions of (type, props, opts), tested without a Pulumi runtime.
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { DEPLOYMENT_TYPE } from "../charts/transforms";

export const CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap";
export const CLUSTER_ROLE_TYPE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";

/** How the addons are closed; the component derives it from the stack's `addons` settings. */
export interface AddonHardening {
    /** Grafana lets anonymous visitors in as Viewer and Kiali uses its `anonymous` strategy. @default false */
    anonymous?: boolean;
    /** Kiali keeps the release's ClusterRole, with write access. @default false */
    kialiWrite?: boolean;
    /** The Secret Grafana's admin login comes from. @default undefined (Grafana creates no admin user) */
    grafanaAdminSecret?: string;
}

/** The transforms that close the addons as `hardening` says, in the order they apply. */
export function addonHardening(hardening: AddonHardening): pulumi.ResourceTransform[] {
    const anonymous = hardening.anonymous ?? false;
    const kialiWrite = hardening.kialiWrite ?? false;
    return [
        grafanaAnonymousAccess(anonymous),
        hardening.grafanaAdminSecret === undefined
            ? grafanaWithoutInitialAdmin
            : grafanaAdminFromSecret(hardening.grafanaAdminSecret),
        kialiLogin(anonymous ? "anonymous" : "token", !kialiWrite),
        ...(kialiWrite ? [] : [kialiReadOnlyRole]),
        prometheusWithoutAdminApis,
    ];
}

interface EnvVar {
    name: string;
    value?: string;
    valueFrom?: unknown;
}

interface Container {
    name: string;
    args?: string[];
    env?: EnvVar[];
}

interface PodTemplate {
    metadata?: { annotations?: Record<string, string> };
    spec?: { containers?: Container[] };
}

interface DeploymentProps {
    metadata?: { name?: string };
    spec?: { template?: PodTemplate };
}

/** `props` with `edit` applied to the pod template of Deployment `name`; undefined for any other object. */
function editPodTemplate(
    args: pulumi.ResourceTransformArgs,
    name: string,
    edit: (template: PodTemplate) => PodTemplate,
): pulumi.ResourceTransformResult | undefined {
    const props = args.props as DeploymentProps;
    if (args.type !== DEPLOYMENT_TYPE || props.metadata?.name !== name) return undefined;
    return {
        props: { ...props, spec: { ...props.spec, template: edit(props.spec?.template ?? {}) } },
        opts: args.opts,
    };
}

/** `props` with `edit` applied to container `container` of Deployment `deployment`; undefined for any other object. */
function editContainer(
    args: pulumi.ResourceTransformArgs,
    deployment: string,
    container: string,
    edit: (c: Container) => Container,
): pulumi.ResourceTransformResult | undefined {
    return editPodTemplate(args, deployment, (template) => ({
        ...template,
        spec: {
            ...template.spec,
            containers: (template.spec?.containers ?? []).map((c) => (c.name === container ? edit(c) : c)),
        },
    }));
}

/** Container `c` with the variables `drop` matches replaced by `add`. */
function withEnv(c: Container, drop: (name: string) => boolean, add: EnvVar[]): Container {
    return { ...c, env: [...(c.env ?? []).filter((e) => !drop(e.name)), ...add] };
}

/** The keys of the Secret that holds Grafana's admin login. */
export const GRAFANA_ADMIN_SECRET_KEYS = { user: "admin-user", password: "admin-password" } as const;

const GRAFANA_ADMIN_ENV = ["GF_SECURITY_ADMIN_USER", "GF_SECURITY_ADMIN_PASSWORD"];

/**
 * Grafana's admin login from a Secret instead of the manifest's admin/admin. The
 * password reaches the pod by reference, so it is in no Deployment spec and no diff.
 */
export function grafanaAdminFromSecret(secretName: string): pulumi.ResourceTransform {
    const fromSecret = (name: string, key: string): EnvVar => ({
        name,
        valueFrom: { secretKeyRef: { name: secretName, key } },
    });
    return (args) =>
        editContainer(args, "grafana", "grafana", (c) =>
            withEnv(c, (name) => GRAFANA_ADMIN_ENV.includes(name), [
                fromSecret("GF_SECURITY_ADMIN_USER", GRAFANA_ADMIN_SECRET_KEYS.user),
                fromSecret("GF_SECURITY_ADMIN_PASSWORD", GRAFANA_ADMIN_SECRET_KEYS.password),
            ]),
        );
}

/**
 * Without a password of the stack's, Grafana creates no admin user at all: the
 * manifest's admin/admin would otherwise be the way in. Nobody logs in until
 * `grafanaAdminPassword` is set (or anonymous Viewer access is asked for).
 */
export const grafanaWithoutInitialAdmin: pulumi.ResourceTransform = (args) =>
    editContainer(args, "grafana", "grafana", (c) =>
        withEnv(c, (name) => GRAFANA_ADMIN_ENV.includes(name), [
            { name: "GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION", value: "true" },
        ]),
    );

/**
 * Grafana's anonymous access: off, or (asked for) as Viewer. The manifest makes every
 * visitor an Admin. Environment variables override grafana.ini, so this holds
 * whatever the ini says.
 */
export function grafanaAnonymousAccess(anonymous: boolean): pulumi.ResourceTransform {
    const env: EnvVar[] = anonymous
        ? [
              { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "true" },
              { name: "GF_AUTH_ANONYMOUS_ORG_ROLE", value: "Viewer" },
          ]
        : [{ name: "GF_AUTH_ANONYMOUS_ENABLED", value: "false" }];
    return (args) =>
        editContainer(args, "grafana", "grafana", (c) =>
            withEnv(c, (name) => name.startsWith("GF_AUTH_ANONYMOUS_"), env),
        );
}

/** Prometheus's flags that let any client change it: shut it down (`/-/quit`), delete series (admin API). */
export const PROMETHEUS_ADMIN_FLAGS = ["--web.enable-lifecycle", "--web.enable-admin-api"];

/**
 * Prometheus without its lifecycle and admin APIs. The manifest's config reloader
 * only ever calls `/-/reload`, which is gone with them, so it goes too: Prometheus
 * reads its scrape config when its pod starts.
 */
export const prometheusWithoutAdminApis: pulumi.ResourceTransform = (args) =>
    editPodTemplate(args, "prometheus", (template) => ({
        ...template,
        spec: {
            ...template.spec,
            containers: (template.spec?.containers ?? [])
                .filter((c) => c.name !== "prometheus-server-configmap-reload")
                .map((c) =>
                    c.name === "prometheus-server"
                        ? { ...c, args: (c.args ?? []).filter((a) => !PROMETHEUS_ADMIN_FLAGS.includes(a)) }
                        : c,
                ),
        },
    }));

/** The pod annotation that restarts Kiali when its login changes (it reads its ConfigMap at start only). */
export const KIALI_LOGIN_ANNOTATION = "istio-mesh.io/kiali-login";

/**
 * Kiali's login: `token` (a Kubernetes token, so a user can do in Kiali what their
 * own RBAC allows) or, asked for, `anonymous`; and in view-only mode unless write
 * access is asked for, so its UI offers no change it could not make.
 */
export function kialiLogin(strategy: "token" | "anonymous", viewOnly: boolean): pulumi.ResourceTransform {
    return (args) => {
        const props = args.props as { metadata?: { name?: string }; data?: Record<string, string> };
        if (args.type === CONFIG_MAP_TYPE && props.metadata?.name === "kiali" && props.data?.["config.yaml"]) {
            const config = yaml.load(props.data["config.yaml"]) as {
                auth?: Record<string, unknown>;
                deployment?: Record<string, unknown>;
            };
            const closed = {
                ...config,
                auth: { ...config.auth, strategy },
                deployment: { ...config.deployment, view_only_mode: viewOnly },
            };
            return {
                props: { ...props, data: { ...props.data, "config.yaml": yaml.dump(closed) } },
                opts: args.opts,
            };
        }
        return editPodTemplate(args, "kiali", (template) => ({
            ...template,
            metadata: {
                ...template.metadata,
                annotations: {
                    ...template.metadata?.annotations,
                    [KIALI_LOGIN_ANNOTATION]: `${strategy}${viewOnly ? ", view-only" : ""}`,
                },
            },
        }));
    };
}

interface PolicyRule {
    apiGroups?: string[];
    resources?: string[];
    verbs?: string[];
}

/** The verbs that only read. */
export const READ_VERBS = ["get", "list", "watch"];

/**
 * Kiali's ClusterRole with only its read verbs, as the Kiali chart's `kiali-viewer`
 * role: no patch of workloads and namespaces, no create/delete of Istio config, no
 * port-forward into pods. Kept: creating TokenReviews, which the token login uses to
 * check a visitor's token.
 */
export const kialiReadOnlyRole: pulumi.ResourceTransform = (args) => {
    const props = args.props as { metadata?: { name?: string }; rules?: PolicyRule[] };
    if (args.type !== CLUSTER_ROLE_TYPE || props.metadata?.name !== "kiali") return undefined;
    const rules = (props.rules ?? [])
        .map((rule) => ({
            ...rule,
            verbs: (rule.verbs ?? []).filter(
                (v) => READ_VERBS.includes(v) || (v === "create" && isTokenReviewRule(rule)),
            ),
        }))
        .filter((rule) => rule.verbs.length > 0);
    return { props: { ...props, rules }, opts: args.opts };
};

function isTokenReviewRule(rule: PolicyRule): boolean {
    return (
        (rule.apiGroups ?? []).every((g) => g === "authentication.k8s.io") &&
        (rule.resources ?? []).every((r) => r === "tokenreviews")
    );
}
