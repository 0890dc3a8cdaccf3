import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { KubeconfigSource } from "../cluster/kubeconfig";
import type { MigrationArgs, MigrationResult } from "./namespaceMigration";

/**
 * The compiled migration module, loaded by absolute path: a dynamic provider runs
 * in a process of its own, from its serialized source, where relative imports
 * mean nothing.
 */
const MIGRATION_MODULE = path.join(__dirname, "namespaceMigration");

type MigrationInputs = MigrationArgs;
/** What the state keeps: the inputs but the cluster (its kubeconfig can hold credentials), and the result. */
type MigrationOutputs = Omit<MigrationInputs, "cluster"> & MigrationResult;

/** Only a change of the revision restarts anything: batch size, timeout and cluster settings are how, not what. */
function revisionChanged(olds: MigrationOutputs, news: MigrationInputs): boolean {
    return olds.revision !== news.revision || olds.namespace !== news.namespace;
}

function outputs(inputs: MigrationInputs, result: MigrationResult): MigrationOutputs {
    return {
        namespace: inputs.namespace,
        revision: inputs.revision,
        batchSize: inputs.batchSize,
        timeoutSeconds: inputs.timeoutSeconds,
        ...result,
    };
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
        const migration = require(MIGRATION_MODULE) as typeof import("./namespaceMigration");
        const result = await migration.migrateNamespace(inputs);
        return { id: inputs.namespace, outs: outputs(inputs, result) };
    },
    async update(
        _id: string,
        _olds: MigrationOutputs,
        news: MigrationInputs,
    ): Promise<pulumi.dynamic.UpdateResult<MigrationOutputs>> {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(MIGRATION_MODULE) as typeof import("./namespaceMigration");
        const result = await migration.migrateNamespace(news);
        return { outs: outputs(news, result) };
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
    /** How long one batch may take to be ready again (and one eviction may stay refused). @default 600 */
    timeoutSeconds?: number;
    /** The cluster: the Kubernetes provider's settings; kept in the state as a secret. */
    cluster: KubeconfigSource;
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
        super(
            provider,
            name,
            {
                namespace: args.namespace,
                revision: args.revision,
                batchSize: args.batchSize ?? 1,
                timeoutSeconds: args.timeoutSeconds ?? 600,
                // A path or contents, decided only where it is read: encrypted in the state either way.
                cluster: pulumi.secret(args.cluster),
                restarted: undefined,
                cannotRestart: undefined,
            },
            opts,
            "istio-mesh",
            "SidecarMigration",
        );
    }
}
