// scripts/ci/stacks.sh: which stacks the workflows preview and deploy, in which order.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");
const script = path.join(projectDir, "scripts/ci/stacks.sh");
/** The stack files the project ships; a user's own (Pulumi.staging.yaml) is not the project's. */
const SHIPPED = ["Pulumi.yaml", "Pulumi.local.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"];

/** stacks.sh in a folder holding `files`: made up (`config: {}`), or this repository's copied when `copy` is set. */
function stacksOf(files: string[], copy = false): { code: number | null; stdout: string; stderr: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-stacks-"));
    try {
        for (const f of files) {
            if (copy) fs.copyFileSync(path.join(projectDir, f), path.join(dir, f));
            else fs.writeFileSync(path.join(dir, f), "config: {}\n");
        }
        const r = spawnSync("bash", [script, dir], { encoding: "utf8" });
        return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

test("this repository's environments: dev, then prod", () => {
    expect(stacksOf(SHIPPED, true).stdout).toBe('["dev","prod"]');
});

test("dev first, staging when present, other environments between, prod last; the local cluster's stacks never", () => {
    const files = ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.qa.yaml", "Pulumi.staging.yaml", "Pulumi.dev.yaml"];
    const local = [
        "Pulumi.local.yaml",
        "Pulumi.e2e.yaml",
        "Pulumi.e2e-pipeline.yaml",
        "Pulumi.smoke.yaml",
        "Pulumi.bench.yaml",
    ];
    expect(stacksOf([...files, ...local]).stdout).toBe('["dev","staging","qa","prod"]');
});

test("no environment stack is an error, not an empty matrix", () => {
    const r = stacksOf(["Pulumi.yaml", "Pulumi.local.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
        /^istio-mesh ci: no environment stack \(Pulumi.<stack>.yaml\) in \S+istio-mesh-stacks-\S+$/m,
    );
});
