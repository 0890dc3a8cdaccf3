// The end-to-end harness's guards, without a cluster: it refuses a cluster that is
// not a test cluster, and exists() reads only the API server's NotFound as
// "absent" (every "nothing was created" check rests on it). kubectl talks to a
// stand-in API server on loopback, run in a child process because exists() calls
// kubectl synchronously.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const MARKER = "e2e-test-cluster";

/**
 * An API server stand-in: discovery for namespaces only; namespace `present`
 * exists, `broken` answers 500, every other name is NotFound.
 */
const FAKE_API_SERVER = `
const http = require("http");
const json = (res, code, body) => { res.writeHead(code, { "Content-Type": "application/json" }); res.end(JSON.stringify(body)); };
const status = (code, reason, message) => ({ kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code });
const server = http.createServer((req, res) => {
    const url = req.url.split("?")[0];
    if (url === "/api") return json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
    if (url === "/apis") return json(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (url === "/api/v1") return json(res, 200, { kind: "APIResourceList", groupVersion: "v1", resources: [
        { name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace", verbs: ["get", "list"] }] });
    if (url === "/api/v1/namespaces") return json(res, 200, { kind: "NamespaceList", apiVersion: "v1", metadata: {},
        items: [{ kind: "Namespace", apiVersion: "v1", metadata: { name: "present" } }] });
    const m = /^\\/api\\/v1\\/namespaces\\/([^/]+)$/.exec(url);
    if (m && m[1] === "present") return json(res, 200, { kind: "Namespace", apiVersion: "v1", metadata: { name: "present" } });
    if (m && m[1] === "broken") return json(res, 500, status(500, "InternalError", "etcd is on fire"));
    if (m) return json(res, 404, status(404, "NotFound", 'namespaces "' + m[1] + '" not found'));
    json(res, 404, status(404, "NotFound", "the server could not find the requested resource"));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

let dir: string;
let api: ChildProcess;

function writeKubeconfig(port: number): void {
    fs.writeFileSync(
        path.join(dir, "kubeconfig"),
        [
            "apiVersion: v1",
            "kind: Config",
            `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}"}}]`,
            "users: [{name: fake, user: {}}]",
            "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
            "current-context: fake",
        ].join("\n"),
    );
}

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-harness-"));
    api = spawn(process.execPath, ["-e", FAKE_API_SERVER], { stdio: ["ignore", "pipe", "inherit"] });
    const port = await new Promise<number>((resolve) => api.stdout?.once("data", (d: Buffer) => resolve(Number(d))));
    writeKubeconfig(port);
    fs.writeFileSync(path.join(dir, MARKER), "");
    process.env.ISTIO_MESH_CLUSTER_DIR = dir;
    // kubectl's discovery cache, kept out of the user's ~/.kube.
    process.env.KUBECACHEDIR = path.join(dir, "cache");
});

afterAll(() => {
    api?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("the harness refuses a cluster it was not given", () => {
    test("no ISTIO_MESH_CLUSTER_DIR: refused, naming the variable and how to start a test cluster", async () => {
        const { testClusterProblem } = await import("../e2e/harness");
        expect(testClusterProblem({})).toMatch(
            /^ISTIO_MESH_CLUSTER_DIR is not set: the end-to-end suites delete Istio's CRDs and namespaces, so they run only on a test cluster named by it; run `npm test`.*scripts\/cluster\.sh up/,
        );
    });

    test("a cluster without the test marker (the user's own): refused unless ISTIO_MESH_E2E_ALLOW_CLUSTER=1", async () => {
        const { testClusterProblem } = await import("../e2e/harness");
        const own = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-own-cluster-"));
        try {
            fs.writeFileSync(path.join(own, "kubeconfig"), "");
            expect(testClusterProblem({ ISTIO_MESH_CLUSTER_DIR: own })).toContain(
                `ISTIO_MESH_CLUSTER_DIR=${own} is not a test cluster (it has no ${MARKER} file)`,
            );
            expect(
                testClusterProblem({ ISTIO_MESH_CLUSTER_DIR: own, ISTIO_MESH_E2E_ALLOW_CLUSTER: "1" }),
            ).toBeUndefined();
            expect(testClusterProblem({ ISTIO_MESH_CLUSTER_DIR: path.join(own, "nothing") })).toMatch(
                /^no local cluster: .*nothing\/kubeconfig is missing/,
            );
        } finally {
            fs.rmSync(own, { recursive: true, force: true });
        }
    });

    test("a test cluster (the marker test.sh writes) is accepted", async () => {
        const { testClusterProblem } = await import("../e2e/harness");
        expect(testClusterProblem({ ISTIO_MESH_CLUSTER_DIR: dir })).toBeUndefined();
    });
});

describe("a suite's footprint", () => {
    test("the start names everything of it already on the cluster", async () => {
        const { footprint } = await import("../e2e/harness");
        expect(() => footprint({ namespaces: ["present", "absent"] }).assertCleanStart()).toThrow(
            /^the test cluster is not clean for this suite; already there: namespace\/present\. /,
        );
    });

    test("the cleanup runs every step, then fails naming each step that failed", async () => {
        const { footprint } = await import("../e2e/harness");
        const suite = footprint({ namespaces: ["absent"] });
        suite.assertCleanStart();
        const ran: string[] = [];
        const cleanup = suite.cleanUp([
            [
                "destroy the stack",
                () => {
                    throw new Error("the provider timed out");
                },
            ],
            ["delete the CRDs", () => ran.push("crds")],
        ]);
        await expect(cleanup).rejects.toThrow("cleanup failed:\n- destroy the stack: the provider timed out");
        expect(ran).toEqual(["crds"]);
    });

    test("a suite whose start found the cluster unclean cleans nothing up: what it found is not its own", async () => {
        const { footprint } = await import("../e2e/harness");
        const suite = footprint({ namespaces: ["present"] });
        expect(() => suite.assertCleanStart()).toThrow();
        const ran: string[] = [];
        await suite.cleanUp([["delete namespace present", () => ran.push("deleted")]]);
        expect(ran).toEqual([]);
    });
});

describe("exists() is false only on NotFound", () => {
    test("an object the API server has: true; one it answers NotFound for: false", async () => {
        const { exists } = await import("../e2e/harness");
        expect(exists("namespace", "present")).toBe(true);
        expect(exists("namespace", "absent")).toBe(false);
    });

    test("a server error, an unknown kind, an unreachable server: thrown with kubectl's message, never 'absent'", async () => {
        const { exists } = await import("../e2e/harness");
        expect(() => exists("namespace", "broken")).toThrow(
            /^kubectl get namespace broken failed \(exit 1\): Error from server \(InternalError\): .*etcd is on fire/,
        );
        expect(() => exists("widgets", "w")).toThrow(/the server doesn't have a resource type "widgets"/);
        // Last: the cluster's address now leads nowhere.
        writeKubeconfig(1);
        expect(() => exists("namespace", "absent")).toThrow(/connection refused/);
    });
});
