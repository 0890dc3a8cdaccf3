import { checkUpgradePath, parseVersion, Version } from "../../components/config/version";

const v = (text: string): Version => {
    const parsed = parseVersion(text);
    if (!parsed) throw new Error(`bad test version ${text}`);
    return parsed;
};

describe("parseVersion", () => {
    test.each(["1.29.6", "1.30.0", "10.0.1"])("accepts %s", (t) => expect(parseVersion(t)?.text).toBe(t));
    test.each(["1.29", "v1.29.6", "1.29.6-beta.1", "1.029.6", " 1.29.6", ""])("rejects %j", (t) =>
        expect(parseVersion(t)).toBeUndefined(),
    );
});

describe("checkUpgradePath: the upgrade paths Istio supports", () => {
    test("a first install has no previous version", () =>
        expect(checkUpgradePath(undefined, v("1.29.6"), "in-place")).toBe("install"));
    test("re-applying the same version changes nothing", () =>
        expect(checkUpgradePath(v("1.29.6"), v("1.29.6"), "in-place")).toBe("none"));
    test("a patch upgrade", () => expect(checkUpgradePath(v("1.29.5"), v("1.29.6"), "in-place")).toBe("patch"));
    test("one minor version in place", () =>
        expect(checkUpgradePath(v("1.29.6"), v("1.30.3"), "in-place")).toBe("minor"));
    test("two minor versions only by canary", () =>
        expect(checkUpgradePath(v("1.28.10"), v("1.30.3"), "canary")).toBe("minor"));

    test("skipping a minor version in place is refused with the supported path", () => {
        expect(() => checkUpgradePath(v("1.28.10"), v("1.30.3"), "in-place")).toThrow(
            "istio-mesh:version: 1.28.10 -> 1.30.3 skips 1.29; Istio supports in-place upgrades one minor version at a time. " +
                "Upgrade to 1.29.x first, or use a canary upgrade (istio-mesh:upgradeStrategy: canary with istio-mesh:revision), which Istio supports across two minor versions",
        );
    });

    test("three minor versions are refused even by canary", () => {
        expect(() => checkUpgradePath(v("1.27.0"), v("1.30.3"), "canary")).toThrow(
            "istio-mesh:version: 1.27.0 -> 1.30.3 skips 2 minor versions; Istio supports canary upgrades across at most two minor versions. Upgrade to 1.29.x first",
        );
    });

    test("a minor downgrade in place is refused", () => {
        expect(() => checkUpgradePath(v("1.30.3"), v("1.29.6"), "in-place")).toThrow(
            /Istio does not support in-place minor downgrades/,
        );
    });
});
