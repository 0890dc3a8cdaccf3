// The istio-mesh policy pack: what production needs, checked by the engine on
// every `pulumi preview --policy-pack policy` / `pulumi up --policy-pack policy`.
// The rules themselves are in rules.ts; this file says which stacks each applies
// to and how hard it is enforced (README, "Policy pack").
import { EnforcementLevel, PolicyPack, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
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
    classifyStack,
    DEFAULT_STACK_CLASSES,
    PolicyResourceView,
    StackClasses,
    StackKind,
    stackOfUrn,
    Violation,
} from "./rules";

/** Every rule takes the same config: which stacks are production and which are local/dev. */
const stackClassesSchema = {
    properties: {
        prodStacks: {
            type: "array" as const,
            items: { type: "string" as const },
            default: DEFAULT_STACK_CLASSES.prodStacks,
            description: "Stack names (`*` wildcards) held to the production rules.",
        },
        devStacks: {
            type: "array" as const,
            items: { type: "string" as const },
            default: DEFAULT_STACK_CLASSES.devStacks,
            description:
                "Stack names (`*` wildcards) of local and development clusters, exempt from the demo and addon rules.",
        },
    },
};

interface Rule {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    /** The kinds of stack it applies to. */
    appliesTo: StackKind[];
    check: (resources: PolicyResourceView[]) => Violation[];
}

const everywhere: StackKind[] = ["prod", "other", "dev"];
const outsideDev: StackKind[] = ["prod", "other"];
const prodOnly: StackKind[] = ["prod"];

// Mandatory: a violation stops `pulumi up` (and fails `pulumi preview`). Every rule
// here guards against an outage or an open door that is hard to undo once live;
// none is a matter of taste, so none is advisory. A team that must ship anyway
// can lower one rule to advisory in the pack's config (README, "Policy pack").
export const RULES: Rule[] = [
    {
        name: "no-demo-profile",
        description:
            "No demo profile and no local-cluster exposure (addon node ports, addon hosts over plain HTTP) outside local/dev stacks.",
        enforcementLevel: "mandatory",
        appliesTo: outsideDev,
        check: checkNoDemoSettings,
    },
    {
        name: "no-anonymous-addons",
        description:
            "Exposed addons ask for a login: no anonymous Grafana, no anonymous Kiali (outside local/dev stacks).",
        enforcementLevel: "mandatory",
        appliesTo: outsideDev,
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
        appliesTo: prodOnly,
        check: checkReplicas,
    },
    {
        name: "control-plane-disruption-budgets",
        description: "In production, istiod and every gateway have a PodDisruptionBudget.",
        enforcementLevel: "mandatory",
        appliesTo: prodOnly,
        check: checkDisruptionBudgets,
    },
    {
        name: "strict-mtls",
        description:
            "In production, a mesh-wide PeerAuthentication in the control plane namespace requires STRICT mutual TLS.",
        enforcementLevel: "mandatory",
        appliesTo: prodOnly,
        check: checkStrictMtls,
    },
    {
        name: "crds-retained",
        description: "In production, the Istio CRDs are kept on pulumi destroy.",
        enforcementLevel: "mandatory",
        appliesTo: prodOnly,
        check: checkCrdsRetained,
    },
    {
        name: "secure-sources",
        description:
            "Charts and addon manifests come over HTTPS, from an OCI registry or from a local mirror, never http://.",
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
function stackClasses(args: StackValidationArgs): StackClasses {
    const config = args.getConfig<Partial<StackClasses>>();
    return {
        prodStacks: config.prodStacks ?? DEFAULT_STACK_CLASSES.prodStacks,
        devStacks: config.devStacks ?? DEFAULT_STACK_CLASSES.devStacks,
    };
}

function asPolicy(rule: Rule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        configSchema: stackClassesSchema,
        validateStack: (args, reportViolation) => {
            if (args.resources.length === 0) return;
            const stack = stackOfUrn(args.resources[0].urn);
            const kind = classifyStack(stack, stackClasses(args));
            if (!rule.appliesTo.includes(kind)) return;
            const views: PolicyResourceView[] = args.resources.map((r) => ({
                type: r.type,
                urn: r.urn,
                name: r.name,
                props: r.props,
            }));
            for (const v of rule.check(views)) reportViolation(`stack ${stack} (${kind}): ${v.message}`, v.urn);
        },
    };
}

new PolicyPack("istio-mesh", { policies: RULES.map(asPolicy) });
