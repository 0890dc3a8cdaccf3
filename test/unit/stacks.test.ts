// Every stack file shipped with the project is a valid configuration: a typo in
// an example stack would otherwise only show when someone deploys it. The shipped
// stacks are named here: a user's own stack (`pulumi stack init staging` writes
// Pulumi.staging.yaml) is theirs, not the project's, and changes nothing here.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { parseStackConfig, projectConfigKeys } from "../../components/config";

const projectDir = path.resolve(__dirname, "../..");
const stackFiles = ["Pulumi.dev.yaml", "Pulumi.local.yaml", "Pulumi.prod.yaml"];

function stackKeys(file: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(projectDir, file), "utf8")) as { config: Record<string, unknown> };
    return projectConfigKeys(doc.config);
}

test.each(stackFiles)("the project ships %s", (file) => {
    expect(fs.existsSync(path.join(projectDir, file))).toBe(true);
});

/** The secrets a deployer sets before the first `up`, as the stack file's comment says; they are not in the file. */
const SECRETS_SET_BEFORE_UP: Record<string, Record<string, string>> = {
    "Pulumi.dev.yaml": { grafanaAdminPassword: "set with pulumi config set --secret" },
};

test.each(stackFiles)("%s is a valid stack configuration", (file) => {
    expect(() => parseStackConfig({ ...stackKeys(file), ...SECRETS_SET_BEFORE_UP[file] }, projectDir)).not.toThrow();
});

test("dev exposes its addons over HTTPS only, behind a token, and refuses to deploy before Grafana's password is set", () => {
    const dev = stackKeys("Pulumi.dev.yaml");
    expect(() => parseStackConfig(dev, projectDir)).toThrow(
        "istio-mesh:grafanaAdminPassword: is required; Grafana is exposed (addons.expose.mode host)",
    );
    const config = parseStackConfig({ ...dev, ...SECRETS_SET_BEFORE_UP["Pulumi.dev.yaml"] }, projectDir);
    expect(config.addons.exposure).toMatchObject({
        mode: "host",
        tls: { credentialName: "addons-tls", insecureHttp: false },
        jwt: { issuer: "https://login.dev.example.com" },
    });
    expect(config.addons.access.anonymous).toBe(false);
    expect(config.addons.grafanaAdminFromSecret).toBe(true);
});

test("the local cluster's anonymous access is an explicit opt-in, on node ports, never by host name", () => {
    const local = parseStackConfig(stackKeys("Pulumi.local.yaml"), projectDir);
    expect(local.addons.exposure.mode).toBe("nodePort");
    expect(local.addons.access).toEqual({ anonymous: true, kialiWrite: false, fromNamespaces: [] });
});
