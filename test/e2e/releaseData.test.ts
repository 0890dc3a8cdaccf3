// Without a mirror and without a reachable download location, `pulumi up` of this
// repository's program stops before it registers a single resource, with a message
// that names each download that failed, the setting it came from and the mirror
// setting. The download location is a closed port on loopback (the official
// locations would send DNS queries off the machine); the same code downloads from
// the official locations when they are not overridden.
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { cliEnv, footprint, kubeconfig, projectDir, PROJECT, saveArtifact, timed } from "./harness";

jest.setTimeout(300_000);

const STACK = "e2e-offline";
/** Nothing on the cluster: the stack registers no resource. */
const suite = footprint({ stacks: [[PROJECT, STACK]] });

let offlineStack: Stack | undefined;
let cache: string | undefined;

beforeAll(() => suite.assertCleanStart());
afterAll(() =>
    suite.cleanUp([
        // Its Stack resource may be registered; the test checked that nothing else was.
        ["remove the stack", () => offlineStack?.workspace.removeStack(STACK, { force: true })],
        ["remove the empty cache", () => cache && fs.rmSync(cache, { recursive: true, force: true })],
    ]),
);

/** A loopback port nothing listens on: one the OS just handed out and took back. */
async function closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

test("offline without a mirror, `pulumi up` fails before any resource, naming the downloads and ISTIO_MESH_RELEASE_MIRROR", async () => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-empty-cache-"));
    fs.copyFileSync(path.join(projectDir, "Pulumi.local.yaml"), path.join(projectDir, `Pulumi.${STACK}.yaml`));
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: STACK, workDir: projectDir },
        // No mirror, an empty cache: every file must be downloaded.
        { envVars: { ...cliEnv(), ISTIO_MESH_RELEASE_MIRROR: "", ISTIO_MESH_RELEASE_CACHE: cache } },
    );
    offlineStack = stack;
    const port = await closedPort();
    const location = `http://127.0.0.1:${port}`;
    await stack.setAllConfig({
        "kubernetes:kubeconfig": { value: kubeconfig },
        "istio-mesh:chartSource": { value: `${location}/charts` },
        "istio-mesh:addonSource": { value: `${location}/addons` },
    });
    const [error, seconds] = await timed(() =>
        stack.up({ onOutput: () => undefined }).then(
            () => undefined,
            (e: Error) => e,
        ),
    );
    expect(error).toBeDefined();
    const message = String(error?.message);
    saveArtifact("release-data-offline.txt", `${seconds.toFixed(1)} s until pulumi up failed\n\n${message}`);

    for (const chart of ["base", "istiod", "gateway", "cni"]) {
        expect(message).toContain(
            `chart ${chart} 1.29.6: download from ${location}/charts (istio-mesh:chartSource) failed: GET ${location}/charts/index.yaml: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
    }
    for (const addon of ["prometheus", "grafana", "kiali", "jaeger"]) {
        expect(message).toContain(
            `addon ${addon}: download from ${location}/addons (istio-mesh:addonSource) failed: GET ${location}/addons/${addon}.yaml: connect ECONNREFUSED 127.0.0.1:${port}`,
        );
    }
    expect(message).toContain("Without network, point ISTIO_MESH_RELEASE_MIRROR at a local mirror");
    // The message alone, no stack trace of the program.
    expect(message).not.toMatch(/at .*releases\.js/);

    // Nothing was registered, so nothing in the cluster changed; nothing half-downloaded stays behind.
    const state = await stack.exportStack();
    const resources = (state.deployment.resources ?? []) as { type: string }[];
    expect(resources.filter((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("istio-mesh:"))).toEqual([]);
    expect(fs.readdirSync(cache, { recursive: true })).toEqual([]);
});
