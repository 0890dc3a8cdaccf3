// Where the unit and render tests read the Istio releases from: what the jest
// global setup (releases.setup.js) made local, `<root>/<version>/charts` and
// `<root>/<version>/addons` as in a mirror.

/** The folder holding `<version>/charts` and `<version>/addons`; throws the setup's message when it had none. */
export function testReleaseRoot(): string {
    const root = process.env.ISTIO_MESH_TEST_RELEASES;
    if (root) return root;
    throw new Error(
        process.env.ISTIO_MESH_TEST_RELEASES_ERROR ??
            "no Istio releases for the tests: run them through jest.config.js (its globalSetup fetches them)",
    );
}
