// Jest global setup of the unit and render tests: the Istio releases they read
// (charts, addon manifests, the Gateway API CRDs each is built against), made local
// once per run the way the program makes them: from the mirror
// ISTIO_MESH_RELEASE_MIRROR names (scripts/env.sh names ../shared when it is
// there), else downloaded into the cache. The tests find them with
// testReleaseRoot() and testGatewayApiRoot() (releases.ts), never by a path of
// their own. A failure is not thrown here, so the tests that need no release still
// run; the ones that do fail with its message.
import * as path from "path";
import { parseStackConfig } from "../../components/config";
import { resolveReleaseData } from "../../components/charts/releases";

/** Every release the tests render. */
const VERSIONS = ["1.29.6", "1.30.3"];

/** Every chart and addon a stack can use. */
const EVERYTHING = {
    profile: "ambient",
    cni: { enabled: true },
    gateways: [{ name: "istio-ingressgateway" }],
    addons: { prometheus: true, grafana: true, kiali: true, jaeger: true },
};

export default async function fetchTestReleases(): Promise<void> {
    try {
        const resolved = await Promise.all(
            VERSIONS.map(async (version) => {
                const parsed = parseStackConfig({ version, ...EVERYTHING }, process.cwd());
                return (await resolveReleaseData(parsed)).config;
            }),
        );
        // <root>/<version>/charts, in a mirror as in the cache.
        process.env.ISTIO_MESH_TEST_RELEASES = path.resolve(resolved[0].chartSource, "../..");
        // <root>/<gateway API version>/standard-install.yaml.
        process.env.ISTIO_MESH_TEST_GATEWAY_API = path.resolve(resolved[0].gatewayApi.source, "..");
    } catch (e) {
        process.env.ISTIO_MESH_TEST_RELEASES_ERROR = e instanceof Error ? e.message : String(e);
    }
}
