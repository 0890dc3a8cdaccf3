// The istio-mesh policy pack: what production needs, checked by the engine on
// every `pulumi preview --policy-pack policy` / `pulumi up --policy-pack policy`.
// The rules and which stacks each applies to are in pack.ts, the checks in
// rules.ts; docs/policy.md describes them.
import { PolicyPack, StackValidationPolicy } from "@pulumi/policy";
import { judgeStack, Rule, RULES, stackClasses, stackClassesSchema } from "./pack";
import { StackClasses } from "./rules";

function asPolicy(rule: Rule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        configSchema: stackClassesSchema,
        validateStack: (args, reportViolation) => {
            const classes = stackClasses(args.getConfig<Partial<StackClasses>>());
            for (const v of judgeStack(rule, args.resources, args.stackTags, classes))
                reportViolation(v.message, v.urn);
        },
    };
}

new PolicyPack("istio-mesh", { policies: RULES.map(asPolicy) });
