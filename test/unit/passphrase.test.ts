// The scripts never encrypt a real environment's secrets with the empty passphrase
// that the local cluster's stacks use.
import { spawnSync } from "child_process";
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
