// The program reads and validates the stack config, refuses an unsupported
// upgrade path, and builds the mesh. Everything else lives in components/.
import * as pulumi from "@pulumi/pulumi";
import {
    findProjectDir,
    GRAFANA_PASSWORD_KEY,
    parseStackConfig,
    projectConfigKeys,
    StackConfig,
} from "./components/config";
import { checkUpgradePath, parseVersion, UpgradeKind } from "./components/version";

/** The Istio version this stack deployed last, read from its own outputs. */
async function deployedVersion(): Promise<string | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const details = await self.getOutputDetails("version");
    return typeof details.value === "string" ? details.value : undefined;
}

/** Runs a check whose errors are the user's to fix: a RunError prints the message alone, without a stack trace. */
function userCheck<T>(check: () => T): T {
    try {
        return check();
    } catch (e) {
        // A ConfigError lists every problem of the stack config; an Error, the upgrade path's.
        if (e instanceof Error) {
            // No stack at all: formatting one makes the SDK's source-map support read and
            // parse every loaded module's source map, seconds before the message shows.
            Error.stackTraceLimit = 0;
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}

export = async () => {
    const config: StackConfig = userCheck(() =>
        parseStackConfig(projectConfigKeys(pulumi.runtime.allConfig()), findProjectDir(__dirname)),
    );
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
    const { IstioMesh } = await import("./components/mesh");
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
