import * as pulumi from "@pulumi/pulumi";
import { ADDON_UI, ObservabilityAddons } from "./addons/observability";
import { AmbientDataPlane } from "./dataPlane/ambientDataPlane";
import { IstioBase } from "./controlPlane/base";
import { IstioCni } from "./dataPlane/cni";
import { NamespaceEnrollment, StackConfig } from "./config";
import { GatewayPortStatus, IstioGateway } from "./dataPlane/gateway";
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
import { markStackIdentity, withChildTransforms } from "./charts/transforms";
import { istiodValues } from "./charts/values";
import type { ComponentVersion } from "./status/installation";

export type { ComponentVersion } from "./status/installation";
import { Ztunnel } from "./dataPlane/ztunnel";

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

export interface RevisionStatus {
    /** "" for the unnamed default revision. */
    name: string;
    version: string;
    /** istiod's Deployment. */
    istiod: string;
}

export interface GatewayStatus {
    name: string;
    kind: string;
    namespace: string;
    serviceType: string;
    ports: GatewayPortStatus[];
    addresses: string[];
}

/**
 * The whole Istio installation of one environment, in the order the runbook did it
 * by hand: namespace -> base (CRDs) -> istiod -> CNI -> ztunnel, gateways, addons,
 * mTLS policy -> injection labels -> sidecar restarts. Each step waits until the
 * previous one is ready (Chart v4 awaits its children), so gateways never start
 * before istiod can inject them and no custom resource is applied before its CRD
 * or before istiod's validating webhook can judge it.
 */
export class IstioMesh extends pulumi.ComponentResource {
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
        // Every Kubernetes object below carries the stack's id, however deep.
        super("istio-mesh:index:IstioMesh", name, {}, withChildTransforms(opts, markStackIdentity(stack)));
        const config = args.config;
        this.stackId = stack.id;
        this.version = config.version.text;
        this.profile = config.profile;
        this.revision = config.revision || "default";
        const components: ComponentVersion[] = [];
        // The sources as the stack sets them, not the mirror or cache standing in for them.
        const declared = args.declaredSources ?? config;
        const record = (
            component: string,
            chart: string,
            namespace: string,
            workload?: ComponentVersion["workload"],
            version = this.version,
        ) =>
            components.push({
                component,
                chart,
                version,
                namespace,
                ...(workload ? { workload } : {}),
                source:
                    chart === "addon manifest"
                        ? declared.addonSource
                        : (declared.chartSources[version] ?? declared.chartSource),
            });

        // Every client the mesh makes talks to the provider's cluster unless told otherwise.
        const cluster = args.cluster ?? providerCluster();
        this.namespaceOwned = args.namespaceOwned ?? true;
        const namespace = new ControlPlaneNamespace(
            `${name}-namespace`,
            { name: config.namespace, owned: this.namespaceOwned, stackId: stack.id, cluster },
            { parent: this },
        );
        this.namespace = namespace.name;

        const base = new IstioBase(
            `${name}-base`,
            { config, namespace: namespace.name },
            { parent: this, dependsOn: [namespace] },
        );
        record("base", "base", config.namespace);

        // istiod reads the Gateway API CRDs when it starts: they come first, beside base.
        const gatewayApiPlan = args.gatewayApi?.plan;
        const gatewayApiCrds =
            gatewayApiPlan?.action === "install"
                ? new GatewayApiCrds(
                      `${name}-gateway-api`,
                      {
                          version: gatewayApiPlan.version,
                          source: config.gatewayApi.source,
                          owner: stack.id,
                          // Other controllers may rely on them: kept unless the user says otherwise.
                          retainOnDestroy: !config.gatewayApi.deleteCrdsOnDestroy,
                      },
                      { parent: this },
                  )
                : undefined;
        this.gatewayApiVersion =
            gatewayApiPlan?.action === "install" ? gatewayApiPlan.version : (gatewayApiPlan?.installed ?? "");

        // One istiod per revision. Each keeps the resource name it was first deployed
        // under: a stack that grows from one revision to several must not reinstall the first.
        const deployed = args.deployed ?? { istiodResources: {} };
        const firstInstall =
            Object.keys(deployed.istiodResources).length === 0 && deployed.legacyRevision === undefined;
        this.istiodResources = {};
        const istiods = new Map<string, Istiod>();
        config.revisions.forEach((revision, i) => {
            const resourceName =
                deployed.istiodResources[revision.name] ??
                (deployed.legacyRevision === revision.name || (firstInstall && i === 0)
                    ? `${name}-istiod`
                    : `${name}-istiod-${revision.name || "default"}`);
            this.istiodResources[revision.name] = resourceName;
            const chartSource = config.chartSources[revision.version.text];
            if (chartSource === undefined) {
                throw new pulumi.ResourceError(`no chart source for Istio ${revision.version.text}`, this);
            }
            const istiod = new Istiod(
                resourceName,
                { revision, chartSource, namespace: namespace.name, values: istiodValues(config, revision) },
                { parent: this, dependsOn: [base, ...(gatewayApiCrds ? [gatewayApiCrds] : [])] },
            );
            istiods.set(revision.name, istiod);
            record(
                config.revisions.length === 1 ? "istiod" : `istiod ${istiod.revision}`,
                "istiod",
                config.namespace,
                istiod.workload,
                revision.version.text,
            );
        });
        this.revisions = config.revisions.map((r) => ({
            name: r.name,
            version: r.version.text,
            istiod: istiods.get(r.name)!.deploymentName,
        }));
        const allIstiods = [...istiods.values()];

        // Tags are resources of their own, created once their revision's istiod can answer.
        this.revisionTags = config.revisionTags;
        const tags = Object.entries(config.revisionTags).map(
            ([tag, revision]) =>
                new RevisionTag(
                    `${name}-tag-${tag}`,
                    { tag, revision, namespace: config.namespace },
                    { parent: this, dependsOn: [istiods.get(revision)!] },
                ),
        );
        const istiod = istiods.get(config.revision) ?? allIstiods[0];
        // Ready pods are not an answering webhook: what istiod admits (Istio resources,
        // injected pods) waits until the API server reaches and trusts every istiod.
        const admitting = admissionReady(allIstiods, config.namespace, cluster);

        // Everything that runs proxies waits for istiod (the injector) and, when on, for CNI.
        const dataPlaneDeps: pulumi.Input<pulumi.Resource>[] = [...allIstiods, ...tags, admitting];
        if (config.cni.enabled) {
            // The CNI node agent needs nothing of the control plane to start, so it rolls
            // out while base and istiod do; what runs proxies waits for both.
            const cni = new IstioCni(`${name}-cni`, { config }, { parent: this });
            dataPlaneDeps.push(cni);
            record("cni", "cni", config.cni.namespace, cni.workload);
        }
        if (config.profile === "ambient") {
            const ztunnel = new Ztunnel(
                `${name}-ztunnel`,
                { config, namespace: namespace.name },
                { parent: this, dependsOn: dataPlaneDeps },
            );
            dataPlaneDeps.push(ztunnel);
            record("ztunnel", "ztunnel", config.namespace, ztunnel.workload);
        }

        const gateways = config.gateways.map((gateway) => {
            const component = new IstioGateway(
                `${name}-${gateway.name}`,
                { config, gateway },
                { parent: this, dependsOn: dataPlaneDeps },
            );
            record(gateway.name, "gateway", gateway.namespace, component.workload);
            return { gateway, component };
        });
        this.gateways = pulumi.output(
            gateways.map(({ gateway, component }) =>
                pulumi.all([component.ports, component.addresses]).apply(([ports, addresses]) => ({
                    name: gateway.name,
                    kind: gateway.kind,
                    namespace: gateway.namespace,
                    serviceType: gateway.serviceType,
                    ports,
                    addresses,
                })),
            ),
        );

        if (config.addons.enabled.length > 0) {
            const exposedBy = gateways.find((g) => g.gateway.name === config.addons.exposure.gateway);
            const addons = new ObservabilityAddons(
                `${name}-addons`,
                {
                    addons: config.addons.enabled,
                    source: config.addonSource,
                    namespace: namespace.name,
                    exposure: config.addons.exposure,
                    gatewaySelector: exposedBy?.component.selectorLabel,
                    gatewayNamespace: exposedBy?.gateway.namespace,
                    exposureDependsOn: [istiod, admitting, ...(exposedBy ? [exposedBy.component] : [])],
                    access: config.addons.access,
                    grafanaAdminPassword: config.addons.grafanaAdminFromSecret ? args.grafanaAdminPassword : undefined,
                },
                // The addons are plain workloads in the control plane namespace: they roll out
                // while the control plane does; only their exposure waits for it.
                { parent: this, dependsOn: [namespace] },
            );
            this.addonUrls = addons.urls;
            for (const addon of config.addons.enabled) {
                record(addon, "addon manifest", config.namespace, {
                    kind: "Deployment",
                    name: ADDON_UI[addon].deployment,
                });
            }
        } else {
            this.addonUrls = pulumi.output<Record<string, string>>({});
        }

        const mtls = config.mesh.mtls;
        if (mtls.mode !== undefined || mtls.exceptions.length > 0 || mtls.externalServices.length > 0) {
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
                { parent: this, dependsOn: [istiod, admitting] },
            );
        }

        this.injectionNamespaces = config.injectionNamespaces.map((n) => n.name);
        this.namespaceRevisions = config.injectionNamespaces;
        if (config.injectionNamespaces.length > 0) {
            const labels = new NamespaceInjectionLabel(
                `${name}-injection`,
                { namespaces: config.injectionNamespaces },
                { parent: this, dependsOn: dataPlaneDeps },
            );
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
            new AmbientDataPlane(
                `${name}-ambient`,
                { namespaces: config.ambientNamespaces, waypoints: config.waypoints },
                { parent: this, dependsOn: [...dataPlaneDeps, ...(gatewayApiCrds ? [gatewayApiCrds] : [])] },
            );
        }
        if (config.sidecarRollout.length > 0) {
            new SidecarRollout(
                `${name}-sidecars`,
                { workloads: config.sidecarRollout, proxyVersion: `${this.version}/${this.revision}` },
                { parent: this, dependsOn: [...dataPlaneDeps, ...gateways.map((g) => g.component)] },
            );
        }

        this.components = components;
        this.crds = base.crds;
        this.registerOutputs({
            version: this.version,
            profile: this.profile,
            revision: this.revision,
            namespace: this.namespace,
            namespaceOwned: this.namespaceOwned,
            stackId: this.stackId,
            components: this.components,
            crds: this.crds,
            gateways: this.gateways,
            addonUrls: this.addonUrls,
            injectionNamespaces: this.injectionNamespaces,
            revisions: this.revisions,
            revisionTags: this.revisionTags,
            namespaceRevisions: this.namespaceRevisions,
            istiodResources: this.istiodResources,
        });
    }
}
