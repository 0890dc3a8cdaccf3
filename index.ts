// The program: read and validate the stack config, make the release data local,
// check the cluster and the stack's last deployment (preflight), then build the
// mesh and export what it says of itself. It is one user of the package's exports:
// `istio-mesh/prepare` (components/prepare.ts) first, and `istio-mesh`
// (components/index.ts) only for a valid config, so a typo or a failed download is
// reported without loading the Kubernetes SDK.
import * as pulumi from "@pulumi/pulumi";
import {
    findProjectDir,
    GRAFANA_PASSWORD_KEY,
    parseStackConfig,
    projectConfigKeys,
    releaseSources,
    resolveReleaseData,
} from "./components/prepare";
import { providerCluster } from "./components/cluster/providerCluster";
import { runPreflight, userCheck, userCheckAsync } from "./components/preflight";
import { meshOutputs } from "./components/status/outputs";

// Stack traces formatted by V8 itself, not by the source-map-support hook the Pulumi
// runner installs. The SDK takes a full stack trace for every resource it registers
// and for every promise it tracks; the hook maps each frame through source maps
// (this program ships none: tsconfig.build.json), and a CPU profile of a no-op
// preview put a tenth of the program's CPU there. What changes: the SDK's own
// frames in an error's stack name its .js files instead of its .ts sources.
Reflect.deleteProperty(Error, "prepareStackTrace");

export = async () => {
    const projectDir = findProjectDir(__dirname);
    const parsed = userCheck(() => parseStackConfig(projectConfigKeys(pulumi.runtime.allConfig()), projectDir));
    // Charts and addon manifests on disk before the first resource: an unreachable
    // download fails here, naming it and the mirror setting, with the cluster untouched.
    const { config, origins } = await userCheckAsync(() => resolveReleaseData(parsed, { baseDir: projectDir }));
    for (const o of origins) {
        const fetched = o.downloaded.length > 0 ? `, downloaded now: ${o.downloaded.join(", ")}` : "";
        await pulumi.log.info(`${o.setting}: ${o.from} ${o.directory}${fetched}`);
    }
    const cluster = providerCluster();
    const stackName = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const preflight = await runPreflight(config, { stackName, cluster });

    // The Kubernetes SDK is loaded only for a valid config: a typo is reported without paying for it.
    const { IstioMesh } = await import("./components");
    // The parser checked the password but keeps no copy: read here as a Pulumi secret,
    // it stays encrypted in the state and masked in every log.
    const grafanaAdminPassword = config.addons.grafanaAdminFromSecret
        ? new pulumi.Config().requireSecret(GRAFANA_PASSWORD_KEY)
        : undefined;
    const mesh = new IstioMesh("istio", {
        config,
        declaredSources: parsed,
        grafanaAdminPassword,
        cluster,
        ...preflight,
    });
    return {
        ...meshOutputs(mesh),
        // What the policy pack judges the stack by: its declared environment, and
        // every source of release data as the stack config sets it.
        environment: parsed.environment ?? "",
        releaseSources: releaseSources(parsed),
    };
};
