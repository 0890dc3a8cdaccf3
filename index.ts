// The program reads and validates the stack config, makes the release data
// local, refuses an unsupported upgrade path, and builds the mesh. It is one user
// of the package's exports: `istio-mesh/prepare` (components/prepare.ts) first, and
// `istio-mesh` (components/index.ts) only for a valid config, so a typo or a failed
// download is reported without loading the Kubernetes SDK.
import * as pulumi from "@pulumi/pulumi";
import {
    checkUpgradePath,
    ConfigError,
    findProjectDir,
    GRAFANA_PASSWORD_KEY,
    missingGatewayNamespaces,
    parseStackConfig,
    parseVersion,
    projectConfigKeys,
    releaseSources,
    resolveReleaseData,
    StackConfig,
    UpgradeKind,
} from "./components/prepare";
import { KubeClient } from "./components/cluster/kube";
import { providerCluster } from "./components/cluster/providerCluster";
import {
    addonClusterObjects,
    foreignObjectsRefusal,
    judgeOwnership,
    OwnershipInventory,
    readOwnershipInventory,
} from "./components/preflight/ownership";
import { randomUUID } from "crypto";
import {
    DeployedEnrollment,
    describeMigrations,
    removalRefusal,
    revisionUsers,
} from "./components/preflight/revisionUsage";

/** This stack's fully qualified name. */
const stackName = () => `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;

/** What this stack deployed last, read from its own outputs (all undefined on a first install). */
interface LastDeployment {
    version?: string;
    revision?: string;
    revisions?: { name: string; version: string }[];
    istiodResources?: Record<string, string>;
    namespaceRevisions?: DeployedEnrollment[];
    namespaceOwned?: boolean;
    stackId?: string;
}

async function lastDeployment(): Promise<LastDeployment> {
    const self = new pulumi.StackReference(stackName());
    const keys = [
        "version",
        "revision",
        "revisions",
        "istiodResources",
        "namespaceRevisions",
        "namespaceOwned",
        "stackId",
    ] as const;
    const values = await Promise.all(keys.map((k) => self.getOutputDetails(k).then((d) => d.value as unknown)));
    return Object.fromEntries(keys.map((k, i) => [k, values[i]])) as LastDeployment;
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
    const last = await lastDeployment();
    const deployed = last.version;
    const upgrade: UpgradeKind = userCheck(() =>
        checkUpgradePath(deployed ? parseVersion(deployed) : undefined, config.version, config.upgradeStrategy),
    );
    // A revision keeps its name across upgrades only in place: one minor at a time.
    for (const revision of config.revisions) {
        const before = last.revisions?.find((r) => r.name === revision.name)?.version;
        if (before === undefined || before === revision.version.text) continue;
        userCheck(() =>
            checkUpgradePath(parseVersion(before), revision.version, "in-place", `revisions ${revision.name}`),
        );
    }
    // Said in the log, not exported: an output that differs between two runs of the
    // same config would make every re-apply look like a change.
    await pulumi.log.info(
        upgrade === "install"
            ? `installing Istio ${config.version.text}`
            : `Istio ${deployed} -> ${config.version.text}: ${upgrade === "none" ? "no version change" : `${upgrade} (${config.upgradeStrategy})`}`,
    );

    // Before anything changes: a control plane that still serves someone is not removed.
    const cluster = providerCluster();
    const deployedRevisions =
        last.revisions?.map((r) => r.name) ??
        (last.revision !== undefined ? [last.revision === "default" ? "" : last.revision] : []);
    const removed = deployedRevisions.filter((name) => !config.revisions.some((r) => r.name === name));
    const kube = new KubeClient(cluster);
    // The stack creates only its own namespace: a gateway's release in one the
    // cluster lacks would fail halfway through the update, so it is refused first.
    const gatewayNamespaces = new Set(config.gateways.map((g) => g.namespace).filter((n) => n !== config.namespace));
    const existingNamespaces = new Set<string>();
    for (const ns of gatewayNamespaces) {
        if (await userCheckAsync(() => kube.get(`/api/v1/namespaces/${ns}`))) existingNamespaces.add(ns);
    }
    const missingNamespaces = missingGatewayNamespaces(config.gateways, config.namespace, existingNamespaces);
    if (missingNamespaces.length > 0) {
        userCheck(() => {
            throw new ConfigError(missingNamespaces);
        });
    }
    if (removed.length > 0) {
        const refusal = removalRefusal(await revisionUsers(kube, removed));
        if (refusal)
            userCheck(() => {
                throw new Error(refusal);
            });
        await pulumi.log.info(
            `removing revision ${removed.map((r) => r || "default").join(", ")}: nothing uses it any more`,
        );
    }
    // Ownership, decided at every run from one read of the cluster: the stack's id
    // (generated at the first install, then kept in its outputs, so it moves with the
    // stack's state) is on everything it creates, and nothing another stack or tool
    // owns is taken over unless adoptExisting says so.
    const stack = { id: last.stackId ?? randomUUID(), name: stackName() };
    if (last.stackId === undefined)
        await pulumi.log.info(`this stack's id: ${stack.id} (set on every object it creates)`);
    const inventory = await readOwnershipInventory(kube, config.namespace).catch((e: unknown) => {
        throw userError(
            new Error(
                `cannot read the cluster to decide what this stack owns (its namespace ${config.namespace}, Istio's cluster-wide objects, the Gateway API CRDs): ${e instanceof Error ? e.message : String(e)}`,
            ),
        );
    });
    const ownership = userCheck(() =>
        judgeOwnership(inventory, {
            stackId: stack.id,
            namespace: config.namespace,
            adoptExisting: config.adoptExisting,
            ...(last.version !== undefined && last.stackId === undefined
                ? { legacy: last.namespaceOwned !== undefined ? { namespaceOwned: last.namespaceOwned } : {} }
                : {}),
            addonObjects: addonClusterObjects(config.addonSource, config.addons.enabled),
        }),
    );
    const refusal = foreignObjectsRefusal(ownership.foreign);
    if (refusal) {
        userCheck(() => {
            throw new Error(refusal);
        });
    }
    if (ownership.namespaceNote && last.namespaceOwned !== false) await pulumi.log.info(ownership.namespaceNote);
    for (const note of ownership.notes) await pulumi.log.info(note);
    const namespaceOwned = ownership.namespaceOwned;
    // Workloads are read (per labelled namespace: pods, ReplicaSets, workloads) only
    // when this run can move sidecars: a revision removed, or a namespace whose
    // revision or restartOnChange differs from what the last deployment recorded.
    // A re-apply or an unrelated change reads nothing.
    const migrating =
        removed.length > 0 ||
        config.injectionNamespaces.some((n) => {
            const before = last.namespaceRevisions?.find((d) => d.name === n.name);
            return before?.revision !== n.revision || before.restartOnChange !== n.restartOnChange;
        });
    if (migrating && config.injectionNamespaces.length > 0 && last.version !== undefined) {
        const plan = await describeMigrations(
            kube,
            config.injectionNamespaces,
            last.namespaceRevisions ?? [],
            config.sidecarMigration.batchSize,
        );
        for (const line of plan.info) await pulumi.log.info(line);
        for (const line of plan.warnings) await pulumi.log.warn(line);
    }

    // The Kubernetes SDK is loaded only for a valid config: a typo is reported
    // without paying for it.
    const { IstioMesh } = await import("./components");
    // The parser checked the password but keeps no copy: read here as a Pulumi secret,
    // it stays encrypted in the state and masked in every log.
    const grafanaAdminPassword = config.addons.grafanaAdminFromSecret
        ? new pulumi.Config().requireSecret(GRAFANA_PASSWORD_KEY)
        : undefined;
    const gatewayApi = config.gatewayApi.enabled
        ? await gatewayApiPlan(
              config,
              inventory,
              (owner) =>
                  owner === stack.id ||
                  // Marked by this stack before it had an id, or by a stack a destroy removed (the CRDs stay).
                  (owner === stack.name && last.stackId === undefined) ||
                  (owner !== undefined && !owner.includes("/") && !ownership.installedStacks.includes(owner)),
          )
        : undefined;
    const mesh = new IstioMesh("istio", {
        config,
        declaredSources: parsed,
        grafanaAdminPassword,
        gatewayApi,
        cluster,
        namespaceOwned,
        stack,
        deployed: {
            istiodResources: last.istiodResources ?? {},
            // Deployed before the stack recorded its istiod resources: one revision, named `istio-istiod`.
            ...(last.istiodResources === undefined && last.revision !== undefined
                ? { legacyRevision: last.revision === "default" ? "" : last.revision }
                : {}),
        },
    });
    return {
        version: mesh.version,
        profile: mesh.profile,
        revision: mesh.revision,
        namespace: mesh.namespace,
        namespaceOwned: mesh.namespaceOwned,
        stackId: mesh.stackId,
        components: mesh.components,
        crds: mesh.crds,
        gateways: mesh.gateways,
        addonUrls: mesh.addonUrls,
        injectionNamespaces: mesh.injectionNamespaces,
        revisions: mesh.revisions,
        revisionTags: mesh.revisionTags,
        namespaceRevisions: mesh.namespaceRevisions,
        istiodResources: mesh.istiodResources,
        gatewayApiVersion: mesh.gatewayApiVersion,
        // What the policy pack judges the stack by: its declared environment, and
        // every source of release data as the stack config sets it.
        environment: parsed.environment ?? "",
        releaseSources: releaseSources(parsed),
    };
};

/** Decides what the stack does with the cluster's Gateway API CRDs (read with the ownership inventory); says it in the log. */
async function gatewayApiPlan(
    config: StackConfig,
    inventory: OwnershipInventory,
    ours: (owner: string | undefined) => boolean,
) {
    const { gatewayApiCrds, planGatewayApi } = await import("./components/preflight/gatewayApiPlan");
    const found = gatewayApiCrds(inventory.cluster.CustomResourceDefinition as Parameters<typeof gatewayApiCrds>[0]);
    const plan = userCheck(() => planGatewayApi(config.gatewayApi, config.version.text, found, ours));
    await (plan.action === "leave" && plan.warn ? pulumi.log.warn(plan.note) : pulumi.log.info(plan.note));
    return { plan };
}
