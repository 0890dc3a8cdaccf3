// What the local cluster's supervisors (local-istiod.ts, local-lb.ts) share: their
// command-line reader, their log line, and their API client, which talks to the
// local API server as the cluster's admin with the certificates cluster.sh made.
import * as fs from "fs";
import * as https from "https";
import * as path from "path";

/** `--name value` from the command line, or the fallback; a missing required one names the tool and the flag. */
export function processArg(tool: string, name: string, fallback?: string): string {
    const value = optionalArg(name) ?? fallback;
    if (!value) throw new Error(`${tool}: --${name} is required`);
    return value;
}

/** `--name value` from the command line, or undefined. */
export function optionalArg(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

/** One timestamped line on stdout (cluster.sh sends it to the tool's log). */
export function log(msg: string): void {
    console.log(`${new Date().toISOString()} ${msg}`);
}

export interface ApiResponse {
    status: number;
    text: string;
}

export interface LocalClusterApi {
    /** The API server's URL, from the cluster's kubeconfig. */
    server: URL;
    /** One request: its status code and body text. A body is sent as a JSON merge patch. */
    request(method: string, urlPath: string, body?: object): Promise<ApiResponse>;
    /** GET: the status code and the parsed body (undefined when not JSON). */
    get<T>(urlPath: string): Promise<{ status: number; body?: T }>;
}

/** The admin client of the local cluster in `clusterDir` (its kubeconfig and pki/). */
export function localClusterApi(clusterDir: string): LocalClusterApi {
    const pki = path.join(clusterDir, "pki");
    const kubeconfig = fs.readFileSync(path.join(clusterDir, "kubeconfig"), "utf8");
    const server = new URL(/server:\s*(\S+)/.exec(kubeconfig)?.[1] ?? "");
    const agent = new https.Agent({
        keepAlive: true,
        ca: fs.readFileSync(path.join(pki, "ca.crt")),
        cert: fs.readFileSync(path.join(pki, "admin.crt")),
        key: fs.readFileSync(path.join(pki, "admin.key")),
    });
    const request = (method: string, urlPath: string, body?: object): Promise<ApiResponse> =>
        new Promise((resolve, reject) => {
            const payload = body === undefined ? undefined : JSON.stringify(body);
            const req = https.request(
                {
                    method,
                    hostname: server.hostname,
                    port: server.port,
                    path: urlPath,
                    agent,
                    timeout: 10000,
                    headers: payload ? { "Content-Type": "application/merge-patch+json" } : {},
                },
                (res) => {
                    let text = "";
                    res.setEncoding("utf8");
                    res.on("data", (c: string) => (text += c));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
            req.on("error", reject);
            req.end(payload);
        });
    return {
        server,
        request,
        async get<T>(urlPath: string) {
            const res = await request("GET", urlPath);
            let body: T | undefined;
            try {
                body = JSON.parse(res.text) as T;
            } catch {
                body = undefined;
            }
            return { status: res.status, body };
        },
    };
}
