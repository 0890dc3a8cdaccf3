// The pack's rules, which stacks each applies to and how hard it is enforced, as
// plain data and functions: policy/index.ts hands them to the engine, and the unit
// tests (test/unit/policy.test.ts) run them without it. The checks themselves are
// in rules.ts; docs/policy.md describes each rule (a unit test keeps it in step).
import type { EnforcementLevel, PolicyResource } from "@pulumi/policy";
import {
    checkAddonAccess,
    checkClosedAddons,
    checkCrdsRetained,
    checkDisruptionBudgets,
    checkNoDemoSettings,
    checkPinnedImages,
    checkReplicas,
    checkSources,
    checkStrictMtls,
    DEFAULT_STACK_CLASSES,
    PolicyResourceView,
    readKnown,
    StackClasses,
    stackEnvironment,
    StackEnvironment,
    StackKind,
    stackOfUrn,
    Violation,
} from "./rules";

export interface Rule {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    /** The kinds of stack it applies to. */
    appliesTo: StackKind[];
    check: (resources: PolicyResourceView[], environment: StackEnvironment) => Violation[];
}

const everywhere: StackKind[] = ["production", "other", "development", "local"];
const outsideLocal: StackKind[] = ["production", "other", "development"];
const outsideDevelopment: StackKind[] = ["production", "other"];
const productionOnly: StackKind[] = ["production"];

// Mandatory: a violation stops `pulumi up` (and fails `pulumi preview`). Every rule
// here guards against an outage or an open door that is hard to undo once live;
// none is a matter of taste, so none is advisory, except the warning that a stack
// was classed by its name. A team that must ship anyway can lower one rule to
// advisory in the pack's config (docs/policy.md).
export const RULES: Rule[] = [
    {
        name: "environment-declared",
        description:
            "Every stack declares what it is (stack tag or config istio-mesh:environment: production, development or local); one that does not is warned, and classed by its name only to be held to production rules.",
        enforcementLevel: "advisory",
        appliesTo: everywhere,
        check: (_, env) => (env.warning ? [{ message: env.warning }] : []),
    },
    {
        name: "environment-consistent",
        description:
            "The stack tag and the config istio-mesh:environment, when both are given, agree, and each is production, development or local.",
        enforcementLevel: "mandatory",
        appliesTo: everywhere,
        check: (_, env) =>
            env.conflicts.map((c) => ({
                message: `${c}; judged as ${env.kind} until fixed. Fix: one value, production, development or local, in the stack tag and the config.`,
            })),
    },
    {
        name: "no-demo-profile",
        description:
            "No demo profile and no local-cluster exposure (addon node ports, addon hosts over plain HTTP) outside development and local stacks.",
        enforcementLevel: "mandatory",
        appliesTo: outsideDevelopment,
        check: checkNoDemoSettings,
    },
    {
        name: "no-anonymous-addons",
        description:
            "Exposed addons ask for a login: no anonymous Grafana, no anonymous Kiali (outside local stacks).",
        enforcementLevel: "mandatory",
        appliesTo: outsideLocal,
        check: checkAddonAccess,
    },
    {
        name: "closed-addons",
        description:
            "Every addon is closed, exposed or not: no anonymous Grafana Admin or admin password in the spec, no Prometheus lifecycle/admin API, no anonymous Kiali with write rights or by host name, a token at the gateway for Prometheus and Jaeger hosts, a NetworkPolicy on every addon.",
        enforcementLevel: "mandatory",
        appliesTo: everywhere,
        check: checkClosedAddons,
    },
    {
        name: "control-plane-replicas",
        description:
            "In production, istiod and every gateway run at least 2 replicas (or an autoscaler floor of at least 2).",
        enforcementLevel: "mandatory",
        appliesTo: productionOnly,
        check: checkReplicas,
    },
    {
        name: "control-plane-disruption-budgets",
        description: "In production, istiod and every gateway have a PodDisruptionBudget.",
        enforcementLevel: "mandatory",
        appliesTo: productionOnly,
        check: checkDisruptionBudgets,
    },
    {
        name: "strict-mtls",
        description:
            "In production, a mesh-wide PeerAuthentication in the control plane namespace requires STRICT mutual TLS, and no exception opens a whole namespace to plain text.",
        enforcementLevel: "mandatory",
        appliesTo: productionOnly,
        check: checkStrictMtls,
    },
    {
        name: "crds-retained",
        description: "In production, the Istio CRDs are kept on pulumi destroy.",
        enforcementLevel: "mandatory",
        appliesTo: productionOnly,
        check: checkCrdsRetained,
    },
    {
        name: "secure-sources",
        description:
            "Charts, addon manifests and Gateway API CRDs come over HTTPS, from an OCI registry or from a local mirror, never http://.",
        enforcementLevel: "mandatory",
        appliesTo: everywhere,
        check: checkSources,
    },
    {
        name: "pinned-images",
        description: "Every container image names a version (no latest, no missing tag).",
        enforcementLevel: "mandatory",
        appliesTo: everywhere,
        check: checkPinnedImages,
    },
];

/** The policy's config with the defaults filled in (the engine fills in schema defaults; this holds without it too). */
export function stackClasses(config: Partial<StackClasses> | undefined): StackClasses {
    return { prodStacks: config?.prodStacks ?? DEFAULT_STACK_CLASSES.prodStacks };
}

/** Every rule takes the same config: the stack names held to production rules when a stack declares nothing. */
export const stackClassesSchema = {
    properties: {
        prodStacks: {
            type: "array" as const,
            items: { type: "string" as const },
            default: DEFAULT_STACK_CLASSES.prodStacks,
            description:
                "Names (`*` wildcards) of stacks that declare no environment and are held to the production rules anyway.",
        },
    },
};

/**
 * One rule on one stack: the messages it reports, each starting with the stack
 * and how it was classed. `resources` as the engine hands them over.
 */
export function judgeStack(
    rule: Rule,
    resources: Pick<PolicyResource, "type" | "urn" | "name" | "props">[],
    stackTags: ReadonlyMap<string, string>,
    classes: StackClasses,
): { message: string; urn?: string }[] {
    if (resources.length === 0) return [];
    const stack = stackOfUrn(resources[0].urn);
    const views: PolicyResourceView[] = resources.map((r) => ({
        type: r.type,
        urn: r.urn,
        name: r.name,
        props: r.props,
    }));
    const outputs = views.find((r) => r.type === "pulumi:pulumi:Stack");
    const configured = outputs ? readKnown(() => outputs.props.environment) : undefined;
    const env = stackEnvironment(stack, stackTags, configured, classes);
    if (!rule.appliesTo.includes(env.kind)) return [];
    const by = env.declaredBy === "nothing" ? "undeclared" : `by ${env.declaredBy}`;
    return rule
        .check(views, env)
        .map((v) => ({ message: `stack ${stack} (${env.kind}, ${by}): ${v.message}`, urn: v.urn }));
}
