import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { MigrationArgs, MigrationResult } from "./migration";

/**
 * The compiled migration module, loaded by absolute path: a dynamic provider runs
 * in a process of its own, from its serialized source, where relative imports
 * mean nothing.
 */
const MIGRATION_MODULE = path.join(__dirname, "migration");

type MigrationInputs = MigrationArgs;
type MigrationOutputs = MigrationInputs & MigrationResult;

/** Only a change of the revision restarts anything: batch size, timeout and kubeconfig are how, not what. */
function revisionChanged(olds: MigrationInputs, news: MigrationInputs): boolean {
    return olds.revision !== news.revision || olds.namespace !== news.namespace;
}

const provider: pulumi.dynamic.ResourceProvider<MigrationInputs, MigrationOutputs> = {
    async diff(_id: string, olds: MigrationOutputs, news: MigrationInputs): Promise<pulumi.dynamic.DiffResult> {
        const changed = revisionChanged(olds, news);
        return {
            changes: changed,
            replaces: olds.namespace !== news.namespace ? ["namespace"] : [],
            deleteBeforeReplace: false,
        };
    },
    async create(inputs: MigrationInputs): Promise<pulumi.dynamic.CreateResult<MigrationOutputs>> {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(MIGRATION_MODULE) as typeof import("./migration");
        const result = await migration.migrateNamespace(inputs);
        return { id: inputs.namespace, outs: { ...inputs, ...result } };
    },
    async update(
        _id: string,
        _olds: MigrationOutputs,
        news: MigrationInputs,
    ): Promise<pulumi.dynamic.UpdateResult<MigrationOutputs>> {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(MIGRATION_MODULE) as typeof import("./migration");
        const result = await migration.migrateNamespace(news);
        return { outs: { ...news, ...result } };
    },
    // Destroying the stack restarts nothing and deletes nothing: the workloads are the user's.
    async delete(): Promise<void> {},
};

export interface SidecarMigrationArgs {
    /** The namespace whose workloads move. */
    namespace: string;
    /** The revision its sidecars must come from ("" for the unnamed default revision). */
    revision: string;
    /** Workloads restarted at once. @default 1 */
    batchSize?: number;
    /** How long one workload may take to be ready again. @default 600 */
    timeoutSeconds?: number;
    /** The cluster: the Kubernetes provider's kubeconfig (path or contents) and context. @default the provider's defaults */
    kubeconfig?: string;
    context?: string;
}

/**
 * Restarts a namespace's workloads onto the revision behind its tag when that
 * revision changes, in batches with a readiness wait between them: once per
 * change, never on a no-op `up` (the resource only updates when the revision
 * does) and never on destroy. Created for a namespace whose pods run another
 * revision, it moves them at once.
 */
export class SidecarMigration extends pulumi.dynamic.Resource {
    /** `Kind/name` of the workloads the last change restarted. */
    public readonly restarted!: pulumi.Output<string[]>;
    /** Pods on another revision that no restart moves (bare pods, Jobs). */
    public readonly cannotRestart!: pulumi.Output<string[]>;

    constructor(name: string, args: SidecarMigrationArgs, opts?: pulumi.CustomResourceOptions) {
        const inputs: MigrationInputs = {
            namespace: args.namespace,
            revision: args.revision,
            batchSize: args.batchSize ?? 1,
            timeoutSeconds: args.timeoutSeconds ?? 600,
            ...(args.kubeconfig !== undefined ? { kubeconfig: args.kubeconfig } : {}),
            ...(args.context !== undefined ? { context: args.context } : {}),
        };
        // A kubeconfig given as contents can hold a credential: kept encrypted in the state.
        const kubeconfig =
            inputs.kubeconfig !== undefined && inputs.kubeconfig.includes("\n")
                ? pulumi.secret(inputs.kubeconfig)
                : inputs.kubeconfig;
        super(
            provider,
            name,
            { ...inputs, kubeconfig, restarted: undefined, cannotRestart: undefined },
            opts,
            "istio-mesh",
            "SidecarMigration",
        );
    }
}
