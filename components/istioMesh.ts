import * as pulumi from "@pulumi/pulumi";
import { ObservabilityAddons } from "./addons/observability";
import { AmbientDataPlane } from "./dataPlane/ambientDataPlane";
import { IstioBase } from "./controlPlane/base";
import { IstioCni } from "./dataPlane/cni";
import { NamespaceEnrollment, StackConfig } from "./config";
import { IstioGateway } from "./dataPlane/gateway";
import { GatewayApiCrds } from "./controlPlane/gatewayApiCrds";
import { GatewayApiPlan } from "./preflight/gatewayApiPlan";
import { NamespaceInjectionLabel } from "./dataPlane/injectionLabel";
import { admissionReady, Istiod } from "./controlPlane/istiod";
import { KubeconfigSource } from "./cluster/kube";
import { providerCluster } from "./cluster/providerCluster";
import { RevisionTag } from "./upgrade/revisionTag";
import { SidecarMigration } from "./upgrade/sidecarMigration";
import { MeshMtlsPolicy } from "./dataPlane/mtlsPolicy";
import { ControlPlaneNamespace } from "./controlPlane/namespace";
import { SidecarRollout } from "./upgrade/sidecarRollout";
import { markStackIdentity, openTransformScope, TransformScope, withChildTransforms } from "./charts/transforms";
import { installPlan, PlanEntry, planEntries } from "./charts/plan";
import { Ztunnel } from "./dataPlane/ztunnel";
import type { ComponentVersion } from "./status/installation";
import { componentVersions, GatewayStatus, meshOutputs, MeshOutputs, RevisionStatus } from "./status/outputs";

export type { ComponentVersion } from "./status/installation";
export type { GatewayStatus, RevisionStatus } from "./status/outputs";

export interface IstioMeshArgs {
    /** The validated stack configuration (see config.ts). */
    config: StackConfig;
    /**
     * Grafana's admin password, a Pulumi secret, read from istio-mesh:grafanaAdminPassword
     * (set when config.addons.grafanaAdminFromSecret is). @default undefined
     */
    grafanaAdminPassword?: pulumi.Input<string>;
    /**
     * The release data sources as the stack config sets them, when `config` carries the
     * local mirror or cache directories that stand in for them (releases.ts). The
     * `components` output names these. @default config's own
     */
    declaredSources?: Pick<StackConfig, "chartSource" | "chartSources" | "addonSource">;
    /** What the stack deployed last, read from its outputs. @default a first install */
    deployed?: DeployedMesh;
    /**
     * The stack owns the control plane namespace: creates it, and deletes it on destroy
     * when nothing foreign is in it; false for one the stack did not create. @default true
     */
    namespaceOwned?: boolean;
    /**
     * This stack: its id, set on every object it creates (ownership.ts), and its name,
     * set beside it for messages. The istio-mesh program generates the id at the first
     * install and keeps it in its `stackId` output; a program of your own should do the
     * same. @default id `<project>.<stack>` (which a rename changes), name `<project>/<stack>`
     */
    stack?: { id: string; name: string };
    /**
     * The cluster the Kubernetes provider uses, for restarting workloads and for asking
     * the API server whether istiod's webhook answers (admission.ts). Set it when the
     * component's resources use a provider of your own. @default the default provider's
     * settings in the stack config (kubernetes:kubeconfig, kubernetes:context, kubernetes:cluster)
     */
    cluster?: KubeconfigSource;
    /**
     * What to do with the Gateway API CRDs, decided from the cluster before the mesh is
     * built (gatewayApiPlan.ts). @default undefined (the stack leaves Gateway API CRDs
     * alone, as with gatewayApi.enabled false)
     */
    gatewayApi?: { plan: GatewayApiPlan };
}

/** A stack id from the project and stack names, as a label value allows it (63 characters). */
function defaultStackIdentity(): { id: string; name: string } {
    const id = `${pulumi.getProject()}.${pulumi.getStack()}`
        .replace(/[^A-Za-z0-9._-]/g, "-")
        .slice(0, 63)
        .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
    return { id, name: `${pulumi.getProject()}/${pulumi.getStack()}` };
}

/** The parts of the last deployment a new one must agree with. */
export interface DeployedMesh {
    /** Revision name -> the resource name of its Istiod component, which must never change (a new name would reinstall it). */
    istiodResources: Record<string, string>;
    /** A single revision deployed before istiodResources was recorded: its Istiod is `<name>-istiod`. */
    legacyRevision?: string;
}

/** What the control plane steps leave for the steps after them. */
interface ControlPlane {
    base: IstioBase;
    gatewayApiCrds?: GatewayApiCrds;
    /** The default revision's istiod (else the first): what Istio resources wait for. */
    istiod: Istiod;
    /** Resolves once every istiod's validating webhook answers (controlPlane/istiod.ts admissionReady). */
    admitting: pulumi.Output<pulumi.Resource>;
    /** What runs proxies waits for: every istiod, tag and the admission check; the node agents are added to it. */
    dataPlaneDeps: pulumi.Input<pulumi.Resource>[];
}

/**
 * The whole Istio installation of one environment, in the order the runbook did it
 * by hand: namespace -> base (CRDs) -> istiod -> CNI -> ztunnel, gateways, addons,
 * mTLS policy -> injection labels -> sidecar restarts. Each step waits until the
 * previous one is ready (Chart v4 awaits its children), so gateways never start
 * before istiod can inject them and no custom resource is applied before its CRD
 * or before istiod's validating webhook can judge it. Which charts and manifests
 * are installed, with which values, is the install plan's (charts/plan.ts); the
 * mesh orders its entries. One mesh is one cluster's: a stack spanning several
 * builds one per cluster, each with its own provider and `cluster`.
 */
export class IstioMesh extends pulumi.ComponentResource implements MeshOutputs {
    public readonly version: string;
    public readonly profile: string;
    public readonly revision: string;
    public readonly namespace: pulumi.Output<string>;
    /** The stack created the control plane namespace and deletes it on destroy if nothing foreign is in it. */
    public readonly namespaceOwned: boolean;
    /** The id every object of the stack carries (ownership.ts). */
    public readonly stackId: string;
    public readonly components: ComponentVersion[];
    public readonly crds: pulumi.Output<string[]>;
    public readonly gateways: pulumi.Output<GatewayStatus[]>;
    public readonly addonUrls: pulumi.Output<Record<string, string>>;
    public readonly injectionNamespaces: string[];
    public readonly revisions: RevisionStatus[];
    public readonly revisionTags: Record<string, string>;
    public readonly namespaceRevisions: NamespaceEnrollment[];
    /** Revision name -> the resource name of its Istiod component (see DeployedMesh). */
    public readonly istiodResources: Record<string, string>;
    /** The Gateway API version the stack applies, or finds and leaves; "" when it was not looked at. */
    public readonly gatewayApiVersion: string;

    constructor(name: string, args: IstioMeshArgs, opts?: pulumi.ComponentResourceOptions) {
        const stack = args.stack ?? defaultStackIdentity();
        // Every Kubernetes object below carries the stack's id, however deep. The one
        // transform of the whole tree: the charts and components below hand theirs to it.
        const transforms = new TransformScope(markStackIdentity(stack));
        super("istio-mesh:index:IstioMesh", name, {}, withChildTransforms(opts, transforms.transform));
        openTransformScope(this, transforms);
        const config = args.config;
        const plan = this.plan(config);
        this.stackId = stack.id;
        this.version = config.version.text;
        this.profile = config.profile;
        this.revision = config.revision || "default";
        // Every client the mesh makes talks to the provider's cluster unless told otherwise.
        const cluster = args.cluster ?? providerCluster();
        this.namespaceOwned = args.namespaceOwned ?? true;
        const namespace = new ControlPlaneNamespace(
            `${name}-namespace`,
            { name: config.namespace, owned: this.namespaceOwned, stackId: stack.id, cluster },
            { parent: this },
        );
        this.namespace = namespace.name;

        const gatewayApiPlan = args.gatewayApi?.plan;
        this.gatewayApiVersion =
            gatewayApiPlan?.action === "install" ? gatewayApiPlan.version : (gatewayApiPlan?.installed ?? "");
        const deployed = args.deployed ?? { istiodResources: {} };
        this.istiodResources = istiodResourceNames(name, config, deployed);
        this.revisions = planEntries(plan, "istiod").map((e) => ({
            name: e.revision.name,
            version: e.version,
            istiod: e.release,
        }));
        this.revisionTags = config.revisionTags;
        const control = this.controlPlane(name, config, plan, namespace, stack.id, gatewayApiPlan, cluster);
        const gateways = this.dataPlane(name, plan, namespace, control.dataPlaneDeps);
        this.gateways = gatewayStatuses(gateways);
        this.addonUrls = this.addons(name, config, plan, namespace, control, gateways, args.grafanaAdminPassword);
        this.meshPolicy(name, config, namespace, control);
        this.injectionNamespaces = config.injectionNamespaces.map((n) => n.name);
        this.namespaceRevisions = config.injectionNamespaces;
        this.workloads(name, config, control, gateways, cluster);

        // The sources as the stack sets them, not the mirror or cache standing in for them.
        this.components = componentVersions(plan, args.declaredSources ?? config);
        this.crds = control.base.crds;
        this.registerOutputs(meshOutputs(this));
    }

    /** The install plan of `config`; a config it cannot plan (built by hand) fails here, naming the mesh. */
    private plan(config: StackConfig): PlanEntry[] {
        try {
            return installPlan(config);
        } catch (e) {
            throw new pulumi.ResourceError(e instanceof Error ? e.message : String(e), this);
        }
    }

    /** Base (the CRDs), the Gateway API CRDs, one istiod per revision and the revision tags. */
    private controlPlane(
        name: string,
        config: StackConfig,
        plan: PlanEntry[],
        namespace: ControlPlaneNamespace,
        stackId: string,
        gatewayApiPlan: GatewayApiPlan | undefined,
        cluster: KubeconfigSource,
    ): ControlPlane {
        // Every plan has base, first.
        const baseEntry = planEntries(plan, "base")[0]!;
        const base = new IstioBase(
            `${name}-base`,
            { ...baseEntry, namespace: namespace.name, retainCrdsOnDestroy: config.retainCrdsOnDestroy },
            { parent: this, dependsOn: [namespace] },
        );
        // istiod reads the Gateway API CRDs when it starts: they come first, beside base.
        const gatewayApiCrds =
            gatewayApiPlan?.action === "install"
                ? new GatewayApiCrds(
                      `${name}-gateway-api`,
                      {
                          version: gatewayApiPlan.version,
                          source: config.gatewayApi.source,
                          owner: stackId,
                          // Other controllers may rely on them: kept unless the user says otherwise.
                          retainOnDestroy: !config.gatewayApi.deleteCrdsOnDestroy,
                      },
                      { parent: this },
                  )
                : undefined;
        const istiods = new Map<string, Istiod>();
        for (const entry of planEntries(plan, "istiod")) {
            const istiod = new Istiod(
                this.istiodResources[entry.revision.name],
                {
                    revision: entry.revision,
                    chartSource: entry.source,
                    namespace: namespace.name,
                    values: entry.values,
                },
                { parent: this, dependsOn: [base, ...(gatewayApiCrds ? [gatewayApiCrds] : [])] },
            );
            istiods.set(entry.revision.name, istiod);
        }
        const allIstiods = [...istiods.values()];
        // Tags are resources of their own, created once their revision's istiod can answer.
        const tags = Object.entries(config.revisionTags).map(
            ([tag, revision]) =>
                new RevisionTag(
                    `${name}-tag-${tag}`,
                    { tag, revision, namespace: config.namespace },
                    { parent: this, dependsOn: [istiods.get(revision)!] },
                ),
        );
        // Ready pods are not an answering webhook: what istiod admits (Istio resources,
        // injected pods) waits until the API server reaches and trusts every istiod.
        const admitting = admissionReady(allIstiods, config.namespace, cluster);
        return {
            base,
            gatewayApiCrds,
            istiod: istiods.get(config.revision) ?? allIstiods[0],
            admitting,
            dataPlaneDeps: [...allIstiods, ...tags, admitting],
        };
    }

    /**
     * The node agents (CNI, ztunnel), added to `dataPlaneDeps`, and the gateways.
     * Everything that runs proxies waits for istiod (the injector) and, when on, for CNI.
     */
    private dataPlane(
        name: string,
        plan: PlanEntry[],
        namespace: ControlPlaneNamespace,
        dataPlaneDeps: pulumi.Input<pulumi.Resource>[],
    ): IstioGateway[] {
        for (const entry of planEntries(plan, "cni")) {
            // The CNI node agent needs nothing of the control plane to start, so it rolls
            // out while base and istiod do; what runs proxies waits for both.
            dataPlaneDeps.push(new IstioCni(`${name}-cni`, entry, { parent: this }));
        }
        for (const entry of planEntries(plan, "ztunnel")) {
            const ztunnel = new Ztunnel(
                `${name}-ztunnel`,
                { ...entry, namespace: namespace.name },
                { parent: this, dependsOn: dataPlaneDeps },
            );
            dataPlaneDeps.push(ztunnel);
        }
        return planEntries(plan, "gateway").map(
            (entry) =>
                new IstioGateway(`${name}-${entry.gateway.name}`, entry, { parent: this, dependsOn: dataPlaneDeps }),
        );
    }

    /** The addons of the plan, exposed through their gateway when one is named; their URLs by addon. */
    private addons(
        name: string,
        config: StackConfig,
        plan: PlanEntry[],
        namespace: ControlPlaneNamespace,
        control: ControlPlane,
        gateways: IstioGateway[],
        grafanaAdminPassword: pulumi.Input<string> | undefined,
    ): pulumi.Output<Record<string, string>> {
        const addons = planEntries(plan, "addon manifest").map((e) => e.addon);
        if (addons.length === 0) return pulumi.output<Record<string, string>>({});
        const exposedBy = gateways.find((g) => g.gateway.name === config.addons.exposure.gateway);
        const component = new ObservabilityAddons(
            `${name}-addons`,
            {
                addons,
                source: config.addonSource,
                namespace: namespace.name,
                exposure: config.addons.exposure,
                gatewaySelector: exposedBy?.selectorLabel,
                gatewayNamespace: exposedBy?.gateway.namespace,
                exposureDependsOn: [control.istiod, control.admitting, ...(exposedBy ? [exposedBy] : [])],
                access: config.addons.access,
                grafanaAdminPassword: config.addons.grafanaAdminFromSecret ? grafanaAdminPassword : undefined,
            },
            // The addons are plain workloads in the control plane namespace: they roll out
            // while the control plane does; only their exposure waits for it.
            { parent: this, dependsOn: [namespace] },
        );
        return component.urls;
    }

    /** The mesh-wide mTLS policy, its exceptions and external services, when any is set. */
    private meshPolicy(name: string, config: StackConfig, namespace: ControlPlaneNamespace, control: ControlPlane) {
        const mtls = config.mesh.mtls;
        if (mtls.mode === undefined && mtls.exceptions.length === 0 && mtls.externalServices.length === 0) return;
        new MeshMtlsPolicy(
            `${name}-mtls`,
            {
                rootNamespace: namespace.name,
                mode: mtls.mode,
                exceptions: mtls.exceptions,
                externalServices: mtls.externalServices,
            },
            // Istio resources wait for istiod: its validating webhook fails closed, so
            // they are accepted only once it answers, and then only if valid.
            { parent: this, dependsOn: [control.istiod, control.admitting] },
        );
    }

    /** The workloads' side: injection labels and sidecar migrations, ambient namespaces, listed restarts. */
    private workloads(
        name: string,
        config: StackConfig,
        control: ControlPlane,
        gateways: IstioGateway[],
        cluster: KubeconfigSource,
    ): void {
        const dataPlaneDeps = control.dataPlaneDeps;
        /** What puts namespaces in the mesh: a listed restart comes after it, or its pods start as they were. */
        const namespaceLabels: pulumi.Resource[] = [];
        if (config.injectionNamespaces.length > 0) {
            const labels = new NamespaceInjectionLabel(
                `${name}-injection`,
                { namespaces: config.injectionNamespaces },
                { parent: this, dependsOn: dataPlaneDeps },
            );
            namespaceLabels.push(labels);
            // Once the labels and tags point at the new revision, restarted pods are injected by it.
            for (const ns of config.injectionNamespaces.filter((n) => n.restartOnChange)) {
                new SidecarMigration(
                    `${name}-migrate-${ns.name}`,
                    {
                        namespace: ns.name,
                        revision: ns.revision,
                        batchSize: config.sidecarMigration.batchSize,
                        timeoutSeconds: config.sidecarMigration.timeoutSeconds,
                        cluster,
                    },
                    { parent: this, dependsOn: [labels, ...dataPlaneDeps] },
                );
            }
        }
        if (config.ambientNamespaces.length > 0) {
            // Waypoints are Gateways: they need the CRDs, and istiod (and ztunnel) to act on them.
            const crds = control.gatewayApiCrds ? [control.gatewayApiCrds] : [];
            namespaceLabels.push(
                new AmbientDataPlane(
                    `${name}-ambient`,
                    { namespaces: config.ambientNamespaces, waypoints: config.waypoints },
                    { parent: this, dependsOn: [...dataPlaneDeps, ...crds] },
                ),
            );
        }
        if (config.sidecarRollout.length > 0) {
            // After the namespaces' labels: a workload restarted before its namespace's
            // injection label (a first install with a small control plane is quick enough
            // for that) comes back without a sidecar, and nothing restarts it again.
            new SidecarRollout(
                `${name}-sidecars`,
                { workloads: config.sidecarRollout, proxyVersion: `${this.version}/${this.revision}` },
                { parent: this, dependsOn: [...dataPlaneDeps, ...gateways, ...namespaceLabels] },
            );
        }
    }
}

/**
 * One istiod per revision, each under the resource name it was first deployed
 * under: a stack that grows from one revision to several must not reinstall the first.
 */
function istiodResourceNames(name: string, config: StackConfig, deployed: DeployedMesh): Record<string, string> {
    const firstInstall = Object.keys(deployed.istiodResources).length === 0 && deployed.legacyRevision === undefined;
    return Object.fromEntries(
        config.revisions.map((revision, i) => [
            revision.name,
            deployed.istiodResources[revision.name] ??
                (deployed.legacyRevision === revision.name || (firstInstall && i === 0)
                    ? `${name}-istiod`
                    : `${name}-istiod-${revision.name || "default"}`),
        ]),
    );
}

/** The `gateways` output: each gateway's settings with the ports and addresses the cluster gave its Service. */
function gatewayStatuses(gateways: IstioGateway[]): pulumi.Output<GatewayStatus[]> {
    return pulumi.output(
        gateways.map(({ gateway, ports, addresses }) =>
            pulumi.all([ports, addresses]).apply(([p, a]) => ({
                name: gateway.name,
                kind: gateway.kind,
                namespace: gateway.namespace,
                serviceType: gateway.serviceType,
                ports: p,
                addresses: a,
            })),
        ),
    );
}
