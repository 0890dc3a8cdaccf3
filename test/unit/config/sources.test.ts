// chartSource, addonSource and gatewayApi.source: where release data comes from, checked before any download.
import * as path from "path";
import { releaseSources } from "../../../components/config";
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

// Issue 22: every release-data source is checked for its scheme, host and
// placeholders before any download.
describe("release data sources: scheme, host and placeholders", () => {
    const PLAIN_HTTP =
        "is plain HTTP: anyone on the path can change what gets installed; use https://, an oci:// registry or a local directory (a path or a file:// URL) (plain HTTP only from a loopback address: 127.0.0.1, [::1], localhost)";

    test.each([
        [
            { chartSource: "http://mirror.example.com/charts" },
            `istio-mesh:chartSource: "http://mirror.example.com/charts" ${PLAIN_HTTP}`,
        ],
        [
            { addons: { kiali: true }, addonSource: "HTTP://mirror.example.com/{version}/addons" },
            `istio-mesh:addonSource: "HTTP://mirror.example.com/{version}/addons" ${PLAIN_HTTP}`,
        ],
        [
            { gatewayApi: { source: "http://mirror.example.com/gateway-api/{version}" } },
            `istio-mesh:gatewayApi.source: "http://mirror.example.com/gateway-api/{version}" ${PLAIN_HTTP}`,
        ],
        [
            { chartSource: "https:///charts" },
            'istio-mesh:chartSource: "https:///charts" names no host; an https:// source starts with the server\'s host, such as https://istio-release.storage.googleapis.com/charts',
        ],
        [
            { chartSource: "oci://" },
            'istio-mesh:chartSource: "oci://" names no registry; an oci:// source starts with the registry\'s host, such as oci://registry.example.com/istio',
        ],
        [
            { chartSource: "oci://:5000/istio" },
            'istio-mesh:chartSource: "oci://:5000/istio" names no registry; an oci:// source starts with the registry\'s host, such as oci://registry.example.com/istio',
        ],
        [
            { chartSource: "https://mirror.example.com/{verison}/charts" },
            'istio-mesh:chartSource: "https://mirror.example.com/{verison}/charts" has the placeholder {verison}; the one placeholder a source takes is {version}, replaced by the version',
        ],
        [
            { gatewayApi: { source: "/mirror/{Version}/{release}" } },
            'istio-mesh:gatewayApi.source: "/mirror/{Version}/{release}" has the placeholder {Version}, {release}; the one placeholder a source takes is {version}, replaced by the version',
        ],
        [
            { chartSource: "file://server/share/charts" },
            'istio-mesh:chartSource: "file://server/share/charts" is not a local file:// URL; use file:///<absolute path>, or a local directory (a path or a file:// URL)',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a placeholder typo is found even when the version is refused", () => {
        expect(problems({ version: "1.29", chartSource: "/m/{verison}" })).toHaveLength(2);
    });

    test("https, oci with a port, loopback http and file:// URLs are sources", () => {
        expect(parse({ chartSource: "oci://localhost:5000/istio" }).chartSource).toBe("oci://localhost:5000/istio");
        expect(parse({ chartSource: "https://user@mirror.example.com:8443/charts" }).chartSource).toBe(
            "https://user@mirror.example.com:8443/charts",
        );
        expect(parse({ chartSource: "http://127.0.0.1:8080/charts" }).chartSource).toBe("http://127.0.0.1:8080/charts");
        expect(parse({ chartSource: "http://[::1]/charts" }).chartSource).toBe("http://[::1]/charts");
        const c = parse({ chartSource: `file://${path.join(shared(), "{version}/charts")}` });
        expect(c.chartSource).toBe(path.join(shared(), "1.29.6/charts"));
    });

    test("every source the stack reads is listed for the policy pack, with its setting", () => {
        const c = parse({
            addons: { kiali: true },
            revisions: [{ name: "old", version: "1.28.10" }, { name: "new" }],
            revisionTags: { default: "new" },
            upgradeStrategy: "canary",
        });
        expect(releaseSources(c)).toEqual([
            { setting: "chartSource", source: "https://istio-release.storage.googleapis.com/charts" },
            { setting: "chartSource (Istio 1.28.10)", source: "https://istio-release.storage.googleapis.com/charts" },
            { setting: "addonSource", source: "https://raw.githubusercontent.com/istio/istio/1.29.6/samples/addons" },
            {
                setting: "gatewayApi.source",
                source: "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.4.1",
            },
        ]);
        expect(releaseSources(parse({ gatewayApi: { enabled: false } })).map((s) => s.setting)).toEqual([
            "chartSource",
        ]);
    });
});
