// Where the unit and render tests read the Istio releases from: what the jest
// global setup (releases.setup.ts) made local, `<root>/<version>/charts` and
// `<root>/<version>/addons` as in a mirror, and the Gateway API CRDs,
// `<root>/<gateway API version>/standard-install.yaml`.

/** The folder holding `<version>/charts` and `<version>/addons`; throws the setup's message when it had none. */
export function testReleaseRoot(): string {
    return setupResult(process.env.ISTIO_MESH_TEST_RELEASES);
}

/** The folder holding `<gateway API version>/standard-install.yaml`; throws the setup's message when it had none. */
export function testGatewayApiRoot(): string {
    return setupResult(process.env.ISTIO_MESH_TEST_GATEWAY_API);
}

function setupResult(root: string | undefined): string {
    if (root) return root;
    throw new Error(
        process.env.ISTIO_MESH_TEST_RELEASES_ERROR ??
            "no Istio releases for the tests: run them through jest.config.js (its globalSetup fetches them)",
    );
}
