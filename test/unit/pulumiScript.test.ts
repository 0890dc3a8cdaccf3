// `npm run pulumi -- <args>` (scripts/pulumi.sh): the project's CLI, state and
// passphrase rules from any shell. A stand-in `pulumi` in a toolchain folder of the
// test's own records what it was started with, so nothing here touches a stack.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");
let toolchainDir: string;

beforeAll(() => {
    toolchainDir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-pulumi-sh-"));
    fs.mkdirSync(path.join(toolchainDir, "bin"));
    const fake = path.join(toolchainDir, "bin", "pulumi");
    // Answers `stack --show-name` as the CLI does for a selected stack, and prints
    // everything else it was given with the settings that reached it.
    fs.writeFileSync(
        fake,
        [
            "#!/usr/bin/env bash",
            'if [[ "$*" == "stack --show-name" ]]; then echo "${FAKE_SELECTED_STACK:-}"; exit 0; fi',
            'echo "args=$*"',
            'echo "passphrase=${PULUMI_CONFIG_PASSPHRASE-<unset>}"',
            'echo "backend=$PULUMI_BACKEND_URL"',
            'echo "cwd=$PWD"',
        ].join("\n") + "\n",
    );
    fs.chmodSync(fake, 0o755);
});

afterAll(() => fs.rmSync(toolchainDir, { recursive: true, force: true }));

/** scripts/pulumi.sh with `args`, no terminal, and no passphrase or backend from the caller's environment. */
function run(args: string[], env: Record<string, string> = {}) {
    const {
        PULUMI_CONFIG_PASSPHRASE: _p,
        PULUMI_CONFIG_PASSPHRASE_FILE: _f,
        PULUMI_BACKEND_URL: _b,
        ...rest
    } = process.env;
    void [_p, _f, _b];
    return spawnSync("bash", [path.join(projectDir, "scripts/pulumi.sh"), ...args], {
        encoding: "utf8",
        cwd: os.tmpdir(),
        env: { ...rest, ISTIO_MESH_TOOLCHAIN_DIR: toolchainDir, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 30_000,
    });
}

test("runs the toolchain's CLI in the project, on the project's state, with the local stack's empty passphrase", () => {
    const r = run(["config", "get", "istio-mesh:version", "--stack", "local"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("args=config get istio-mesh:version --stack local");
    expect(r.stdout).toContain("passphrase=\n");
    expect(r.stdout).toContain(`backend=file://${projectDir}/.pulumi-state`);
    expect(r.stdout).toContain(`cwd=${projectDir}`);
});

test("a real stack without a passphrase stops with the fix before the CLI runs, whether named or selected", () => {
    for (const args of [
        ["config", "--stack", "prod"],
        ["config", "-s", "prod"],
        ["config", "--stack=prod"],
        ["stack", "init", "staging"],
    ]) {
        const r = run(args);
        expect({ args, status: r.status, ran: r.stdout.includes("args=") }).toEqual({ args, status: 2, ran: false });
        expect(r.stderr).toMatch(/stack (prod|staging): no secrets passphrase; set PULUMI_CONFIG_PASSPHRASE/);
    }
    const selected = run(["config"], { FAKE_SELECTED_STACK: "prod" });
    expect(selected.status).toBe(2);
    expect(selected.stderr).toContain("stack prod: no secrets passphrase");
});

test("a real stack's own passphrase is passed on untouched", () => {
    const r = run(["config", "--stack", "prod"], { PULUMI_CONFIG_PASSPHRASE: "prod-secret" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("passphrase=prod-secret\n");
});

test("commands that read no secrets run without a passphrase", () => {
    for (const args of [["stack", "ls"], ["stack", "select", "prod"], ["version"]]) {
        const r = run(args, { FAKE_SELECTED_STACK: "prod" });
        expect({ args, status: r.status }).toEqual({ args, status: 0 });
        expect(r.stdout).toContain(`args=${args.join(" ")}`);
        expect(r.stdout).toContain("passphrase=<unset>");
    }
});

test("without arguments it prints its usage", () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage: npm run pulumi -- <pulumi arguments>");
});
