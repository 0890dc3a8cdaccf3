// A small reader and writer of the Kubernetes API for what the declarative graph
// cannot do: look at the cluster before planning (which pods still use a revision)
// and restart workloads in batches while `up` runs (sidecar migration). It speaks
// to the cluster the Kubernetes provider uses, resolved as the provider resolves it
// (kubeconfig.ts). Supported credentials: client certificates, bearer tokens
// (inline or a file) and exec plugins (the client.authentication.k8s.io
// ExecCredential protocol, which cloud providers' CLIs implement), fetched again
// when they expire or the API server answers 401. Proxies are not supported.
import * as https from "https";
import { Credentials, kubeAccess, KubeAccess, KubeconfigSource } from "./kubeconfig";

export { kubeAccess } from "./kubeconfig";
export type { KubeAccess, KubeconfigSource } from "./kubeconfig";

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
        template?: {
            metadata?: { annotations?: Record<string, string> };
            spec?: { containers?: { name: string; image?: string }[] };
        };
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
        /** The Status object's `details.causes` messages (e.g. which disruption budget refused an eviction). */
        public readonly causes: string[] = [],
    ) {
        super(message);
    }
}

/** Items per list request: the rest follows with `continue` (what kubectl asks for too). */
export const LIST_PAGE_SIZE = 500;
/** Times a list is read again from its start after its continue token expired. */
export const LIST_EXPIRED_RETRIES = 2;

/** A continuation answered 410 Gone: the list's snapshot is gone, its pages so far with it. */
class ContinueExpired extends Error {}

/**
 * Asks for a PartialObjectMetadataList: each item's metadata only (names, labels,
 * annotations, owners, managed fields), a fraction of a pod's or a CRD's bytes. An
 * API that cannot answer so (an old aggregated API) sends whole objects instead.
 */
export const METADATA_ONLY_ACCEPT =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json";

export interface ListOptions {
    /** Each item's metadata only, for reads that need no spec or status. @default false */
    metadataOnly?: boolean;
    /** Items per request. @default LIST_PAGE_SIZE */
    pageSize?: number;
}

/** The parts of the client that the migration and the checks use; a fake in unit tests. */
export type KubeApi = Pick<KubeClient, "get" | "list" | "create" | "patch" | "delete">;

export type PatchType = "merge" | "strategic" | "json";
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
    merge: "application/merge-patch+json",
    strategic: "application/strategic-merge-patch+json",
    json: "application/json-patch+json",
};

/** One cluster's API: get, list, create, patch and delete by API path (e.g. /apis/apps/v1/namespaces/x/deployments). */
export class KubeClient {
    private access?: KubeAccess;
    private agent?: https.Agent;
    /** The credentials the agent's client certificate came from. */
    private agentCredentials?: Credentials;

    constructor(private readonly source: KubeconfigSource) {}

    /** The object at `apiPath`, or undefined when there is none (404). */
    async get<T extends object>(apiPath: string): Promise<T | undefined> {
        return this.getAs<T>(apiPath, "application/json");
    }

    private async getAs<T extends object>(apiPath: string, accept: string): Promise<T | undefined> {
        try {
            return await this.request<T>("GET", apiPath, undefined, undefined, accept);
        } catch (e) {
            if (e instanceof KubeError && e.status === 404) return undefined;
            throw e;
        }
    }

    /**
     * Every item of a list, e.g. `list("/api/v1/pods", { labelSelector: "app=x" })`:
     * the selectors are the API server's to apply, and the list is read `pageSize`
     * items at a time (limit/continue), so no answer holds a whole big cluster. A
     * missing kind lists nothing.
     *
     * A continue token lives as long as the API server keeps the list's snapshot
     * (etcd compacts it after about five minutes): a list whose token expired (410
     * Gone) is read again from its first page, so the items are one snapshot, never
     * two pasted together. A list that expires `LIST_EXPIRED_RETRIES` times in a row
     * fails, naming the path.
     */
    async list<T extends object>(
        apiPath: string,
        query: Record<string, string> = {},
        options: ListOptions = {},
    ): Promise<T[]> {
        for (let attempt = 0; ; attempt++) {
            try {
                return await this.listOnce<T>(apiPath, query, options);
            } catch (e) {
                if (!(e instanceof ContinueExpired)) throw e;
                if (attempt >= LIST_EXPIRED_RETRIES) {
                    throw new KubeError(
                        `LIST ${apiPath}: the continue token expired ${attempt + 1} times in a row (410 Gone): ` +
                            `each page came slower than the API server keeps a list's snapshot`,
                        410,
                        [],
                    );
                }
            }
        }
    }

    private async listOnce<T extends object>(
        apiPath: string,
        query: Record<string, string>,
        options: ListOptions,
    ): Promise<T[]> {
        const accept = options.metadataOnly ? METADATA_ONLY_ACCEPT : "application/json";
        const items: T[] = [];
        let next: string | undefined;
        do {
            const q = new URLSearchParams({
                ...query,
                limit: String(options.pageSize ?? LIST_PAGE_SIZE),
                ...(next ? { continue: next } : {}),
            });
            let page: { items?: T[]; metadata?: { continue?: string } } | undefined;
            try {
                page = await this.getAs(`${apiPath}?${q}`, accept);
            } catch (e) {
                if (next && e instanceof KubeError && e.status === 410) throw new ContinueExpired();
                throw e;
            }
            if (!page) return items;
            items.push(...(page.items ?? []));
            next = page.metadata?.continue || undefined;
        } while (next);
        return items;
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

    /** The agent and token for the next request: credentials fetched again once expired. */
    private connection(): { server: URL; agent: https.Agent; token?: string } {
        this.access ??= kubeAccess(this.source);
        const access = this.access;
        const credentials = access.credentials.current();
        const sameCertificate = (a?: Credentials, b?: Credentials) =>
            a !== undefined && b !== undefined && bufferEqual(a.cert, b.cert) && bufferEqual(a.key, b.key);
        if (!this.agent || !sameCertificate(this.agentCredentials, credentials)) {
            this.agent?.destroy();
            this.agent = new https.Agent({
                ca: access.ca,
                cert: credentials.cert,
                key: credentials.key,
                rejectUnauthorized: !access.insecureSkipTlsVerify,
                ...(access.tlsServerName ? { servername: access.tlsServerName } : {}),
                keepAlive: true,
            });
            this.agentCredentials = credentials;
        }
        return { server: new URL(access.server), agent: this.agent, token: credentials.token };
    }

    private async request<T>(
        method: string,
        apiPath: string,
        body?: unknown,
        contentType?: string,
        accept = "application/json",
    ): Promise<T> {
        try {
            return await this.send<T>(method, apiPath, body, contentType, accept);
        } catch (e) {
            // Expired or revoked credentials: fetched once more (an exec plugin re-run, a token file re-read).
            if (!(e instanceof KubeError && e.status === 401 && this.access?.credentials.refreshable)) throw e;
            this.access.credentials.invalidate();
            return this.send<T>(method, apiPath, body, contentType, accept);
        }
    }

    private send<T>(
        method: string,
        apiPath: string,
        body: unknown,
        contentType: string | undefined,
        accept: string,
    ): Promise<T> {
        const { server, agent, token } = this.connection();
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
                        Accept: accept,
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
                        let causes: string[] = [];
                        try {
                            const parsed = JSON.parse(text) as {
                                message?: string;
                                details?: { causes?: { message?: string }[] };
                            };
                            message = parsed.message ?? text;
                            causes = (parsed.details?.causes ?? []).flatMap((c) => (c.message ? [c.message] : []));
                        } catch {
                            // Not a Status object: the body as it came.
                        }
                        reject(new KubeError(`${method} ${apiPath}: ${status} ${message}`, status, causes));
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

function bufferEqual(a?: Buffer, b?: Buffer): boolean {
    return a === b || (a !== undefined && b !== undefined && a.equals(b));
}
