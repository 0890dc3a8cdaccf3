// The program reads and validates the stack config, refuses an unsupported
// upgrade path, and builds the mesh. Everything else lives in components/.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, CONFIG_NAMESPACE, parseStackConfig } from "./components/config";
import { IstioMesh } from "./components/mesh";
import { checkUpgradePath, parseVersion } from "./components/version";

/** The stack's config keys, without the `istio-mesh:` prefix. */
function stackConfigKeys(): Record<string, string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(pulumi.runtime.allConfig())
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

/** The Istio version this stack deployed last, read from its own outputs. */
async function deployedVersion(): Promise<string | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const details = await self.getOutputDetails("version");
    return typeof details.value === "string" ? details.value : undefined;
}

export = async () => {
    let config;
    try {
        config = parseStackConfig(stackConfigKeys(), __dirname);
    } catch (e) {
        // A RunError prints its message alone, without a stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
    const deployed = await deployedVersion();
    let upgrade;
    try {
        upgrade = checkUpgradePath(
            deployed ? parseVersion(deployed) : undefined,
            config.version,
            config.upgradeStrategy,
        );
    } catch (e) {
        throw new pulumi.RunError((e as Error).message);
    }

    // Said in the log, not exported: an output that differs between two runs of the
    // same config would make every re-apply look like a change.
    await pulumi.log.info(
        upgrade === "install"
            ? `installing Istio ${config.version.text}`
            : `Istio ${deployed} -> ${config.version.text}: ${upgrade === "none" ? "no version change" : `${upgrade} (${config.upgradeStrategy})`}`,
    );

    const mesh = new IstioMesh("istio", { config });
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
