// `node bin/scripts/release-data.js <stack>`: the release data check of the program
// (components/releases.ts), run by `npm run up` before the toolchain and the cluster,
// so that a missing download stops it in seconds, not after a toolchain build or a
// cluster start. Reads the stack file's settings, makes the charts and addon
// manifests local (mirror, cache or download) and prints where they are; exits 1
// with the program's own message when the config or a download fails.
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import {
    ConfigError,
    parseStackConfig,
    projectConfigKeys,
    ReleaseDataError,
    resolveReleaseData,
} from "../components/prepare";

const projectDir = path.resolve(__dirname, "../..");

async function main(stack: string): Promise<void> {
    const file = yaml.load(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8")) as {
        config?: Record<string, unknown>;
    } | null;
    const parsed = parseStackConfig(projectConfigKeys(file?.config ?? {}), projectDir);
    const { origins } = await resolveReleaseData(parsed, { baseDir: projectDir });
    for (const o of origins) {
        const fetched = o.downloaded.length > 0 ? `, downloaded now: ${o.downloaded.join(", ")}` : "";
        console.log(`release data: ${o.setting}: ${o.from} ${o.directory}${fetched}`);
    }
}

main(process.argv[2] ?? "local").catch((e: unknown) => {
    // The user's to fix: the message alone. Anything else: with its stack.
    const userError = e instanceof ConfigError || e instanceof ReleaseDataError;
    console.error(`istio-mesh: ${userError ? (e as Error).message : e instanceof Error ? e.stack : String(e)}`);
    process.exit(1);
});
