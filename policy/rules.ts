// The policy pack's rules as plain functions of the stack's resources, so they are
// tested without the Pulumi engine (test/unit/policy.test.ts) as well as through
// `pulumi preview --policy-pack policy` (test/e2e/policy.test.ts).
//
// What a pack can see of this stack (found by running one against it):
// - every Kubernetes object the charts and addon manifests render (Chart v4 and
//   yaml/v2 children), with its full inputs: apiVersion, kind, metadata, spec;
// - not the inputs of the Chart and ConfigFile components themselves (the engine
//   passes `{}`), so not the chart repository or manifest URL;
// - the stack's outputs, at the end of a preview (stack validation), where values
//   only known after deployment throw when read;
// - the stack name, inside every URN (`urn:pulumi:<stack>::<project>::...`);
// - of the resource options: protect, ignoreChanges, aliases, timeouts, parent,
//   but not retainOnDelete.
// So the rules check the rendered objects, the CRDs' retain annotation (set by the
// transform that sets retainOnDelete) and, for the profile and sources only, the
// stack's outputs.

/** A resource as the rules see it: its type token, URN and inputs (or, for the stack, its outputs). */
export interface PolicyResourceView {
    type: string;
    urn: string;
    name: string;
    props: Record<string, unknown>;
}

/** A finding: the message names the resource, the bad value and the fix. */
export interface Violation {
    message: string;
    urn?: string;
}

/** Which kind of environment a stack is. */
export type StackKind = "prod" | "dev" | "other";

/** The policy config every rule takes (`--policy-pack-config`, per rule). */
export interface StackClasses {
    /** Stacks held to the production rules. @default ["prod", "prod-*", "production"] */
    prodStacks: string[];
    /** Local and development stacks, exempt from the demo and addon rules. @default ["local", "dev", "dev-*", "e2e*", "smoke", "bench*"] */
    devStacks: string[];
}

export const DEFAULT_STACK_CLASSES: StackClasses = {
    prodStacks: ["prod", "prod-*", "production"],
    devStacks: ["local", "dev", "dev-*", "e2e*", "smoke", "bench*"],
};

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
    const m = /^urn:pulumi:([^:]+)::/.exec(urn);
    if (!m) throw new Error(`not a Pulumi URN: ${urn}`);
    return m[1];
}

function globMatch(pattern: string, name: string): boolean {
    const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
    return re.test(name);
}

function escapeRegExp(s: string): string {
    return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** prod if the stack matches prodStacks, dev if it matches devStacks (prod wins), other otherwise. */
export function classifyStack(stack: string, classes: StackClasses): StackKind {
    if (classes.prodStacks.some((p) => globMatch(p, stack))) return "prod";
    if (classes.devStacks.some((p) => globMatch(p, stack))) return "dev";
    return "other";
}

/**
 * Reads a value that may be unknown during a preview: @pulumi/policy throws on
 * reading one. Unknown is reported as undefined, and the rules say so in their
 * message rather than pass silently.
 */
export function readKnown<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (e instanceof Error && /can't be known during preview/.test(e.message)) return undefined;
        throw e;
    }
}

// ------------------------------------------------------------ Kubernetes views

interface ObjectMeta {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
}

interface Container {
    name?: string;
    image?: string;
    args?: string[];
    env?: { name: string; value?: string }[];
}

interface PodTemplate {
    metadata?: ObjectMeta;
    spec?: { containers?: Container[]; initContainers?: Container[] };
}

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const WORKLOAD_TYPES = [DEPLOYMENT, "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:StatefulSet"];
const HPA_TYPES = [
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
];
const PDB_TYPES = ["kubernetes:policy/v1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudget"];
const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const SERVICE = "kubernetes:core/v1:Service";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const STACK = "pulumi:pulumi:Stack";

/** The annotation the stack's CRD transform sets (components/transforms.ts, RETAIN_ON_DESTROY_ANNOTATION). */
export const RETAIN_ANNOTATION = "istio-mesh.io/retain-on-destroy";

function meta(r: PolicyResourceView): ObjectMeta {
    return (r.props.metadata as ObjectMeta | undefined) ?? {};
}

function spec<T>(r: PolicyResourceView): T {
    return ((r.props.spec as T | undefined) ?? {}) as T;
}

function objectName(r: PolicyResourceView): string {
    const m = meta(r);
    const kind = (r.props.kind as string | undefined) ?? r.type.split(":").pop();
    return `${kind} ${m.namespace ? `${m.namespace}/` : ""}${m.name ?? r.name}`;
}

function ofType(resources: PolicyResourceView[], types: string | string[]): PolicyResourceView[] {
    const wanted = typeof types === "string" ? [types] : types;
    return resources.filter((r) => wanted.includes(r.type));
}

function template(r: PolicyResourceView): PodTemplate {
    return spec<{ template?: PodTemplate }>(r).template ?? {};
}

function containers(r: PolicyResourceView): Container[] {
    const s = template(r).spec ?? {};
    return [...(s.initContainers ?? []), ...(s.containers ?? [])];
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
    if (!selector || Object.keys(selector).length === 0) return false;
    return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** istiod and the ingress/egress gateways: Deployments rendered by the istiod and gateway charts. */
export function controlPlaneDeployments(resources: PolicyResourceView[]): PolicyResourceView[] {
    return ofType(resources, DEPLOYMENT).filter((d) =>
        /^(istiod|gateway)-/.test(meta(d).labels?.["helm.sh/chart"] ?? ""),
    );
}

// ------------------------------------------------------------------- the rules

/** Production runs istiod and every gateway with at least 2 replicas, or an autoscaler whose floor is at least 2. */
export function checkReplicas(resources: PolicyResourceView[]): Violation[] {
    const hpas = ofType(resources, HPA_TYPES);
    const out: Violation[] = [];
    for (const d of controlPlaneDeployments(resources)) {
        const m = meta(d);
        const hpa = hpas.find((h) => {
            const ref = spec<{ scaleTargetRef?: { kind?: string; name?: string } }>(h).scaleTargetRef;
            return meta(h).namespace === m.namespace && ref?.kind === "Deployment" && ref.name === m.name;
        });
        if (hpa) {
            const min = spec<{ minReplicas?: number }>(hpa).minReplicas ?? 1;
            if (min < 2) {
                out.push({
                    urn: hpa.urn,
                    message: `${objectName(hpa)} scales ${objectName(d)} down to minReplicas ${min}; production needs at least 2 so one pod can be drained or lost. Fix: istiodValues.pilot.autoscaleMin >= 2 (istiod) or the gateway's replicas >= 2.`,
                });
            }
            continue;
        }
        const replicas = spec<{ replicas?: number }>(d).replicas ?? 1;
        if (replicas < 2) {
            out.push({
                urn: d.urn,
                message: `${objectName(d)} runs ${replicas} replica${replicas === 1 ? "" : "s"} and no autoscaler; production needs at least 2 so one pod can be drained or lost. Fix: gateways[].replicas >= 2 for a gateway, istiodValues.pilot.autoscaleMin >= 2 (or pilot.replicaCount with autoscaling off) for istiod.`,
            });
        }
    }
    return out;
}

/** Production has a PodDisruptionBudget for istiod and every gateway, so a node drain never takes all of them. */
export function checkDisruptionBudgets(resources: PolicyResourceView[]): Violation[] {
    const pdbs = ofType(resources, PDB_TYPES);
    return controlPlaneDeployments(resources)
        .filter((d) => {
            const labels = template(d).metadata?.labels;
            return !pdbs.some(
                (p) =>
                    meta(p).namespace === meta(d).namespace &&
                    matches(
                        spec<{ selector?: { matchLabels?: Record<string, string> } }>(p).selector?.matchLabels,
                        labels,
                    ),
            );
        })
        .map((d) => ({
            urn: d.urn,
            message: `${objectName(d)} has no PodDisruptionBudget selecting its pods; a node drain may evict every replica at once. Fix: the charts create one when the workload has 2 or more replicas or an autoscaler (istiod: leave pilot.podDisruptionBudget on; gateways: replicas >= 2).`,
        }));
}

/** Production requires mutual TLS mesh-wide: a PeerAuthentication without selector, mode STRICT, in the control plane namespace. */
export function checkStrictMtls(resources: PolicyResourceView[]): Violation[] {
    const istiod = controlPlaneDeployments(resources).find((d) =>
        /^istiod-/.test(meta(d).labels?.["helm.sh/chart"] ?? ""),
    );
    if (!istiod) return [];
    const ns = meta(istiod).namespace ?? "istio-system";
    const meshWide = resources.filter(
        (r) =>
            /^kubernetes:security\.istio\.io\/v1(beta1)?:PeerAuthentication$/.test(r.type) &&
            meta(r).namespace === ns &&
            Object.keys(spec<{ selector?: { matchLabels?: Record<string, string> } }>(r).selector?.matchLabels ?? {})
                .length === 0,
    );
    const strict = meshWide.find((p) => spec<{ mtls?: { mode?: string } }>(p).mtls?.mode === "STRICT");
    if (strict) return [];
    const found = meshWide.map(
        (p) => `${objectName(p)} mode ${spec<{ mtls?: { mode?: string } }>(p).mtls?.mode ?? "unset"}`,
    );
    return [
        {
            message: `no mesh-wide STRICT mTLS: ${found.length ? found.join(", ") : `no PeerAuthentication without selector in ${ns}`}; workloads accept plain text. Fix: istio-mesh:mesh.mtls.mode: STRICT (exceptions per workload under mesh.mtls.exceptions).`,
        },
    ];
}

/** Production keeps the Istio CRDs on destroy (deleting a CRD deletes every object of its kind). */
export function checkCrdsRetained(resources: PolicyResourceView[]): Violation[] {
    return ofType(resources, CRD)
        .filter((c) => /(^|\.)istio\.io$/.test(spec<{ group?: string }>(c).group ?? ""))
        .filter((c) => meta(c).annotations?.[RETAIN_ANNOTATION] !== "true")
        .map((c) => ({
            urn: c.urn,
            message: `${objectName(c)} would be deleted by pulumi destroy (${RETAIN_ANNOTATION}: ${meta(c).annotations?.[RETAIN_ANNOTATION] ?? "unset"}), and with it every ${spec<{ names?: { kind?: string } }>(c).names?.kind ?? "object"} in the cluster. Fix: istio-mesh:retainCrdsOnDestroy: true.`,
        }));
}

/** Container images must name a version: no `latest`, no missing tag (a digest is fine). */
export function checkPinnedImages(resources: PolicyResourceView[]): Violation[] {
    const out: Violation[] = [];
    for (const w of ofType(resources, WORKLOAD_TYPES)) {
        for (const c of containers(w)) {
            const image = c.image;
            // "auto": the gateway chart's placeholder, replaced by istiod's injector with its own pinned proxy.
            if (!image || image === "auto" || image.includes("@sha256:")) continue;
            const lastSegment = image.split("/").pop() ?? image;
            const tag = lastSegment.includes(":") ? lastSegment.split(":").pop() : undefined;
            if (!tag || tag === "latest") {
                out.push({
                    urn: w.urn,
                    message: `${objectName(w)} container ${c.name ?? "?"} uses image ${image}, a floating version; every pull may run different code. Fix: a tag naming a release or a digest (@sha256:...).`,
                });
            }
        }
    }
    return out;
}

function stackOutputs(resources: PolicyResourceView[]): PolicyResourceView | undefined {
    return resources.find((r) => r.type === STACK);
}

/** Charts and manifests only over HTTPS, from an OCI registry or from a local mirror: http:// can be tampered with on the way. */
export function checkSources(resources: PolicyResourceView[]): Violation[] {
    const stack = stackOutputs(resources);
    if (!stack) return [];
    const components = readKnown(
        () => stack.props.components as { component: string; chart: string; source?: string }[] | undefined,
    );
    if (components === undefined) {
        return [
            {
                urn: stack.urn,
                message:
                    "the stack's components output is not known during this preview; the sources cannot be checked",
            },
        ];
    }
    return components
        .filter((c) => /^http:\/\//i.test(c.source ?? ""))
        .map((c) => ({
            urn: stack.urn,
            message: `${c.component} comes from ${c.source} over plain HTTP; anyone on the path can change what gets installed. Fix: istio-mesh:${c.chart === "addon manifest" ? "addonSource" : "chartSource"} over https://, an oci:// registry or a local mirror directory.`,
        }));
}

const ADDONS = ["grafana", "kiali", "prometheus", "jaeger"];
/** The addons without a login of their own (components/config/addons.ts, ADDONS_WITHOUT_LOGIN). */
const ADDONS_WITHOUT_LOGIN = ["prometheus", "jaeger"];
/** Prometheus's flags that let any client shut it down or delete data (components/addonHardening.ts). */
const PROMETHEUS_ADMIN_FLAGS = ["--web.enable-lifecycle", "--web.enable-admin-api"];
const READ_VERBS = ["get", "list", "watch"];
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const AUTHORIZATION_POLICY = /^kubernetes:security\.istio\.io\/v1(beta1)?:AuthorizationPolicy$/;

interface Exposure {
    deployment: PolicyResourceView;
    how: string;
    /** The host names a VirtualService routes to it by; empty for a NodePort/LoadBalancer Service. */
    hosts: string[];
}

/** Addon Deployments that can be reached from outside: selected by a NodePort/LoadBalancer Service, or routed to by a VirtualService. */
function exposedAddons(resources: PolicyResourceView[]): Map<string, Exposure> {
    const exposed = new Map<string, Exposure>();
    const services = ofType(resources, SERVICE);
    const virtualServices = resources.filter((r) =>
        /^kubernetes:networking\.istio\.io\/v1\w*:VirtualService$/.test(r.type),
    );
    for (const d of addonDeployments(resources)) {
        const labels = template(d).metadata?.labels;
        const selecting = services.filter(
            (s) =>
                meta(s).namespace === meta(d).namespace &&
                matches(spec<{ selector?: Record<string, string> }>(s).selector, labels),
        );
        const external = selecting.find((s) =>
            ["NodePort", "LoadBalancer"].includes(spec<{ type?: string }>(s).type ?? ""),
        );
        if (external) {
            exposed.set(meta(d).name ?? "", {
                deployment: d,
                how: `${objectName(external)} (${spec<{ type?: string }>(external).type})`,
                hosts: [],
            });
            continue;
        }
        const names = new Set(selecting.map((s) => meta(s).name ?? ""));
        const routed = virtualServices.find((vs) =>
            JSON.stringify(vs.props.spec ?? {})
                .match(/"host":"([^"]+)"/g)
                ?.some((h) => names.has(h.slice(8, -1).split(".")[0])),
        );
        if (routed) {
            exposed.set(meta(d).name ?? "", {
                deployment: d,
                how: objectName(routed),
                hosts: spec<{ hosts?: string[] }>(routed).hosts ?? [],
            });
        }
    }
    return exposed;
}

function addonDeployments(resources: PolicyResourceView[]): PolicyResourceView[] {
    return ofType(resources, DEPLOYMENT).filter((d) => ADDONS.includes(meta(d).name ?? ""));
}

function envValue(c: Container, name: string): string | undefined {
    return c.env?.find((e) => e.name === name)?.value;
}

function grafanaContainer(deployment: PolicyResourceView): Container | undefined {
    return containers(deployment).find((x) => x.name === "grafana");
}

/** Grafana's anonymous role, or undefined when anonymous access is off. */
function grafanaAnonymousRole(deployment: PolicyResourceView): string | undefined {
    const c = grafanaContainer(deployment);
    const enabled = c ? envValue(c, "GF_AUTH_ANONYMOUS_ENABLED") : undefined;
    if (enabled === undefined || enabled === "false") return undefined;
    // Grafana's own default role for anonymous visitors.
    return (c && envValue(c, "GF_AUTH_ANONYMOUS_ORG_ROLE")) ?? "Viewer";
}

/** Kiali's ConfigMap in the Deployment's namespace, and its login strategy. */
function kialiStrategy(
    resources: PolicyResourceView[],
    deployment: PolicyResourceView,
): { cm?: PolicyResourceView; strategy?: string } {
    const cm = ofType(resources, CONFIG_MAP).find(
        (m) => meta(m).name === "kiali" && meta(m).namespace === meta(deployment).namespace,
    );
    const config = ((cm?.props.data as Record<string, string> | undefined) ?? {})["config.yaml"] ?? "";
    const strategy = /^\s*strategy:\s*(\S+)/m.exec(config.slice(config.search(/^auth:/m)))?.[1];
    return { cm, strategy };
}

/** Exposed addons must ask for a login: no anonymous Grafana, no anonymous Kiali (outside local/dev stacks). */
export function checkAddonAccess(resources: PolicyResourceView[]): Violation[] {
    const out: Violation[] = [];
    for (const [addon, { deployment, how }] of exposedAddons(resources)) {
        const where = `${objectName(deployment)} is exposed by ${how}`;
        if (addon === "grafana") {
            const role = grafanaAnonymousRole(deployment);
            if (role !== undefined) {
                out.push({
                    urn: deployment.urn,
                    message: `${where} with GF_AUTH_ANONYMOUS_ENABLED=true (role ${role}): every visitor is let in. Fix: remove istio-mesh:addons.anonymousAccess (the stack then turns anonymous access off and takes the admin login from grafanaAdminPassword).`,
                });
            }
        }
        if (addon === "kiali") {
            const { cm, strategy } = kialiStrategy(resources, deployment);
            if (strategy === "anonymous") {
                out.push({
                    urn: cm?.urn ?? deployment.urn,
                    message: `${where} with auth.strategy anonymous: every visitor acts with Kiali's own cluster-wide rights. Fix: remove istio-mesh:addons.anonymousAccess (the stack then uses the token login).`,
                });
            }
        }
    }
    return out;
}

/** The write verbs of Kiali's ClusterRole, besides the TokenReviews its token login creates. */
function kialiWriteVerbs(resources: PolicyResourceView[]): string[] {
    const role = ofType(resources, CLUSTER_ROLE).find((r) => meta(r).name === "kiali");
    const rules = (role?.props.rules as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[]) ?? [];
    const verbs = new Set<string>();
    for (const rule of rules) {
        const tokenReviews = (rule.resources ?? []).every((r) => r === "tokenreviews");
        for (const v of rule.verbs ?? []) {
            if (!READ_VERBS.includes(v) && !(tokenReviews && v === "create")) verbs.add(v);
        }
    }
    return [...verbs];
}

/** Whether a DENY AuthorizationPolicy refuses requests without a token for `host`. */
function tokenRequiredFor(resources: PolicyResourceView[], host: string): boolean {
    type Rule = {
        to?: { operation?: { hosts?: string[] } }[];
        from?: { source?: { notRequestPrincipals?: string[] } }[];
    };
    return resources
        .filter((r) => AUTHORIZATION_POLICY.test(r.type))
        .some((p) => {
            const { action, rules } = spec<{ action?: string; rules?: Rule[] }>(p);
            return (
                action === "DENY" &&
                (rules ?? []).some(
                    (rule) =>
                        (rule.from ?? []).some((f) => f.source?.notRequestPrincipals?.includes("*")) &&
                        (rule.to ?? []).some((t) => t.operation?.hosts?.includes(host)),
                )
            );
        });
}

/**
 * Every addon, exposed or not, is closed (every stack): no anonymous Grafana Admin
 * and no admin password in the spec, no Prometheus lifecycle or admin API, no
 * anonymous Kiali with write rights, no anonymous access by host name, a token
 * required at the gateway for the addons without a login of their own, and a
 * NetworkPolicy on every addon's pods.
 */
export function checkClosedAddons(resources: PolicyResourceView[]): Violation[] {
    const out: Violation[] = [];
    const exposed = exposedAddons(resources);
    const networkPolicies = ofType(resources, NETWORK_POLICY);
    for (const deployment of addonDeployments(resources)) {
        const addon = meta(deployment).name ?? "";
        const byHost = exposed.get(addon)?.hosts ?? [];
        if (addon === "grafana") {
            const role = grafanaAnonymousRole(deployment);
            if (role !== undefined && role !== "Viewer") {
                out.push({
                    urn: deployment.urn,
                    message: `${objectName(deployment)} lets every visitor in as ${role} (GF_AUTH_ANONYMOUS_ORG_ROLE): anyone who reaches it can change dashboards and data sources. Fix: the stack's own addons never do; anonymous access, when asked for with istio-mesh:addons.anonymousAccess, is Viewer.`,
                });
            }
            const c = grafanaContainer(deployment);
            if (c && envValue(c, "GF_SECURITY_ADMIN_PASSWORD") !== undefined) {
                out.push({
                    urn: deployment.urn,
                    message: `${objectName(deployment)} has its admin password written in its spec (GF_SECURITY_ADMIN_PASSWORD): the release's admin/admin, or readable by whoever reads the Deployment. Fix: istio-mesh:grafanaAdminPassword (a Pulumi secret, kept in the Secret grafana-admin); without it Grafana creates no admin user.`,
                });
            }
            if (role !== undefined && byHost.length > 0) {
                out.push({
                    urn: deployment.urn,
                    message: `${objectName(deployment)} is served by host name (${byHost.join(", ")}) with anonymous access: anyone on the network is let in. Fix: remove istio-mesh:addons.anonymousAccess.`,
                });
            }
        }
        if (addon === "prometheus") {
            const flags = containers(deployment).flatMap((c) =>
                (c.args ?? []).filter((a) => PROMETHEUS_ADMIN_FLAGS.includes(a)),
            );
            if (flags.length > 0) {
                out.push({
                    urn: deployment.urn,
                    message: `${objectName(deployment)} runs with ${flags.join(" ")}: any client that reaches it can shut it down (/-/quit) or delete its data. Fix: the stack's own addons drop these flags; deploy the addons through istio-mesh:addons.`,
                });
            }
        }
        if (addon === "kiali") {
            const { cm, strategy } = kialiStrategy(resources, deployment);
            const write = kialiWriteVerbs(resources);
            if (strategy === "anonymous" && write.length > 0) {
                out.push({
                    urn: cm?.urn ?? deployment.urn,
                    message: `${objectName(deployment)} takes anonymous visitors and its ClusterRole kiali may ${write.join(", ")}: anyone who reaches it can change workloads and Istio config cluster-wide. Fix: keep Kiali read-only (remove istio-mesh:addons.kialiWriteAccess) or give it a login (remove istio-mesh:addons.anonymousAccess).`,
                });
            }
            if (strategy === "anonymous" && byHost.length > 0) {
                out.push({
                    urn: cm?.urn ?? deployment.urn,
                    message: `${objectName(deployment)} is served by host name (${byHost.join(", ")}) with auth.strategy anonymous: anyone on the network is let in. Fix: remove istio-mesh:addons.anonymousAccess.`,
                });
            }
        }
        if (ADDONS_WITHOUT_LOGIN.includes(addon)) {
            const open = byHost.filter((h) => !tokenRequiredFor(resources, h));
            if (open.length > 0) {
                out.push({
                    urn: deployment.urn,
                    message: `${objectName(deployment)} has no login of its own and is served by host name (${open.join(", ")}) without a token required at the gateway: anyone who reaches the gateway reads it. Fix: istio-mesh:addons.expose.jwt (issuer and jwksUri), or turn it off (istio-mesh:addons.${addon}: false).`,
                });
            }
        }
        const labels = template(deployment).metadata?.labels;
        const fenced = networkPolicies.some((np) => {
            const s = spec<{ podSelector?: { matchLabels?: Record<string, string> }; policyTypes?: string[] }>(np);
            return (
                meta(np).namespace === meta(deployment).namespace &&
                (s.policyTypes ?? ["Ingress"]).includes("Ingress") &&
                matches(s.podSelector?.matchLabels, labels)
            );
        });
        if (!fenced) {
            out.push({
                urn: deployment.urn,
                message: `${objectName(deployment)} has no NetworkPolicy selecting its pods: every pod in the cluster can reach it. Fix: deploy the addons through istio-mesh:addons (a NetworkPolicy <addon>-access each; istio-mesh:addons.allowFromNamespaces lets more in).`,
            });
        }
    }
    return out;
}

/** Outside local/dev stacks: no demo profile, no addons on node ports, no addon hosts over plain HTTP. */
export function checkNoDemoSettings(resources: PolicyResourceView[]): Violation[] {
    const out: Violation[] = [];
    const stack = stackOutputs(resources);
    if (stack) {
        const profile = readKnown(() => stack.props.profile as string | undefined);
        if (profile === "demo") {
            out.push({
                urn: stack.urn,
                message: `profile demo (the stack's profile output): tracing of every request, access logs, small resource requests and the demo addons are for trying Istio out. Fix: istio-mesh:profile: default (or minimal/ambient), and the gateways and addons you need listed explicitly.`,
            });
        }
    }
    for (const s of ofType(resources, SERVICE)) {
        const name = meta(s).name ?? "";
        if (spec<{ type?: string }>(s).type === "NodePort" && ADDONS.some((a) => name === `${a}-nodeport`)) {
            out.push({
                urn: s.urn,
                message: `${objectName(s)} exposes an addon on a node port of every node, the local cluster's way. Fix: istio-mesh:addons.expose.mode: host (by host name through the ingress gateway, over HTTPS) or none (kubectl port-forward).`,
            });
        }
    }
    for (const g of resources.filter((r) => /^kubernetes:networking\.istio\.io\/v1\w*:Gateway$/.test(r.type))) {
        const servers =
            spec<{ servers?: { port?: { protocol?: string }; hosts?: string[]; tls?: { httpsRedirect?: boolean } }[] }>(
                g,
            ).servers ?? [];
        for (const srv of servers) {
            if (srv.port?.protocol?.toUpperCase() === "HTTP" && !srv.tls?.httpsRedirect) {
                out.push({
                    urn: g.urn,
                    message: `${objectName(g)} serves ${(srv.hosts ?? []).join(", ")} over plain HTTP (no httpsRedirect): logins and data cross the network readable. Fix: istio-mesh:addons.expose.tls.credentialName (HTTPS, HTTP redirected) instead of tls.insecureHttp.`,
                });
            }
        }
    }
    return out;
}
