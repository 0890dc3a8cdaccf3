// Where the charts and addon manifests come from: the mirror in place of the
// official locations, a download into the cache (from a Helm repository served on
// loopback by the test, with real HTTP and Node's fetch), and the message when a
// download fails.
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { gzipSync } from "zlib";
import { parseStackConfig, StackConfig } from "../../components/config";
import { chartLocation } from "../../components/charts/values";
import { ReleaseDataError, resolveReleaseData } from "../../components/charts/releases";

const VERSION = "1.29.6";
let tmp: string;

beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "releases-test-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function demo(raw: Record<string, unknown> = {}): StackConfig {
    // Gateway API CRDs off unless a test is about them: most mirrors here hold only Istio's files.
    return parseStackConfig({ version: VERSION, profile: "demo", gatewayApi: { enabled: false }, ...raw }, tmp);
}

/** A fetcher that fails the test if anything is downloaded. */
const noNetwork = (url: string): Promise<Buffer> => Promise.reject(new Error(`unexpected download of ${url}`));

/** The message of the ReleaseDataError `work` fails with. */
async function failure(work: Promise<unknown>): Promise<string> {
    try {
        await work;
    } catch (e) {
        if (e instanceof ReleaseDataError) return e.message;
        throw e;
    }
    throw new Error("release data was resolved");
}

describe("a mirror stands in for the official locations", () => {
    function mirrorWith(files: string[]): string {
        const mirror = path.join(tmp, "mirror");
        for (const f of files) {
            fs.mkdirSync(path.dirname(path.join(mirror, f)), { recursive: true });
            fs.writeFileSync(path.join(mirror, f), "x");
        }
        return mirror;
    }
    const charts = ["base", "istiod", "gateway"].map((c) => `istio/${VERSION}/charts/${c}-${VERSION}.tgz`);
    const addons = ["prometheus", "grafana", "kiali", "jaeger"].map((a) => `istio/${VERSION}/addons/${a}.yaml`);
    // The Gateway API release Istio 1.29 is built against.
    const gatewayApi = ["gateway-api/v1.4.1/standard-install.yaml"];

    test("the stack reads the mirror's charts and manifests and downloads nothing", async () => {
        const mirror = mirrorWith([...charts, ...addons, ...gatewayApi]);
        const { config, origins } = await resolveReleaseData(demo({ gatewayApi: { enabled: true } }), {
            mirror,
            fetcher: noNetwork,
        });
        expect(config.gatewayApi.source).toBe(path.join(mirror, "gateway-api", "v1.4.1"));
        expect(chartLocation("istiod", config).chart).toBe(
            path.join(mirror, "istio", VERSION, "charts", `istiod-${VERSION}.tgz`),
        );
        expect(config.addonSource).toBe(path.join(mirror, "istio", VERSION, "addons"));
        expect(origins.map((o) => [o.setting, o.from])).toEqual([
            ["addonSource", "mirror"],
            ["chartSource", "mirror"],
        ]);
    });

    test("a canary revision at another version needs only that version's istiod chart", async () => {
        const mirror = mirrorWith([...charts, ...addons, "istio/1.28.10/charts/istiod-1.28.10.tgz"]);
        const { config } = await resolveReleaseData(
            demo({
                revisions: [{ name: "old", version: "1.28.10" }, { name: "new" }],
                revisionTags: { default: "old" },
            }),
            { mirror, fetcher: noNetwork },
        );
        expect(config.chartSources["1.28.10"]).toBe(path.join(mirror, "istio", "1.28.10", "charts"));
        expect(config.chartSources[VERSION]).toBe(path.join(mirror, "istio", VERSION, "charts"));
    });

    test("a relative mirror is relative to baseDir", async () => {
        mirrorWith([...charts, ...addons, ...gatewayApi]);
        const { config } = await resolveReleaseData(demo(), { mirror: "mirror", baseDir: tmp, fetcher: noNetwork });
        expect(config.chartSource).toBe(path.join(tmp, "mirror", "istio", VERSION, "charts"));
    });

    test("a mirror without the release's files is refused, naming the missing files and how to download instead", async () => {
        const mirror = mirrorWith(charts.slice(0, 2));
        const message = await failure(
            resolveReleaseData(demo({ addons: { grafana: false } }), { mirror, fetcher: noNetwork }),
        );
        expect(message).toContain(
            `chart gateway ${VERSION}: ISTIO_MESH_RELEASE_MIRROR names the mirror ${mirror}, which lacks istio/${VERSION}/charts/gateway-${VERSION}.tgz; add it, or set ISTIO_MESH_RELEASE_MIRROR= (empty) to download from https://istio-release.storage.googleapis.com/charts`,
        );
        expect(message).toContain(`addon kiali: ISTIO_MESH_RELEASE_MIRROR names the mirror ${mirror}, which lacks`);
        expect(message).not.toContain("addon grafana");
    });

    test("a mirror that is no directory is refused", async () => {
        const message = await failure(
            resolveReleaseData(demo(), { mirror: path.join(tmp, "nowhere"), fetcher: noNetwork }),
        );
        expect(message).toContain(
            `ISTIO_MESH_RELEASE_MIRROR: "${path.join(tmp, "nowhere")}" is not an existing directory`,
        );
    });

    test("a source set in the stack config wins over the mirror", async () => {
        const mirror = mirrorWith([...charts, ...addons]);
        const own = path.join(tmp, "own-charts");
        fs.mkdirSync(own);
        for (const c of ["base", "istiod", "gateway"]) fs.writeFileSync(path.join(own, `${c}-${VERSION}.tgz`), "x");
        const { config } = await resolveReleaseData(demo({ chartSource: own }), { mirror, fetcher: noNetwork });
        expect(config.chartSource).toBe(own);
        expect(config.addonSource).toBe(path.join(mirror, "istio", VERSION, "addons"));
    });
});

describe("downloads into the cache", () => {
    /** A Helm repository and a folder of addon manifests, served on 127.0.0.1; counts the requests. */
    async function serve(opts: { wrongDigest?: boolean } = {}) {
        const archives = Object.fromEntries(
            ["base", "istiod", "gateway"].map((c) => [`${c}-${VERSION}.tgz`, gzipSync(`chart ${c}`)]),
        );
        const index = [
            "apiVersion: v1",
            "entries:",
            ...["base", "istiod", "gateway"].flatMap((c) => [
                `  ${c}:`,
                // An older version first: the entry is picked by version, not position.
                `    - version: 1.28.10`,
                `      urls: [${c}-1.28.10.tgz]`,
                `    - version: ${VERSION}`,
                `      urls: [archives/${c}-${VERSION}.tgz]`,
                `      digest: ${opts.wrongDigest ? "0".repeat(64) : createHash("sha256").update(archives[`${c}-${VERSION}.tgz`]).digest("hex")}`,
            ]),
        ].join("\n");
        const requests: string[] = [];
        const server = http.createServer((req, res) => {
            const url = req.url ?? "";
            requests.push(url);
            const archive = /^\/charts\/archives\/(.+)$/.exec(url)?.[1];
            const addon = /^\/addons\/(\w+)\.yaml$/.exec(url)?.[1];
            if (url === "/charts/index.yaml") res.end(index);
            else if (archive && archives[archive]) res.end(archives[archive]);
            else if (addon) res.end(`kind: Deployment # ${addon}`);
            else res.writeHead(404).end();
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        return { base, requests, archives, close: () => new Promise((r) => server.close(r)) };
    }

    test("charts through the repository's index (version, relative URL, sha256), manifests by name; a second run downloads nothing", async () => {
        const repo = await serve();
        try {
            const raw = { chartSource: `${repo.base}/charts`, addonSource: `${repo.base}/addons` };
            const cacheDir = path.join(tmp, "cache");
            const first = await resolveReleaseData(demo(raw), { mirror: "", cacheDir });
            const chart = chartLocation("istiod", first.config).chart;
            expect(fs.readFileSync(chart)).toEqual(repo.archives[`istiod-${VERSION}.tgz`]);
            expect(chart.startsWith(path.join(cacheDir, "by-source"))).toBe(true);
            expect(fs.readFileSync(path.join(first.config.addonSource, "kiali.yaml"), "utf8")).toBe(
                "kind: Deployment # kiali",
            );
            expect(first.origins.map((o) => [o.setting, o.from, o.downloaded])).toEqual([
                ["addonSource", "cache", ["grafana.yaml", "jaeger.yaml", "kiali.yaml", "prometheus.yaml"]],
                ["chartSource", "cache", [`base-${VERSION}.tgz`, `gateway-${VERSION}.tgz`, `istiod-${VERSION}.tgz`]],
            ]);
            // One index for the three charts.
            expect(repo.requests.filter((r) => r.endsWith("index.yaml"))).toHaveLength(1);

            const before = repo.requests.length;
            const second = await resolveReleaseData(demo(raw), { mirror: "", cacheDir });
            expect(repo.requests.length).toBe(before);
            expect(second.config).toEqual(first.config);
            expect(fs.readdirSync(first.config.chartSource).filter((f) => f.endsWith(".partial"))).toEqual([]);
        } finally {
            await repo.close();
        }
    });

    test("an archive that does not match the index's sha256 is refused and not cached", async () => {
        const repo = await serve({ wrongDigest: true });
        try {
            const cacheDir = path.join(tmp, "cache");
            const config = demo({ chartSource: `${repo.base}/charts`, addonSource: `${repo.base}/addons` });
            const message = await failure(resolveReleaseData(config, { mirror: "", cacheDir }));
            expect(message).toContain(
                `chart istiod ${VERSION}: download from ${repo.base}/charts (istio-mesh:chartSource) failed: archives/istiod-${VERSION}.tgz does not match the sha256`,
            );
            const cached = fs.readdirSync(cacheDir, { recursive: true }).map(String);
            expect(cached.filter((f) => f.endsWith(".tgz"))).toEqual([]);
        } finally {
            await repo.close();
        }
    });

    test("an unreachable location fails at once, naming each download, its setting and the mirror setting", async () => {
        // A port that was just free on loopback: nothing listens, the connection is refused.
        const probe = http.createServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
        const port = (probe.address() as AddressInfo).port;
        await new Promise((r) => probe.close(r));
        const config = demo({
            chartSource: `http://127.0.0.1:${port}/charts`,
            addonSource: `http://127.0.0.1:${port}/addons`,
        });
        const message = await failure(resolveReleaseData(config, { mirror: "", cacheDir: path.join(tmp, "cache") }));
        expect(message).toContain(
            `chart base ${VERSION}: download from http://127.0.0.1:${port}/charts (istio-mesh:chartSource) failed: GET http://127.0.0.1:${port}/charts/index.yaml: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
        expect(message).toContain(
            `addon kiali: download from http://127.0.0.1:${port}/addons (istio-mesh:addonSource) failed: GET http://127.0.0.1:${port}/addons/kiali.yaml: connect ECONNREFUSED`,
        );
        expect(message).toContain("Without network, point ISTIO_MESH_RELEASE_MIRROR at a local mirror");
    });

    test("the official locations are cached in the mirror's layout, so a cache can serve as a mirror", async () => {
        const cacheDir = path.join(tmp, "cache");
        const fetched: string[] = [];
        const { config } = await resolveReleaseData(
            demo({ addons: { prometheus: false, grafana: false, jaeger: false } }),
            {
                mirror: "",
                cacheDir,
                // Stands in for the network: the official index and files, as the official URLs ask for them.
                fetcher: async (url) => {
                    fetched.push(url);
                    if (url.endsWith("/index.yaml")) {
                        const entry = (c: string) =>
                            `  ${c}:\n    - version: ${VERSION}\n      urls: [${url.replace("index.yaml", `${c}-${VERSION}.tgz`)}]`;
                        return Buffer.from(`entries:\n${["base", "istiod", "gateway"].map(entry).join("\n")}`);
                    }
                    return url.endsWith(".tgz") ? gzipSync(url) : Buffer.from(url);
                },
            },
        );
        expect(config.chartSource).toBe(path.join(cacheDir, "istio", VERSION, "charts"));
        expect(config.addonSource).toBe(path.join(cacheDir, "istio", VERSION, "addons"));
        expect(fetched.sort()).toEqual([
            "https://istio-release.storage.googleapis.com/charts/base-1.29.6.tgz",
            "https://istio-release.storage.googleapis.com/charts/gateway-1.29.6.tgz",
            "https://istio-release.storage.googleapis.com/charts/index.yaml",
            "https://istio-release.storage.googleapis.com/charts/istiod-1.29.6.tgz",
            "https://raw.githubusercontent.com/istio/istio/1.29.6/samples/addons/kiali.yaml",
        ]);
        const again = await resolveReleaseData(demo({ addons: { prometheus: false, grafana: false, jaeger: false } }), {
            mirror: cacheDir,
            fetcher: noNetwork,
        });
        expect(again.config.chartSource).toBe(config.chartSource);
    });
});
