// chartSource and addonSource: a URL is taken as it is; a local directory must
// exist and hold the files the stack will read from it, so a typo or a missing
// download is reported before anything is installed.
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { field, Reader, truncate } from "./reader";
import { StackConfig } from "./types";

/** Where the official Istio charts are published. */
export const DEFAULT_CHART_SOURCE = "https://istio-release.storage.googleapis.com/charts";
/** The release's own addon manifests (samples/addons at the release tag). */
export const DEFAULT_ADDON_SOURCE = "https://raw.githubusercontent.com/istio/istio/{version}/samples/addons";

/** Substitutes `{version}` so one setting can serve every release. */
export function expandSource(source: string, version: string): string {
    return source.split("{version}").join(version);
}

export function isRemoteSource(source: string): boolean {
    return /^(https?|oci):\/\//.test(source);
}

const LOCAL = "a local directory (a path or a file:// URL)";
const NOT_A_SOURCE =
    "is not a source; use https:// (Helm repository or web folder), oci:// (registry) or a local directory";

/** The one placeholder a source takes. */
const PLACEHOLDER = "{version}";

export interface Source {
    key: string;
    /** The URL, or the absolute directory. */
    location: string;
    /** The setting with `{version}` replaced, as messages show it. */
    expanded: string;
    /** A local directory that exists: its files can be checked. */
    localDirectory: boolean;
}

/**
 * Reads a source setting. `version` is undefined when the version was refused:
 * a source that depends on it is then not checked, as its only problem would be
 * the version's. Everything about the text itself (placeholders, scheme, host) is
 * checked even so, before any download.
 */
export function readSource(
    r: Reader,
    root: Record<string, unknown>,
    key: "chartSource" | "addonSource" | "gatewayApi.source",
    fallback: string,
    version: string | undefined,
    baseDir: string,
): Source {
    const setting = r.text(key, field(root, key), NOT_A_SOURCE) ?? fallback;
    const unchecked = { key, location: setting, expanded: setting, localDirectory: false };
    const unknown = [...new Set(setting.match(/\{[^{}]*\}/g) ?? [])].filter((p) => p !== PLACEHOLDER);
    if (unknown.length > 0) {
        r.invalid(
            key,
            setting,
            `has the placeholder ${unknown.join(", ")}; the one placeholder a source takes is ${PLACEHOLDER}, replaced by the version`,
        );
        return unchecked;
    }
    const schemeProblem = checkScheme(setting);
    if (schemeProblem) {
        r.invalid(key, setting, schemeProblem);
        return unchecked;
    }
    if (version === undefined && setting.includes(PLACEHOLDER)) return unchecked;
    const expanded = expandSource(setting, version ?? "");
    if (isRemoteSource(expanded)) return { ...unchecked, location: expanded, expanded };
    let local = expanded;
    if (/^file:\/\//i.test(expanded)) {
        try {
            local = fileURLToPath(expanded);
        } catch {
            r.invalid(key, expanded, `is not a local file:// URL; use file:///<absolute path>, or ${LOCAL}`);
            return { ...unchecked, expanded };
        }
    }
    const dir = path.resolve(baseDir, local);
    if (!isDirectory(dir)) {
        r.invalid(
            key,
            expanded,
            `is not an existing directory (resolved to ${truncate(dir)}); {version} is replaced by the release`,
        );
        return { key, location: dir, expanded, localDirectory: false };
    }
    return { key, location: dir, expanded, localDirectory: true };
}

/**
 * What is wrong with a source's scheme or host, or undefined: https:// and oci://
 * name a server, plain http:// is refused (anyone on the path could change what
 * gets installed), and a local path or file:// URL is a directory.
 */
export function checkScheme(source: string): string | undefined {
    const url = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)/i.exec(source);
    if (!url) return undefined;
    const scheme = url[1].toLowerCase();
    if (scheme === "file") return undefined;
    if (scheme !== "https" && scheme !== "oci" && scheme !== "http") return NOT_A_SOURCE;
    // The authority without user info: a host name, an IPv4 address or [IPv6], and an optional port.
    const host = url[2].replace(/^[^@]*@/, "");
    if (scheme === "http") {
        if (isLoopback(host)) return undefined;
        return `is plain HTTP: anyone on the path can change what gets installed; use https://, an oci:// registry or ${LOCAL} (plain HTTP only from a loopback address: 127.0.0.1, [::1], localhost)`;
    }
    if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:\d{1,5})?$/i.test(host)) {
        return scheme === "oci"
            ? "names no registry; an oci:// source starts with the registry's host, such as oci://registry.example.com/istio"
            : "names no host; an https:// source starts with the server's host, such as https://istio-release.storage.googleapis.com/charts";
    }
    return undefined;
}

/** Refuses a local directory that lacks any of `files`; `rule` says what it must hold. */
export function checkLocalFiles(r: Reader, source: Source, files: string[], rule: string): void {
    if (!source.localDirectory) return;
    const missing = files.filter((f) => !fs.existsSync(path.join(source.location, f)));
    if (missing.length > 0) {
        r.invalid(
            source.key,
            source.expanded,
            `is missing ${missing.join(", ")} (resolved to ${truncate(source.location)}); ${rule}`,
        );
    }
}

function isDirectory(dir: string): boolean {
    try {
        return fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
        // A path the OS refuses (a NUL byte, no permission) is no usable directory either.
        return false;
    }
}

/** A host[:port] on this machine only: a local mirror served over plain HTTP crosses no network. */
function isLoopback(hostPort: string): boolean {
    const host = hostPort.replace(/:\d{1,5}$/, "").toLowerCase();
    return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** A release-data source the stack reads, as its setting names it. */
export interface ReleaseSource {
    /** The setting, e.g. `chartSource` or `chartSource (Istio 1.28.10)`. */
    setting: string;
    /** The URL, or the directory, with `{version}` replaced. */
    source: string;
}

/**
 * Every release-data source a parsed config reads from: the charts of each Istio
 * version it runs, the addon manifests when an addon is on, the Gateway API CRDs
 * when the stack installs them. The stack exports them (output `releaseSources`)
 * for the policy pack's secure-sources rule.
 */
export function releaseSources(
    config: Pick<StackConfig, "version" | "chartSources" | "chartSource" | "addonSource" | "addons" | "gatewayApi">,
): ReleaseSource[] {
    const out: ReleaseSource[] = [];
    for (const [version, source] of Object.entries(config.chartSources)) {
        out.push({
            setting: version === config.version.text ? "chartSource" : `chartSource (Istio ${version})`,
            source,
        });
    }
    if (out.length === 0) out.push({ setting: "chartSource", source: config.chartSource });
    if (config.addons.enabled.length > 0) out.push({ setting: "addonSource", source: config.addonSource });
    if (config.gatewayApi.enabled) out.push({ setting: "gatewayApi.source", source: config.gatewayApi.source });
    return out;
}
