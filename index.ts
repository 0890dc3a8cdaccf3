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

/** This stack's fully qualified name. */
const stackName = () => `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;

/** The Istio version this stack deployed last, read from its own outputs. */
async function deployedVersion(): Promise<string | undefined> {
    const self = new pulumi.StackReference(stackName());
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
    const gatewayApi = config.gatewayApi.enabled ? await gatewayApiPlan(config) : undefined;
    const mesh = new IstioMesh("istio", { config, grafanaAdminPassword, gatewayApi });
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
        gatewayApiVersion: mesh.gatewayApiVersion,
    };
};

/** Reads the cluster's Gateway API CRDs and decides what the stack does with them; says it in the log. */
async function gatewayApiPlan(config: StackConfig) {
    const { findGatewayApiCrds, planGatewayApi } = await import("./components/gatewayApiPlan");
    const k8sConfig = new pulumi.Config("kubernetes");
    const found = await findGatewayApiCrds(
        k8sConfig.get("kubeconfig"),
        k8sConfig.get("context"),
        findProjectDir(__dirname),
    ).catch((e: unknown) => {
        Error.stackTraceLimit = 0;
        throw new pulumi.RunError(
            `istio-mesh:gatewayApi: cannot read the cluster's Gateway API CRDs to decide whether to install or upgrade them: ${e instanceof Error ? e.message : String(e)}; if another tool owns them, set istio-mesh:gatewayApi.enabled: false`,
        );
    });
    const plan = userCheck(() => planGatewayApi(config.gatewayApi, config.version.text, found, stackName()));
    await (plan.action === "leave" && plan.warn ? pulumi.log.warn(plan.note) : pulumi.log.info(plan.note));
    return { plan, owner: stackName() };
}
