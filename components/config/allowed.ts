// The closed sets of values a setting may take, each with its type. Messages list
// them in this order, so the order is the one a reader should see.

/** Istio minor versions whose charts this stack has been rendered and tested against. */
export const SUPPORTED_MINORS = ["1.28", "1.29", "1.30"] as const;

/**
 * The newest patch of each supported minor that this version of the project
 * knows (its release mirror and tests carry it). Istio numbers patches without
 * gaps, so every patch from .0 to it is a release; a higher one does not exist
 * yet, or is newer than this project, and is refused before any download.
 */
export const NEWEST_KNOWN_PATCH: Record<(typeof SUPPORTED_MINORS)[number], number> = {
    "1.28": 10,
    "1.29": 6,
    "1.30": 3,
};

/**
 * Installation profiles, named after istioctl's: what each enables by default is in
 * `profileDefaults`. The Helm charts know demo, ambient and preview as `profile`
 * values; default and minimal differ only in which components are installed.
 */
export const PROFILES = ["default", "demo", "minimal", "ambient", "preview"] as const;
export type Profile = (typeof PROFILES)[number];

export const ADDONS = ["prometheus", "grafana", "kiali", "jaeger"] as const;
export type Addon = (typeof ADDONS)[number];

export const SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const GATEWAY_KINDS = ["ingress", "egress"] as const;
export type GatewayKind = (typeof GATEWAY_KINDS)[number];

export const UPGRADE_STRATEGIES = ["in-place", "canary"] as const;
export type UpgradeStrategy = (typeof UPGRADE_STRATEGIES)[number];

export const OUTBOUND_POLICIES = ["ALLOW_ANY", "REGISTRY_ONLY"] as const;
export type OutboundTrafficPolicy = (typeof OUTBOUND_POLICIES)[number];

export const EXPOSURE_MODES = ["none", "nodePort", "host"] as const;
export type ExposureMode = (typeof EXPOSURE_MODES)[number];

/**
 * The mesh-wide mutual-TLS modes (`mesh.mtls.mode`): PERMISSIVE accepts plain text
 * and mTLS, STRICT accepts mTLS only, so clients without a sidecar are refused.
 */
export const MESH_MTLS_MODES = ["PERMISSIVE", "STRICT"] as const;
export type MeshMtlsMode = (typeof MESH_MTLS_MODES)[number];

/** The modes of an exception, for its workloads or one of their ports: DISABLE accepts plain text only. */
export const PEER_MTLS_MODES = ["PERMISSIVE", "STRICT", "DISABLE"] as const;
export type PeerMtlsMode = (typeof PEER_MTLS_MODES)[number];

/** The protocols of an external service's port, as Istio names them. */
export const EXTERNAL_PROTOCOLS = ["TCP", "TLS", "HTTP", "HTTPS", "HTTP2", "GRPC"] as const;
export type ExternalProtocol = (typeof EXTERNAL_PROTOCOLS)[number];

/** The workload kinds whose pod template `sidecarRollout` can stamp. */
export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/**
 * What a stack declares itself to be (`environment`): the policy pack holds
 * production stacks to the production rules, and the scripts give only local
 * stacks the empty secrets passphrase.
 */
export const ENVIRONMENTS = ["production", "development", "local"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
