// The stack's outputs, declared once: the mesh registers them (istioMesh.ts), the
// program exports them (index.ts), the next run reads part of them back as its
// last deployment (preflight/), and `npm run status` and the policy pack read them.
// Everything else derives its list of keys from MESH_OUTPUTS.
import type * as pulumi from "@pulumi/pulumi";
import type { NamespaceEnrollment, StackConfig } from "../config";
import type { PlanEntry } from "../charts/plan";
import type { ComponentVersion } from "./installation";

export interface GatewayPortStatus {
    name: string;
    port: number;
    nodePort?: number;
}

export interface GatewayStatus {
    name: string;
    kind: string;
    namespace: string;
    serviceType: string;
    ports: GatewayPortStatus[];
    addresses: string[];
}

export interface RevisionStatus {
    /** "" for the unnamed default revision. */
    name: string;
    version: string;
    /** istiod's Deployment. */
    istiod: string;
}

/** What the mesh says of itself, as the stack's outputs carry it. */
export interface MeshOutputValues {
    version: string;
    profile: string;
    revision: string;
    namespace: string;
    /** The stack created the control plane namespace and deletes it on destroy if nothing foreign is in it. */
    namespaceOwned: boolean;
    /** The id every object of the stack carries (preflight/ownership.ts). */
    stackId: string;
    /** Each entry of the install plan, with the source as the stack config names it. */
    components: ComponentVersion[];
    crds: string[];
    gateways: GatewayStatus[];
    addonUrls: Record<string, string>;
    injectionNamespaces: string[];
    revisions: RevisionStatus[];
    revisionTags: Record<string, string>;
    namespaceRevisions: NamespaceEnrollment[];
    /** Revision name -> the resource name of its Istiod component, which must never change. */
    istiodResources: Record<string, string>;
    /** The Gateway API version the stack applies, or finds and leaves; "" when it was not looked at. */
    gatewayApiVersion: string;
}

/** The mesh's outputs, in the order the stack exports them. */
export const MESH_OUTPUTS = [
    "version",
    "profile",
    "revision",
    "namespace",
    "namespaceOwned",
    "stackId",
    "components",
    "crds",
    "gateways",
    "addonUrls",
    "injectionNamespaces",
    "revisions",
    "revisionTags",
    "namespaceRevisions",
    "istiodResources",
    "gatewayApiVersion",
] as const satisfies readonly (keyof MeshOutputValues)[];

// Every field of MeshOutputValues is listed: a field added to one and not the other fails to compile.
const everyOutputListed: Exclude<keyof MeshOutputValues, (typeof MESH_OUTPUTS)[number]> extends never ? true : never =
    true;
void everyOutputListed;

/** The mesh's outputs as its fields hold them (some resolve only once the cluster answers). */
export type MeshOutputs = { readonly [K in keyof MeshOutputValues]: pulumi.Input<MeshOutputValues[K]> };

/** The outputs of a mesh (or anything holding them), keyed as the stack exports them. */
export function meshOutputs(mesh: MeshOutputs): MeshOutputs {
    return Object.fromEntries(MESH_OUTPUTS.map((key) => [key, mesh[key]])) as unknown as MeshOutputs;
}

/** The outputs a run reads back from the stack's last deployment, to agree with it. */
export const LAST_DEPLOYMENT_OUTPUTS = [
    "version",
    "revision",
    "revisions",
    "istiodResources",
    "namespaceRevisions",
    "namespaceOwned",
    "stackId",
] as const satisfies readonly (typeof MESH_OUTPUTS)[number][];

/** What this stack deployed last, read from its own outputs (all undefined on a first install). */
export type LastDeployment = Partial<Pick<MeshOutputValues, (typeof LAST_DEPLOYMENT_OUTPUTS)[number]>>;

/** The release data sources as the stack config names them (IstioMeshArgs.declaredSources). */
type DeclaredSources = Pick<StackConfig, "chartSource" | "chartSources" | "addonSource">;

/** The `components` output: each entry of the plan, with its source as the stack config names it. */
export function componentVersions(plan: readonly PlanEntry[], declared: DeclaredSources): ComponentVersion[] {
    return plan.map((e) => ({
        component: e.component,
        chart: e.chart,
        version: e.version,
        namespace: e.namespace,
        ...(e.workload ? { workload: e.workload } : {}),
        source:
            e.chart === "addon manifest"
                ? declared.addonSource
                : (declared.chartSources[e.version] ?? declared.chartSource),
    }));
}
