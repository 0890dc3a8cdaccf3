// Release data: the files of an Istio release the stack reads (the Helm charts,
// the addon manifests) before it can register a single resource. By default they
// come from the official locations and are downloaded once into a cache outside
// the project; a local mirror named by ISTIO_MESH_RELEASE_MIRROR stands in for the
// official locations on machines without network. Downloading here, in the
// program, rather than leaving it to the Kubernetes provider's Helm pull:
//   - every file is on disk before the first resource is registered, so an
//     unreachable location fails the run at once, naming the download and the
//     mirror setting, instead of one chart failing midway through an update;
//   - a preview, an up and the next run read the same cached file, with no network;
//   - nothing else has to be installed: no helm CLI, Node's own fetch.
// Each kind of release data is one entry of RELEASE_DATA (which stack setting
// holds its source, its official location, its place in a mirror, the files a
// stack needs, how one file is fetched); a new kind (Gateway API CRDs) is one
// more entry.
// Pure of Pulumi: index.ts runs it before the Kubernetes SDK is loaded.
import { createHash } from "crypto";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import {
    DEFAULT_ADDON_SOURCE,
    DEFAULT_CHART_SOURCE,
    DEFAULT_GATEWAY_API_SOURCE,
    expandSource,
    GATEWAY_API_FOR_ISTIO,
    GATEWAY_API_MANIFEST,
    StackConfig,
} from "../config";
import { parseVersion } from "../config/version";
import { installPlan, planEntries } from "./plan";

/** The environment variable naming a local mirror of the official locations. */
export const MIRROR_ENV = "ISTIO_MESH_RELEASE_MIRROR";
/** The environment variable naming the download cache. */
export const CACHE_ENV = "ISTIO_MESH_RELEASE_CACHE";

/** The cache outside the project: `$XDG_CACHE_HOME/istio-mesh/releases`, else `~/.cache/istio-mesh/releases`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "istio-mesh", "releases");
}

/** The stack settings that hold a release data source. */
export type ReleaseDataSetting = "chartSource" | "addonSource";

/** One kind of release data. */
export interface ReleaseDataKind {
    /** The StackConfig field (and stack setting `istio-mesh:<setting>`) holding its source. */
    setting: ReleaseDataSetting;
    /** What one file is, as messages name it: "chart", "addon manifest". */
    noun: string;
    /** The official location, `{version}` not yet replaced. */
    official: string;
    /** Its folder in a mirror (and in the cache), relative to the mirror's root. */
    mirrorPath(config: StackConfig): string;
    /** The files the stack reads from the source, by name, with what messages call each. */
    files(config: StackConfig): { name: string; label: string }[];
    /** Fetches one file from a remote source (`source` already expanded). */
    download(source: string, name: string, get: Fetcher): Promise<Buffer>;
}

/** An HTTP GET that resolves to the body of a 200 answer and throws, naming the URL, otherwise. */
export type Fetcher = (url: string) => Promise<Buffer>;

/** The charts a stack installs at its own Istio version, by chart name: those of its install plan. */
export function chartsOf(config: StackConfig): string[] {
    const version = config.version.text;
    return [
        ...new Set(
            installPlan(config)
                .filter((e) => e.chart !== "addon manifest" && e.version === version)
                .map((e) => e.chart),
        ),
    ];
}

/** A Helm repository's index: each chart's versions and where their archives are. */
interface HelmIndex {
    entries?: Record<string, { version?: string; urls?: string[]; digest?: string | number }[]>;
}

const chartData: ReleaseDataKind = {
    setting: "chartSource",
    noun: "chart",
    official: DEFAULT_CHART_SOURCE,
    mirrorPath: (config) => path.join("istio", config.version.text, "charts"),
    files: (config) =>
        chartsOf(config).map((chart) => ({
            name: `${chart}-${config.version.text}.tgz`,
            label: `chart ${chart} ${config.version.text}`,
        })),
    // As Helm does: the repository's index.yaml says where each version's archive is
    // (relative to the repository or absolute) and its sha256.
    async download(repo, name, get) {
        const [, chart, version] = /^(.+)-(\d+\.\d+\.\d+)\.tgz$/.exec(name) ?? [];
        const base = repo.endsWith("/") ? repo : `${repo}/`;
        const index = yaml.load((await get(`${base}index.yaml`)).toString("utf8")) as HelmIndex | undefined;
        const entry = index?.entries?.[chart]?.find((e) => e.version === version);
        const url = entry?.urls?.[0];
        if (!entry || !url) throw new Error(`${base}index.yaml lists no ${chart} ${version}`);
        const archive = await get(new URL(url, base).toString());
        if (archive[0] !== 0x1f || archive[1] !== 0x8b) throw new Error(`${url} is not a gzip archive`);
        // String(): YAML reads an all-digit digest as a number.
        if (entry.digest !== undefined && sha256(archive) !== String(entry.digest)) {
            throw new Error(`${url} does not match the sha256 ${entry.digest} of ${base}index.yaml`);
        }
        return archive;
    },
};

const addonData: ReleaseDataKind = {
    setting: "addonSource",
    noun: "addon manifest",
    official: DEFAULT_ADDON_SOURCE,
    mirrorPath: (config) => path.join("istio", config.version.text, "addons"),
    files: (config) =>
        planEntries(installPlan(config), "addon manifest").map((e) => ({ name: e.file, label: `addon ${e.addon}` })),
    async download(source, name, get) {
        const text = await get(`${source.replace(/\/$/, "")}/${name}`);
        if (text.length === 0) throw new Error(`${source}/${name} is empty`);
        return text;
    },
};

/** Every kind of release data the stack reads, in the order messages list them. */
export const RELEASE_DATA: readonly ReleaseDataKind[] = [chartData, addonData];

/** `get`, asking each URL once per run: one index download per repository, however many charts come from it. */
function onceEach(get: Fetcher): Fetcher {
    const answers = new Map<string, Promise<Buffer>>();
    return (url) => {
        const answer = answers.get(url) ?? get(url);
        answers.set(url, answer);
        return answer;
    };
}

function sha256(data: Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

export interface ReleaseDataOptions {
    /** Where relative paths in the mirror setting are resolved. @default process.cwd() */
    baseDir?: string;
    /**
     * A local mirror of the official locations: `<mirror>/istio/<version>/charts/<chart>-<version>.tgz`
     * and `<mirror>/istio/<version>/addons/<addon>.yaml`. An empty string means none.
     * @default process.env.ISTIO_MESH_RELEASE_MIRROR
     */
    mirror?: string;
    /** Where downloads are kept, laid out as a mirror. @default process.env.ISTIO_MESH_RELEASE_CACHE, else defaultCacheDir() */
    cacheDir?: string;
    /** How long one download may take, in milliseconds. @default 60000 */
    timeoutMs?: number;
    /** The HTTP GET used for downloads. @default Node's fetch */
    fetcher?: Fetcher;
}

/** Release data the stack needs but could not get; the message lists every file and names the settings. */
export class ReleaseDataError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            `release data unavailable:\n  - ${problems.join("\n  - ")}\n` +
                `Without network, point ${MIRROR_ENV} at a local mirror ` +
                `(<mirror>/istio/<version>/charts/<chart>-<version>.tgz, <mirror>/istio/<version>/addons/<addon>.yaml), ` +
                `or set istio-mesh:chartSource / istio-mesh:addonSource to local directories.`,
        );
        this.name = "ReleaseDataError";
    }
}

/** Where each kind of release data was read from, for the log. */
export interface ReleaseDataOrigin {
    setting: ReleaseDataSetting;
    /** "setting": the stack setting's own directory or registry; "mirror"; "cache": downloaded (now or before). */
    from: "setting" | "mirror" | "cache";
    directory: string;
    /** The files downloaded by this call. */
    downloaded: string[];
}

/**
 * Makes every release file the stack reads local: returns the config with
 * `chartSource` and `addonSource` pointing at directories that hold them.
 *   - a local directory set in the stack config is used as it is (the parser checked it);
 *   - an oci:// chart source is left to the Kubernetes provider, which pulls from registries itself;
 *   - the official location is replaced by the mirror when one is named;
 *   - any other URL (the official one without a mirror) is downloaded into the cache,
 *     once: a file already cached is never fetched again (a release's files do not change).
 * @throws ReleaseDataError listing every file that could not be had, before anything is registered.
 */
export async function resolveReleaseData(
    config: StackConfig,
    options: ReleaseDataOptions = {},
): Promise<{ config: StackConfig; origins: ReleaseDataOrigin[] }> {
    return resolveFiles(config, options, () => true);
}

/** resolveReleaseData for the files `wanted` keeps (a canary revision's version needs only its istiod chart). */
async function resolveFiles(
    config: StackConfig,
    options: ReleaseDataOptions,
    wanted: (file: string) => boolean,
): Promise<{ config: StackConfig; origins: ReleaseDataOrigin[] }> {
    const baseDir = options.baseDir ?? process.cwd();
    const mirrorSetting = options.mirror ?? process.env[MIRROR_ENV] ?? "";
    const mirror = mirrorSetting === "" ? undefined : path.resolve(baseDir, mirrorSetting);
    const cacheDir = path.resolve(baseDir, options.cacheDir ?? (process.env[CACHE_ENV] || defaultCacheDir()));
    const get = onceEach(options.fetcher ?? httpGet(options.timeoutMs ?? 60_000));

    const problems: string[] = [];
    const origins: ReleaseDataOrigin[] = [];
    const resolved: StackConfig = { ...config };
    if (mirror !== undefined && !isDirectory(mirror)) {
        throw new ReleaseDataError([
            `${MIRROR_ENV}: "${mirrorSetting}" is not an existing directory (resolved to ${mirror})`,
        ]);
    }
    await Promise.all(
        RELEASE_DATA.map(async (kind) => {
            const source = config[kind.setting];
            const files = kind.files(config).filter((f) => wanted(f.name));
            const official = expandSource(kind.official, config.version.text) === source;
            if (official && mirror) {
                const directory = path.join(mirror, kind.mirrorPath(config));
                const missing = files.filter((f) => !fs.existsSync(path.join(directory, f.name)));
                for (const f of missing) {
                    problems.push(
                        `${f.label}: ${MIRROR_ENV} names the mirror ${mirror}, which lacks ${path.join(kind.mirrorPath(config), f.name)}; ` +
                            `add it, or set ${MIRROR_ENV}= (empty) to download from ${source}`,
                    );
                }
                resolved[kind.setting] = directory;
                origins.push({ setting: kind.setting, from: "mirror", directory, downloaded: [] });
                return;
            }
            if (!/^https?:\/\//.test(source)) {
                // A local directory (the parser checked it) or an OCI registry (the provider pulls from it).
                origins.push({ setting: kind.setting, from: "setting", directory: source, downloaded: [] });
                return;
            }
            // The official layout for the official location, so the cache can serve as a mirror elsewhere.
            const directory = official
                ? path.join(cacheDir, kind.mirrorPath(config))
                : // Per release too: a source without {version} serves every release under one name.
                  path.join(cacheDir, "by-source", sha256(Buffer.from(source)).slice(0, 16), config.version.text);
            const downloaded: string[] = [];
            await Promise.all(
                files.map(async (f) => {
                    const file = path.join(directory, f.name);
                    if (fs.existsSync(file)) return;
                    try {
                        writeAtomically(file, await kind.download(source, f.name, get));
                        downloaded.push(f.name);
                    } catch (e) {
                        problems.push(
                            `${f.label}: download from ${source} (istio-mesh:${kind.setting}) failed: ${e instanceof Error ? e.message : String(e)}`,
                        );
                    }
                }),
            );
            resolved[kind.setting] = directory;
            origins.push({ setting: kind.setting, from: "cache", directory, downloaded: downloaded.sort() });
        }),
    );
    // The Gateway API CRDs: the mirror's copy of the release file instead of the official download.
    const gatewayApi = config.gatewayApi;
    const gatewayApiVersion =
        GATEWAY_API_FOR_ISTIO[`${config.version.major}.${config.version.minor}` as keyof typeof GATEWAY_API_FOR_ISTIO];
    const officialGatewayApi = [
        DEFAULT_GATEWAY_API_SOURCE,
        expandSource(DEFAULT_GATEWAY_API_SOURCE, gatewayApiVersion ?? ""),
    ];
    if (gatewayApi?.enabled && officialGatewayApi.includes(gatewayApi.source) && mirror && gatewayApiVersion) {
        const directory = path.join(mirror, "gateway-api", gatewayApiVersion);
        if (!fs.existsSync(path.join(directory, GATEWAY_API_MANIFEST))) {
            problems.push(
                `Gateway API CRDs: ${MIRROR_ENV} names the mirror ${mirror}, which lacks ${path.join("gateway-api", gatewayApiVersion, GATEWAY_API_MANIFEST)}; ` +
                    `add it, or set ${MIRROR_ENV}= (empty) to download from ${gatewayApi.source}`,
            );
        }
        resolved.gatewayApi = { ...gatewayApi, source: directory };
    }
    if (problems.length > 0) throw new ReleaseDataError(problems.sort());
    // A control plane at another version (a canary revision) needs its own istiod chart.
    const chartSources: Record<string, string> = {
        ...config.chartSources,
        [config.version.text]: resolved.chartSource,
    };
    for (const [version, source] of Object.entries(config.chartSources ?? {})) {
        const parsed = parseVersion(version);
        if (version === config.version.text || parsed === undefined) continue;
        const other = await resolveFiles(
            {
                ...config,
                version: parsed,
                chartSource: source,
                chartSources: {},
                // Its own revisions only: the plan finds their chart source in chartSource.
                revisions: config.revisions.filter((r) => r.version.text === version),
                profile: "minimal",
                gateways: [],
                cni: { ...config.cni, enabled: false },
                addons: { ...config.addons, enabled: [] },
            },
            options,
            (file) => file === `istiod-${version}.tgz`,
        );
        chartSources[version] = other.config.chartSource;
        origins.push(...other.origins.filter((o) => o.setting === "chartSource"));
    }
    resolved.chartSources = chartSources;
    origins.sort((a, b) => a.setting.localeCompare(b.setting));
    return { config: resolved, origins };
}

/** Node's fetch, failing with the URL and the reason (HTTP status or the network's own error). */
function httpGet(timeoutMs: number): Fetcher {
    return async (url) => {
        let response: Response;
        try {
            response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        } catch (e) {
            // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND) is its cause.
            // (The target library is ES2020, which predates Error.cause in its types.)
            // Read by shape: an error from another realm (a test sandbox) is no `instanceof Error` here.
            const cause = (e as { cause?: { message?: unknown } }).cause;
            throw new Error(`GET ${url}: ${typeof cause?.message === "string" ? cause.message : String(e)}`);
        }
        if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status} ${response.statusText}`);
        return Buffer.from(await response.arrayBuffer());
    };
}

/** Written beside, then renamed: a killed run never leaves half a file that a later run would take for the whole. */
function writeAtomically(file: string, data: Buffer): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, data);
    fs.renameSync(partial, file);
}

function isDirectory(dir: string): boolean {
    return fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
