// `npm run bench -- --flat`: how much of a fresh `up` and a no-op preview the
// stack's own structure costs (chart components rendered by the provider, chained
// transforms, staged dependencies, the cluster reads before registering). The
// local stack is deployed once and the Kubernetes objects it applied are taken from
// its state; a throwaway project then registers those same objects one by one from
// the program (two ConfigGroups: the CRDs and namespaces, then the rest), with
// nothing else. Both are timed on the same cluster, each `up` a first install (CRDs
// removed between).
// What the flat project still costs is the engine's, the provider's and the API
// server's work for these objects: no program structure can go below it. Beside the
// wall times, the CPU-seconds of the program's own Node.js process in each, and in
// a no-op preview of a program that loads the SDKs and registers nothing: what any
// Pulumi Node.js program of these objects spends, whatever its structure. Figures only.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    benchCluster,
    cpuByProcess,
    cpuOf,
    median,
    projectDir,
    pulumiWithPeakMemory,
    writeDocSection,
} from "./bench-lib";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STACK = "bench-flat-ref";
const FLAT_STACK = "bench-flat";
const EMPTY_STACK = "bench-flat-empty";
const { kubeconfig, sh, purgeCrds } = benchCluster(
    process.env.ISTIO_MESH_CLUSTER_DIR ?? path.join(projectDir, ".cluster"),
);
const flatDir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-flat-"));
const SKIP_CHECKPOINTS = { PULUMI_SKIP_CHECKPOINTS: "true" };

function pulumi(p: Project, args: string[], env: Record<string, string> = {}): string {
    return sh("pulumi", [...args, "--stack", p.stack], { quiet: true, cwd: p.dir, env });
}

/** Removes what the project installed and the CRDs every uninstall keeps: the next `up` is a first install. */
function uninstall(p: Project): void {
    pulumi(p, ["destroy", "--yes"]);
    purgeCrds();
}

interface StateResource {
    type: string;
    inputs?: { kind?: string };
}

/** The objects the stack applied: every Kubernetes resource's inputs, without chart components and patches. */
function appliedObjects(state: { deployment: { resources: StateResource[] } }): object[] {
    return state.deployment.resources
        .filter(
            (r) =>
                r.type.startsWith("kubernetes:") &&
                !r.type.startsWith("kubernetes:helm.sh") &&
                !r.type.endsWith("Patch") &&
                r.inputs?.kind !== undefined,
        )
        .map((r) => r.inputs as object);
}

const FLAT_PROGRAM = `// The local stack's objects, registered from the program with nothing else.
const fs = require("fs");
const k8s = require("@pulumi/kubernetes");
const objs = JSON.parse(fs.readFileSync(__dirname + "/objects.json", "utf8"));
const first = (o) => o.kind === "CustomResourceDefinition" || o.kind === "Namespace";
const crds = new k8s.yaml.ConfigGroup("crds", { objs: objs.filter(first) });
new k8s.yaml.ConfigGroup("rest", { objs: objs.filter((o) => !first(o)) }, { dependsOn: [crds] });
`;

const EMPTY_PROGRAM = `// The SDKs loaded, nothing registered: the program's cost before its first resource.
require("@pulumi/pulumi");
require("@pulumi/kubernetes");
`;

/** A throwaway project in `dir` with the stack project's runtime options (nodeargs) and provider settings. */
function writeProject(dir: string, name: string, program: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const options = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), options.replace(/^name: .*$/m, `name: ${name}`));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, main: "index.js" }));
    fs.writeFileSync(path.join(dir, "index.js"), program);
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(dir, "node_modules"));
}

interface Project {
    label: string;
    dir: string;
    stack: string;
}

const PROGRAM = "node (the Pulumi program)";

async function main(): Promise<void> {
    fs.copyFileSync(path.join(projectDir, "Pulumi.local.yaml"), path.join(projectDir, `Pulumi.${STACK}.yaml`));
    const stack: Project = { label: "the stack", dir: projectDir, stack: STACK };
    const flat: Project = { label: "flat", dir: flatDir, stack: FLAT_STACK };
    const empty: Project = { label: "empty", dir: path.join(flatDir, "empty"), stack: EMPTY_STACK };
    const projects = [stack, flat, empty];
    try {
        sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
        pulumi(stack, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        purgeCrds();
        pulumi(stack, ["up", "--yes", "--skip-preview"], SKIP_CHECKPOINTS);
        const objects = appliedObjects(JSON.parse(pulumi(stack, ["stack", "export"])));
        uninstall(stack);
        writeProject(flatDir, "istio-mesh-flat", FLAT_PROGRAM);
        fs.writeFileSync(path.join(flatDir, "objects.json"), JSON.stringify(objects));
        writeProject(empty.dir, "istio-mesh-empty", EMPTY_PROGRAM);
        for (const p of [flat, empty]) {
            sh("pulumi", ["stack", "select", p.stack, "--create"], { quiet: true, cwd: p.dir });
            pulumi(p, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        }

        /** Per operation and project: wall seconds and the program's CPU-seconds of each run. */
        const figures = new Map<string, Record<string, { wall: number[]; cpu: number[] }>>();
        const time = async (p: Project, what: string, args: string[], env: Record<string, string> = {}) => {
            const [run, cpu] = await cpuByProcess(() => pulumiWithPeakMemory(p.stack, args, env, p.dir));
            const row = figures.get(what) ?? {};
            const cell = (row[p.label] ??= { wall: [], cpu: [] });
            cell.wall.push(run.seconds);
            cell.cpu.push(cpuOf(cpu, PROGRAM));
            figures.set(what, row);
        };
        for (let i = 0; i < RUNS; i++) {
            for (const p of [stack, flat]) {
                await time(p, "up, fresh install", ["up", "--yes", "--skip-preview"]);
                await time(p, "preview, no change", ["preview"]);
                uninstall(p);
                await time(
                    p,
                    "up, fresh install, PULUMI_SKIP_CHECKPOINTS=true",
                    ["up", "--yes", "--skip-preview"],
                    SKIP_CHECKPOINTS,
                );
                uninstall(p);
            }
            await time(empty, "preview, no change", ["preview"]);
        }
        const s = (xs: number[] | undefined) => (xs ? median(xs).toFixed(1) : "–");
        const lines = [
            `${objects.length} objects, ${RUNS} runs each, median; every up a first install:`,
            "",
            "| operation | the stack (s) | the same objects, flat (s) | structure's share (s) | program CPU-s: the stack / flat / no resources |",
            "| --- | ---: | ---: | ---: | ---: |",
            ...[...figures].map(([what, row]) => {
                const [st, f] = [median(row[stack.label].wall), median(row[flat.label].wall)];
                const cpu = projects.map((p) => s(row[p.label]?.cpu)).join(" / ");
                return `| ${what} | ${st.toFixed(1)} | ${f.toFixed(1)} | ${(st - f).toFixed(1)} | ${cpu} |`;
            }),
        ];
        const table = lines.join("\n");
        console.log(table);
        const artifacts = path.join(projectDir, "artifacts");
        fs.mkdirSync(artifacts, { recursive: true });
        fs.writeFileSync(path.join(artifacts, "bench-flat.md"), table + "\n");
        writeDocSection("flat", `Measured ${new Date().toISOString().slice(0, 16)} UTC.\n\n${table}`);
    } finally {
        for (const p of projects) {
            try {
                pulumi(p, ["destroy", "--yes"]);
                sh("pulumi", ["stack", "rm", "--yes", "--force", p.stack], { quiet: true, cwd: p.dir });
            } catch {
                // never created, or already gone
            }
        }
        fs.rmSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), { force: true });
        fs.rmSync(flatDir, { recursive: true, force: true });
    }
}

main().catch((e: Error) => {
    console.error(`bench-flat: ${e.message}`);
    process.exit(1);
});
