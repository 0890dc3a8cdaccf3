// What a CI run of preview, up or the drift check did, read from the engine's
// event log (`--event-log`, one JSON EngineEvent a line) and written as markdown
// for a pull request comment and a job summary. Pure functions: the unit tests
// feed them events, the CI scripts feed them the CLI's log (scripts/ci/summarize.ts).
import type { EngineEvent, PolicyEvent, StepEventMetadata } from "@pulumi/pulumi/automation";

export type CiKind = "preview" | "up" | "drift";

/** One resource the run plans (or, for `up`, starts) to change. */
export interface ResourceChange {
    op: string;
    /** The resource's name: the last part of its URN, e.g. `istio-istiod-chart:istio-system/istiod`. */
    name: string;
    type: string;
    /** Property paths that differ (the provider's detailed diff, else the top-level keys). */
    properties: string[];
}

export interface RunReport {
    changes: ResourceChange[];
    violations: PolicyEvent[];
    /** Error diagnostics, each once. */
    errors: string[];
}

/**
 * Operations that change nothing: `same`, reads of existing objects, and the
 * refresh steps of `--refresh` (which only read the live state; what they find
 * shows up as the planned update that follows).
 */
const NO_CHANGE = new Set(["same", "read", "refresh", "discard"]);

/**
 * A replacement emits several steps for one URN (create-replacement, replace,
 * delete-replaced); the report shows the one a reviewer must notice.
 */
const OP_WEIGHT: Record<string, number> = { replace: 3, "create-replacement": 2, "delete-replaced": 2 };

/** Parses an event log; a line that is not JSON (a truncated last line of a killed run) is skipped. */
export function parseEventLog(text: string): EngineEvent[] {
    const events: EngineEvent[] = [];
    for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        try {
            events.push(JSON.parse(line) as EngineEvent);
        } catch {
            // Only the last line of a log whose writer was killed can be cut short.
        }
    }
    return events;
}

export function resourceName(urn: string): string {
    return urn.split("::").pop() ?? urn;
}

function changedProperties(m: StepEventMetadata): string[] {
    const detailed = m.detailedDiff ? Object.keys(m.detailedDiff) : [];
    return detailed.length > 0 ? detailed : (m.diffs ?? []);
}

export function report(events: EngineEvent[]): RunReport {
    const byUrn = new Map<string, ResourceChange>();
    const violations: PolicyEvent[] = [];
    const errors: string[] = [];
    for (const e of events) {
        const m = e.resourcePreEvent?.metadata;
        // Provider instances are the engine's plumbing, not objects in the cluster
        // (pulumi's own change counts leave them out too).
        if (m && !NO_CHANGE.has(m.op) && !m.type.startsWith("pulumi:providers:")) {
            const previous = byUrn.get(m.urn);
            if (!previous || (OP_WEIGHT[m.op] ?? 1) > (OP_WEIGHT[previous.op] ?? 1)) {
                byUrn.set(m.urn, {
                    op: m.op,
                    name: resourceName(m.urn),
                    type: m.type,
                    properties: changedProperties(m),
                });
            }
        }
        if (e.policyEvent) violations.push(e.policyEvent);
        const d = e.diagnosticEvent;
        if (d?.severity === "error") {
            const text = `${d.urn ? `${resourceName(d.urn)}: ` : ""}${d.message.trim()}`;
            if (!errors.includes(text)) errors.push(text);
        }
    }
    return { changes: [...byUrn.values()], violations, errors };
}

/** `update kubernetes:apps/v1:Deployment istio-istiod-chart:istio-system/istiod (spec.replicas)` */
export function changeLine(c: ResourceChange): string {
    const props = c.properties.length > 0 ? ` (${c.properties.join(", ")})` : "";
    return `${c.op} ${c.type} ${c.name}${props}`;
}

/** The hidden marker that lets the PR comment of a stack be found and updated instead of posted again. */
export function commentMarker(kind: CiKind, stack: string): string {
    return `<!-- istio-mesh-ci:${kind}:${stack} -->`;
}

export interface MarkdownInput {
    kind: CiKind;
    stack: string;
    exitCode: number;
    report: RunReport;
    /** The CLI's text output (the diff); shown folded, cut to `maxOutputChars`. */
    output: string;
    /** Name of the artifact file that holds the whole output. */
    outputFile: string;
    /**
     * GitHub comments hold 65,536 characters: the folded output gets what the rest
     * of the summary leaves of this. @default 60000
     */
    maxChars?: number;
    /** Rows of the change table before the rest is counted only. @default 150 */
    maxRows?: number;
}

const TITLES: Record<CiKind, string> = {
    preview: "pulumi preview",
    up: "pulumi up",
    drift: "drift check",
};

function countsByOp(changes: ResourceChange[]): string {
    const counts = new Map<string, number>();
    for (const c of changes) counts.set(c.op, (counts.get(c.op) ?? 0) + 1);
    return [...counts.entries()].map(([op, n]) => `${n} to ${op}`).join(", ");
}

function verdict(input: MarkdownInput): string {
    const { kind, exitCode, report: r } = input;
    const mandatory = r.violations.filter((v) => v.enforcementLevel === "mandatory").length;
    if (kind === "drift") {
        if (exitCode === 0) return "**No drift**: the cluster holds what the stack applied.";
        if (r.changes.length > 0) {
            return (
                `**DRIFT**: ${r.changes.length} resource(s) differ from what the stack applied. ` +
                `The next deployment (\`scripts/ci/up.sh ${input.stack}\`) takes them back; find out who changed them first.`
            );
        }
        return `**The drift check failed** (exit ${exitCode}) before it could compare: see the errors below.`;
    }
    const planned = r.changes.length > 0 ? countsByOp(r.changes) : "no changes";
    const policy =
        r.violations.length === 0
            ? "policy pack: no violations"
            : `policy pack: ${mandatory} mandatory, ${r.violations.length - mandatory} advisory violation(s)`;
    const status = exitCode === 0 ? "succeeded" : `**FAILED** (exit ${exitCode})`;
    return `${kind === "up" ? "Applied" : "Planned"}: ${planned}; ${policy}; ${status}.`;
}

/** Markdown cells: no line breaks, no table pipes. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

export function markdown(input: MarkdownInput): string {
    const { report: r } = input;
    // The table is cut at `maxRows` rows; the output fills what is left of `maxChars`.
    const maxRows = input.maxRows ?? 150;
    const lines = [
        commentMarker(input.kind, input.stack),
        `### ${TITLES[input.kind]} of stack \`${input.stack}\``,
        "",
        verdict(input),
        "",
    ];
    if (r.changes.length > 0) {
        lines.push("| operation | resource | type | what differs |", "| --- | --- | --- | --- |");
        for (const c of r.changes.slice(0, maxRows)) {
            lines.push(`| ${c.op} | \`${cell(c.name)}\` | \`${c.type}\` | ${cell(c.properties.join(", "))} |`);
        }
        if (r.changes.length > maxRows) lines.push("", `… and ${r.changes.length - maxRows} more (see the artifact).`);
        lines.push("");
    }
    if (r.violations.length > 0) {
        lines.push("#### Policy violations", "");
        for (const v of r.violations) {
            const where = v.resourceUrn ? ` on \`${resourceName(v.resourceUrn)}\`` : " (stack)";
            lines.push(`- **[${v.enforcementLevel}] ${v.policyName}**${where}: ${cell(v.message.trim())}`);
        }
        lines.push("");
    }
    if (r.errors.length > 0) {
        lines.push("#### Errors", "");
        for (const e of r.errors) lines.push(`- ${cell(e)}`);
        lines.push("");
    }
    const head = lines.join("\n");
    // What the folded block's own lines take, with room for the numbers in them.
    const frame = 300 + input.outputFile.length;
    const maxOutput = Math.max(0, (input.maxChars ?? 60000) - head.length - frame);
    const cut = input.output.length > maxOutput;
    const shown = cut ? input.output.slice(0, maxOutput) : input.output;
    lines.push(
        `<details><summary>Output${cut ? ` (first ${maxOutput} of ${input.output.length} characters)` : ""}; the whole of it is the artifact <code>${input.outputFile}</code></summary>`,
        "",
        // A fence longer than any run of backticks in the output keeps it one block.
        "````text",
        shown.replace(/````/g, "` ` ` `"),
        "````",
        "",
        "</details>",
        "",
    );
    return lines.join("\n");
}
