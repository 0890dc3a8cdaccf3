import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ExternalService, MeshMtlsMode, MtlsException, PeerMtlsMode } from "../config";
import { ownDeclaredFields } from "../charts/transforms";

const SECURITY_API = "security.istio.io/v1";
const NETWORKING_API = "networking.istio.io/v1";

/** Labels on every object of this component, so `kubectl get pa,se,dr -A -l ...` finds what the stack declared. */
export const MTLS_POLICY_LABELS: Readonly<Record<string, string>> = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": "istio-mesh",
};

export interface PeerAuthenticationSpec {
    selector?: { matchLabels: Record<string, string> };
    mtls?: { mode: PeerMtlsMode };
    portLevelMtls?: Record<string, { mode: PeerMtlsMode }>;
}

export interface ServiceEntrySpec {
    hosts: string[];
    addresses?: string[];
    ports: { number: number; name: string; protocol: string }[];
    location: "MESH_EXTERNAL";
    resolution: "DNS";
}

export interface DestinationRuleSpec {
    host: string;
    trafficPolicy: { tls: { mode: "DISABLE" } };
}

/** The mesh-wide policy: in the root namespace and without selector, it covers every workload. */
export function meshPeerAuthenticationSpec(mode: MeshMtlsMode): PeerAuthenticationSpec {
    return { mtls: { mode } };
}

/**
 * Why an exception could not become a PeerAuthentication istiod accepts, or
 * undefined when it can. The config parser refuses these before they get here;
 * this keeps the component safe when it is built from other code.
 */
export function exceptionProblem(exception: Pick<MtlsException, "selector" | "mode" | "ports">): string | undefined {
    const selected = Object.keys(exception.selector).length > 0;
    if (exception.ports.length > 0 && !selected) {
        return "port modes need a selector: istiod refuses them in a namespace-wide PeerAuthentication";
    }
    if (exception.mode === undefined && exception.ports.length === 0) return "sets neither a mode nor port modes";
    return undefined;
}

/** An exception's PeerAuthentication: no selector covers the whole namespace; an unset mode is inherited. */
export function exceptionPeerAuthenticationSpec(
    exception: Pick<MtlsException, "selector" | "mode" | "ports">,
): PeerAuthenticationSpec {
    const spec: PeerAuthenticationSpec = {};
    if (Object.keys(exception.selector).length > 0) spec.selector = { matchLabels: { ...exception.selector } };
    if (exception.mode !== undefined) spec.mtls = { mode: exception.mode };
    if (exception.ports.length > 0) {
        spec.portLevelMtls = Object.fromEntries(exception.ports.map((p) => [String(p.port), { mode: p.mode }]));
    }
    return spec;
}

/** Istio reads a port's protocol from its name's prefix too: `tcp-3306`. */
export function externalPortName(service: Pick<ExternalService, "protocol" | "port">): string {
    return `${service.protocol.toLowerCase()}-${service.port}`;
}

/**
 * The host in Istio's registry, outside the mesh (no sidecar at the other end) and
 * resolved by DNS; with REGISTRY_ONLY outbound traffic it is also what lets the
 * mesh clients reach it at all.
 */
export function serviceEntrySpec(service: ExternalService): ServiceEntrySpec {
    return {
        hosts: [service.host],
        ...(service.addresses.length > 0 ? { addresses: [...service.addresses] } : {}),
        ports: [{ number: service.port, name: externalPortName(service), protocol: service.protocol }],
        location: "MESH_EXTERNAL",
        resolution: "DNS",
    };
}

/**
 * Sidecars pass on to the host what the client sent (plain text, or the client's
 * own TLS such as MySQL's or HTTPS) and never wrap it in Istio mTLS, even where a
 * wider DestinationRule (mesh-wide, or for `*.local`) says ISTIO_MUTUAL.
 */
export function destinationRuleSpec(service: Pick<ExternalService, "host">): DestinationRuleSpec {
    return { host: service.host, trafficPolicy: { tls: { mode: "DISABLE" } } };
}

export interface MeshMtlsPolicyArgs {
    /** The mesh's root namespace, where the mesh-wide policy lives: the control-plane namespace. Required. */
    rootNamespace: pulumi.Input<string>;
    /** The mesh-wide mode. @default undefined (no mesh-wide PeerAuthentication: Istio's own default, PERMISSIVE) */
    mode?: MeshMtlsMode;
    /** Workload and port exceptions, each a PeerAuthentication in its (existing) namespace. @default [] */
    exceptions?: MtlsException[];
    /** Hosts outside the mesh called without Istio mTLS, each a ServiceEntry and a DestinationRule. @default [] */
    externalServices?: ExternalService[];
}

/**
 * The mesh's mutual-TLS policy: the mesh-wide PeerAuthentication `default`,
 * exceptions for workloads or ports in their own namespaces, and external hosts
 * the mesh calls without Istio mTLS. Every object is an Istio custom resource, so
 * the mesh creates this after istiod, whose validating webhook judges each one.
 * It never creates a namespace: an exception's namespace must exist.
 */
export class MeshMtlsPolicy extends pulumi.ComponentResource {
    /** The mesh-wide mode, or undefined when Istio's own default (PERMISSIVE) applies. */
    public readonly mode: MeshMtlsMode | undefined;
    /** The exceptions' PeerAuthentications, as <namespace>/<name>. */
    public readonly exceptions: string[];
    /** The hosts called without Istio mTLS, as <host>:<port>. */
    public readonly externalHosts: string[];

    constructor(name: string, args: MeshMtlsPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
        // Like the addons: the stack owns the fields it declares, so a policy applied by
        // hand (Istio's docs apply `default` with kubectl) is taken over, and a hand edit
        // (STRICT -> PERMISSIVE) is drift that `up` reverts.
        super(
            "istio-mesh:index:MeshMtlsPolicy",
            name,
            {},
            { ...opts, transforms: [...(opts?.transforms ?? []), ownDeclaredFields] },
        );
        const exceptions = args.exceptions ?? [];
        const externalServices = args.externalServices ?? [];
        // Everything is checked before the first child is registered.
        for (const exception of exceptions) {
            const problem = exceptionProblem(exception);
            if (problem) {
                throw new pulumi.ResourceError(`exception ${exception.namespace}/${exception.name}: ${problem}`, this);
            }
        }

        this.mode = args.mode;
        if (args.mode !== undefined) {
            new k8s.apiextensions.CustomResource(
                `${name}-mesh`,
                {
                    apiVersion: SECURITY_API,
                    kind: "PeerAuthentication",
                    metadata: { name: "default", namespace: args.rootNamespace, labels: { ...MTLS_POLICY_LABELS } },
                    spec: meshPeerAuthenticationSpec(args.mode),
                },
                { parent: this },
            );
        }
        for (const exception of exceptions) {
            new k8s.apiextensions.CustomResource(
                `${name}-exception-${exception.name}`,
                {
                    apiVersion: SECURITY_API,
                    kind: "PeerAuthentication",
                    metadata: {
                        name: exception.name,
                        namespace: exception.namespace,
                        labels: { ...MTLS_POLICY_LABELS },
                    },
                    spec: exceptionPeerAuthenticationSpec(exception),
                },
                { parent: this },
            );
        }
        for (const service of externalServices) {
            const metadata = { name: service.name, namespace: service.namespace, labels: { ...MTLS_POLICY_LABELS } };
            new k8s.apiextensions.CustomResource(
                `${name}-external-${service.name}`,
                { apiVersion: NETWORKING_API, kind: "ServiceEntry", metadata, spec: serviceEntrySpec(service) },
                { parent: this },
            );
            new k8s.apiextensions.CustomResource(
                `${name}-external-${service.name}-tls`,
                { apiVersion: NETWORKING_API, kind: "DestinationRule", metadata, spec: destinationRuleSpec(service) },
                { parent: this },
            );
        }
        this.exceptions = exceptions.map((e) => `${e.namespace}/${e.name}`);
        this.externalHosts = externalServices.map((s) => `${s.host}:${s.port}`);
        this.registerOutputs({ mode: this.mode, exceptions: this.exceptions, externalHosts: this.externalHosts });
    }
}
