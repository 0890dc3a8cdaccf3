// What the stack does with what it finds on the cluster, with the real engine and
// the real istiod. Istio's plug-in CA procedure creates istio-system and the
// cacerts Secret before installing: the stack uses that namespace without owning
// it, so destroy leaves both. An Istio object another tool created stops a first
// install, named, until adoptExisting takes it over (README, "Ownership").
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    destroyAndRemove,
    exists,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubectl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    PROJECT,
    projectDir,
} from "./harness";

jest.setTimeout(900_000);

const STACK = "e2e-ownership";
const NS = "istio-system";
const FOREIGN_ROLE = "istiod-clusterrole-istio-system";
const quiet = { onOutput: () => undefined };
let stack: Stack;

/** A root CA and an intermediate CA for istiod, made the way Istio's plug-in CA guide makes them (openssl instead of its Makefile). */
function pluginCaFiles(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-cacerts-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/O=Istio/CN=Root CA",
        "-keyout",
        "root-key.pem",
        "-out",
        "root-cert.pem",
    );
    ssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/O=Istio/CN=Intermediate CA",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.csr",
    );
    fs.writeFileSync(
        path.join(dir, "ext.cnf"),
        "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n",
    );
    ssl(
        "x509",
        "-req",
        "-in",
        "ca.csr",
        "-CA",
        "root-cert.pem",
        "-CAkey",
        "root-key.pem",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "ca-cert.pem",
    );
    fs.writeFileSync(
        path.join(dir, "cert-chain.pem"),
        fs.readFileSync(path.join(dir, "ca-cert.pem"), "utf8") +
            fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8"),
    );
    return dir;
}

/** A fresh stack: istiod alone, no namespace labelled. */
async function newStack(): Promise<Stack> {
    const s = await freshStack(projectDir, STACK, {
        config: {
            "istio-mesh:version": { value: "1.29.6" },
            "istio-mesh:profile": { value: "minimal" },
            "istio-mesh:injectionNamespaces": { value: "[]" },
        },
    });
    return s;
}

/** The mesh's, and the cluster role made by hand (the mesh footprint's `istio` prefix covers it). */
const suite = footprint({ stacks: [[PROJECT, STACK]] }, MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await newStack();
}, 900_000);

afterAll(
    () =>
        suite.cleanUp([
            ["destroy and remove the stack", () => destroyAndRemove(stack)],
            // With the namespace the suite made by hand before the stack.
            ...MESH_KEPT_ON_DESTROY,
            [
                `delete clusterrole ${FOREIGN_ROLE}`,
                () => kubectl("delete", "clusterrole", FOREIGN_ROLE, "--ignore-not-found"),
            ],
        ]),
    900_000,
);

describe("ownership on the local cluster", () => {
    test("Istio's plug-in CA procedure: the namespace and cacerts made before the stack survive destroy", async () => {
        const ca = pluginCaFiles();
        kubectl("create", "namespace", NS);
        kubectl(
            "create",
            "secret",
            "generic",
            "cacerts",
            "-n",
            NS,
            ...["ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"].map(
                (f) => `--from-file=${path.join(ca, f)}`,
            ),
        );
        const secretUid = kubectlJson("secret", "cacerts", "-n", NS).metadata.uid;

        const said: string[] = [];
        const up = await stack.up({
            onOutput: () => undefined,
            onEvent: (e: EngineEvent) => {
                if (e.diagnosticEvent?.severity === "info") said.push(e.diagnosticEvent.message);
            },
        });
        expect(said.join("\n")).toContain(`namespace ${NS} existed before this stack: it is used, not owned`);
        expect(up.outputs.namespaceOwned.value).toBe(false);
        expect(kubectlJson("deployment", "istiod", "-n", NS).status.readyReplicas).toBe(1);
        // Used, not taken: the stack put none of its labels on it.
        expect(kubectlJson("namespace", NS).metadata.labels["app.kubernetes.io/part-of"]).toBeUndefined();

        // A second run keeps the decision (the namespace still lacks the stack's label, as before).
        const again = await stack.preview(quiet);
        expect(Object.keys(again.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);

        await stack.destroy(quiet);
        expect(exists("deployment", "istiod", "-n", NS)).toBe(false);
        expect(kubectlJson("namespace", NS).status.phase).toBe("Active");
        expect(kubectlJson("secret", "cacerts", "-n", NS).metadata.uid).toBe(secretUid);
    });

    test("an Istio object another tool made stops a first install, named; adoptExisting takes it over", async () => {
        await stack.workspace.removeStack(STACK, { force: true });
        stack = await newStack();
        kubectl("create", "clusterrole", FOREIGN_ROLE, "--verb=get", "--resource=pods");
        const before = kubectlJson("clusterrole", FOREIGN_ROLE).metadata.resourceVersion;

        const err = await stack.preview(quiet).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(String(err)).toContain(
            `the cluster already has Istio objects this stack did not create: ClusterRole/${FOREIGN_ROLE} (managed by kubectl-create). ` +
                "Another installation (Helm, istioctl) may own them: uninstall it first, or set istio-mesh:adoptExisting: true",
        );
        expect(kubectlJson("clusterrole", FOREIGN_ROLE).metadata.resourceVersion).toBe(before);

        await stack.setConfig("istio-mesh:adoptExisting", { value: "true" });
        await stack.up(quiet);
        // Taken over: the chart's rules replace the hand-made one.
        const rules = kubectlJson("clusterrole", FOREIGN_ROLE).rules as { resources?: string[] }[];
        expect(rules.length).toBeGreaterThan(1);
        // As the README says, what was taken over goes with the stack on destroy.
        await stack.destroy(quiet);
        expect(exists("clusterrole", FOREIGN_ROLE)).toBe(false);
    });
});
