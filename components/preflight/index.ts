// What runs against the cluster before the first resource is registered: the
// stack's last deployment read back from its own outputs, the upgrade path, the
// gateways' namespaces, the revisions being removed and who still uses them, the
// ownership of what the stack would create, the sidecar migrations it will start,
// and the Gateway API CRDs. Each refusal is the user's to fix, so it is a RunError
// (the message alone). Light: the Kubernetes SDK is not loaded here.
import * as pulumi from "@pulumi/pulumi";
import { randomUUID } from "crypto";
import { ConfigError, missingGatewayNamespaces, StackConfig } from "../config";
import { checkUpgradePath, parseVersion, UpgradeKind } from "../config/version";
import { KubeClient, KubeconfigSource } from "../cluster/kube";
import { LAST_DEPLOYMENT_OUTPUTS, LastDeployment } from "../status/outputs";
import type { GatewayApiPlan } from "./gatewayApiPlan";
import {
    addonClusterObjects,
    foreignObjectsRefusal,
    judgeOwnership,
    OwnershipInventory,
    readOwnershipInventory,
} from "./ownership";
import { describeMigrations, removalRefusal, revisionUsers } from "./revisionUsage";

/**
 * An error that is the user's to fix (a ConfigError listing every problem of the stack
 * config, a ReleaseDataError listing every failed download, the upgrade path's Error)
 * as a RunError, which prints the message alone, without a stack trace.
 */
export function userError(e: unknown): unknown {
    if (!(e instanceof Error)) return e;
    // No stack at all: formatting one makes the SDK's source-map support read and
    // parse every loaded module's source map, seconds before the message shows.
    Error.stackTraceLimit = 0;
    return new pulumi.RunError(e.message);
}

export function userCheck<T>(check: () => T): T {
    try {
        return check();
    } catch (e) {
        throw userError(e);
    }
}

export async function userCheckAsync<T>(check: () => Promise<T>): Promise<T> {
    try {
        return await check();
    } catch (e) {
        throw userError(e);
    }
}

/** What the checks decided, in the shape IstioMeshArgs takes it. */
export interface Preflight {
    /** This stack's id (kept in its outputs from the first install) and name. */
    stack: { id: string; name: string };
    /** The stack owns (created) the control plane namespace. */
    namespaceOwned: boolean;
    /** What the stack does with the Gateway API CRDs; undefined with gatewayApi.enabled false. */
    gatewayApi?: { plan: GatewayApiPlan };
    /** The resource names the last deployment gave its istiods. */
    deployed: { istiodResources: Record<string, string>; legacyRevision?: string };
}

/** What this stack deployed last, read from its own outputs (all undefined on a first install). */
export async function lastDeployment(stackName: string): Promise<LastDeployment> {
    const self = new pulumi.StackReference(stackName);
    const values = await Promise.all(
        LAST_DEPLOYMENT_OUTPUTS.map((k) => self.getOutputDetails(k).then((d) => d.value as unknown)),
    );
    return Object.fromEntries(LAST_DEPLOYMENT_OUTPUTS.map((k, i) => [k, values[i]])) as LastDeployment;
}

/**
 * Every check of `config` (one cluster's) against the cluster and the stack's last
 * deployment; refuses, as a RunError, what must not happen, and says in the log what will.
 */
export async function runPreflight(
    config: StackConfig,
    { stackName, cluster }: { stackName: string; cluster: KubeconfigSource },
): Promise<Preflight> {
    const last = await lastDeployment(stackName);
    await pulumi.log.info(upgradeLine(config, last.version, checkUpgrades(config, last)));

    // Before anything changes: a control plane that still serves someone is not removed.
    const deployedRevisions =
        last.revisions?.map((r) => r.name) ??
        (last.revision !== undefined ? [last.revision === "default" ? "" : last.revision] : []);
    const removed = deployedRevisions.filter((name) => !config.revisions.some((r) => r.name === name));
    const kube = new KubeClient(cluster);
    await checkGatewayNamespaces(config, kube);
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
    const stack = { id: last.stackId ?? randomUUID(), name: stackName };
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
    await logMigrations(config, last, removed, kube);

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
    return {
        stack,
        namespaceOwned: ownership.namespaceOwned,
        ...(gatewayApi ? { gatewayApi } : {}),
        deployed: {
            istiodResources: last.istiodResources ?? {},
            // Deployed before the stack recorded its istiod resources: one revision, named `istio-istiod`.
            ...(last.istiodResources === undefined && last.revision !== undefined
                ? { legacyRevision: last.revision === "default" ? "" : last.revision }
                : {}),
        },
    };
}

/** Refuses an unsupported upgrade of the stack's version, or of a revision's (in place: one minor at a time). */
function checkUpgrades(config: StackConfig, last: LastDeployment): UpgradeKind {
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
    return upgrade;
}

/**
 * What this run does to the version, for the log. Said in the log, not exported: an
 * output that differs between two runs of the same config would make every re-apply
 * look like a change.
 */
function upgradeLine(config: StackConfig, deployed: string | undefined, upgrade: UpgradeKind): string {
    return upgrade === "install"
        ? `installing Istio ${config.version.text}`
        : `Istio ${deployed} -> ${config.version.text}: ${upgrade === "none" ? "no version change" : `${upgrade} (${config.upgradeStrategy})`}`;
}

/**
 * The stack creates only its own namespace: a gateway's release in one the cluster
 * lacks would fail halfway through the update, so it is refused first.
 */
async function checkGatewayNamespaces(config: StackConfig, kube: KubeClient): Promise<void> {
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
}

/**
 * Says what the sidecar migrations of this run will restart. Workloads are read (per
 * labelled namespace: pods, ReplicaSets, workloads) only when this run can move
 * sidecars: a revision removed, or a namespace whose revision or restartOnChange
 * differs from what the last deployment recorded. A re-apply or an unrelated change
 * reads nothing.
 */
async function logMigrations(
    config: StackConfig,
    last: LastDeployment,
    removed: string[],
    kube: KubeClient,
): Promise<void> {
    const migrating =
        removed.length > 0 ||
        config.injectionNamespaces.some((n) => {
            const before = last.namespaceRevisions?.find((d) => d.name === n.name);
            return before?.revision !== n.revision || before.restartOnChange !== n.restartOnChange;
        });
    if (!migrating || config.injectionNamespaces.length === 0 || last.version === undefined) return;
    const plan = await describeMigrations(
        kube,
        config.injectionNamespaces,
        last.namespaceRevisions ?? [],
        config.sidecarMigration.batchSize,
    );
    for (const line of plan.info) await pulumi.log.info(line);
    for (const line of plan.warnings) await pulumi.log.warn(line);
}

/** Decides what the stack does with the cluster's Gateway API CRDs (read with the ownership inventory); says it in the log. */
async function gatewayApiPlan(
    config: StackConfig,
    inventory: OwnershipInventory,
    ours: (owner: string | undefined) => boolean,
): Promise<{ plan: GatewayApiPlan }> {
    const { gatewayApiCrds, planGatewayApi } = await import("./gatewayApiPlan");
    const found = gatewayApiCrds(inventory.cluster.CustomResourceDefinition as Parameters<typeof gatewayApiCrds>[0]);
    const plan = userCheck(() => planGatewayApi(config.gatewayApi, config.version.text, found, ours));
    await (plan.action === "leave" && plan.warn ? pulumi.log.warn(plan.note) : pulumi.log.info(plan.note));
    return { plan };
}
