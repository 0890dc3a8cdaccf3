// How the program's API client lists: every page to the end (limit/continue), the
// selectors and the metadata-only Accept header as the API server expects them, a
// kind the server lacks as nothing; and what the reads built on it ask for: pods
// with a sidecar only, metadata only, so their cost follows the mesh, not the cluster.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import {
    KubeApi,
    KubeClient,
    LIST_EXPIRED_RETRIES,
    LIST_PAGE_SIZE,
    METADATA_ONLY_ACCEPT,
} from "../../components/cluster/kube";
import { SIDECAR_POD_SELECTOR } from "../../components/cluster/pods";
import { revisionUsers } from "../../components/preflight/revisionUsage";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-kubelist-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Seen {
    path: string;
    query: URLSearchParams;
    accept: string;
}

describe("list on a real connection", () => {
    let server: https.Server;
    let client: KubeClient;
    const seen: Seen[] = [];
    /** The pods the fake API server holds, served `limit` at a time. */
    const pods = Array.from({ length: 2 * LIST_PAGE_SIZE + 7 }, (_, i) => ({ metadata: { name: `pod-${i}` } }));

    /** Continuations still to answer 410 Gone, as an API server does once etcd compacted the list's snapshot. */
    let expiring = 0;

    const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
        const url = new URL(req.url ?? "/", "https://127.0.0.1");
        seen.push({ path: url.pathname, query: url.searchParams, accept: String(req.headers.accept) });
        if (url.searchParams.has("continue") && expiring > 0) {
            expiring--;
            res.writeHead(410, { "Content-Type": "application/json" });
            res.end(
                JSON.stringify({
                    kind: "Status",
                    reason: "Expired",
                    message: "The provided continue parameter is too old to display a consistent list result.",
                }),
            );
            return;
        }
        if (url.pathname !== "/api/v1/pods") {
            res.writeHead(404, { "Content-Type": "application/json" });
            res.end(JSON.stringify({ kind: "Status", message: "the server could not find the requested resource" }));
            return;
        }
        const limit = Number(url.searchParams.get("limit") ?? pods.length);
        const from = Number(url.searchParams.get("continue") ?? "0");
        const next = from + limit < pods.length ? String(from + limit) : undefined;
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ items: pods.slice(from, from + limit), metadata: next ? { continue: next } : {} }));
    };

    beforeAll(async () => {
        // A self-signed certificate for 127.0.0.1, as in kubeAccess.test.ts.
        execFileSync(
            "openssl",
            [
                ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
                ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem"],
            ],
            { cwd: dir, stdio: "ignore" },
        );
        const ca = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
        server = https.createServer({ key: fs.readFileSync(path.join(dir, "key.pem")), cert: ca }, answer);
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
        const kubeconfig = JSON.stringify({
            "current-context": "c",
            clusters: [
                {
                    name: "c",
                    cluster: { server: url, "certificate-authority-data": Buffer.from(ca).toString("base64") },
                },
            ],
            users: [{ name: "u", user: { token: "t" } }],
            contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
        });
        client = new KubeClient({ kubeconfig, workDir: dir });
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
        seen.length = 0;
        expiring = 0;
    });

    test("a list longer than a page is read page by page to its end, every item once, in order", async () => {
        const items = await client.list<{ metadata: { name: string } }>("/api/v1/pods");
        expect(items.map((p) => p.metadata.name)).toEqual(pods.map((p) => p.metadata.name));
        expect(seen.map((s) => [s.query.get("limit"), s.query.get("continue")])).toEqual([
            [String(LIST_PAGE_SIZE), null],
            [String(LIST_PAGE_SIZE), String(LIST_PAGE_SIZE)],
            [String(LIST_PAGE_SIZE), String(2 * LIST_PAGE_SIZE)],
        ]);
    });

    test("selectors go to the API server on every page; metadata only is asked with the PartialObjectMetadataList Accept", async () => {
        await client.list(
            "/api/v1/pods",
            { labelSelector: "a in (b,c)", fieldSelector: "status.phase=Running" },
            {
                metadataOnly: true,
            },
        );
        expect(seen).toHaveLength(3);
        for (const s of seen) {
            expect(s.query.get("labelSelector")).toBe("a in (b,c)");
            expect(s.query.get("fieldSelector")).toBe("status.phase=Running");
            expect(s.accept).toBe(METADATA_ONLY_ACCEPT);
        }
        expect(METADATA_ONLY_ACCEPT.split(",")[0]).toBe(
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        );
        await client.list("/api/v1/pods", {}, { pageSize: 2000 });
        expect(seen[3].accept).toBe("application/json");
        expect(seen[3].query.get("limit")).toBe("2000");
    });

    test("a list whose continue token expired is read again from its first page: every item once, from one snapshot", async () => {
        expiring = 1;
        const items = await client.list<{ metadata: { name: string } }>("/api/v1/pods");
        expect(items.map((p) => p.metadata.name)).toEqual(pods.map((p) => p.metadata.name));
        // First page, the expired second, then the whole list again from its start.
        expect(seen.map((s) => s.query.get("continue"))).toEqual([
            null,
            String(LIST_PAGE_SIZE),
            null,
            String(LIST_PAGE_SIZE),
            String(2 * LIST_PAGE_SIZE),
        ]);
    });

    test("a list that keeps expiring fails, naming its path and the 410, after its retries", async () => {
        expiring = LIST_EXPIRED_RETRIES + 1;
        await expect(client.list("/api/v1/pods")).rejects.toThrow(
            /^LIST \/api\/v1\/pods: the continue token expired 3 times in a row \(410 Gone\)/,
        );
        expect(seen.filter((s) => !s.query.has("continue"))).toHaveLength(LIST_EXPIRED_RETRIES + 1);
    });

    test("a kind the API server does not have lists nothing", async () => {
        expect(await client.list("/apis/example.com/v1/widgets")).toEqual([]);
    });
});

describe("revisionUsers", () => {
    /** A fake API that answers pods and namespaces and records what was asked. */
    function fakeApi(pods: object[], namespaces: object[]) {
        const calls: { path: string; query: Record<string, string>; metadataOnly: boolean }[] = [];
        const api: Pick<KubeApi, "list"> = {
            list: async <T extends object>(
                apiPath: string,
                query: Record<string, string> = {},
                options: { metadataOnly?: boolean } = {},
            ): Promise<T[]> => {
                calls.push({ path: apiPath, query, metadataOnly: options.metadataOnly ?? false });
                return (apiPath === "/api/v1/pods" ? pods : namespaces) as T[];
            },
        };
        return { api, calls };
    }
    const status = (revision: string) => ({ "sidecar.istio.io/status": JSON.stringify({ revision }) });

    test("asks for the pods with a sidecar only, metadata only, and names each user of a removed revision", async () => {
        const { api, calls } = fakeApi(
            [
                { metadata: { name: "a", namespace: "shop", annotations: status("1-29-6") } },
                { metadata: { name: "b", namespace: "shop", annotations: status("1-30-3") } },
            ],
            [{ metadata: { name: "legacy", labels: { "istio.io/rev": "1-29-6" } } }],
        );
        const users = await revisionUsers(api, ["1-29-6"]);
        expect(users.get("1-29-6")).toEqual(["namespace legacy (labelled istio.io/rev=1-29-6)", "pod shop/a"]);
        expect(calls).toEqual([
            { path: "/api/v1/namespaces", query: { labelSelector: "istio.io/rev in (1-29-6)" }, metadataOnly: true },
            { path: "/api/v1/pods", query: { labelSelector: SIDECAR_POD_SELECTOR }, metadataOnly: true },
        ]);
    });
});
