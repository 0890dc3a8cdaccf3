// The control planes of a stack and who uses which: `revisions` (istiods side by
// side, each with its Istio version and values), `revisionTags` (stable names for
// them, `default` among them) and `sidecarMigration` (how workloads move when the
// revision behind their namespace changes). A single-revision stack writes none of
// these: `version` and `revision` describe its one control plane, as before.
import { Version } from "./version";
import { ControlPlane, readVersion } from "./controlPlane";
import { readIstiodValues } from "./istiodValues";
import { LIMITS } from "./limits";
import { readName, readRequiredName, REVISION, NameRule } from "./names";
import { childKey, field, isSet, ListShape, Reader, UniqueValues } from "./reader";
import { RevisionConfig, SidecarMigrationSettings } from "./types";

export const REVISIONS: ListShape = {
    items: "revisions",
    settings: ["name", "version", "istiodValues"],
    limit: LIMITS.revisions,
};
export const MIGRATION_SETTINGS = ["batchSize", "timeoutSeconds"] as const;

/** A tag names the MutatingWebhookConfiguration istio-revision-tag-<tag> and the Service istiod-revision-tag-<tag>. */
export const TAG_NAME: NameRule = {
    what: "revision tag",
    maxLength: 63 - "istiod-revision-tag-".length,
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    hint: "use a DNS label of at most 43 characters such as stable, canary or default",
};

/** The tag that serves namespaces labelled istio-injection=enabled. */
export const DEFAULT_TAG = "default";

export interface Revisions {
    revisions: RevisionConfig[];
    /** Tag name -> revision name. */
    tags: Record<string, string>;
    /**
     * The revision the `default` tag points to; without tags, the one revision. The
     * base chart's default validator and the gateways use it. Undefined when neither
     * exists (several revisions and no default tag).
     */
    defaultRevision?: string;
    /** Revisions were listed (`revisions`), not the single `revision`. */
    listed: boolean;
}

/**
 * Reads `revisions` and `revisionTags`. `version` is the stack's Istio version:
 * the CRDs, CNI, ztunnel and gateways run it, so each control plane must be at
 * most that version (Istio upgrades CRDs and CNI first) and at most two minors
 * older (Istio's supported skew between control planes and the data plane).
 */
export function readRevisions(r: Reader, root: Record<string, unknown>, control: ControlPlane): Revisions {
    const listed = isSet(field(root, "revisions"));
    let revisions: RevisionConfig[];
    if (!listed) {
        revisions = [{ name: control.revision, version: control.version, istiodValues: {} }];
    } else {
        if (isSet(field(root, "revision"))) {
            r.invalid(
                "revision",
                field(root, "revision"),
                "cannot be combined with istio-mesh:revisions; name every control plane in istio-mesh:revisions",
            );
        }
        revisions = readRevisionList(r, field(root, "revisions"), control);
    }
    const names = revisions.map((rev) => rev.name);
    const tags = readTags(r, field(root, "revisionTags"), names, listed);
    const defaultRevision = tags[DEFAULT_TAG] ?? (revisions.length === 1 ? revisions[0].name : undefined);
    return { revisions, tags, defaultRevision, listed };
}

function readRevisionList(r: Reader, v: unknown, control: ControlPlane): RevisionConfig[] {
    if (Array.isArray(v) && v.length === 0) {
        r.invalid("revisions", v, "lists no revision; a stack runs at least one control plane");
    }
    const seen = new UniqueValues<string>(r, "each revision runs one istiod, named after it");
    return r.objects("revisions", v, REVISIONS, (item, key): RevisionConfig | undefined => {
        const nameKey = childKey(key, "name");
        const name = readRequiredName(r, nameKey, field(item, "name"), REVISION, "the revision's name, such as 1-29-6");
        if (name === DEFAULT_TAG)
            return r.invalid(nameKey, name, `is the name of Istio's default tag; ${REVISION.hint}`);
        const versionKey = childKey(key, "version");
        const version = readVersion(r, versionKey, field(item, "version"), false) ?? control.version;
        if (r.valid("version", versionKey)) checkSkew(r, versionKey, version, control.version);
        const istiodValues = readIstiodValues(r, field(item, "istiodValues"), childKey(key, "istiodValues"));
        if (name === undefined || !seen.claim(nameKey, name)) return undefined;
        return { name, version, istiodValues };
    });
}

function checkSkew(r: Reader, key: string, version: Version, stackVersion: Version): void {
    const behind = stackVersion.minor - version.minor;
    if (version.major !== stackVersion.major || behind < 0) {
        r.invalid(
            key,
            version.text,
            `is newer than istio-mesh:version ${stackVersion.text}, which the CRDs, CNI, ztunnel and gateways run; raise istio-mesh:version first (Istio upgrades those before a new control plane)`,
        );
    } else if (behind > 2) {
        r.invalid(
            key,
            version.text,
            `is ${behind} minors older than istio-mesh:version ${stackVersion.text}; Istio supports control planes at most two minors behind the CRDs and the data plane`,
        );
    }
}

function readTags(r: Reader, v: unknown, revisions: string[], listed: boolean): Record<string, string> {
    const map = r.map("revisionTags", v, "tag names to revision names");
    if (!map) return {};
    const named = revisions.filter((n) => n !== "");
    const tags: Record<string, string> = {};
    for (const [tag, target] of Object.entries(map)) {
        const key = childKey("revisionTags", tag);
        if (readName(r, key, tag, TAG_NAME) === undefined) continue;
        if (revisions.includes(tag)) {
            r.invalid(
                key,
                tag,
                "is also a revision's name; Istio tells tags and revisions apart by name, so pick another",
            );
            continue;
        }
        if (typeof target !== "string" || !named.includes(target)) {
            r.invalid(
                key,
                target,
                named.length === 0
                    ? `cannot be tagged: the default revision has no name; name it with istio-mesh:revision${listed ? "" : " or list it in istio-mesh:revisions"}`
                    : `is not a revision of this stack; allowed: ${named.join(", ")}`,
            );
            continue;
        }
        tags[tag] = target;
    }
    return tags;
}

export function readSidecarMigration(r: Reader, v: unknown): SidecarMigrationSettings {
    const m = r.object("sidecarMigration", v, MIGRATION_SETTINGS) ?? {};
    return {
        batchSize: r.integer("sidecarMigration.batchSize", field(m, "batchSize"), 1, 1000) ?? 1,
        timeoutSeconds: r.integer("sidecarMigration.timeoutSeconds", field(m, "timeoutSeconds"), 10, 86400) ?? 600,
    };
}

/**
 * What a namespace (or gateway) follows: a tag or a revision. Returns the revision
 * behind it, or undefined (and a problem) when it names neither.
 */
export function resolveFollows(
    r: Reader,
    key: string,
    follows: string,
    revs: Pick<Revisions, "revisions" | "tags">,
): string | undefined {
    const tagged = revs.tags[follows];
    if (tagged !== undefined) return tagged;
    if (revs.revisions.some((rev) => rev.name === follows)) return follows;
    const allowed = [...Object.keys(revs.tags), ...revs.revisions.map((rev) => rev.name).filter((n) => n !== "")];
    r.invalid(key, follows, `is neither a tag nor a revision of this stack; allowed: ${allowed.join(", ") || "none"}`);
    return undefined;
}
