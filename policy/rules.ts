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

/**
 * What a stack is, for the rules: production (every rule), development (a shared
 * development cluster: exempt from the demo rule), local (the local cluster:
 * exempt from the demo and addon rules), or other (declared nothing and matched no
 * production name: every rule but production's).
 */
export type StackKind = "production" | "development" | "local" | "other";

/** The values a stack may declare, as the stack config's `istio-mesh:environment` takes them. */
export const ENVIRONMENTS = ["production", "development", "local"] as const;

/** The stack tag, and the config key (exported as the stack output `environment`), that declare it. */
export const ENVIRONMENT_TAG = "istio-mesh:environment";

/** The policy config every rule takes (`--policy-pack-config`, per rule). */
export interface StackClasses {
    /**
     * Names (`*` wildcards) of stacks that declare no environment but are held to the
     * production rules anyway: the documented fallback. A name never exempts a stack
     * from a rule. @default ["prod", "prod-*", "*-prod", "production", "production-*", "*-production"]
     */
    prodStacks: string[];
}

export const DEFAULT_STACK_CLASSES: StackClasses = {
    prodStacks: ["prod", "prod-*", "*-prod", "production", "production-*", "*-production"],
};

/** How the pack classed a stack, and what it says about it. */
export interface StackEnvironment {
    kind: StackKind;
    /** Where the kind came from. */
    declaredBy: "tag" | "config" | "name" | "nothing";
    /** Declarations that contradict each other or are not an environment: the stack is judged by the strictest. */
    conflicts: string[];
    /** Said when the fallback by name decided (advisory). */
    warning?: string;
}

/** The strictest first: when declarations disagree, the stack gets the strictest one's rules. */
const STRICTNESS: StackKind[] = ["production", "other", "development", "local"];

function asKind(value: unknown): StackKind | undefined {
    return (ENVIRONMENTS as readonly unknown[]).includes(value) ? (value as StackKind) : undefined;
}

/**
 * A stack's environment: the stack tag `istio-mesh:environment` (`pulumi stack tag
 * set`, or `pulumi:tags` in the stack file) and the config `istio-mesh:environment`
 * (the stack output `environment`) declare it; only when neither does, its name is
 * matched against `prodStacks`, with a warning. A stack that declares nothing and
 * matches no production name is "other": no name exempts it from any rule.
 */
export function stackEnvironment(
    stack: string,
    tags: ReadonlyMap<string, string>,
    configured: unknown,
    classes: StackClasses,
): StackEnvironment {
    const conflicts: string[] = [];
    const declared: { by: "tag" | "config"; kind: StackKind }[] = [];
    const tag = tags.get(ENVIRONMENT_TAG);
    for (const [by, value, where] of [
        ["tag", tag, `stack tag ${ENVIRONMENT_TAG}`],
        ["config", configured === "" ? undefined : configured, `config ${ENVIRONMENT_TAG} (stack output environment)`],
    ] as const) {
        if (value === undefined) continue;
        const kind = asKind(value);
        if (kind) declared.push({ by, kind });
        else conflicts.push(`${where} is ${JSON.stringify(value)}, not one of ${ENVIRONMENTS.join(", ")}`);
    }
    if (declared.length === 2 && declared[0].kind !== declared[1].kind) {
        conflicts.push(
            `stack tag ${ENVIRONMENT_TAG} says ${declared[0].kind} but config ${ENVIRONMENT_TAG} says ${declared[1].kind}`,
        );
    }
    if (conflicts.length > 0) {
        // A bad declaration never lowers the bar: judged as the strictest of what was said, production at least when unreadable.
        const kinds = declared.map((d) => d.kind);
        const kind = declared.length === 0 ? "production" : (STRICTNESS.find((k) => kinds.includes(k)) ?? "production");
        return { kind, declaredBy: declared[0]?.by ?? "nothing", conflicts };
    }
    if (declared.length > 0) return { kind: declared[0].kind, declaredBy: declared[0].by, conflicts };
    const pattern = classes.prodStacks.find((p) => globMatch(p, stack));
    const how = `declares no environment (stack tag ${ENVIRONMENT_TAG}, or config ${ENVIRONMENT_TAG}: production, development or local)`;
    if (pattern !== undefined) {
        return {
            kind: "production",
            declaredBy: "name",
            conflicts,
            warning: `stack ${stack} ${how}; held to the production rules because its name matches ${pattern} (the fallback by name)`,
        };
    }
    return {
        kind: "other",
        declaredBy: "nothing",
        conflicts,
        warning: `stack ${stack} ${how}; held to every rule but production's, exempt from none (a name never exempts a stack)`,
    };
}

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

/** The annotation the stack's CRD transform sets (components/charts/transforms.ts, RETAIN_ON_DESTROY_ANNOTATION). */
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

interface PeerAuthenticationSpec {
    selector?: { matchLabels?: Record<string, string> };
    mtls?: { mode?: string };
    portLevelMtls?: Record<string, { mode?: string }>;
}

const PEER_AUTHENTICATION = /^kubernetes:security\.istio\.io\/v1(beta1)?:PeerAuthentication$/;

/**
 * Production requires mutual TLS mesh-wide: a PeerAuthentication without selector,
 * mode STRICT, in the control plane namespace; and exceptions to it scoped to
 * workloads (a selector, best per port, as the runbook's MySQL exception is),
 * never a whole namespace that accepts plain text.
 */
export function checkStrictMtls(resources: PolicyResourceView[]): Violation[] {
    const istiod = controlPlaneDeployments(resources).find((d) =>
        /^istiod-/.test(meta(d).labels?.["helm.sh/chart"] ?? ""),
    );
    if (!istiod) return [];
    const ns = meta(istiod).namespace ?? "istio-system";
    const policies = resources.filter((r) => PEER_AUTHENTICATION.test(r.type));
    const namespaceWide = policies.filter(
        (r) => Object.keys(spec<PeerAuthenticationSpec>(r).selector?.matchLabels ?? {}).length === 0,
    );
    const meshWide = namespaceWide.filter((r) => meta(r).namespace === ns);
    const out: Violation[] = [];
    const strict = meshWide.find((p) => spec<PeerAuthenticationSpec>(p).mtls?.mode === "STRICT");
    if (!strict) {
        const found = meshWide.map(
            (p) => `${objectName(p)} mode ${spec<PeerAuthenticationSpec>(p).mtls?.mode ?? "unset"}`,
        );
        out.push({
            message: `no mesh-wide STRICT mTLS: ${found.length ? found.join(", ") : `no PeerAuthentication without selector in ${ns}`}; workloads accept plain text. Fix: istio-mesh:mesh.mtls.mode: STRICT (exceptions per workload under mesh.mtls.exceptions).`,
        });
    }
    for (const p of namespaceWide.filter((r) => meta(r).namespace !== ns)) {
        const mode = spec<PeerAuthenticationSpec>(p).mtls?.mode;
        if (mode === "DISABLE" || mode === "PERMISSIVE") {
            out.push({
                urn: p.urn,
                message: `${objectName(p)} has no selector and mode ${mode}: every workload in namespace ${meta(p).namespace ?? "?"} accepts plain text, not just the one that needs it. Fix: give the exception in istio-mesh:mesh.mtls.exceptions a selector for that workload, and port modes for the ports that need plain text (e.g. selector {app: mysql}, ports {"3306": PERMISSIVE}).`,
            });
        }
    }
    return out;
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

/** What is wrong with a release-data source, or undefined: https://, oci:// with a host, or a local directory. */
export function sourceProblem(source: string | undefined): string | undefined {
    const url = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(source ?? "");
    if (!url) return undefined;
    const scheme = url[1].toLowerCase();
    if (scheme === "http") return "over plain HTTP; anyone on the path can change what gets installed";
    if (scheme !== "https" && scheme !== "oci" && scheme !== "file")
        return `over ${scheme}://, which is not a release-data source`;
    if (scheme !== "file" && url[2].replace(/^[^@]*@/, "").replace(/:\d+$/, "") === "") {
        return `with no ${scheme === "oci" ? "registry" : "host"}`;
    }
    return undefined;
}

const SOURCE_FIX = "over https://, an oci:// registry or a local mirror directory";

/**
 * Charts, addon manifests and Gateway API CRDs only over HTTPS, from an OCI registry
 * or from a local mirror: http:// can be tampered with on the way. Every component
 * (the `components` output) and every source the stack config sets (the
 * `releaseSources` output: also the Gateway API CRDs') is checked.
 */
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
    const out: Violation[] = [];
    const judged = new Set<string>();
    for (const c of components) {
        judged.add(c.source ?? "");
        const problem = sourceProblem(c.source);
        if (problem === undefined) continue;
        out.push({
            urn: stack.urn,
            message: `${c.component} comes from ${c.source} ${problem}. Fix: istio-mesh:${c.chart === "addon manifest" ? "addonSource" : "chartSource"} ${SOURCE_FIX}.`,
        });
    }
    const declared = readKnown(() => stack.props.releaseSources as { setting: string; source: string }[] | undefined);
    for (const s of declared ?? []) {
        if (judged.has(s.source)) continue;
        const problem = sourceProblem(s.source);
        if (problem === undefined) continue;
        out.push({
            urn: stack.urn,
            message: `istio-mesh:${s.setting} reads release data from ${s.source} ${problem}. Fix: istio-mesh:${s.setting.replace(/ \(.*\)$/, "")} ${SOURCE_FIX}.`,
        });
    }
    return out;
}

const ADDONS = ["grafana", "kiali", "prometheus", "jaeger"];
/** The addons without a login of their own (components/config/addons.ts, ADDONS_WITHOUT_LOGIN). */
const ADDONS_WITHOUT_LOGIN = ["prometheus", "jaeger"];
/** Prometheus's flags that let any client shut it down or delete data (components/addons/hardening.ts). */
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
