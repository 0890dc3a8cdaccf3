// `npm run bench -- --flat`: how much of a fresh `up` and a no-op preview the
// stack's own structure costs (chart components rendered by the provider, chained
// transforms, staged dependencies, the cluster reads before registering). The
// local stack is deployed once and the Kubernetes objects it applied are taken from
// its state; a throwaway project then registers those same objects one by one from
// the program (two ConfigGroups: the CRDs and namespaces, then the rest), with
// nothing else. Both are timed on the same cluster, each `up` a first install (CRDs
// removed between).
// What the flat project still costs is the engine's, the provider's and the API
// server's work for these objects: no program structure can go below it. Figures only.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { benchCluster, median, projectDir, seconds } from "./bench-lib";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STACK = "bench-flat-ref";
const FLAT_STACK = "bench-flat";
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

function writeFlatProject(objects: object[]): void {
    const options = fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8");
    // The same runtime options (nodeargs) and provider settings as the stack's project.
    fs.writeFileSync(path.join(flatDir, "Pulumi.yaml"), options.replace(/^name: .*$/m, "name: istio-mesh-flat"));
    fs.writeFileSync(path.join(flatDir, "package.json"), JSON.stringify({ name: "istio-mesh-flat", main: "index.js" }));
    fs.writeFileSync(path.join(flatDir, "index.js"), FLAT_PROGRAM);
    fs.writeFileSync(path.join(flatDir, "objects.json"), JSON.stringify(objects));
    fs.symlinkSync(path.join(projectDir, "node_modules"), path.join(flatDir, "node_modules"));
}

interface Project {
    label: string;
    dir: string;
    stack: string;
}

function main(): void {
    fs.copyFileSync(path.join(projectDir, "Pulumi.local.yaml"), path.join(projectDir, `Pulumi.${STACK}.yaml`));
    const stack: Project = { label: "the stack", dir: projectDir, stack: STACK };
    const flat: Project = { label: "flat", dir: flatDir, stack: FLAT_STACK };
    try {
        sh("pulumi", ["stack", "select", STACK, "--create"], { quiet: true });
        pulumi(stack, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        purgeCrds();
        pulumi(stack, ["up", "--yes", "--skip-preview"], SKIP_CHECKPOINTS);
        const objects = appliedObjects(JSON.parse(pulumi(stack, ["stack", "export"])));
        uninstall(stack);
        writeFlatProject(objects);
        sh("pulumi", ["stack", "select", FLAT_STACK, "--create"], { quiet: true, cwd: flatDir });
        pulumi(flat, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        console.log(`${objects.length} objects, ${RUNS} runs each, median; every up a first install`);

        const figures = new Map<string, Record<string, number[]>>();
        const time = (p: Project, what: string, args: string[], env: Record<string, string> = {}) => {
            const row = figures.get(what) ?? {};
            (row[p.label] ??= []).push(seconds(() => pulumi(p, args, env)));
            figures.set(what, row);
        };
        for (let i = 0; i < RUNS; i++) {
            for (const p of [stack, flat]) {
                time(p, "up, fresh install", ["up", "--yes", "--skip-preview"]);
                time(p, "preview, no change", ["preview"]);
                uninstall(p);
                time(
                    p,
                    "up, fresh install, PULUMI_SKIP_CHECKPOINTS=true",
                    ["up", "--yes", "--skip-preview"],
                    SKIP_CHECKPOINTS,
                );
                uninstall(p);
            }
        }
        console.log("| operation | the stack (s) | the same objects, flat (s) | structure's share (s) |");
        console.log("| --- | ---: | ---: | ---: |");
        for (const [what, row] of figures) {
            const [s, f] = [median(row[stack.label]), median(row[flat.label])];
            console.log(`| ${what} | ${s.toFixed(1)} | ${f.toFixed(1)} | ${(s - f).toFixed(1)} |`);
        }
    } finally {
        for (const p of [stack, flat]) {
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

main();
