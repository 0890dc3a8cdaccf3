// Which cluster, with which credentials: the Kubernetes provider's settings
// resolved the way the provider resolves them, so that the program's own reads
// (pre-flight checks, the webhook probe) and restarts (sidecar migration) go to the
// cluster the provider changes. The rules, read from the provider's source
// (pulumi-kubernetes, provider/pkg/provider: Configure and parseKubeconfigString)
// and from client-go's loading rules (tools/clientcmd), which the provider uses
// when the setting is absent:
// - `kubernetes:kubeconfig` set: `~` and `~/` are the home directory; a file that
//   exists is read, any other value is the contents (YAML or JSON). Paths inside it
//   (certificate and token files, exec commands) are relative to the working
//   directory, as the provider reads them.
// - unset: $KUBECONFIG, a list of files (missing ones skipped), merged: the first
//   file that names a cluster, user or context, or sets current-context, wins; paths
//   inside each file are relative to that file. Without $KUBECONFIG, ~/.kube/config.
//   With no file at all, the pod's service account when running inside a cluster.
// - `kubernetes:context` picks the context (else current-context), and
//   `kubernetes:cluster` replaces the context's cluster.
// Credentials are fetched when first needed and again when they expire: an exec
// plugin's ExecCredential until its expirationTimestamp (or, without one, until the
// API server answers 401), a token file re-read at most a minute after it was read.
// No error message quotes the kubeconfig: contents can hold credentials.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

/** The provider's cluster settings: `kubernetes:kubeconfig`, `kubernetes:context`, `kubernetes:cluster`. */
export interface KubeconfigSource {
    /** A kubeconfig's path or its contents (YAML or JSON). @default $KUBECONFIG's files merged, else ~/.kube/config */
    kubeconfig?: string;
    /** @default the kubeconfig's current-context */
    context?: string;
    /** A cluster of the kubeconfig that replaces the context's. @default the context's cluster */
    cluster?: string;
    /** Where relative paths in `kubeconfig` resolve: the provider's working directory. @default process.cwd() */
    workDir?: string;
}

interface ClusterEntry {
    server?: string;
    "certificate-authority"?: string;
    "certificate-authority-data"?: string;
    "insecure-skip-tls-verify"?: boolean;
    "tls-server-name"?: string;
    "proxy-url"?: string;
}

export interface ExecConfig {
    command: string;
    args?: string[];
    env?: { name: string; value: string }[] | null;
    apiVersion?: string;
}

interface UserEntry {
    "client-certificate"?: string;
    "client-certificate-data"?: string;
    "client-key"?: string;
    "client-key-data"?: string;
    token?: string;
    tokenFile?: string;
    exec?: ExecConfig;
    "auth-provider"?: { name: string };
}

interface Kubeconfig {
    "current-context"?: string;
    clusters?: { name: string; cluster?: ClusterEntry }[];
    users?: { name: string; user?: UserEntry }[];
    contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
}

/** Credentials as one request uses them. */
export interface Credentials {
    token?: string;
    cert?: Buffer;
    key?: Buffer;
    /** When they must be fetched again (ms since the epoch). @default never, until invalidated */
    expiresAt?: number;
}

/** How a token file is re-read: at most this long after the last read (client-go re-reads it each minute). */
export const TOKEN_FILE_REFRESH_MS = 60_000;
/** An exec credential is fetched again this long before its expirationTimestamp. */
const EXPIRY_SKEW_MS = 10_000;

/** A user's credentials, fetched when first needed and again once expired or invalidated (after a 401). */
export class CredentialSource {
    private cached?: Credentials;

    constructor(
        private readonly userName: string,
        private readonly user: UserEntry,
        private readonly now: () => number = Date.now,
    ) {
        if (user["auth-provider"]) {
            throw new Error(
                `kubeconfig user "${userName}": auth-provider ${user["auth-provider"].name} is not supported; use an exec credential plugin`,
            );
        }
    }

    current(): Credentials {
        if (this.cached && (this.cached.expiresAt === undefined || this.now() < this.cached.expiresAt)) {
            return this.cached;
        }
        this.cached = this.fetch();
        return this.cached;
    }

    /** The API server refused them (401): the next request fetches them again. */
    invalidate(): void {
        this.cached = undefined;
    }

    /** Whether fetching again can give other credentials than those already used. */
    get refreshable(): boolean {
        return this.user.exec !== undefined || this.user.tokenFile !== undefined;
    }

    private fetch(): Credentials {
        const user = this.user;
        const data = (d: string) => Buffer.from(d, "base64");
        const read = (what: string, f: string) => {
            try {
                return fs.readFileSync(f);
            } catch (e) {
                throw new Error(
                    `kubeconfig user "${this.userName}": cannot read its ${what} ${f}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
                );
            }
        };
        const credentials: Credentials = {
            cert: user["client-certificate"]
                ? read("client-certificate", user["client-certificate"])
                : user["client-certificate-data"]
                  ? data(user["client-certificate-data"])
                  : undefined,
            key: user["client-key"]
                ? read("client-key", user["client-key"])
                : user["client-key-data"]
                  ? data(user["client-key-data"])
                  : undefined,
            token: user.token,
        };
        if (user.tokenFile) {
            credentials.token = read("tokenFile", user.tokenFile).toString("utf8").trim();
            credentials.expiresAt = this.now() + TOKEN_FILE_REFRESH_MS;
        }
        if (user.exec) {
            const status = runExecPlugin(this.userName, user.exec);
            if (status.token) credentials.token = status.token;
            if (status.clientCertificateData) credentials.cert = Buffer.from(status.clientCertificateData);
            if (status.clientKeyData) credentials.key = Buffer.from(status.clientKeyData);
            if (status.expirationTimestamp) {
                credentials.expiresAt = Date.parse(status.expirationTimestamp) - EXPIRY_SKEW_MS;
            }
        }
        return credentials;
    }
}

interface ExecCredentialStatus {
    token?: string;
    clientCertificateData?: string;
    clientKeyData?: string;
    expirationTimestamp?: string;
}

/** Runs a client.authentication.k8s.io exec plugin; its output (a credential) never reaches an error message. */
function runExecPlugin(userName: string, exec: ExecConfig): ExecCredentialStatus {
    const apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1";
    const env = {
        ...process.env,
        ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])),
        // What client-go hands every plugin: which protocol, and that nobody can answer a prompt.
        KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } }),
    };
    let out: string;
    try {
        out = execFileSync(exec.command, exec.args ?? [], {
            encoding: "utf8",
            env,
            stdio: ["ignore", "pipe", "inherit"],
        });
    } catch (e) {
        const { status, code } = e as { status?: number | null; code?: string };
        throw new Error(
            `kubeconfig user "${userName}": its exec credential plugin ${exec.command} failed (${code ?? `exit code ${status}`})`,
        );
    }
    let status: ExecCredentialStatus | undefined;
    try {
        status = (JSON.parse(out) as { status?: ExecCredentialStatus }).status;
    } catch {
        // Reported below, without the output.
    }
    if (!status || (!status.token && !status.clientCertificateData)) {
        throw new Error(
            `kubeconfig user "${userName}": its exec credential plugin ${exec.command} printed no ExecCredential with a token or client certificate`,
        );
    }
    return status;
}

/** How to reach one API server: the context's cluster, and its user's credentials. */
export interface KubeAccess {
    server: string;
    ca?: Buffer;
    insecureSkipTlsVerify: boolean;
    tlsServerName?: string;
    credentials: CredentialSource;
}

/** `~` and `~/...` as the home directory, as the provider expands them. */
export function expandHome(p: string): string {
    if (p === "~") return os.homedir();
    if (p.startsWith("~/")) return path.join(os.homedir(), p.slice(2));
    return p;
}

/**
 * What the `kubernetes:kubeconfig` value is, decided as the provider decides it: a
 * path when a file exists there (after `~` expansion, relative to `workDir`), else contents.
 */
export function kubeconfigSetting(value: string, workDir: string): { file: string } | { contents: string } {
    const file = path.resolve(workDir, expandHome(value));
    try {
        if (fs.statSync(file).isFile()) return { file };
    } catch {
        // Not a file (or not even a possible path: contents are often longer than a name may be).
    }
    return { contents: value };
}

/** Parses kubeconfig YAML or JSON; an error names where, never what (contents can hold credentials). */
function parseKubeconfig(text: string, origin: string): Kubeconfig {
    let parsed: unknown;
    try {
        parsed = yaml.load(text);
    } catch (e) {
        const err = e as { reason?: string; mark?: { line?: number } };
        const where = err.mark?.line !== undefined ? ` at line ${err.mark.line + 1}` : "";
        throw new Error(
            `${origin}: not valid YAML or JSON${where} (${err.reason ?? "parse error"}); the contents are not shown, they may hold credentials`,
        );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error(
            `${origin}: not a kubeconfig (a map with clusters, users and contexts); the value is not shown, it may hold credentials`,
        );
    }
    return parsed as Kubeconfig;
}

/** The entries' own paths made absolute against `dir`, as client-go does for a file it loads. */
function resolvePaths(config: Kubeconfig, dir: string): Kubeconfig {
    const abs = (p: string | undefined) => (p === undefined || p === "" ? p : path.resolve(dir, expandHome(p)));
    // A bare command is looked up on PATH; one with a directory in it is a path.
    const command = (c: string) => (c.includes("/") ? (abs(c) as string) : c);
    return {
        ...config,
        clusters: config.clusters?.map((c) => ({
            ...c,
            cluster: c.cluster && { ...c.cluster, "certificate-authority": abs(c.cluster["certificate-authority"]) },
        })),
        users: config.users?.map((u) => ({
            ...u,
            user: u.user && {
                ...u.user,
                "client-certificate": abs(u.user["client-certificate"]),
                "client-key": abs(u.user["client-key"]),
                tokenFile: abs(u.user.tokenFile),
                exec: u.user.exec && { ...u.user.exec, command: command(u.user.exec.command) },
            },
        })),
    };
}

/** $KUBECONFIG's files merged as client-go merges them: for each name, and for current-context, the first file wins. */
function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
    const firstByName = <T extends { name: string }>(lists: (T[] | undefined)[]): T[] => {
        const seen = new Map<string, T>();
        for (const entry of lists.flatMap((l) => l ?? [])) if (!seen.has(entry.name)) seen.set(entry.name, entry);
        return [...seen.values()];
    };
    return {
        "current-context": configs.map((c) => c["current-context"]).find((c) => c !== undefined && c !== ""),
        clusters: firstByName(configs.map((c) => c.clusters)),
        users: firstByName(configs.map((c) => c.users)),
        contexts: firstByName(configs.map((c) => c.contexts)),
    };
}

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own service account, as client-go's in-cluster config reads it; undefined outside a cluster. */
function inClusterConfig(): Kubeconfig | undefined {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    const port = process.env.KUBERNETES_SERVICE_PORT;
    const tokenFile = path.join(SERVICE_ACCOUNT_DIR, "token");
    if (!host || !port || !fs.existsSync(tokenFile)) return undefined;
    const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
    return {
        "current-context": "in-cluster",
        clusters: [
            {
                name: "in-cluster",
                cluster: { server, "certificate-authority": path.join(SERVICE_ACCOUNT_DIR, "ca.crt") },
            },
        ],
        users: [{ name: "in-cluster", user: { tokenFile } }],
        contexts: [{ name: "in-cluster", context: { cluster: "in-cluster", user: "in-cluster" } }],
    };
}

/** The kubeconfig the provider would use for these settings (paths in it already absolute). */
export function loadKubeconfig(source: KubeconfigSource): Kubeconfig {
    const workDir = source.workDir ?? process.cwd();
    if (source.kubeconfig !== undefined && source.kubeconfig !== "") {
        const setting = kubeconfigSetting(source.kubeconfig, workDir);
        const text = "file" in setting ? fs.readFileSync(setting.file, "utf8") : setting.contents;
        const origin = "file" in setting ? `kubernetes:kubeconfig ${setting.file}` : "kubernetes:kubeconfig";
        return resolvePaths(parseKubeconfig(text, origin), workDir);
    }
    const listed = (process.env.KUBECONFIG ?? "").split(path.delimiter).filter((f) => f !== "");
    const files = listed.length > 0 ? listed : [path.join(os.homedir(), ".kube", "config")];
    const found = files.map((f) => path.resolve(workDir, f)).filter((f) => fs.existsSync(f));
    if (found.length === 0) {
        const inCluster = inClusterConfig();
        if (inCluster) return inCluster;
        throw new Error(
            `no kubeconfig: kubernetes:kubeconfig is not set and ${listed.length > 0 ? `none of $KUBECONFIG's files exists (${listed.join(path.delimiter)})` : `${files[0]} does not exist`}; set kubernetes:kubeconfig to a kubeconfig's path or contents`,
        );
    }
    return mergeKubeconfigs(
        found.map((f) => resolvePaths(parseKubeconfig(fs.readFileSync(f, "utf8"), `kubeconfig ${f}`), path.dirname(f))),
    );
}

function named<T>(entries: { name: string }[] | undefined, name: string, key: string, what: string): T {
    const entry = (entries ?? []).find((e) => e.name === name) as Record<string, unknown> | undefined;
    const value = entry?.[key];
    if (!value) throw new Error(`the kubeconfig has no ${what} "${name}"`);
    return value as T;
}

/** How to reach the cluster these settings name, and with which credentials. */
export function kubeAccess(source: KubeconfigSource): KubeAccess {
    const config = loadKubeconfig(source);
    const contextName = source.context || config["current-context"];
    if (!contextName) {
        throw new Error("the kubeconfig names no current-context, and kubernetes:context is not set");
    }
    const context = named<{ cluster?: string; user?: string }>(config.contexts, contextName, "context", "context");
    const clusterName = source.cluster || context.cluster || "";
    const cluster = named<ClusterEntry>(config.clusters, clusterName, "cluster", "cluster");
    const user = context.user ? named<UserEntry>(config.users, context.user, "user", "user") : {};
    if (!cluster.server) throw new Error(`kubeconfig cluster "${clusterName}" has no server`);
    if (cluster["proxy-url"]) {
        throw new Error(`kubeconfig cluster "${clusterName}": proxy-url is not supported by the program's own client`);
    }
    let ca: Buffer | undefined;
    if (cluster["certificate-authority-data"]) ca = Buffer.from(cluster["certificate-authority-data"], "base64");
    else if (cluster["certificate-authority"]) ca = fs.readFileSync(cluster["certificate-authority"]);
    return {
        server: cluster.server.replace(/\/+$/, ""),
        ca,
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
        ...(cluster["tls-server-name"] ? { tlsServerName: cluster["tls-server-name"] } : {}),
        credentials: new CredentialSource(context.user ?? "", user),
    };
}
