// The two writes the workflows make to GitHub, through its REST API with the
// job's GITHUB_TOKEN: the preview of a stack as one pull request comment that
// each new push updates (found by its hidden marker, the summary's first line),
// and the drift check's report as one open issue per stack, updated while the
// drift lasts. Plain fetch, no GitHub client library: two endpoints each.
//
//   github.js comment --pr N --body-file FILE   (pull-requests: write)
//   github.js issue --title TITLE --body-file FILE   (issues: write)
// Env: GITHUB_TOKEN, GITHUB_REPOSITORY (owner/name), GITHUB_API_URL (set by Actions).
import * as fs from "fs";

export interface GitHubApi {
    /** e.g. https://api.github.com (GITHUB_API_URL on a runner; GitHub Enterprise differs). */
    url: string;
    token: string;
    /** owner/name */
    repository: string;
}

interface IssueComment {
    id: number;
    body?: string;
}

/** The marker a body starts with: its first line, an HTML comment (scripts/ci/summary.ts, commentMarker). */
export function markerOf(body: string): string {
    const first = body.split("\n", 1)[0];
    if (!/^<!-- .+ -->$/.test(first)) {
        throw new Error(
            `the body must start with a marker line such as <!-- istio-mesh-ci:preview:dev -->, not ${JSON.stringify(first.slice(0, 60))}`,
        );
    }
    return first;
}

async function call<T>(api: GitHubApi, method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${api.url}${route}`, {
        method,
        headers: {
            Accept: "application/vnd.github+json",
            Authorization: `Bearer ${api.token}`,
            "X-GitHub-Api-Version": "2022-11-28",
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) {
        throw new Error(
            `GitHub API ${method} ${route}: ${res.status} ${res.statusText}: ${(await res.text()).slice(0, 300)}`,
        );
    }
    return (await res.json()) as T;
}

/** Every item of a listing, page by page (100 a page, the API's maximum). */
async function all<T>(api: GitHubApi, route: string): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page++) {
        const sep = route.includes("?") ? "&" : "?";
        const batch = await call<T[]>(api, "GET", `${route}${sep}per_page=100&page=${page}`);
        items.push(...batch);
        if (batch.length < 100) return items;
    }
}

/** Creates the PR comment that starts with the body's marker, or updates it. Returns what it did. */
export async function upsertComment(api: GitHubApi, pr: number, body: string): Promise<"created" | "updated"> {
    const marker = markerOf(body);
    const comments = await all<IssueComment>(api, `/repos/${api.repository}/issues/${pr}/comments`);
    const existing = comments.find((c) => c.body?.startsWith(marker));
    if (existing) {
        await call(api, "PATCH", `/repos/${api.repository}/issues/comments/${existing.id}`, { body });
        return "updated";
    }
    await call(api, "POST", `/repos/${api.repository}/issues/${pr}/comments`, { body });
    return "created";
}

/** Opens an issue with the body's marker, or updates the open one (a lasting drift is one issue, not one a night). */
export async function upsertIssue(api: GitHubApi, title: string, body: string): Promise<"created" | "updated"> {
    const marker = markerOf(body);
    // The issues listing holds pull requests too; an issue is addressed by its number.
    const issues = await all<{ number: number; body?: string; pull_request?: unknown }>(
        api,
        `/repos/${api.repository}/issues?state=open`,
    );
    const existing = issues.find((i) => !i.pull_request && i.body?.startsWith(marker));
    if (existing) {
        await call(api, "PATCH", `/repos/${api.repository}/issues/${existing.number}`, { title, body });
        return "updated";
    }
    await call(api, "POST", `/repos/${api.repository}/issues`, { title, body });
    return "created";
}

function env(name: string): string {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set (GitHub Actions sets it; give the job the token as GITHUB_TOKEN)`);
    return v;
}

function flag(name: string): string {
    const i = process.argv.indexOf(`--${name}`);
    const v = i >= 0 ? process.argv[i + 1] : undefined;
    if (v === undefined) throw new Error(`--${name} is required`);
    return v;
}

async function main(): Promise<void> {
    const api: GitHubApi = {
        url: process.env.GITHUB_API_URL ?? "https://api.github.com",
        token: env("GITHUB_TOKEN"),
        repository: env("GITHUB_REPOSITORY"),
    };
    const what = process.argv[2];
    const body = fs.readFileSync(flag("body-file"), "utf8");
    if (what === "comment") {
        const pr = Number(flag("pr"));
        if (!Number.isInteger(pr) || pr <= 0) throw new Error(`--pr ${flag("pr")} is not a pull request number`);
        console.log(`comment on #${pr}: ${await upsertComment(api, pr, body)}`);
    } else if (what === "issue") {
        console.log(`issue "${flag("title")}": ${await upsertIssue(api, flag("title"), body)}`);
    } else {
        throw new Error(`usage: github.js comment --pr N --body-file FILE | issue --title TITLE --body-file FILE`);
    }
}

// Run as a script only; the unit tests import the functions.
if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`github: ${e.message}`);
        process.exit(1);
    });
}
