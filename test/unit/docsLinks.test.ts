// The README is the front door and docs/ the manual behind it: every relative link
// between them must lead to a file that exists and, with a #fragment, to a heading
// in it, so that moving a section never leaves a dead link behind. The README
// stays short enough to read (issue 21: under 300 lines).
import * as fs from "fs";
import * as path from "path";

const projectDir = path.resolve(__dirname, "../..");
const docsDir = path.join(projectDir, "docs");

/** README.md and every Markdown file in docs/, relative to the project. */
function documents(): string[] {
    const docs = fs
        .readdirSync(docsDir)
        .filter((f) => f.endsWith(".md"))
        .map((f) => path.join("docs", f));
    return ["README.md", ...docs.sort()];
}

/** The text outside fenced code blocks: a `[x](y)` or `# heading` in an example is not one. */
export function proseLines(markdown: string): string[] {
    let fenced = false;
    return markdown.split("\n").filter((line) => {
        if (/^\s*```/.test(line)) {
            fenced = !fenced;
            return false;
        }
        return !fenced;
    });
}

/** The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
    const seen = new Map<string, number>();
    const anchors = new Set<string>();
    for (const line of proseLines(markdown)) {
        const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) continue;
        const base = m[1]
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

/** Relative link targets in a document's prose (inline code spans removed): `[text](target)` and images. */
export function relativeLinks(markdown: string): string[] {
    const links: string[] = [];
    for (const line of proseLines(markdown)) {
        const prose = line.replace(/`[^`]*`/g, "");
        for (const m of prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
            const target = m[1];
            if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
            links.push(target);
        }
    }
    return links;
}

/** What is wrong with one link from `fromFile` (project-relative), or undefined when it resolves. */
function brokenLink(fromFile: string, target: string): string | undefined {
    const [file, fragment] = target.split("#", 2);
    const resolved =
        file === "" ? path.join(projectDir, fromFile) : path.resolve(projectDir, path.dirname(fromFile), file);
    if (!fs.existsSync(resolved)) return `${fromFile}: ${target}: no file ${path.relative(projectDir, resolved)}`;
    if (fragment === undefined) return undefined;
    if (!resolved.endsWith(".md")) return `${fromFile}: ${target}: a #fragment into a file that is not Markdown`;
    const anchors = headingAnchors(fs.readFileSync(resolved, "utf8"));
    return anchors.has(fragment)
        ? undefined
        : `${fromFile}: ${target}: no heading #${fragment} in ${path.relative(projectDir, resolved)}`;
}

test("every relative link in README.md and docs/*.md leads to an existing file and heading", () => {
    const problems = documents().flatMap((doc) =>
        relativeLinks(fs.readFileSync(path.join(projectDir, doc), "utf8"))
            .map((target) => brokenLink(doc, target))
            .filter((p): p is string => p !== undefined),
    );
    expect([...new Set(problems)]).toEqual([]);
});

test("the README stays under 300 lines", () => {
    const lines = fs.readFileSync(path.join(projectDir, "README.md"), "utf8").split("\n").length;
    expect(lines).toBeLessThan(300);
});

describe("the link reader itself", () => {
    test("finds links and images in prose, not in code spans or fenced blocks, and skips absolute URLs", () => {
        const md = [
            "See [ops](docs/operations.md#readiness) and ![plot](perf/x.svg).",
            "Not `[code](nowhere.md)`, nor [site](https://istio.io).",
            "```",
            "[example](missing.md)",
            "```",
        ].join("\n");
        expect(relativeLinks(md)).toEqual(["docs/operations.md#readiness", "perf/x.svg"]);
    });

    test("gives headings GitHub's anchors", () => {
        const md = "# Running `pulumi` commands\n## mTLS\n## Drift\n## Drift\n```\n# not a heading\n```\n";
        expect([...headingAnchors(md)]).toEqual(["running-pulumi-commands", "mtls", "drift", "drift-1"]);
    });
});
