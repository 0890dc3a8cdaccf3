// A small reader and writer of the Kubernetes API for what the declarative graph
// cannot do: look at the cluster before planning (which pods still use a revision)
// and restart workloads in batches while `up` runs (sidecar migration). It speaks
// to the cluster the Kubernetes provider uses: the same kubeconfig and context.
// Supported credentials: client certificates, bearer tokens (inline or a file) and
// exec plugins (the client.authentication.k8s.io ExecCredential protocol, which
// cloud providers' CLIs implement). Proxies are not supported.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

/** Where the kubeconfig comes from: the provider's `kubernetes:kubeconfig` and `kubernetes:context`. */
export interface KubeconfigSource {
    /** A kubeconfig's path or its contents. @default $KUBECONFIG (its first file), else ~/.kube/config */
    kubeconfig?: string;
    /** @default the kubeconfig's current-context */
    context?: string;
}

export interface KubeObject {
    apiVersion?: string;
    kind?: string;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        ownerReferences?: { kind: string; name: string; controller?: boolean }[];
        generation?: number;
    };
}

/** The parts of a Deployment, StatefulSet or DaemonSet that rollouts, restarts and `npm run status` read. */
export interface WorkloadObject extends KubeObject {
    kind: string;
    spec?: {
        replicas?: number;
        selector?: { matchLabels?: Record<string, string> };
        updateStrategy?: { type?: string };
        template?: { spec?: { containers?: { name: string; image?: string }[] } };
    };
    status?: {
        observedGeneration?: number;
        replicas?: number;
        readyReplicas?: number;
        updatedReplicas?: number;
        availableReplicas?: number;
        currentRevision?: string;
        updateRevision?: string;
        desiredNumberScheduled?: number;
        numberReady?: number;
        numberAvailable?: number;
        updatedNumberScheduled?: number;
    };
}

export class KubeError extends Error {
    constructor(
        message: string,
        public readonly status: number,
    ) {
        super(message);
    }
}

interface NamedEntry<T> {
    name: string;
    [key: string]: unknown;
    cluster?: T;
    user?: T;
    context?: T;
}

interface Kubeconfig {
    "current-context"?: string;
    contexts?: NamedEntry<{ cluster: string; user: string }>[];
    clusters?: NamedEntry<{
        server: string;
        "certificate-authority"?: string;
        "certificate-authority-data"?: string;
        "insecure-skip-tls-verify"?: boolean;
    }>[];
    users?: NamedEntry<{
        "client-certificate"?: string;
        "client-certificate-data"?: string;
        "client-key"?: string;
        "client-key-data"?: string;
        token?: string;
        tokenFile?: string;
        exec?: { command: string; args?: string[]; env?: { name: string; value: string }[]; apiVersion?: string };
        "auth-provider"?: { name: string };
    }>[];
}

/** How to reach one API server: a kubeconfig context resolved to what a request needs. */
export interface KubeAccess {
    server: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
    insecureSkipTlsVerify: boolean;
}

interface Endpoint {
    server: URL;
    agent: https.Agent;
    token?: string;
}

function pick<T>(
    entries: NamedEntry<T>[] | undefined,
    name: string,
    what: string,
    key: "cluster" | "user" | "context",
): T {
    const entry = (entries ?? []).find((e) => e.name === name);
    const value = entry?.[key];
    if (!value) throw new Error(`the kubeconfig has no ${what} "${name}"`);
    return value;
}

function loadKubeconfig(source: KubeconfigSource, baseDir: string): { config: Kubeconfig; dir: string } {
    const given = source.kubeconfig;
    // The provider takes a path or the file's contents in the same setting.
    if (given !== undefined && /\n|^\s*(apiVersion|clusters|kind):/.test(given)) {
        return { config: yaml.load(given) as Kubeconfig, dir: baseDir };
    }
    const file =
        given ??
        process.env.KUBECONFIG?.split(path.delimiter).find((f) => f !== "") ??
        path.join(os.homedir(), ".kube", "config");
    const resolved = path.resolve(baseDir, file);
    return { config: yaml.load(fs.readFileSync(resolved, "utf8")) as Kubeconfig, dir: path.dirname(resolved) };
}

/**
 * Resolves the kubeconfig the way the Kubernetes provider does: `kubeconfig` a path
 * (relative to `baseDir`) or the file's contents, else $KUBECONFIG, else
 * ~/.kube/config; the named context or the current one; its files relative to it.
 */
export function kubeAccess(source: KubeconfigSource, baseDir = process.cwd()): KubeAccess {
    const { config, dir } = loadKubeconfig(source, baseDir);
    const contextName = source.context ?? config["current-context"];
    if (!contextName) throw new Error("the kubeconfig names no context and no current-context");
    const context = pick(config.contexts, contextName, "context", "context");
    const cluster = pick(config.clusters, context.cluster, "cluster", "cluster");
    const user = pick(config.users, context.user, "user", "user");
    const file = (f: string) => fs.readFileSync(path.resolve(dir, f));
    const data = (d: string) => Buffer.from(d, "base64");

    let cert = user["client-certificate-data"] ? data(user["client-certificate-data"]) : undefined;
    let key = user["client-key-data"] ? data(user["client-key-data"]) : undefined;
    if (user["client-certificate"]) cert = file(user["client-certificate"]);
    if (user["client-key"]) key = file(user["client-key"]);
    let token = user.token ?? (user.tokenFile ? file(user.tokenFile).toString("utf8").trim() : undefined);
    if (user.exec) {
        const env = { ...process.env, ...Object.fromEntries((user.exec.env ?? []).map((e) => [e.name, e.value])) };
        const credential = JSON.parse(
            execFileSync(user.exec.command, user.exec.args ?? [], {
                encoding: "utf8",
                env,
                stdio: ["ignore", "pipe", "inherit"],
            }),
        ) as { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string } };
        token = credential.status?.token ?? token;
        if (credential.status?.clientCertificateData) cert = Buffer.from(credential.status.clientCertificateData);
        if (credential.status?.clientKeyData) key = Buffer.from(credential.status.clientKeyData);
    }
    if (user["auth-provider"]) {
        throw new Error(
            `kubeconfig user "${context.user}": auth-provider ${user["auth-provider"].name} is not supported; use an exec credential plugin`,
        );
    }
    const ca = cluster["certificate-authority-data"]
        ? data(cluster["certificate-authority-data"])
        : cluster["certificate-authority"]
          ? file(cluster["certificate-authority"])
          : undefined;
    return {
        server: cluster.server.replace(/\/+$/, ""),
        ca,
        cert,
        key,
        token,
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    };
}

function endpoint(access: KubeAccess): Endpoint {
    const { ca, cert, key } = access;
    return {
        server: new URL(access.server),
        agent: new https.Agent({ ca, cert, key, rejectUnauthorized: !access.insecureSkipTlsVerify, keepAlive: true }),
        token: access.token,
    };
}

export type PatchType = "merge" | "strategic" | "json";
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
    merge: "application/merge-patch+json",
    strategic: "application/strategic-merge-patch+json",
    json: "application/json-patch+json",
};

/** One cluster's API: get, list, create, patch and delete by API path (e.g. /apis/apps/v1/namespaces/x/deployments). */
export class KubeClient {
    private endpoint?: Endpoint;

    constructor(private readonly source: KubeconfigSource) {}

    /** The object at `apiPath`, or undefined when there is none (404). */
    async get<T extends object>(apiPath: string): Promise<T | undefined> {
        try {
            return await this.request<T>("GET", apiPath);
        } catch (e) {
            if (e instanceof KubeError && e.status === 404) return undefined;
            throw e;
        }
    }

    /** The items of a list, e.g. `list("/api/v1/pods", { labelSelector: "app=x" })`. A missing kind lists nothing. */
    async list<T extends object>(apiPath: string, query: Record<string, string> = {}): Promise<T[]> {
        const q = new URLSearchParams(query).toString();
        const list = await this.get<{ items: T[] }>(q ? `${apiPath}?${q}` : apiPath);
        return list?.items ?? [];
    }

    /** Creates the object; with `dryRun`, the API server admits it (webhooks included) and stores nothing. */
    async create<T extends object>(apiPath: string, body: unknown, options: { dryRun?: boolean } = {}): Promise<T> {
        return this.request<T>("POST", options.dryRun ? `${apiPath}?dryRun=All` : apiPath, body);
    }

    async patch<T extends object>(apiPath: string, body: unknown, type: PatchType): Promise<T> {
        return this.request<T>("PATCH", apiPath, body, PATCH_CONTENT_TYPES[type]);
    }

    /** Deletes the object; one already gone is not an error. */
    async delete(apiPath: string): Promise<void> {
        try {
            await this.request("DELETE", apiPath);
        } catch (e) {
            if (!(e instanceof KubeError && e.status === 404)) throw e;
        }
    }

    private request<T>(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T> {
        this.endpoint ??= endpoint(kubeAccess(this.source));
        const { server, agent, token } = this.endpoint;
        const url = new URL(server.pathname.replace(/\/$/, "") + apiPath, server);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        return new Promise<T>((resolve, reject) => {
            const req = https.request(
                url,
                {
                    method,
                    agent,
                    timeout: 30_000,
                    headers: {
                        Accept: "application/json",
                        ...(token ? { Authorization: `Bearer ${token}` } : {}),
                        ...(payload !== undefined
                            ? {
                                  "Content-Type": contentType ?? "application/json",
                                  "Content-Length": Buffer.byteLength(payload),
                              }
                            : {}),
                    },
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        const status = res.statusCode ?? 0;
                        if (status >= 200 && status < 300) {
                            resolve((text ? JSON.parse(text) : {}) as T);
                            return;
                        }
                        let message = text;
                        try {
                            message = (JSON.parse(text) as { message?: string }).message ?? text;
                        } catch {
                            // Not a Status object: the body as it came.
                        }
                        reject(new KubeError(`${method} ${apiPath}: ${status} ${message}`, status));
                    });
                },
            );
            req.on("timeout", () =>
                req.destroy(new Error(`${method} ${apiPath}: no answer from ${server.host} in 30s`)),
            );
            req.on("error", reject);
            if (payload !== undefined) req.write(payload);
            req.end();
        });
    }
}
