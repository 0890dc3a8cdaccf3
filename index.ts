// The program reads and validates the stack config, makes the release data
// local, refuses an unsupported upgrade path, and builds the mesh. It is one user
// of the package's exports: `istio-mesh/prepare` (components/prepare.ts) first, and
// `istio-mesh` (components/index.ts) only for a valid config, so a typo or a failed
// download is reported without loading the Kubernetes SDK.
import * as pulumi from "@pulumi/pulumi";
import {
    checkUpgradePath,
    findProjectDir,
    GRAFANA_PASSWORD_KEY,
    parseStackConfig,
    parseVersion,
    projectConfigKeys,
    resolveReleaseData,
    StackConfig,
    UpgradeKind,
} from "./components/prepare";

/** The Istio version this stack deployed last, read from its own outputs. */
async function deployedVersion(): Promise<string | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const details = await self.getOutputDetails("version");
    return typeof details.value === "string" ? details.value : undefined;
}

/**
 * An error that is the user's to fix (a ConfigError listing every problem of the stack
 * config, a ReleaseDataError listing every failed download, the upgrade path's Error)
 * as a RunError, which prints the message alone, without a stack trace.
 */
function userError(e: unknown): unknown {
    if (!(e instanceof Error)) return e;
    // No stack at all: formatting one makes the SDK's source-map support read and
    // parse every loaded module's source map, seconds before the message shows.
    Error.stackTraceLimit = 0;
    return new pulumi.RunError(e.message);
}

function userCheck<T>(check: () => T): T {
    try {
        return check();
    } catch (e) {
        throw userError(e);
    }
}

async function userCheckAsync<T>(check: () => Promise<T>): Promise<T> {
    try {
        return await check();
    } catch (e) {
        throw userError(e);
    }
}

export = async () => {
    const projectDir = findProjectDir(__dirname);
    const parsed: StackConfig = userCheck(() =>
        parseStackConfig(projectConfigKeys(pulumi.runtime.allConfig()), projectDir),
    );
    // Charts and addon manifests on disk before the first resource: an unreachable
    // download fails here, naming it and the mirror setting, with the cluster untouched.
    const { config, origins } = await userCheckAsync(() => resolveReleaseData(parsed, { baseDir: projectDir }));
    for (const o of origins) {
        const fetched = o.downloaded.length > 0 ? `, downloaded now: ${o.downloaded.join(", ")}` : "";
        await pulumi.log.info(`${o.setting}: ${o.from} ${o.directory}${fetched}`);
    }
    const deployed = await deployedVersion();
    const upgrade: UpgradeKind = userCheck(() =>
        checkUpgradePath(deployed ? parseVersion(deployed) : undefined, config.version, config.upgradeStrategy),
    );
    // Said in the log, not exported: an output that differs between two runs of the
    // same config would make every re-apply look like a change.
    await pulumi.log.info(
        upgrade === "install"
            ? `installing Istio ${config.version.text}`
            : `Istio ${deployed} -> ${config.version.text}: ${upgrade === "none" ? "no version change" : `${upgrade} (${config.upgradeStrategy})`}`,
    );

    // The Kubernetes SDK is loaded only for a valid config: a typo is reported
    // without paying for it.
    const { IstioMesh } = await import("./components");
    // The parser checked the password but keeps no copy: read here as a Pulumi secret,
    // it stays encrypted in the state and masked in every log.
    const grafanaAdminPassword = config.addons.grafanaAdminFromSecret
        ? new pulumi.Config().requireSecret(GRAFANA_PASSWORD_KEY)
        : undefined;
    const mesh = new IstioMesh("istio", { config, grafanaAdminPassword });
    return {
        version: mesh.version,
        profile: mesh.profile,
        revision: mesh.revision,
        namespace: mesh.namespace,
        components: mesh.components,
        crds: mesh.crds,
        gateways: mesh.gateways,
        addonUrls: mesh.addonUrls,
        injectionNamespaces: mesh.injectionNamespaces,
    };
};
