// `gateways`: the ingress and egress gateways, their Service ports and node ports.
import { GATEWAY_KINDS, GatewayKind, SERVICE_TYPES, ServiceType } from "./allowed";
import { LIMITS } from "./limits";
import { GATEWAY_NAME, NAMESPACE_NAME, PORT_NAME, readName, readRequiredName } from "./names";
import { StackLayout, stackObjectNamed } from "./ownedNames";
import { defaultGateway } from "./profiles";
import { asNumber, childKey, field, isSet, ListShape, Reader, UniqueValues } from "./reader";
import { GatewayConfig, GatewayPort } from "./types";

export const GATEWAYS: ListShape = {
    items: "gateways",
    settings: [
        "name",
        "kind",
        "namespace",
        "serviceType",
        "ports",
        "replicas",
        "revision",
        "loadBalancerTimeoutSeconds",
    ],
    limit: LIMITS.gateways,
};
export const GATEWAY_PORTS: ListShape = {
    items: "ports",
    settings: ["name", "port", "targetPort", "nodePort"],
    limit: LIMITS.gatewayPorts,
};

/** A parsed item with the key it was read from, for messages about it that are found later. */
export interface Keyed<T> {
    key: string;
    value: T;
}

export interface ParsedGateways {
    gateways: Keyed<GatewayConfig>[];
    /** The list is the one meant: given without problems, or the (valid) profile's. */
    known: boolean;
}

/**
 * Reads `gateways`; `nodePorts` collects the node ports of the whole stack, which
 * must differ because a node port serves one Service in the whole cluster.
 */
export function readGateways(
    r: Reader,
    v: unknown,
    defaultKinds: GatewayKind[],
    namespace: string,
    nodePorts: UniqueValues<number>,
): ParsedGateways {
    if (!isSet(v)) {
        return {
            gateways: defaultKinds.map((kind) => ({ key: "gateways", value: defaultGateway(kind, namespace) })),
            known: r.valid("profile"),
        };
    }
    const names = new UniqueValues<string>(
        r,
        "gateway names must be unique, across namespaces too, as each one also names the gateway's Pulumi resource",
    );
    const gateways = r.objects("gateways", v, GATEWAYS, (g, key): Keyed<GatewayConfig> | undefined => {
        const nameKey = childKey(key, "name");
        const name = readRequiredName(
            r,
            nameKey,
            field(g, "name"),
            GATEWAY_NAME,
            "every gateway needs a name, a DNS label such as istio-ingressgateway",
        );
        if (name !== undefined) names.claim(nameKey, name);
        const kindKey = childKey(key, "kind");
        const typeKey = childKey(key, "serviceType");
        const kind = r.oneOf(kindKey, field(g, "kind"), GATEWAY_KINDS, "a gateway kind") ?? "ingress";
        const serviceType =
            r.oneOf(typeKey, field(g, "serviceType"), SERVICE_TYPES, "a Service type") ??
            defaultGateway(kind, namespace).serviceType;
        const gatewayNamespace = readName(r, childKey(key, "namespace"), field(g, "namespace"), NAMESPACE_NAME);
        const replicas = r.integer(childKey(key, "replicas"), field(g, "replicas"), 0, 100);
        const follows = r.text(childKey(key, "revision"), field(g, "revision"), "is not a tag or revision name");
        const ports = readPorts(
            r,
            childKey(key, "ports"),
            field(g, "ports"),
            r.valid(kindKey, typeKey) ? serviceType : undefined,
            nodePorts,
        );
        const loadBalancerTimeoutSeconds = readLoadBalancerTimeout(
            r,
            childKey(key, "loadBalancerTimeoutSeconds"),
            field(g, "loadBalancerTimeoutSeconds"),
            r.valid(kindKey, typeKey) ? serviceType : undefined,
        );
        if (name === undefined) return undefined;
        return {
            key,
            value: {
                name,
                kind,
                namespace: gatewayNamespace ?? namespace,
                serviceType,
                ports,
                replicas: replicas ?? 1,
                ...(follows !== undefined ? { follows } : {}),
                ...(loadBalancerTimeoutSeconds !== undefined ? { loadBalancerTimeoutSeconds } : {}),
            },
        };
    });
    return { gateways, known: r.valid("gateways") };
}

/**
 * `loadBalancerTimeoutSeconds`: only a LoadBalancer Service waits for an address.
 * `serviceType` is undefined when it was refused: the setting is then judged alone.
 */
function readLoadBalancerTimeout(
    r: Reader,
    key: string,
    v: unknown,
    serviceType: ServiceType | undefined,
): number | undefined {
    if (isSet(v) && serviceType !== undefined && serviceType !== "LoadBalancer") {
        r.invalid(key, v, `needs serviceType LoadBalancer; a ${serviceType} Service waits for no address`);
        return undefined;
    }
    return r.integer(key, v, 10, 86400);
}

/** `serviceType` is undefined when it was refused, so node ports are not judged by a type nobody chose. */
function readPorts(
    r: Reader,
    key: string,
    v: unknown,
    serviceType: ServiceType | undefined,
    nodePorts: UniqueValues<number>,
): GatewayPort[] {
    const names = new UniqueValues<string>(r, "port names must differ within a gateway");
    const numbers = new UniqueValues<number>(r, "the ports of a Service must differ");
    return r.objects(key, v, GATEWAY_PORTS, (p, pk): GatewayPort | undefined => {
        const nameKey = childKey(pk, "name");
        const name = readRequiredName(
            r,
            nameKey,
            field(p, "name"),
            PORT_NAME,
            "every port needs a name, a DNS label such as http2",
        );
        if (name !== undefined) names.claim(nameKey, name);
        const portKey = childKey(pk, "port");
        const rawPort = field(p, "port");
        const port = isSet(rawPort)
            ? r.integer(portKey, rawPort, 1, 65535)
            : r.required(portKey, "the Service port, a whole number from 1 to 65535");
        if (port !== undefined) numbers.claim(portKey, port, rawPort);
        const targetPort = readTargetPort(r, childKey(pk, "targetPort"), field(p, "targetPort")) ?? port;
        const nodePortKey = childKey(pk, "nodePort");
        const rawNodePort = field(p, "nodePort");
        let nodePort: number | undefined;
        if (isSet(rawNodePort) && serviceType === "ClusterIP") {
            r.invalid(
                nodePortKey,
                rawNodePort,
                "needs serviceType NodePort or LoadBalancer; a ClusterIP Service has no node ports",
            );
        } else {
            nodePort = r.integer(nodePortKey, rawNodePort, 30000, 32767);
            if (nodePort !== undefined) nodePorts.claim(nodePortKey, nodePort, rawNodePort);
        }
        if (name === undefined || port === undefined || targetPort === undefined) return undefined;
        return { name, port, targetPort, ...(nodePort !== undefined ? { nodePort } : {}) };
    });
}

/**
 * A container port name, as Kubernetes takes it for a Service's targetPort (an
 * IANA service name): at most 15 lowercase letters, digits and '-', at least one
 * letter, no '-' at either end or twice in a row.
 */
function isContainerPortName(v: string): boolean {
    return v.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) && /[a-z]/.test(v) && !v.includes("--");
}

/** `targetPort`: the pods' port, by number or by the name of a container port (both valid in a Service). */
function readTargetPort(r: Reader, key: string, v: unknown): number | string | undefined {
    if (typeof v === "string" && asNumber(v) === undefined && !/^\s*-?[\d.]+\s*$/.test(v)) {
        if (isContainerPortName(v)) return v;
        r.invalid(
            key,
            v,
            "is not a port number from 1 to 65535 or a container port name (at most 15 lowercase letters, digits and '-', with a letter, such as http)",
        );
        return undefined;
    }
    return r.integer(key, v, 1, 65535);
}

/**
 * The ingress gateways are how traffic enters the mesh: when every one of them
 * runs 0 replicas, nothing does. Each is named, so the message says which to scale.
 */
export function checkIngressReplicas(r: Reader, gateways: ParsedGateways): void {
    const ingress = gateways.gateways.filter((g) => g.value.kind === "ingress");
    if (!gateways.known || ingress.length === 0 || ingress.some((g) => g.value.replicas > 0)) return;
    for (const g of ingress) {
        r.invalid(
            childKey(g.key, "replicas"),
            0,
            ingress.length === 1
                ? `leaves ${g.value.name}, the stack's only ingress gateway, without a pod: nothing can enter the mesh; give it at least 1 replica, or remove the gateway (kind: ingress) from gateways`
                : `leaves ${g.value.name} without a pod, and every other ingress gateway is at 0 too: nothing can enter the mesh; give one of them at least 1 replica`,
        );
    }
}

/**
 * Gateways placed outside the control-plane namespace whose namespace the cluster
 * lacks: the stack creates only its own namespace, so the gateway's release would
 * fail halfway through an update. `exists` answers for each namespace (read from
 * the cluster by the program before anything changes). Returns the problems.
 */
export function missingGatewayNamespaces(
    gateways: Pick<GatewayConfig, "name" | "namespace">[],
    controlNamespace: string,
    exists: ReadonlySet<string>,
): string[] {
    const r = new Reader();
    gateways.forEach((g, i) => {
        if (g.namespace === controlNamespace || exists.has(g.namespace)) return;
        r.invalid(
            childKey(childKey("gateways", i), "namespace"),
            g.namespace,
            `does not exist in the cluster, and the stack creates only its control-plane namespace (${controlNamespace}); create it first (kubectl create namespace ${g.namespace}) or leave gateway ${g.name} in ${controlNamespace}`,
        );
    });
    return r.problems;
}

/** Refuses a gateway whose name a part of the stack already uses in the gateway's namespace. */
export function checkGatewayNames(r: Reader, gateways: Keyed<GatewayConfig>[], layout: StackLayout): void {
    for (const { key, value } of gateways) {
        // A refused namespace fell back to a default: judging that one would blame the wrong name.
        if (!r.valid("namespace", "cni.namespace", childKey(key, "namespace"))) continue;
        const owner = stackObjectNamed(layout, value.namespace, value.name);
        if (owner) {
            r.invalid(
                childKey(key, "name"),
                value.name,
                `is taken in namespace ${value.namespace} by ${owner}; choose another name or namespace`,
            );
        }
    }
}
