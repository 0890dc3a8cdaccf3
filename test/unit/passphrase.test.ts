// The scripts never encrypt a real environment's secrets with the empty passphrase
// that the local cluster's stacks use.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");

function status(stack: string, env: Record<string, string | undefined>) {
    const { PULUMI_CONFIG_PASSPHRASE: _unset, PULUMI_CONFIG_PASSPHRASE_FILE: _unsetFile, ...rest } = process.env;
    void _unset;
    void _unsetFile;
    return spawnSync("bash", [path.join(projectDir, "scripts/status.sh"), "--stack", stack], {
        encoding: "utf8",
        env: { ...rest, ...env },
        timeout: 60_000,
    });
}

const REFUSAL = "istio-mesh: stack prod: no secrets passphrase; set PULUMI_CONFIG_PASSPHRASE";

test("a non-local stack without a passphrase is refused, with the fix, before pulumi runs", () => {
    const r = status("prod", {});
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(REFUSAL);
    expect(r.stderr).toContain("pulumi stack change-secrets-provider");
});

test("a non-local stack with its passphrase gets past the check", () => {
    const r = status("prod", { PULUMI_CONFIG_PASSPHRASE: "prod-secret" });
    expect(r.stderr).not.toContain("no secrets passphrase");
});

// Issue 22: the empty passphrase goes to the stacks that declare themselves local in
// their stack file, never by name. scripts/env.sh is run from a copy beside stack
// files of the test's own, so the checkout's stack files are neither read nor touched.
describe("the empty passphrase only for stacks that declare themselves local", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-passphrase-"));
        fs.mkdirSync(path.join(dir, "scripts"));
        fs.copyFileSync(path.join(projectDir, "scripts/env.sh"), path.join(dir, "scripts/env.sh"));
        const stackFile = (name: string, body: string) => fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), body);
        stackFile("declared", 'config:\n  istio-mesh:version: "1.29.6"\n  istio-mesh:environment: local\n');
        stackFile("quoted", 'config:\n  istio-mesh:environment: "local"  # the local cluster\n');
        stackFile("e2e-prod", "config:\n  istio-mesh:environment: production\n");
        stackFile("local-ish", "config:\n  istio-mesh:environment: localhost\n");
        stackFile("commented", 'config:\n  # istio-mesh:environment: local\n  istio-mesh:version: "1.29.6"\n');
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    function passphrase(stack: string) {
        const { PULUMI_CONFIG_PASSPHRASE: _unset, PULUMI_CONFIG_PASSPHRASE_FILE: _unsetFile, ...rest } = process.env;
        void _unset;
        void _unsetFile;
        return spawnSync(
            "bash",
            [
                "-c",
                'source "$1/scripts/env.sh" && use_stack_passphrase "$2" && echo "passphrase:[${PULUMI_CONFIG_PASSPHRASE-unset}]"',
                "_",
                dir,
                stack,
            ],
            { encoding: "utf8", env: { ...rest, ISTIO_MESH_RELEASE_MIRROR: "" } },
        );
    }

    test.each(["declared", "quoted"])("%s: declared local, the empty passphrase", (stack) => {
        const r = passphrase(stack);
        expect(r.stdout).toBe("passphrase:[]\n");
        expect(r.status).toBe(0);
    });

    test.each(["e2e-prod", "local-ish", "commented", "e2e", "smoke", "bench", "local"])(
        "%s: not declared local (whatever the name), refused with the fix",
        (stack) => {
            const r = passphrase(stack);
            expect(r.status).toBe(1);
            expect(r.stdout).toBe("");
            expect(r.stderr).toBe(
                `istio-mesh: stack ${stack}: no secrets passphrase; set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or give the stack a secrets provider (pulumi stack change-secrets-provider). Only stacks whose Pulumi.${stack}.yaml declares istio-mesh:environment: local use the empty passphrase.\n`,
            );
        },
    );

    test("the shipped stacks: local declares itself local, dev and prod do not", () => {
        const shipped = (name: string) => fs.readFileSync(path.join(projectDir, `Pulumi.${name}.yaml`), "utf8");
        expect(shipped("local")).toMatch(/^  istio-mesh:environment: local$/m);
        expect(shipped("dev")).toMatch(/^  istio-mesh:environment: development$/m);
        expect(shipped("prod")).toMatch(/^  istio-mesh:environment: production$/m);
    });
});
