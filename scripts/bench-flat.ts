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
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { benchCluster, median, projectDir } from "./bench-lib";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STACK = "bench-flat-ref";
const FLAT_STACK = "bench-flat";
const { kubeconfig, purgeCrds } = benchCluster(process.env.ISTIO_MESH_CLUSTER_DIR ?? path.join(projectDir, ".cluster"));
const flatDir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-flat-"));

function pulumi(cwd: string, stack: string, args: string[], env: Record<string, string> = {}): string {
    return execFileSync("pulumi", [...args, "--stack", stack], {
        cwd,
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS: "true", ...env },
    });
}

function timed(fn: () => void): number {
    const start = process.hrtime.bigint();
    fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
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
        execFileSync("pulumi", ["stack", "select", STACK, "--create"], { cwd: projectDir, stdio: "ignore" });
        pulumi(projectDir, STACK, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        purgeCrds();
        pulumi(projectDir, STACK, ["up", "--yes", "--skip-preview"], { PULUMI_SKIP_CHECKPOINTS: "true" });
        const objects = appliedObjects(JSON.parse(pulumi(projectDir, STACK, ["stack", "export"])));
        pulumi(projectDir, STACK, ["destroy", "--yes"]);
        purgeCrds();
        writeFlatProject(objects);
        execFileSync("pulumi", ["stack", "select", FLAT_STACK, "--create"], { cwd: flatDir, stdio: "ignore" });
        pulumi(flatDir, FLAT_STACK, ["config", "set", "kubernetes:kubeconfig", kubeconfig]);
        console.log(`${objects.length} objects, ${RUNS} runs each, median; every up a first install`);

        const figures = new Map<string, Record<string, number[]>>();
        const add = (p: Project, what: string, s: number) => {
            const row = figures.get(what) ?? {};
            (row[p.label] ??= []).push(s);
            figures.set(what, row);
        };
        for (let i = 0; i < RUNS; i++) {
            for (const p of [stack, flat]) {
                add(
                    p,
                    "up, fresh install",
                    timed(() => pulumi(p.dir, p.stack, ["up", "--yes", "--skip-preview"])),
                );
                add(
                    p,
                    "preview, no change",
                    timed(() => pulumi(p.dir, p.stack, ["preview"])),
                );
                pulumi(p.dir, p.stack, ["destroy", "--yes"]);
                purgeCrds();
                const skip = { PULUMI_SKIP_CHECKPOINTS: "true" };
                add(
                    p,
                    "up, fresh install, PULUMI_SKIP_CHECKPOINTS=true",
                    timed(() => pulumi(p.dir, p.stack, ["up", "--yes", "--skip-preview"], skip)),
                );
                pulumi(p.dir, p.stack, ["destroy", "--yes"]);
                purgeCrds();
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
                pulumi(p.dir, p.stack, ["destroy", "--yes"]);
                execFileSync("pulumi", ["stack", "rm", "--yes", "--force", p.stack], { cwd: p.dir, stdio: "ignore" });
            } catch {
                // never created, or already gone
            }
        }
        fs.rmSync(path.join(projectDir, `Pulumi.${STACK}.yaml`), { force: true });
        fs.rmSync(flatDir, { recursive: true, force: true });
    }
}

main();
