// Istio release numbers and the upgrade paths Istio supports between them.
// Pure, so the skew rules are tested without a cluster.

export interface Version {
    major: number;
    minor: number;
    patch: number;
    /** As written, e.g. "1.29.6". */
    text: string;
}

/** Parses MAJOR.MINOR.PATCH; anything else (a "v" prefix, a suffix) is rejected. */
export function parseVersion(text: string): Version | undefined {
    const m = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(text);
    if (!m) return undefined;
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text };
}

export type UpgradeKind = "install" | "none" | "patch" | "minor" | "downgrade";

/**
 * Checks the move from the version this stack last deployed to the requested one.
 * Istio supports in-place upgrades across one minor version and canary (revision)
 * upgrades across two; a minor downgrade in place is not supported.
 * Returns the kind of change, or throws an Error whose message names the
 * setting and the supported path.
 */
export function checkUpgradePath(
    installed: Version | undefined,
    target: Version,
    strategy: "in-place" | "canary",
    /** The setting messages name: version, or one revision's (`revisions 1-29-6`). */
    setting = "version",
): UpgradeKind {
    if (!installed) return "install";
    const from = installed.text;
    const to = target.text;
    if (installed.major !== target.major) {
        throw new Error(
            `istio-mesh:${setting}: ${to} changes the major version of the installed ${from}; this stack only moves within one major version`,
        );
    }
    const minorSteps = target.minor - installed.minor;
    if (minorSteps === 0) {
        if (target.patch === installed.patch) return "none";
        return target.patch > installed.patch ? "patch" : "downgrade";
    }
    if (minorSteps < 0) {
        if (strategy === "canary") return "downgrade";
        throw new Error(
            `istio-mesh:${setting}: ${to} is older than the installed ${from}; Istio does not support in-place minor downgrades. ` +
                `Roll back with a canary revision (istio-mesh:upgradeStrategy: canary) or restore ${from}`,
        );
    }
    const limit = strategy === "canary" ? 2 : 1;
    if (minorSteps > limit) {
        const next = `${installed.major}.${installed.minor + 1}`;
        throw new Error(
            strategy === "canary"
                ? `istio-mesh:${setting}: ${from} -> ${to} skips ${minorSteps - 1} minor versions; Istio supports canary upgrades across at most two minor versions. Upgrade to ${installed.major}.${installed.minor + 2}.x first`
                : `istio-mesh:${setting}: ${from} -> ${to} skips ${next}; Istio supports in-place upgrades one minor version at a time. ` +
                      `Upgrade to ${next}.x first, or use a canary upgrade (istio-mesh:upgradeStrategy: canary with istio-mesh:revision), which Istio supports across two minor versions`,
        );
    }
    return "minor";
}
