// What the local cluster's supervisor and its proxy stand-ins record
// (scripts/local-istiod.ts, standin/; docs/proxy-standin.md), for suites that
// assert on what istiod served to a pod's proxy.
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { clusterDir, kubectlJson, waitFor } from "./harness";

/** The supervisor's record of one stand-in (<cluster>/standins/<ns>.<pod>/supervisor.json). */
export interface StandinSupervision {
    namespace: string;
    pod: string;
    uid: string;
    status: "running" | "waiting" | "restarting";
    reason: string | null;
    pid: number | null;
    istiod: string | null;
    xdsAddress: string | null;
    restarts: number;
}

/** The stand-in's own state (--state): phase, certificate, what it holds. */
export interface StandinState {
    namespace: string;
    pod: string;
    podUID: string;
    podIP: string;
    type: string;
    nodeID: string;
    revision: string;
    discoveryAddress: string;
    xdsAddress: string;
    proxyVersion: string;
    pid: number;
    phase: "starting" | "certificate" | "connecting" | "synced" | "failed";
    error?: string;
    certificate?: { spiffe: string; issuer: string; root: string; chainLength: number; notAfter: string };
    certificateSeconds?: number;
    firstConfigSeconds?: number;
    resources?: Record<string, number>;
}

export function standinDir(namespace: string, pod: string): string {
    return path.join(clusterDir, "standins", `${namespace}.${pod}`);
}

function readJson<T>(file: string): T | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as T;
    } catch {
        return undefined;
    }
}

export function standinSupervision(namespace: string, pod: string): StandinSupervision | undefined {
    return readJson(path.join(standinDir(namespace, pod), "supervisor.json"));
}

export function standinState(namespace: string, pod: string): StandinState | undefined {
    return readJson(path.join(standinDir(namespace, pod), "state.json"));
}

/**
 * Waits until the pod's stand-in (of the pod's current uid) has its first
 * complete configuration, and returns its state; a failed stand-in fails the
 * wait at once with its error.
 */
export async function waitForSyncedStandin(namespace: string, pod: string, seconds = 120): Promise<StandinState> {
    const uid = kubectlJson<{ metadata: { uid: string } }>("pod", "-n", namespace, pod).metadata.uid;
    return waitFor(`the stand-in of pod ${namespace}/${pod} (uid ${uid}) to be synced`, seconds, () => {
        const st = standinState(namespace, pod);
        if (st?.phase === "failed") throw new Error(`stand-in of ${namespace}/${pod} failed: ${st.error}`);
        return st?.phase === "synced" && st.podUID === uid ? st : undefined;
    });
}

/** The stand-in's Envoy config dump (envoy.admin.v3.ConfigDump as JSON). */
// Envoy's dump is free-form JSON with @type-tagged sections, hence `any`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function standinConfigDump(namespace: string, pod: string): any {
    return JSON.parse(fs.readFileSync(path.join(standinDir(namespace, pod), "config_dump.json"), "utf8"));
}

/** One section of a config dump, by its @type suffix (e.g. "ClustersConfigDump"). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function dumpSection(dump: any, type: string): any {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return (dump.configs as any[]).find((c) => String(c["@type"]).endsWith(`.${type}`));
}

/** The PEM certificates of a bundle, in order. */
export function pemCertificates(pem: string): crypto.X509Certificate[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
        (c) => new crypto.X509Certificate(c),
    );
}

/**
 * The workload certificate chain the stand-in holds (its "default" secret, as
 * Envoy's secret dump shows it), and whether its private key is left out.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function workloadCertificate(dump: any): { chain: crypto.X509Certificate[]; keyRedacted: boolean } {
    const secrets = dumpSection(dump, "SecretsConfigDump");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const entry = (secrets.dynamic_active_secrets as any[]).find((s) => s.name === "default");
    const tls = entry.secret.tls_certificate;
    const chainPem = Buffer.from(tls.certificate_chain.inline_bytes, "base64").toString("utf8");
    return { chain: pemCertificates(chainPem), keyRedacted: tls.private_key.inline_string === "[redacted]" };
}

/**
 * Whether a chain leads to `root`: each certificate signed by the next, the
 * last one signed by the root (or being it).
 */
export function chainsTo(chain: crypto.X509Certificate[], root: crypto.X509Certificate): boolean {
    if (chain.length === 0) return false;
    for (let i = 0; i + 1 < chain.length; i++) {
        if (!chain[i].verify(chain[i + 1].publicKey)) return false;
    }
    const last = chain[chain.length - 1];
    return last.fingerprint256 === root.fingerprint256 || last.verify(root.publicKey);
}
