// Config refusals through the real program and engine (issue 22 item 6): a gateway
// in a namespace the cluster lacks, and a release-data source over plain HTTP, stop
// `pulumi preview` with the exact message before a single resource is registered.
// The unit tests (test/unit/config/) hold one test per class; these show that the
// program really runs them first, the namespace check against the real cluster.
import { Stack } from "@pulumi/pulumi/automation";
import { exists, freshStack, MINIMAL_MESH, projectDir, requireCluster } from "./harness";

const STACK = "e2e-config-refusals";
let stack: Stack;

beforeAll(async () => {
    requireCluster();
    // Starting state: the namespace the gateway names does not exist.
    expect(exists("namespace", "e2e-no-such-namespace")).toBe(false);
    stack = await freshStack(projectDir, STACK, {
        config: Object.fromEntries(
            Object.entries({ ...MINIMAL_MESH, "istio-mesh:version": "1.29.6" }).map(([k, value]) => [k, { value }]),
        ),
    });
}, 120_000);

afterAll(async () => {
    // Nothing was deployed: removing the stack is the whole cleanup, and its errors are reported.
    await stack.workspace.removeStack(STACK, { force: true });
});

/** The preview's error output; fails the test if the preview passed. */
async function refusal(): Promise<string> {
    try {
        await stack.preview();
    } catch (e) {
        return e instanceof Error ? e.message : String(e);
    }
    throw new Error("the preview passed");
}

test("a gateway in a namespace the cluster lacks is refused before anything is registered", async () => {
    await stack.setConfig("istio-mesh:gateways", {
        value: JSON.stringify([{ name: "edge-gateway", namespace: "e2e-no-such-namespace" }]),
    });
    const output = await refusal();
    expect(output).toContain(
        'istio-mesh:gateways[0].namespace: "e2e-no-such-namespace" does not exist in the cluster, and the stack creates only its control-plane namespace (istio-system); create it first (kubectl create namespace e2e-no-such-namespace) or leave gateway edge-gateway in istio-system',
    );
    expect(output).not.toMatch(/\+ +kubernetes:/);
    expect((await stack.exportStack()).deployment.resources ?? []).toEqual([]);
    await stack.setConfig("istio-mesh:gateways", { value: "[]" });
}, 300_000);

test("a chart source over plain HTTP is refused with the setting, the value and what is allowed", async () => {
    await stack.setConfig("istio-mesh:chartSource", { value: "http://charts.example.com/istio" });
    const output = await refusal();
    expect(output).toContain(
        'istio-mesh:chartSource: "http://charts.example.com/istio" is plain HTTP: anyone on the path can change what gets installed; use https://, an oci:// registry or a local directory (a path or a file:// URL) (plain HTTP only from a loopback address: 127.0.0.1, [::1], localhost)',
    );
    await stack.removeConfig("istio-mesh:chartSource");
}, 300_000);
