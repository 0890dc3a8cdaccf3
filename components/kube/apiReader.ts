// A minimal read-only Kubernetes API client for decisions the program must take
// before it registers resources (which objects already exist, at which version).
// It reads the same kubeconfig the Kubernetes provider is given
// (`kubernetes:kubeconfig`, a path or the file's content; else KUBECONFIG; else
// ~/.kube/config) and supports client certificates, bearer tokens and exec
// credential plugins (as EKS, GKE and AKS kubeconfigs use). It only ever GETs.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";

/** How to reach one API server, resolved from a kubeconfig. */
export interface KubeAccess {
    server: string;
    ca?: Buffer;
    cert?: Buffer;
    key?: Buffer;
    token?: string;
    insecureSkipTlsVerify: boolean;
}

interface NamedEntry<T> {
    name: string;
    cluster?: T;
    user?: T;
    context?: T;
}

interface KubeconfigCluster {
    server?: string;
    "certificate-authority"?: string;
    "certificate-authority-data"?: string;
    "insecure-skip-tls-verify"?: boolean;
}

interface KubeconfigUser {
    "client-certificate"?: string;
    "client-certificate-data"?: string;
    "client-key"?: string;
    "client-key-data"?: string;
    token?: string;
    tokenFile?: string;
    exec?: { command: string; args?: string[]; env?: { name: string; value: string }[] | null };
}

interface Kubeconfig {
    "current-context"?: string;
    clusters?: NamedEntry<KubeconfigCluster>[];
    users?: NamedEntry<KubeconfigUser>[];
    contexts?: NamedEntry<{ cluster: string; user: string }>[];
}

/**
 * The kubeconfig text and the directory its relative file paths are resolved
 * against, as the Kubernetes provider would pick it.
 * @param setting `kubernetes:kubeconfig`: a path, or the kubeconfig itself.
 * @param baseDir where a relative path in `setting` is resolved (the project).
 */
export function kubeconfigText(setting: string | undefined, baseDir: string): { text: string; dir: string } {
    if (setting !== undefined && setting !== "") {
        // The provider accepts the file's content as well as its path.
        if (
            /^\s*(apiVersion|kind|clusters|contexts|users|current-context|\{)/m.test(setting) &&
            setting.includes("\n")
        ) {
            return { text: setting, dir: baseDir };
        }
        const file = path.resolve(baseDir, setting.replace(/^~(?=\/)/, os.homedir()));
        return { text: fs.readFileSync(file, "utf8"), dir: path.dirname(file) };
    }
    const fromEnv = process.env.KUBECONFIG?.split(path.delimiter).find((f) => f !== "");
    const file = fromEnv ?? path.join(os.homedir(), ".kube", "config");
    return { text: fs.readFileSync(file, "utf8"), dir: path.dirname(path.resolve(file)) };
}

/** Resolves the context (the current one unless `context` is given) to an API server and credentials. */
export function kubeAccess(text: string, dir: string, context?: string): KubeAccess {
    const config = yaml.load(text) as Kubeconfig | undefined;
    const contextName = context || config?.["current-context"];
    const ctx = config?.contexts?.find((c) => c.name === contextName)?.context;
    if (!ctx) throw new Error(`the kubeconfig has no context ${JSON.stringify(contextName ?? "")}`);
    const cluster = config?.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
    const user = config?.users?.find((u) => u.name === ctx.user)?.user ?? {};
    if (!cluster?.server) throw new Error(`the kubeconfig's cluster ${JSON.stringify(ctx.cluster)} has no server`);
    const file = (p: string | undefined) => (p ? fs.readFileSync(path.resolve(dir, p)) : undefined);
    const data = (d: string | undefined) => (d ? Buffer.from(d, "base64") : undefined);
    const access: KubeAccess = {
        server: cluster.server.replace(/\/$/, ""),
        ca: data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]),
        cert: data(user["client-certificate-data"]) ?? file(user["client-certificate"]),
        key: data(user["client-key-data"]) ?? file(user["client-key"]),
        token: user.token ?? file(user.tokenFile)?.toString("utf8").trim(),
        insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    };
    if (user.exec) Object.assign(access, execCredential(user.exec));
    return access;
}

/** Runs a kubeconfig's credential plugin (client.authentication.k8s.io ExecCredential) once. */
function execCredential(exec: NonNullable<KubeconfigUser["exec"]>): Partial<KubeAccess> {
    const env = { ...process.env, ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])) };
    const r = spawnSync(exec.command, exec.args ?? [], { env, encoding: "utf8", timeout: 60_000 });
    if (r.status !== 0) {
        throw new Error(
            `the kubeconfig's credential plugin ${exec.command} failed: ${(r.stderr || String(r.error)).trim()}`,
        );
    }
    const status = (JSON.parse(r.stdout) as { status?: Record<string, string> }).status ?? {};
    return {
        token: status.token,
        cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
        key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
    };
}

/** GETs `apiPath` (e.g. /apis/apiextensions.k8s.io/v1/customresourcedefinitions) and parses the JSON answer. */
export function kubeGet<T>(access: KubeAccess, apiPath: string, timeoutMs = 15_000): Promise<T> {
    const url = new URL(access.server + apiPath);
    return new Promise<T>((resolve, reject) => {
        const req = https.get(
            url,
            {
                ca: access.ca,
                cert: access.cert,
                key: access.key,
                rejectUnauthorized: !access.insecureSkipTlsVerify,
                headers: {
                    accept: "application/json",
                    ...(access.token ? { authorization: `Bearer ${access.token}` } : {}),
                },
                timeout: timeoutMs,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const body = Buffer.concat(chunks).toString("utf8");
                    if (res.statusCode !== 200) {
                        reject(new Error(`GET ${apiPath}: HTTP ${res.statusCode}: ${body.slice(0, 300)}`));
                        return;
                    }
                    try {
                        resolve(JSON.parse(body) as T);
                    } catch (e) {
                        reject(new Error(`GET ${apiPath}: not JSON: ${String(e)}`));
                    }
                });
            },
        );
        req.on("timeout", () =>
            req.destroy(new Error(`GET ${apiPath}: no answer from ${access.server} in ${timeoutMs} ms`)),
        );
        req.on("error", reject);
    });
}
