// The validated stack configuration, as the components receive it. Each field
// states its default; the parsers in this folder apply it.
import { Version } from "./version";
import {
    Addon,
    Environment,
    ExposureMode,
    ExternalProtocol,
    GatewayKind,
    MeshMtlsMode,
    OutboundTrafficPolicy,
    PeerMtlsMode,
    Profile,
    ServiceType,
    UpgradeStrategy,
    WorkloadKind,
} from "./allowed";
import { WaypointConfig } from "./ambient";

export interface GatewayPort {
    /** Unique within the gateway; a DNS label such as http2. */
    name: string;
    /** 1-65535, unique within the gateway. */
    port: number;
    /** The pods' port: a number, or the name of a container port (at most 15 characters, such as http). @default the port */
    targetPort: number | string;
    /** 30000-32767, unique across the stack; unset: assigned by Kubernetes. */
    nodePort?: number;
}

export interface GatewayConfig {
    /** Release and workload name, e.g. istio-ingressgateway; unique across the stack. */
    name: string;
    /** @default "ingress" */
    kind: GatewayKind;
    /** @default the control plane namespace */
    namespace: string;
    /** @default "LoadBalancer" for ingress, "ClusterIP" for egress */
    serviceType: ServiceType;
    /** @default [] (the chart's own ports) */
    ports: GatewayPort[];
    /** 0-100. @default 1 */
    replicas: number;
    /** The tag or revision whose injector gives the gateway its proxy. @default the default tag, else the first revision */
    follows?: string;
    /** The revision behind `follows`; moving a tag changes it, which restarts the gateway. @default istio-mesh:revision */
    revision?: string;
    /**
     * serviceType LoadBalancer only: how long `up` waits for the load balancer to give
     * the Service an address before it fails, naming the gateway. 10-86400.
     * @default 300 (applied by IstioGateway)
     */
    loadBalancerTimeoutSeconds?: number;
}

export interface WorkloadRef {
    namespace: string;
    /** @default "Deployment" */
    kind: WorkloadKind;
    name: string;
}

export interface AddonExposure {
    /** @default "none" */
    mode: ExposureMode;
    /** Host names are `<addon>.<domain>` (mode host, where it is required). @default "" */
    domain: string;
    /** The ingress gateway whose pods serve the addon hosts (mode host). @default "istio-ingressgateway" */
    gateway: string;
    /** Fixed node ports per addon (mode nodePort); unset ones are assigned by Kubernetes. @default {} */
    nodePorts: Partial<Record<Addon, number>>;
    tls: AddonTls;
    /**
     * Client addresses allowed to reach the addon hosts (mode host): an Istio
     * AuthorizationPolicy on the ingress gateway denies every other source.
     * @default [] (no restriction by address)
     */
    sourceRanges: string[];
    /**
     * Requests to the addon hosts (mode host) must carry a valid JWT of this issuer:
     * a RequestAuthentication and an AuthorizationPolicy on the ingress gateway.
     * @default unset (no token required)
     */
    jwt?: { issuer: string; jwksUri: string };
}

/**
 * Who may use the addons, exposed or not. Closed by default: every addon asks for a
 * login where it has one, and only the addons themselves (and, exposed, the way in)
 * reach their pods.
 */
export interface AddonAccess {
    /**
     * Anonymous visitors may look: Grafana lets them in as Viewer (never Admin), Kiali
     * uses its `anonymous` strategy with read-only rights. Not with exposure mode host.
     * @default false (Grafana asks for its admin login, Kiali for a Kubernetes token)
     */
    anonymous: boolean;
    /**
     * Kiali's service account keeps the release's ClusterRole, which can patch
     * workloads and namespaces and change Istio config cluster-wide. Not with `anonymous`.
     * @default false (a read-only ClusterRole, and Kiali in view-only mode)
     */
    kialiWrite: boolean;
    /**
     * Namespaces whose pods may reach every addon's UI and API (a NetworkPolicy on the
     * addon pods allows them). @default [] (only the other addons, and the exposure's way in)
     */
    fromNamespaces: string[];
}

/** How the addon hosts are served (mode host). */
export interface AddonTls {
    /**
     * A kubernetes.io/tls Secret in the ingress gateway's namespace: the gateway serves
     * the hosts over HTTPS with it and redirects HTTP. @default "" (required in mode host
     * unless insecureHttp)
     */
    credentialName: string;
    /** Serve the hosts over plain HTTP, credentials included. @default false */
    insecureHttp: boolean;
}

export interface MtlsPortMode {
    /** The workload's (container's) port, 1-65535; not the Service port. */
    port: number;
    mode: PeerMtlsMode;
}

/** A PeerAuthentication in the workloads' own namespace, which must exist: the stack never creates it. */
export interface MtlsException {
    /** Names the PeerAuthentication; a DNS label, unique among the exceptions. */
    name: string;
    /** The workloads' existing namespace; never the control-plane (root) namespace. */
    namespace: string;
    /** Labels of the workloads it applies to. @default {} (the whole namespace; then ports must be empty) */
    selector: Record<string, string>;
    /** The workloads' mode. @default unset (inherited from the namespace or the mesh) */
    mode?: PeerMtlsMode;
    /** Modes per workload port, ascending, each port once. @default [] */
    ports: MtlsPortMode[];
}

/** A host outside the mesh that mesh clients call without Istio mTLS: a ServiceEntry and a DestinationRule. */
export interface ExternalService {
    /** Names the ServiceEntry and the DestinationRule; a DNS label, unique among the external services. */
    name: string;
    /** The fully qualified DNS name the clients call, unique among the external services. */
    host: string;
    /** 1-65535. */
    port: number;
    /** @default "TCP" */
    protocol: ExternalProtocol;
    /** @default the control plane namespace (visible to the whole mesh) */
    namespace: string;
    /** IP addresses the host resolves to, for TCP listeners of their own. @default [] */
    addresses: string[];
}

export interface MtlsSettings {
    /**
     * The mesh-wide mode: a PeerAuthentication `default` in the control plane (root)
     * namespace. @default unset (no mesh-wide PeerAuthentication: Istio's own default, PERMISSIVE)
     */
    mode?: MeshMtlsMode;
    /** @default [] */
    exceptions: MtlsException[];
    /** @default [] */
    externalServices: ExternalService[];
}

export interface MeshSettings {
    /** @default "" ("/dev/stdout" in profile demo) */
    accessLogFile: string;
    /** Percentage of requests traced, 0-100. @default 1 (100 in profile demo) */
    tracingSampling: number;
    /** @default "ALLOW_ANY" */
    outboundTrafficPolicy: OutboundTrafficPolicy;
    /** @default true */
    enableAutoMtls: boolean;
    mtls: MtlsSettings;
}

export interface CniSettings {
    /** @default false (true in profile ambient) */
    enabled: boolean;
    /** @default "kube-system" */
    namespace: string;
}

/** One control plane: an istiod of its own, named after the revision. */
export interface RevisionConfig {
    /** A DNS label such as 1-29-6; "" only for the unnamed default revision of a single-revision stack. */
    name: string;
    /** @default istio-mesh:version */
    version: Version;
    /** Merged into this istiod's values after istio-mesh:istiodValues. @default {} */
    istiodValues: Record<string, unknown>;
}

/** A namespace labelled for sidecar injection, and the control plane its pods follow. */
export interface NamespaceEnrollment {
    name: string;
    /**
     * The tag or revision it follows: labelled istio.io/rev=<follows>, or
     * istio-injection=enabled for the default tag and the unnamed default revision.
     * @default the default tag, else the stack's one revision
     */
    follows: string;
    /** The revision behind `follows` ("" for the unnamed default revision). */
    revision: string;
    /** Restart its workloads when the revision behind `follows` changes. @default false */
    restartOnChange: boolean;
}

/** How workloads are restarted onto a new revision. */
export interface SidecarMigrationSettings {
    /** Workloads restarted at once; the next batch waits until they are ready. 1-1000. @default 1 */
    batchSize: number;
    /** How long one workload may take to become ready again, 10-86400. @default 600 */
    timeoutSeconds: number;
}

/** The Kubernetes Gateway API CRDs (standard channel) the stack installs with Istio. */
export interface GatewayApiSettings {
    /** Install and upgrade the Gateway API CRDs with the stack. @default true (false: another tool owns them) */
    enabled: boolean;
    /** The Gateway API version of the Istio release, e.g. "v1.5.1". */
    version: string;
    /**
     * Where `standard-install.yaml` of that version is read from: the URL of a folder,
     * or a local directory (resolved), with `{version}` replaced.
     * @default the official release download of kubernetes-sigs/gateway-api
     */
    source: string;
    /**
     * Take over (and upgrade) Gateway API CRDs of an older version that someone else
     * installed. @default false (the stack leaves them and says so in the preview)
     */
    takeOver: boolean;
    /**
     * Delete the stack's Gateway API CRDs, and with them every Gateway and HTTPRoute in
     * the cluster, on destroy or when `enabled` is turned off. @default false (kept,
     * whatever `retainCrdsOnDestroy` says: other controllers may rely on them)
     */
    deleteCrdsOnDestroy: boolean;
}

export interface StackConfig {
    /** Required: the Istio release, MAJOR.MINOR.PATCH of a supported minor. */
    version: Version;
    /**
     * What the stack is: production, development or local (the local cluster's).
     * The policy pack reads it (the stack output `environment`) and the scripts give
     * only local stacks the empty secrets passphrase. @default unset (the pack falls
     * back to the stack's name, with a warning; the scripts ask for a passphrase)
     */
    environment?: Environment;
    /** @default "default" */
    profile: Profile;
    /** The control plane namespace, created and deleted by the stack. @default "istio-system" */
    namespace: string;
    /**
     * The revision behind the default tag, else the stack's one revision ("" is the
     * unnamed default revision): the gateways and the base chart's default validator use it.
     * @default ""
     */
    revision: string;
    /** The control planes, oldest first as written. @default one, from istio-mesh:version and istio-mesh:revision */
    revisions: RevisionConfig[];
    /** Tag name -> revision name. @default {} */
    revisionTags: Record<string, string>;
    sidecarMigration: SidecarMigrationSettings;
    /** @default "in-place" */
    upgradeStrategy: UpgradeStrategy;
    /** Helm repository URL, oci:// registry or local directory of <chart>-<version>.tgz. @default the official repository */
    chartSource: string;
    /** chartSource for each Istio version the stack runs (its own and each revision's), `{version}` replaced. */
    chartSources: Record<string, string>;
    /** URL or local directory holding <addon>.yaml manifests. @default the release's samples/addons */
    addonSource: string;
    /** @default true */
    retainCrdsOnDestroy: boolean;
    /**
     * A first install takes over Istio's cluster-wide objects that another installer
     * (Helm, istioctl, kubectl) created. @default false (such objects stop the install, named)
     */
    adoptExisting: boolean;
    mesh: MeshSettings;
    cni: CniSettings;
    /** @default the profile's gateways */
    gateways: GatewayConfig[];
    addons: {
        /** @default the profile's addons */
        enabled: Addon[];
        exposure: AddonExposure;
        access: AddonAccess;
        /**
         * Grafana's admin login comes from the Pulumi secret istio-mesh:grafanaAdminPassword
         * (it is given and Grafana is on). @default false (Grafana creates no admin user)
         */
        grafanaAdminFromSecret: boolean;
    };
    /** Existing namespaces labelled for injection. @default the namespace "default" ([] in profile ambient) */
    injectionNamespaces: NamespaceEnrollment[];
    /** @default [] */
    sidecarRollout: WorkloadRef[];
    /** Existing namespaces enrolled in ambient mode (istio.io/dataplane-mode=ambient; profile ambient). @default [] */
    ambientNamespaces: string[];
    /** Waypoint proxies, one per ambient namespace. @default [] */
    waypoints: WaypointConfig[];
    /** The Gateway API CRDs. @default enabled, the version of the Istio release, from the official download */
    gatewayApi: GatewayApiSettings;
    /** Extra values merged last into istiod's values: the escape hatch. @default {} */
    istiodValues: Record<string, unknown>;
}
