// chartSource and addonSource: a URL is taken as it is; a local directory must
// exist and hold the files the stack will read from it, so a typo or a missing
// download is reported before anything is installed.
import * as fs from "fs";
import * as path from "path";
import { field, Reader, truncate } from "./reader";

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

const NOT_A_SOURCE =
    "is not a source; use https:// (Helm repository or web folder), oci:// (registry) or a local directory";

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
 * the version's.
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
    if (version === undefined && setting.includes("{version}")) return unchecked;
    const expanded = expandSource(setting, version ?? "");
    if (isRemoteSource(expanded)) return { ...unchecked, location: expanded, expanded };
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(expanded)) {
        r.invalid(key, expanded, NOT_A_SOURCE);
        return { ...unchecked, expanded };
    }
    const dir = path.resolve(baseDir, expanded);
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
