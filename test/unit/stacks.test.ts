// Every stack file shipped with the project is a valid configuration: a typo in
// an example stack would otherwise only show when someone deploys it.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { parseStackConfig, projectConfigKeys } from "../../components/config";

const projectDir = path.resolve(__dirname, "../..");
const stackFiles = fs
    .readdirSync(projectDir)
    .filter((f) => /^Pulumi\.[a-z0-9-]+\.yaml$/.test(f) && !/^Pulumi\.(e2e|smoke|bench)/.test(f));

function stackKeys(file: string): Record<string, unknown> {
    const doc = yaml.load(fs.readFileSync(path.join(projectDir, file), "utf8")) as { config: Record<string, unknown> };
    return projectConfigKeys(doc.config);
}

test("the project ships the local, dev and prod stacks", () => {
    expect(stackFiles.sort()).toEqual(["Pulumi.dev.yaml", "Pulumi.local.yaml", "Pulumi.prod.yaml"]);
});

test.each(stackFiles)("%s is a valid stack configuration", (file) => {
    expect(() => parseStackConfig(stackKeys(file), projectDir)).not.toThrow();
});
