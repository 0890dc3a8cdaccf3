// Pure parts of scripts/local-istiod.ts (the local cluster's istiod supervisor and
// egress proxy), kept apart so the unit tests need no cluster.

/** The parts of an istiod Deployment the supervisor reads. */
export interface DeploymentObject {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: {
        selector: { matchLabels?: Record<string, string> };
        template: {
            metadata?: { labels?: Record<string, string> };
            spec: {
                serviceAccountName?: string;
                containers: {
                    name: string;
                    image?: string;
                    args?: string[];
                    env?: { name: string; value?: string; valueFrom?: unknown }[];
                }[];
            };
        };
    };
}

export interface PodObject {
    metadata: { name: string; namespace: string };
    status?: { podIP?: string };
}

/** Where one local istiod listens, all on 127.0.0.1. */
export interface IstiodPorts {
    http: number;
    https: number;
    grpc: number;
    secureGrpc: number;
    monitoring: number;
    ctrlz: number;
}

/** istiod's container ports (chart `istiod`) and the local listener that stands in for each. */
export const LOCAL_PORT_OF_POD_PORT: Record<number, keyof IstiodPorts | undefined> = {
    8080: "http",
    15010: "grpc",
    15012: "secureGrpc",
    15014: "monitoring",
    15017: "https",
};

/** A file-name-safe key for one istiod Deployment. */
export function podKey(d: DeploymentObject): string {
    return `${d.metadata.namespace}.${d.metadata.name}`;
}

/** The revision an istiod Deployment serves, from its pod's `istio.io/rev` label. */
export function revisionOf(d: DeploymentObject): string {
    return d.spec.template.metadata?.labels?.["istio.io/rev"] ?? "default";
}

/** istiod reads its injection templates from this ConfigMap (chart `istiod`). */
export function injectorConfigMapName(d: DeploymentObject): string {
    const rev = revisionOf(d);
    return rev === "default" ? "istio-sidecar-injector" : `istio-sidecar-injector-${rev}`;
}

/** Chart flags that set a listen address; the local process gets its own loopback ones. */
const ADDRESS_FLAGS = ["--httpAddr", "--httpsAddr", "--grpcAddr", "--secureGRPCAddr", "--monitoringAddr"];

/**
 * The command line and environment of the local process for an istiod Deployment:
 * the container's own arguments and plain env, minus what only makes sense in a pod
 * (listen addresses on every interface, the remote-cluster KUBECONFIG path), plus
 * the pod facts the kubelet would fill in.
 */
export function istiodCommand(
    d: DeploymentObject,
    opts: { kubeconfig: string; ports: IstiodPorts; podName: string; baseEnv: NodeJS.ProcessEnv },
): { args: string[]; env: NodeJS.ProcessEnv } {
    const container = d.spec.template.spec.containers.find((c) => c.name === "discovery");
    if (!container) throw new Error(`${podKey(d)}: no 'discovery' container`);
    const args: string[] = [];
    const chartArgs = container.args ?? [];
    for (let i = 0; i < chartArgs.length; i++) {
        const a = chartArgs[i];
        const flag = a.split("=")[0];
        if (ADDRESS_FLAGS.includes(flag)) {
            if (!a.includes("=")) i++; // "--flag value" form: skip the value too
            continue;
        }
        args.push(a);
    }
    const p = opts.ports;
    args.push(
        `--httpAddr=127.0.0.1:${p.http}`,
        `--httpsAddr=127.0.0.1:${p.https}`,
        `--grpcAddr=127.0.0.1:${p.grpc}`,
        `--secureGRPCAddr=127.0.0.1:${p.secureGrpc}`,
        `--monitoringAddr=127.0.0.1:${p.monitoring}`,
        "--ctrlz_address=127.0.0.1",
        `--ctrlz_port=${p.ctrlz}`,
        `--kubeconfig=${opts.kubeconfig}`,
    );
    const env: NodeJS.ProcessEnv = { PATH: opts.baseEnv.PATH, HOME: opts.baseEnv.HOME };
    for (const e of container.env ?? []) {
        if (e.value !== undefined && e.name !== "KUBECONFIG") env[e.name] = e.value;
    }
    env.POD_NAME = opts.podName;
    env.POD_NAMESPACE = d.metadata.namespace;
    env.SERVICE_ACCOUNT = d.spec.template.spec.serviceAccountName ?? "default";
    // Without it neither the webhook patcher nor the validation controller matches a webhook.
    env.REVISION = env.REVISION || revisionOf(d);
    // istiod would otherwise fetch every RequestAuthentication's jwksUri itself, from the network.
    env.PILOT_JWT_ENABLE_REMOTE_JWKS = "envoy";
    return { args, env };
}

/** The target of an HTTP CONNECT request head (`CONNECT host:port HTTP/1.1`), or undefined. */
export function parseConnectRequest(head: string): { host: string; port: number } | undefined {
    const m = /^CONNECT (\[[0-9a-fA-F:.]+\]|[^\s:]+):(\d{1,5}) HTTP\/1\.[01]$/.exec(head.split("\r\n")[0]);
    if (!m) return undefined;
    const port = Number(m[2]);
    if (port < 1 || port > 65535) return undefined;
    return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

export function connectResponse(status: number, reason: string): string {
    return `HTTP/1.1 ${status} ${reason}\r\n\r\n`;
}

export const CONNECT_REFUSED = connectResponse(403, "Forbidden: only istiod on the local cluster is reachable");

// ------------------------------------------------------------ proxy stand-ins

/** The annotation by which an injected pod asks the local cluster for a proxy stand-in. */
export const STANDIN_ANNOTATION = "istio-mesh.dev/proxy-standin";

/**
 * Which injected pods get a stand-in (docs/proxy-standin.md): `annotated` (the
 * default) those annotated `istio-mesh.dev/proxy-standin: "true"`, `all` every
 * pod with an istio-proxy container, `off` none.
 */
export type StandinMode = "annotated" | "all" | "off";

export const STANDIN_MODES: readonly StandinMode[] = ["annotated", "all", "off"];

/** The mode named by the cluster setting, or an error naming the setting, the value and what is allowed. */
export function parseStandinMode(value: string | undefined, setting: string): StandinMode {
    const v = (value ?? "").trim() || "annotated";
    if ((STANDIN_MODES as readonly string[]).includes(v)) return v as StandinMode;
    throw new Error(`${setting}: '${v}' is not a stand-in mode (allowed: ${STANDIN_MODES.join(", ")})`);
}

/** The parts of a pod the stand-in supervisor reads. */
export interface ProxyPodObject {
    metadata: {
        name: string;
        namespace: string;
        uid?: string;
        annotations?: Record<string, string>;
        deletionTimestamp?: string;
    };
    spec?: {
        containers?: ProxyContainer[];
        initContainers?: (ProxyContainer & { restartPolicy?: string })[];
    };
    status?: { phase?: string; podIP?: string };
}

interface ProxyContainer {
    name: string;
    env?: { name: string; value?: string }[];
}

function proxyContainerOf(pod: ProxyPodObject): ProxyContainer | undefined {
    return (
        pod.spec?.containers?.find((c) => c.name === "istio-proxy") ??
        pod.spec?.initContainers?.find((c) => c.name === "istio-proxy" && c.restartPolicy === "Always")
    );
}

/** Whether a pod gets a stand-in now: it has a proxy, an IP, runs, is not going away, and the mode selects it. */
export function wantsStandin(pod: ProxyPodObject, mode: StandinMode): boolean {
    if (mode === "off" || !proxyContainerOf(pod)) return false;
    if (!pod.status?.podIP || pod.status.phase !== "Running" || pod.metadata.deletionTimestamp) return false;
    return mode === "all" || pod.metadata.annotations?.[STANDIN_ANNOTATION] === "true";
}

/**
 * The istiod a pod's proxy names, as `host:port`: `discoveryAddress` of the
 * PROXY_CONFIG the injector wrote (sidecars, gateways), ztunnel's XDS_ADDRESS,
 * else the mesh default.
 */
export function discoveryAddressOf(pod: ProxyPodObject): string {
    const env = proxyContainerOf(pod)?.env ?? [];
    const value = (name: string) => env.find((e) => e.name === name)?.value;
    const proxyConfig = value("PROXY_CONFIG");
    if (proxyConfig) {
        try {
            const addr = (JSON.parse(proxyConfig) as { discoveryAddress?: string }).discoveryAddress;
            if (addr) return addr;
        } catch {
            // Not JSON: the injector writes JSON, a hand-made pod may not; the mesh default applies, as in pilot-agent.
        }
    }
    return value("XDS_ADDRESS") ?? "istiod.istio-system.svc:15012";
}

/** The Service a `host:port` discovery address names: `<name>.<namespace>.svc[.<domain>]:<port>`. */
export function serviceOfAddress(address: string): { name: string; namespace: string; port: number } | undefined {
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?:(\d+)$/.exec(address);
    return m ? { name: m[1], namespace: m[2], port: Number(m[4]) } : undefined;
}

/** Whether a Service selector selects pods with these labels (an empty selector selects nothing, as for Endpoints). */
export function selects(
    selector: Record<string, string> | undefined,
    labels: Record<string, string> | undefined,
): boolean {
    const entries = Object.entries(selector ?? {});
    return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

/** A file-name-safe key for one pod's stand-in. */
export function standinKey(pod: { metadata: { namespace: string; name: string } }): string {
    return `${pod.metadata.namespace}.${pod.metadata.name}`;
}

/** The stand-in's command line: loopback istiod only, files under its own folder. */
export function standinArgs(opts: {
    pod: { metadata: { namespace: string; name: string } };
    kubeconfig: string;
    xdsPort: number;
    dir: string;
}): string[] {
    return [
        "run",
        "--kubeconfig",
        opts.kubeconfig,
        "--pod",
        `${opts.pod.metadata.namespace}/${opts.pod.metadata.name}`,
        "--xds-address",
        `127.0.0.1:${opts.xdsPort}`,
        "--work-dir",
        `${opts.dir}/work`,
        "--dump",
        `${opts.dir}/config_dump.json`,
        "--state",
        `${opts.dir}/state.json`,
    ];
}
