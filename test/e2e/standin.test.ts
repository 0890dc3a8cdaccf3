// Proxy stand-ins on the local cluster (docs/proxy-standin.md): an injected pod
// that asks for one is joined to the mesh by the real istiod — its stand-in gets
// the pod's workload certificate from istiod's CA and holds the pod's xDS
// connection, which `istioctl proxy-status` lists as SYNCED; a pod that does not
// ask gets none; a replaced pod gets a new stand-in, a deleted one loses it; and
// `npm run status` reports the connected proxy on its revision's data-plane line.
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Stack } from "@pulumi/pulumi/automation";
import {
    cliEnv,
    clusterDir,
    freshStack,
    istioctl,
    kubectl,
    kubectlJson,
    kubeconfig,
    localIstiods,
    MINIMAL_MESH,
    projectDir,
    MESH_KEPT_ON_DESTROY,
    requireCluster,
    setConfigValues,
    waitFor,
} from "./harness";
import {
    chainsTo,
    pemCertificates,
    standinConfigDump,
    standinDir,
    standinState,
    standinSupervision,
    waitForSyncedStandin,
    workloadCertificate,
} from "./standins";

jest.setTimeout(600_000);

const STACK = "e2e-standin";
const NS = "standin-e2e";
const SA = "standin-probe";
/** Asks for a stand-in. */
const PROBE = "probe";
/** Injected too, but does not ask: it must get no stand-in. */
const PLAIN = "plain";

const quiet = { onOutput: () => undefined };
let stack: Stack | undefined;

function podManifest(name: string, standin: boolean): string {
    return JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            name,
            namespace: NS,
            labels: { app: name },
            annotations: standin ? { "istio-mesh.dev/proxy-standin": "true" } : {},
        },
        spec: { serviceAccountName: SA, containers: [{ name: "app", image: "docker.io/library/busybox:1.37" }] },
    });
}

function createPod(name: string, standin: boolean): void {
    const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
        input: podManifest(name, standin),
    });
    if (r.status !== 0) throw new Error(`creating pod ${NS}/${name}: ${String(r.stderr)}`);
}

function defaultIstiodXds(): string {
    const istiod = localIstiods().find((i) => i.revision === "default");
    if (!istiod) throw new Error("no local istiod of revision default");
    return `127.0.0.1:${istiod.ports.secureGrpc}`;
}

/**
 * The `istioctl proxy-status -v 1` row of a proxy (ID prefix) as header -> cell
 * (NAME, CLUSTER, one column per xDS type: SYNCED/STALE/NOT SENT/IGNORED, ISTIOD,
 * VERSION), or undefined when istiod lists no such proxy.
 */
function proxyStatusRow(idPrefix: string): Record<string, string> | undefined {
    const lines = istioctl("proxy-status", "--xds-address", defaultIstiodXds(), "-v", "1").split("\n");
    const header = lines.find((l) => l.startsWith("NAME"));
    const line = lines.find((l) => l.startsWith(idPrefix));
    if (!header || !line) return undefined;
    const names = header.trim().split(/\s+/);
    const cells = line.trim().split(/\s{2,}/);
    if (cells.length !== names.length) throw new Error(`cannot read proxy-status:\n${header}\n${line}`);
    return Object.fromEntries(names.map((n, i) => [n, cells[i]]));
}

/** Whether istiod sees every type an Envoy sidecar subscribes to as acknowledged. */
function synced(row: Record<string, string> | undefined): boolean {
    return !!row && ["CDS", "LDS", "EDS", "RDS"].every((t) => row[t]?.startsWith("SYNCED"));
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

beforeAll(async () => {
    requireCluster();
    stack = await freshStack(projectDir, STACK, { configFile: path.join(projectDir, "Pulumi.local.yaml"), config: {} });
    await setConfigValues(stack, { ...MINIMAL_MESH, "istio-mesh:injectionNamespaces": JSON.stringify([NS]) });
    // What an earlier, interrupted run may have left.
    await stack.cancel().catch(() => undefined);
    // The stack first: destroying its label patch on a namespace already gone
    // recreates the namespace (server-side apply), unlabelled.
    await stack.destroy(quiet);
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true");
    expect(fs.existsSync(path.join(standinDir(NS, PROBE)))).toBe(false);
    kubectl("create", "namespace", NS);
    await stack.up(quiet);
    kubectl("-n", NS, "create", "serviceaccount", SA);
    await waitFor("the local istiod of revision default to be ready", 120, () =>
        localIstiods().find((i) => i.revision === "default" && i.startToReadySeconds !== null),
    );
}, 900_000);

afterAll(async () => {
    const errors: string[] = [];
    // The stack before the namespace (see beforeAll).
    if (stack) {
        await stack.destroy(quiet).catch((e: unknown) => errors.push(`destroying ${STACK}: ${String(e)}`));
        await stack.workspace
            .removeStack(STACK, { force: true })
            .catch((e: unknown) => errors.push(`removing ${STACK}: ${String(e)}`));
    }
    try {
        kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true");
    } catch (e) {
        errors.push(`deleting namespace ${NS}: ${String(e)}`);
    }
    // What the stack keeps on destroy by design, so the next suite starts clean.
    for (const [what, run] of MESH_KEPT_ON_DESTROY) {
        try {
            run();
        } catch (e) {
            errors.push(`${what}: ${String(e)}`);
        }
    }
    if (errors.length > 0) throw new Error(`cleanup of the stand-in suite failed:\n${errors.join("\n")}`);
}, 900_000);

describe("proxy stand-ins on the local cluster", () => {
    test("1. an opted-in injected pod's stand-in is listed SYNCED by istioctl proxy-status; a pod that does not ask gets none", async () => {
        createPod(PROBE, true);
        createPod(PLAIN, false);
        const injected = kubectlJson<{ spec: { containers: { name: string }[] } }>("pod", "-n", NS, PROBE);
        expect(injected.spec.containers.map((c) => c.name)).toContain("istio-proxy");
        const st = await waitForSyncedStandin(NS, PROBE);
        const ip = kubectlJson<{ status: { podIP: string } }>("pod", "-n", NS, PROBE).status.podIP;
        expect(st.nodeID).toBe(`sidecar~${ip}~${PROBE}.${NS}~${NS}.svc.cluster.local`);
        expect(st.xdsAddress).toBe(defaultIstiodXds());
        // Every type istiod sent is acknowledged, and the proxy reports its image's version.
        const row = await waitFor(`${PROBE}.${NS} SYNCED in istioctl proxy-status`, 60, () => {
            const r = proxyStatusRow(`${PROBE}.${NS}`);
            return synced(r) ? r : undefined;
        });
        expect(row.NAME).toBe(`${PROBE}.${NS}`);
        expect(row.VERSION).toBe(st.proxyVersion);
        // The plain pod is injected but asked for nothing: no stand-in, no connection.
        expect(fs.existsSync(standinDir(NS, PLAIN))).toBe(false);
        expect(proxyStatusRow(`${PLAIN}.${NS}`)).toBeUndefined();
    });

    test("2. its certificate names the pod's service account and chains to istiod's root (istio-ca-root-cert)", () => {
        const st = standinState(NS, PROBE);
        expect(st?.certificate?.spiffe).toBe(`spiffe://cluster.local/ns/${NS}/sa/${SA}`);
        const { chain, keyRedacted } = workloadCertificate(standinConfigDump(NS, PROBE));
        expect(keyRedacted).toBe(true);
        expect(chain[0].subjectAltName).toBe(`URI:spiffe://cluster.local/ns/${NS}/sa/${SA}`);
        const rootPem = kubectlJson<{ data: Record<string, string> }>("configmap", "-n", NS, "istio-ca-root-cert").data[
            "root-cert.pem"
        ];
        const [root] = pemCertificates(rootPem);
        expect(chainsTo(chain, root)).toBe(true);
        // The same check against a root istiod did not issue (the cluster's own CA) must fail.
        const otherRoot = new crypto.X509Certificate(fs.readFileSync(path.join(clusterDir, "pki", "ca.crt")));
        expect(chainsTo(chain, otherRoot)).toBe(false);
    });

    test("3. the pod replaced: a new stand-in for the new pod; the pod deleted: its stand-in stops", async () => {
        const before = standinSupervision(NS, PROBE);
        expect(before?.status).toBe("running");
        const oldPid = before?.pid as number;
        expect(alive(oldPid)).toBe(true);
        kubectl("delete", "pod", "-n", NS, PROBE, "--wait=true");
        createPod(PROBE, true);
        const st = await waitForSyncedStandin(NS, PROBE);
        const now = standinSupervision(NS, PROBE);
        const uid = kubectlJson<{ metadata: { uid: string } }>("pod", "-n", NS, PROBE).metadata.uid;
        expect(now?.uid).toBe(uid);
        expect(now?.uid).not.toBe(before?.uid);
        expect(st.pid).not.toBe(oldPid);
        expect(alive(oldPid)).toBe(false);
        await waitFor(`${PROBE}.${NS} SYNCED again in proxy-status`, 60, () =>
            synced(proxyStatusRow(`${PROBE}.${NS}`)) ? true : undefined,
        );

        kubectl("delete", "pod", "-n", NS, PLAIN, "--wait=true");
        kubectl("delete", "pod", "-n", NS, PROBE, "--wait=true");
        await waitFor("the deleted pod's stand-in to stop", 30, () =>
            !fs.existsSync(standinDir(NS, PROBE)) && !alive(st.pid) ? true : undefined,
        );
        await waitFor(`${PROBE}.${NS} gone from proxy-status`, 60, () =>
            proxyStatusRow(`${PROBE}.${NS}`) === undefined ? true : undefined,
        );
    });

    test("4. npm run status reports the connected proxy on its revision's data-plane line", async () => {
        createPod(PROBE, true);
        const st = await waitForSyncedStandin(NS, PROBE);
        const expected = `data plane default: 1 proxy (1 SYNCED, 0 STALE); versions ${st.proxyVersion} x1`;
        // The ack of the last push may be a moment behind the stand-in's first dump.
        const out = await waitFor("the data-plane line", 60, () => {
            const r = spawnSync("bash", [path.join(projectDir, "scripts/status.sh"), "--stack", STACK], {
                encoding: "utf8",
                env: cliEnv(),
            });
            if (r.stdout.includes(expected)) return r.stdout;
            // What it printed instead, for the timeout's message.
            const line = r.stdout.split("\n").find((l) => l.startsWith("data plane default"));
            throw new Error(`status printed ${JSON.stringify(line ?? `${r.stdout}${r.stderr}`)}`);
        });
        expect(out).toContain(expected);
    });
});
