// The workflows' writes to GitHub (scripts/ci/github.ts) against a stand-in for
// GitHub's REST API on 127.0.0.1: one comment per stack, updated on every push,
// found also past the first page of comments; one open drift issue per stack.
import * as http from "http";
import type { AddressInfo } from "net";
import { GitHubApi, markerOf, upsertComment, upsertIssue } from "../../scripts/ci/github";

interface Item {
    id: number;
    number?: number;
    body: string;
    title?: string;
    pull_request?: object;
}

/** Issue comments and issues of one repository, served as GitHub pages them (per_page, page). */
function fakeGitHub() {
    const comments: Item[] = [];
    const issues: Item[] = [];
    const requests: string[] = [];
    let nextId = 1000;
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1");
        requests.push(`${req.method} ${url.pathname}`);
        if (req.headers.authorization !== "Bearer test-token") {
            res.writeHead(401).end(JSON.stringify({ message: "Bad credentials" }));
            return;
        }
        let raw = "";
        req.on("data", (c) => (raw += c));
        req.on("end", () => {
            const send = (status: number, body: unknown) =>
                res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
            const page = (items: Item[]) => {
                const per = Number(url.searchParams.get("per_page") ?? 30);
                const p = Number(url.searchParams.get("page") ?? 1);
                return items.slice((p - 1) * per, p * per);
            };
            const input = raw ? (JSON.parse(raw) as { body: string; title?: string }) : undefined;
            const path = url.pathname;
            let m: RegExpMatchArray | null;
            if (req.method === "GET" && /^\/repos\/o\/r\/issues\/7\/comments$/.test(path))
                return send(200, page(comments));
            if (req.method === "POST" && /^\/repos\/o\/r\/issues\/7\/comments$/.test(path)) {
                const c = { id: nextId++, body: input?.body ?? "" };
                comments.push(c);
                return send(201, c);
            }
            if (req.method === "PATCH" && (m = path.match(/^\/repos\/o\/r\/issues\/comments\/(\d+)$/))) {
                const c = comments.find((x) => x.id === Number(m?.[1]));
                if (!c) return send(404, { message: "Not Found" });
                c.body = input?.body ?? "";
                return send(200, c);
            }
            if (req.method === "GET" && path === "/repos/o/r/issues") return send(200, page(issues));
            if (req.method === "POST" && path === "/repos/o/r/issues") {
                const i = { id: nextId++, number: issues.length + 1, body: input?.body ?? "", title: input?.title };
                issues.push(i);
                return send(201, i);
            }
            if (req.method === "PATCH" && (m = path.match(/^\/repos\/o\/r\/issues\/(\d+)$/))) {
                const i = issues.find((x) => x.number === Number(m?.[1]));
                if (!i) return send(404, { message: "Not Found" });
                Object.assign(i, input);
                return send(200, i);
            }
            return send(404, { message: "Not Found" });
        });
    });
    return { server, comments, issues, requests };
}

let gh: ReturnType<typeof fakeGitHub>;
let api: GitHubApi;

beforeEach(async () => {
    gh = fakeGitHub();
    await new Promise<void>((resolve) => gh.server.listen(0, "127.0.0.1", resolve));
    const { port } = gh.server.address() as AddressInfo;
    api = { url: `http://127.0.0.1:${port}`, token: "test-token", repository: "o/r" };
});

afterEach(async () => {
    await new Promise((resolve) => gh.server.close(resolve));
});

const dev = (text: string) => `<!-- istio-mesh-ci:preview:dev -->\n${text}`;
const prod = (text: string) => `<!-- istio-mesh-ci:preview:prod -->\n${text}`;

test("a new push updates the stack's preview comment instead of adding one; each stack has its own", async () => {
    expect(await upsertComment(api, 7, dev("first push"))).toBe("created");
    expect(await upsertComment(api, 7, prod("first push"))).toBe("created");
    expect(await upsertComment(api, 7, dev("second push"))).toBe("updated");
    expect(gh.comments.map((c) => c.body)).toEqual([dev("second push"), prod("first push")]);
});

test("the comment is found past the first page of a long discussion", async () => {
    await upsertComment(api, 7, dev("first push"));
    for (let i = 0; i < 150; i++) gh.comments.push({ id: i, body: `review comment ${i}` });
    gh.comments.push(gh.comments.shift() as Item); // the preview is now comment 151: page 2
    expect(await upsertComment(api, 7, dev("second push"))).toBe("updated");
    expect(gh.comments.filter((c) => c.body.startsWith("<!-- istio-mesh-ci"))).toHaveLength(1);
    expect(gh.requests.filter((r) => r.startsWith("GET"))).toHaveLength(1 + 2);
});

test("a lasting drift keeps one open issue per stack, pull requests aside", async () => {
    gh.issues.push({ id: 1, number: 1, body: "<!-- istio-mesh-ci:drift:prod -->\nold PR", pull_request: {} });
    const drift = (text: string) => `<!-- istio-mesh-ci:drift:prod -->\n${text}`;
    expect(await upsertIssue(api, "Drift in stack prod", drift("night 1"))).toBe("created");
    expect(await upsertIssue(api, "Drift in stack prod", drift("night 2"))).toBe("updated");
    expect(gh.issues.filter((i) => !i.pull_request).map((i) => i.body)).toEqual([drift("night 2")]);
});

test("refusals are reported with GitHub's status and message", async () => {
    await expect(upsertComment({ ...api, token: "wrong" }, 7, dev("x"))).rejects.toThrow(
        /^GitHub API GET \/repos\/o\/r\/issues\/7\/comments\?per_page=100&page=1: 401 Unauthorized: {"message":"Bad credentials"}$/,
    );
});

test("a body without a marker line is refused: it could never be found again", () => {
    expect(() => markerOf("### pulumi preview")).toThrow(
        'the body must start with a marker line such as <!-- istio-mesh-ci:preview:dev -->, not "### pulumi preview"',
    );
});
