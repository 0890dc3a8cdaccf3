// `npm run bench -- --breakdown`: where the seconds of one fresh `pulumi up` and one
// no-op `pulumi preview` of the local stack go, from the engine's own events. Each
// event is stamped when the Automation API hands it over (the engine streams them
// as they happen); resources are grouped by the stack component they belong to
// (base, istiod, cni, a gateway, the addons...), and each group's line runs from
// its first resource's start to its last resource's end. Figures only.
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { benchCluster, cpuByProcess, projectDir } from "./bench-lib";

const STACK = "bench";
const { clusterDir, kubeconfig, purgeCrds } = benchCluster(
    process.env.ISTIO_MESH_CLUSTER_DIR ?? path.join(projectDir, ".cluster"),
);

interface Stamped {
    at: number;
    event: EngineEvent;
}

/** The stack component a resource belongs to: its ancestor just below IstioMesh (or below the Stack). */
function groupOf(urn: string, parents: Map<string, string>): string {
    let current = urn;
    for (;;) {
        const parent = parents.get(current);
        if (parent === undefined) return urn.split("::").pop() ?? urn;
        const parentType = parent.split("::")[2]?.split("$").pop();
        if (parentType === "istio-mesh:index:IstioMesh" || parentType === "pulumi:pulumi:Stack") {
            return current.split("::").pop() ?? current;
        }
        current = parent;
    }
}

/** The table of one operation: fixed marks, then one line per component. */
function breakdown(title: string, events: Stamped[], total: number, perKind: boolean): string {
    const parents = new Map<string, string>();
    for (const { event } of events) {
        const m = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
        const parent = m?.new?.parent ?? m?.old?.parent;
        if (m && parent) parents.set(m.urn, parent);
    }
    const groups = new Map<string, { from: number; to: number; urns: Set<string> }>();
    let stackStart: number | undefined;
    let firstSaid: number | undefined;
    let prelude: number | undefined;
    let summary: number | undefined;
    for (const { at, event } of events) {
        if (event.preludeEvent) prelude ??= at;
        if (event.summaryEvent) summary = at;
        if (event.diagnosticEvent?.severity === "info" && event.diagnosticEvent.message.trim() !== "") firstSaid ??= at;
        const m = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
        if (!m) continue;
        if (m.type === "pulumi:pulumi:Stack") {
            stackStart ??= at;
            continue;
        }
        // Components open and close around their children; the custom resources are the work.
        if (!m.urn.includes("::") || m.type.startsWith("istio-mesh:index:")) continue;
        if (m.type === "kubernetes:helm.sh/v4:Chart" || m.type.startsWith("kubernetes:yaml/v2:")) continue;
        if (m.type.startsWith("pulumi:providers:")) continue;
        const group =
            m.type === "pulumi:pulumi:StackReference"
                ? "the stack's last outputs (StackReference)"
                : groupOf(m.urn, parents);
        const g = groups.get(group) ?? { from: at, to: at, urns: new Set<string>() };
        g.from = Math.min(g.from, at);
        g.to = Math.max(g.to, at);
        g.urns.add(m.urn);
        groups.set(group, g);
    }
    // Per kind: how long one resource took from its start to its end (in an up:
    // check, create, and the provider's wait for it to be ready).
    const started = new Map<string, number>();
    const byKind = new Map<string, number[]>();
    for (const { at, event } of events) {
        if (event.resourcePreEvent) started.set(event.resourcePreEvent.metadata.urn, at);
        const done = event.resOutputsEvent?.metadata;
        const from = done && started.get(done.urn);
        if (!done || from === undefined || done.type.startsWith("istio-mesh:index:")) continue;
        if (done.type === "pulumi:pulumi:Stack" || done.type.startsWith("pulumi:")) continue;
        byKind.set(done.type, [...(byKind.get(done.type) ?? []), at - from]);
    }
    const s = (ms: number | undefined) => (ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`);
    const kinds = [...byKind.entries()]
        .map(([type, ms]) => ({ type, n: ms.length, sum: ms.reduce((a, b) => a + b, 0), max: Math.max(...ms) }))
        .sort((a, b) => b.sum - a.sum)
        .map((k) => `| ${k.type.replace(/^kubernetes:/, "")} | ${k.n} | ${s(k.sum / k.n)} | ${s(k.max)} |`);
    const lines = [
        `${title} (${s(total)} wall, ${[...groups.values()].reduce((n, g) => n + g.urns.size, 0)} resources)`,
        "",
        "| from | to | what |",
        "| ---: | ---: | --- |",
        `| 0.0 s | ${s(prelude)} | CLI and engine start |`,
        `| ${s(prelude)} | ${s(stackStart)} | language host and Node.js start, program modules load |`,
        `| ${s(stackStart)} | ${s(firstSaid)} | config validated, release data, the stack's last outputs and the cluster read |`,
        ...[...groups.entries()]
            .sort((a, b) => a[1].from - b[1].from)
            .map(([name, g]) => `| ${s(g.from)} | ${s(g.to)} | ${name}: ${g.urns.size} resources |`),
        `| ${s(summary)} | ${s(total)} | outputs, state written, engine and plugins shut down |`,
        // A preview reports each resource once, when it is checked and diffed: no durations.
        ...(perKind
            ? ["", "| kind | resources | mean start to end | longest |", "| --- | ---: | ---: | ---: |", ...kinds]
            : []),
    ];
    return lines.join("\n");
}

/** CPU-seconds by process during one operation (every process on the machine, this script included). */
function cpuTable(rows: [string, number][]): string {
    const total = rows.reduce((n, [, cpu]) => n + cpu, 0);
    return [
        "",
        `| process | CPU-s (${total.toFixed(1)} in all) |`,
        "| --- | ---: |",
        ...rows.filter(([, cpu]) => cpu >= 0.05).map(([label, cpu]) => `| ${label} | ${cpu.toFixed(2)} |`),
    ].join("\n");
}

async function timedEvents(run: (onEvent: (e: EngineEvent) => void) => Promise<unknown>): Promise<[Stamped[], number]> {
    const events: Stamped[] = [];
    const start = Date.now();
    await run((event) => events.push({ at: Date.now() - start, event }));
    return [events, Date.now() - start];
}

async function main(): Promise<void> {
    if (!fs.existsSync(kubeconfig)) throw new Error(`no cluster at ${kubeconfig}: run npm run cluster:up`);
    fs.copyFileSync(path.join(projectDir, "Pulumi.local.yaml"), path.join(projectDir, `Pulumi.${STACK}.yaml`));
    const stack: Stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK, workDir: projectDir });
    await stack.setConfig("kubernetes:kubeconfig", { value: kubeconfig });
    const quiet = { onOutput: () => undefined };
    await stack.destroy(quiet);
    purgeCrds();
    try {
        const [[up, upMs], upCpu] = await cpuByProcess(
            () => timedEvents((onEvent) => stack.up({ ...quiet, onEvent })),
            clusterDir,
        );
        const [[noop, noopMs], noopCpu] = await cpuByProcess(
            () => timedEvents((onEvent) => stack.preview({ ...quiet, onEvent })),
            clusterDir,
        );
        console.log(breakdown("pulumi up, fresh install of the local stack", up, upMs, true));
        console.log(cpuTable(upCpu));
        console.log();
        console.log(breakdown("pulumi preview, no change", noop, noopMs, false));
        console.log(cpuTable(noopCpu));
    } finally {
        await stack.destroy(quiet);
        purgeCrds();
        await stack.workspace.removeStack(STACK, { force: true });
    }
}

main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
});
