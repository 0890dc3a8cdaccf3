// What istiod served to a pod's proxy, for the end-to-end suites: the local
// cluster's supervisor runs a proxy stand-in (docs/proxy-standin.md) for every
// injected pod annotated `istio-mesh.dev/proxy-standin: "true"`; the stand-in
// writes the configuration it received as an Envoy config dump and its state
// (phase, certificate) beside it. These helpers wait for that, read it, and ask
// the stand-in's `simulate` command where a request goes.
import { spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { kubectlJson, waitFor } from "./harness";
import {
    pemCertificates,
    standinDir,
    standinState,
    standinSupervision,
    StandinState,
    StandinSupervision,
} from "./standins";

/** The annotation by which a pod asks the local cluster for a proxy stand-in. */
export const STANDIN_ANNOTATION = "istio-mesh.dev/proxy-standin";

/** One pod's stand-in, synced: its records and the path of its config dump. */
export interface Standin {
    supervision: StandinSupervision;
    state: StandinState;
    dumpFile: string;
}

/**
 * Waits for the stand-in of the pod (its current incarnation: same uid) to have
 * received istiod's configuration, and for `ready` (given the stand-in) to hold:
 * the dump is rewritten on every push, so a test waits for the value it expects
 * and then asserts on it.
 */
export async function syncedStandin(
    namespace: string,
    pod: string,
    seconds = 90,
    ready: (s: Standin) => boolean = () => true,
): Promise<Standin> {
    const uid = kubectlJson("pod", pod, "-n", namespace).metadata.uid as string;
    const dir = standinDir(namespace, pod);
    let last = "no stand-in folder";
    try {
        return await waitFor(`the proxy stand-in of ${namespace}/${pod}`, seconds, () => {
            const supervision = standinSupervision(namespace, pod);
            const state = standinState(namespace, pod);
            const dumpFile = path.join(dir, "config_dump.json");
            last = JSON.stringify({ supervision, state: state && { phase: state.phase, error: state.error } });
            if (!supervision || supervision.uid !== uid || supervision.status !== "running") return undefined;
            if (!state || state.podUID !== uid || state.phase !== "synced" || !fs.existsSync(dumpFile))
                return undefined;
            const s = { supervision, state, dumpFile };
            return ready(s) ? s : undefined;
        });
    } catch (e) {
        throw new Error(`${String(e)}; last seen: ${last}`);
    }
}

/** A pod's proxy config as Envoy JSON (the stand-in's config dump), with lookups by section. */
export class ConfigDump {
    // Envoy JSON is free-form here: each section is read by the field names Envoy gives it (proto names, as in Envoy's own dump).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly configs: any[];

    constructor(readonly file: string) {
        this.configs = JSON.parse(fs.readFileSync(file, "utf8")).configs;
    }

    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    private section(type: string): any {
        const s = this.configs.find((c) => c["@type"] === `type.googleapis.com/envoy.admin.v3.${type}`);
        if (!s) throw new Error(`${this.file} has no ${type}`);
        return s;
    }

    /** The cluster named `name`, or undefined. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    cluster(name: string): any {
        const all = this.section("ClustersConfigDump").dynamic_active_clusters ?? [];
        return all.map((c: { cluster: { name: string } }) => c.cluster).find((c: { name: string }) => c.name === name);
    }

    /** The PEM certificates of an SDS secret the proxy holds ("default": the workload's chain; "ROOTCA": the root). */
    secretCertificates(name: "default" | "ROOTCA"): X509Certificate[] {
        const secrets = this.section("SecretsConfigDump").dynamic_active_secrets ?? [];
        const s = secrets.find((x: { name: string }) => x.name === name)?.secret;
        if (!s) throw new Error(`${this.file} holds no secret ${name}`);
        const inline: string | undefined =
            name === "default"
                ? s.tls_certificate?.certificate_chain?.inline_bytes
                : s.validation_context?.trusted_ca?.inline_bytes;
        if (!inline) throw new Error(`secret ${name} in ${this.file} has no inline certificate`);
        return pemCertificates(Buffer.from(inline, "base64").toString("utf8"));
    }
}

/** A request, as `istio-standin simulate` takes it. */
export interface SimRequest {
    direction?: "outbound" | "inbound" | "gateway";
    address?: string;
    port: number;
    host?: string;
    path?: string;
    headers?: Record<string, string>;
    protocol?: "http" | "http2" | "tcp";
    tls?: "plaintext" | "tls" | "mtls";
}

/** Where the request goes (standin/simulate.go, simAnswer). */
export interface SimAnswer {
    listener?: string;
    filterChain?: string;
    routeConfig?: string;
    virtualHost?: string;
    route?: {
        name: string;
        index: number;
        match: string;
        timeoutSeconds?: number;
        retries?: { attempts: number; perTryTimeoutSeconds?: number; retryOn: string[] };
        fault?: {
            delay?: { fixedDelaySeconds: number; percent: number };
            abort?: { httpStatus?: number; percent: number };
        };
        directResponse?: number;
    };
    clusters?: { name: string; weight?: number; type: string; upstreamTls: string }[];
    accepts?: { plaintext: boolean; tls: boolean; mtls: boolean };
    requiresMtls?: boolean;
    error?: string;
}

/** Asks the stand-in's simulation where the request goes, from the pod's config dump. */
export function simulate(dumpFile: string, req: SimRequest): SimAnswer {
    const args = ["simulate", "--dump", dumpFile, "-o", "json", "--port", String(req.port)];
    const opt = (flag: string, v: string | undefined) => v !== undefined && args.push(`--${flag}`, v);
    opt("direction", req.direction);
    opt("address", req.address);
    opt("host", req.host);
    opt("path", req.path);
    opt("protocol", req.protocol);
    opt("tls", req.tls);
    for (const [k, v] of Object.entries(req.headers ?? {})) args.push("--header", `${k}=${v}`);
    const r = spawnSync("istio-standin", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`istio-standin ${args.join(" ")} exited ${r.status ?? r.signal}:\n${r.stderr}`);
    return JSON.parse(r.stdout) as SimAnswer;
}

/** The pod's cluster names and weights a request may go to, as [name, weight] pairs (weight undefined: the only one). */
export function clustersOf(a: SimAnswer): [string, number | undefined][] {
    return (a.clusters ?? []).map((c) => [c.name, c.weight]);
}

/** The first Running pod of the selector, by name. */
export function podOf(namespace: string, selector: string): string {
    const pods = kubectlJson("pods", "-n", namespace, "-l", selector).items as {
        metadata: { name: string; deletionTimestamp?: string };
        status: { phase: string };
    }[];
    const running = pods.filter((p) => p.status.phase === "Running" && !p.metadata.deletionTimestamp);
    if (running.length === 0) throw new Error(`no running pod in ${namespace} with ${selector}`);
    return running.map((p) => p.metadata.name).sort()[0];
}
