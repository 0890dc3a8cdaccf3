// chartSource, addonSource and gatewayApi.source: where release data comes from, checked before any download.
import * as path from "path";
import { configParser } from "../configParser";
import { testReleaseRoot } from "../../support/releases";

// A function: the tests that read no release run even when the releases are missing.
const shared = () => testReleaseRoot();

const { parse, problems } = configParser("1.29.6");

describe("release data sources", () => {
    test("a local chart directory has {version} replaced and must exist", () => {
        const c = parse({ chartSource: path.join(shared(), "{version}/charts") });
        expect(c.chartSource).toBe(path.join(shared(), "1.29.6/charts"));
        expect(problems({ chartSource: "/nonexistent/{version}/charts" })).toEqual([
            'istio-mesh:chartSource: "/nonexistent/1.29.6/charts" is not an existing directory (resolved to /nonexistent/1.29.6/charts); {version} is replaced by the release',
        ]);
    });

    test("oci:// and https:// sources are taken as they are", () => {
        expect(parse({ chartSource: "oci://registry.example.com/istio" }).chartSource).toBe(
            "oci://registry.example.com/istio",
        );
        expect(problems({ chartSource: "ftp://x" })[0]).toContain(
            "use https:// (Helm repository or web folder), oci:// (registry) or a local directory",
        );
    });
});

describe("a local source holds what the stack reads from it", () => {
    test("a chart directory without the version's charts names the missing files", () => {
        const addons = path.join(shared(), "1.29.6/addons");
        expect(problems({ profile: "ambient", chartSource: addons })).toEqual([
            `istio-mesh:chartSource: "${addons}" is missing base-1.29.6.tgz, istiod-1.29.6.tgz, gateway-1.29.6.tgz, cni-1.29.6.tgz, ztunnel-1.29.6.tgz (resolved to ${addons}); a local chart source holds <chart>-<version>.tgz for every chart the stack installs`,
        ]);
    });

    test("an addon directory without an enabled addon's manifest names it", () => {
        const charts = path.join(shared(), "1.29.6/charts");
        expect(problems({ addons: { kiali: true }, addonSource: charts })).toEqual([
            `istio-mesh:addonSource: "${charts}" is missing kiali.yaml (resolved to ${charts}); a local addon source holds <addon>.yaml for every addon that is on`,
        ]);
    });
});
