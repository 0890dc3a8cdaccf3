// What the stack does with what it finds on the cluster, with the real engine and
// the real istiod (docs/ownership.md). Istio's plug-in CA procedure creates
// istio-system and the cacerts Secret before installing: the stack uses that
// namespace without owning it, so destroy leaves both. An Istio object another tool
// created stops an install, named, until adoptExisting takes it over. A Secret a
// user adds later to the namespace the stack created keeps that namespace on
// destroy. A second stack with the same settings is refused, naming the first,
// whose mesh stays as it was. Gateway API CRDs someone moved to the experimental
// channel are neither put back to the standard channel nor deleted.
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    exists,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubeconfig,
    kubectl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    PROJECT,
    projectDir,
    setConfigValues,
    stackExists,
} from "./harness";

jest.setTimeout(900_000);

const STACK = "e2e-ownership";
const SECOND = "e2e-ownership-second";
const STACK_ID_LABEL = "istio-mesh.io/stack-id";
const GATEWAY_API_CHANNEL = "gateway.networking.k8s.io/channel";
const NS = "istio-system";
const FOREIGN_ROLE = "istiod-clusterrole-istio-system";
const quiet = { onOutput: () => undefined };
let stack: Stack;
let second: Stack | undefined;

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

/** A fresh stack of the local stack's settings with the smallest control plane (istiod and the CRDs). */
async function newStack(name = STACK): Promise<Stack> {
    const s = await freshStack(projectDir, name, {
        configFile: path.join(projectDir, "Pulumi.local.yaml"),
        config: { "istio-mesh:injectionNamespaces": { value: "[]" } },
    });
    await setConfigValues(s, MINIMAL_MESH);
    return s;
}

/** Info and warning lines the program logged, and everything the CLI printed (a dynamic provider's lines too). */
function recorder() {
    const said: string[] = [];
    const printed: string[] = [];
    return {
        said,
        printed,
        options: {
            onOutput: (out: string) => printed.push(out),
            onEvent: (e: EngineEvent) => {
                if (e.diagnosticEvent) said.push(e.diagnosticEvent.message);
            },
        },
    };
}

/** The suite's stack, new, on a cluster without its namespace: a failed test leaves nothing to the next. */
async function freshStart(): Promise<Stack> {
    await removeStack(stack, STACK);
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true");
    return newStack();
}

async function removeStack(s: Stack | undefined, name: string): Promise<void> {
    // Already removed (an earlier cleanup): nothing to destroy.
    if (!s || !stackExists(projectDir, name)) return;
    await s.cancel().catch(() => undefined);
    await s.destroy(quiet);
    await s.workspace.removeStack(name, { force: true });
}

const suite = footprint(
    {
        stacks: [
            [PROJECT, STACK],
            [PROJECT, SECOND],
        ],
        objects: [["clusterrole", FOREIGN_ROLE]],
    },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(async () => {
    suite.assertCleanStart();
    stack = await newStack();
}, 900_000);

afterAll(async () => {
    await suite.cleanUp([
        ["destroy and remove the second stack", () => removeStack(second, SECOND)],
        ["destroy and remove the stack", () => removeStack(stack, STACK)],
        [
            "delete the user's HTTPRoute",
            // The route's kind exists only while the Gateway API CRDs do.
            () =>
                exists("crd", "httproutes.gateway.networking.k8s.io") &&
                kubectl("delete", "httproute", "user-route", "-n", "default", "--ignore-not-found"),
        ],
        ...MESH_KEPT_ON_DESTROY,
        ["delete the foreign ClusterRole", () => kubectl("delete", "clusterrole", FOREIGN_ROLE, "--ignore-not-found")],
    ]);
}, 900_000);

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
        expect(said.join("\n")).toContain(
            `namespace ${NS} exists and no istio-mesh stack created it: it is used, not owned`,
        );
        expect(up.outputs.namespaceOwned.value).toBe(false);
        expect(kubectlJson("deployment", "istiod", "-n", NS).status.readyReplicas).toBe(1);
        // Used, not taken: the stack put none of its labels on it, and its own objects carry its id.
        expect(kubectlJson("namespace", NS).metadata.labels["app.kubernetes.io/part-of"]).toBeUndefined();
        expect(kubectlJson("namespace", NS).metadata.labels[STACK_ID_LABEL]).toBeUndefined();
        expect(kubectlJson("deployment", "istiod", "-n", NS).metadata.labels[STACK_ID_LABEL]).toBe(
            up.outputs.stackId.value,
        );

        // A second run keeps the decision (the namespace still lacks the stack's label, as before).
        const again = await stack.preview(quiet);
        expect(Object.keys(again.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);

        await stack.destroy(quiet);
        expect(exists("deployment", "istiod", "-n", NS)).toBe(false);
        expect(kubectlJson("namespace", NS).status.phase).toBe("Active");
        expect(kubectlJson("secret", "cacerts", "-n", NS).metadata.uid).toBe(secretUid);
    });

    test("an Istio object another tool made stops a first install, named; adoptExisting takes it over", async () => {
        stack = await freshStart();
        kubectl("create", "clusterrole", FOREIGN_ROLE, "--verb=get", "--resource=pods");
        const before = kubectlJson("clusterrole", FOREIGN_ROLE).metadata.resourceVersion;

        const err = await stack.preview(quiet).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(String(err)).toContain(
            `the cluster already has objects this stack would take over and did not create: ClusterRole/${FOREIGN_ROLE} (managed by kubectl-create). ` +
                "Another installation (Helm, istioctl, kubectl) may own them: uninstall it first. To take them over, set istio-mesh:adoptExisting: true",
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

    test("a Secret added after the install keeps the namespace on destroy, which says which object kept it", async () => {
        stack = await freshStart();
        const up = await stack.up(quiet);
        expect(up.outputs.namespaceOwned.value).toBe(true);
        expect(kubectlJson("namespace", NS).metadata.labels[STACK_ID_LABEL]).toBe(up.outputs.stackId.value);

        // What Istio's plug-in CA guide has a user add to a running mesh.
        kubectl("create", "secret", "generic", "cacerts", "-n", NS, "--from-literal=ca-cert.pem=late");
        const secretUid = kubectlJson("secret", "cacerts", "-n", NS).metadata.uid;
        const destroy = recorder();
        await stack.destroy(destroy.options);

        expect(exists("deployment", "istiod", "-n", NS)).toBe(false);
        expect(kubectlJson("secret", "cacerts", "-n", NS).metadata.uid).toBe(secretUid);
        const ns = kubectlJson("namespace", NS);
        expect(ns.status.phase).toBe("Active");
        expect(ns.metadata.annotations["istio-mesh.io/kept-for"]).toBe("Secret/cacerts");
        // No longer the stack's: a later install finds it used, not owned.
        expect(ns.metadata.labels[STACK_ID_LABEL]).toBeUndefined();
        expect(destroy.printed.join("")).toContain(
            `namespace ${NS} kept: it holds objects this stack did not create (Secret/cacerts)`,
        );
        kubectl("delete", "namespace", NS, "--wait=true");
    });

    test("a second stack with the same settings is refused, naming the first, whose mesh stays intact", async () => {
        stack = await freshStart();
        const first = await stack.up(quiet);
        const firstId = first.outputs.stackId.value as string;
        const istiod = kubectlJson("deployment", "istiod", "-n", NS);
        const injector = kubectlJson("mutatingwebhookconfiguration", "istio-sidecar-injector");

        second = await newStack(SECOND);
        const refused = await second.up(quiet).then(
            () => undefined,
            (e: Error) => String(e),
        );
        expect(refused).toContain(
            `the cluster already has objects this stack would take over and did not create: Namespace/${NS}, `,
        );
        expect(refused).toContain("MutatingWebhookConfiguration/istio-sidecar-injector");
        expect(refused).toContain(
            `(stack organization/istio-mesh/${STACK} (id ${firstId})). Another istio-mesh stack owns them`,
        );
        // The second stack's destroy has nothing to take.
        await second.destroy(quiet);

        // The first stack's mesh as it was: same objects, not rewritten, and its preview has nothing to do.
        const after = kubectlJson("deployment", "istiod", "-n", NS);
        expect(after.metadata.uid).toBe(istiod.metadata.uid);
        expect(after.metadata.generation).toBe(istiod.metadata.generation);
        expect(after.status.readyReplicas).toBe(1);
        expect(kubectlJson("mutatingwebhookconfiguration", "istio-sidecar-injector").metadata.resourceVersion).toBe(
            injector.metadata.resourceVersion,
        );
        expect(kubectlJson("namespace", NS).metadata.labels[STACK_ID_LABEL]).toBe(firstId);
        const preview = await stack.preview(quiet);
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);

        // Nothing foreign in its namespace: the first stack's destroy deletes it.
        await stack.destroy(quiet);
        expect(exists("namespace", NS)).toBe(false);
    });

    test("Gateway API CRDs moved to the experimental channel are not put back to standard, nor deleted with a user's HTTPRoute", async () => {
        stack = await freshStart();
        await setConfigValues(stack, {
            "istio-mesh:gatewayApi": JSON.stringify({ enabled: true }),
            // As the issue found it: the Istio CRDs' purge setting reached the Gateway API CRDs too.
            "istio-mesh:retainCrdsOnDestroy": "false",
        });
        await stack.up(quiet);
        expect(
            kubectlJson("crd", "httproutes.gateway.networking.k8s.io").metadata.annotations[GATEWAY_API_CHANNEL],
        ).toBe("standard");

        // Another controller's team applies the experimental channel over them (simulated from the
        // standard file: the mirror holds no experimental one), and a user routes through it.
        const mirror = process.env.ISTIO_MESH_RELEASE_MIRROR;
        if (!mirror) throw new Error("ISTIO_MESH_RELEASE_MIRROR is not set: source scripts/env.sh");
        const standard = fs.readFileSync(path.join(mirror, "gateway-api", "v1.4.1", "standard-install.yaml"), "utf8");
        execFileSync(
            "kubectl",
            [
                "--kubeconfig",
                kubeconfig,
                "apply",
                "--server-side",
                "--force-conflicts",
                "--field-manager=gateway-team",
                "-f",
                "-",
            ],
            { input: standard.split(`${GATEWAY_API_CHANNEL}: standard`).join(`${GATEWAY_API_CHANNEL}: experimental`) },
        );
        execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
            input: JSON.stringify({
                apiVersion: "gateway.networking.k8s.io/v1",
                kind: "HTTPRoute",
                metadata: { name: "user-route", namespace: "default" },
                spec: { rules: [{ backendRefs: [{ name: "user-backend", port: 80 }] }] },
            }),
        });
        const routeUid = kubectlJson("httproute", "user-route", "-n", "default").metadata.uid;
        const channels = () =>
            kubectlJson<{ items: { metadata: { annotations: Record<string, string> }; spec: { group: string } }[] }>(
                "crd",
            )
                .items.filter((c) => c.spec.group === "gateway.networking.k8s.io")
                .map((c) => c.metadata.annotations[GATEWAY_API_CHANNEL]);

        const again = recorder();
        // With a refresh, as CI runs it: the stack sees the channel changed under it.
        await stack.up({ ...again.options, refresh: true });
        expect(again.said.join("\n")).toContain("the cluster has Gateway API CRDs of the experimental channel");
        expect(new Set(channels())).toEqual(new Set(["experimental"]));

        // Turned off, then destroyed: the CRDs and the route stay.
        await setConfigValues(stack, { "istio-mesh:gatewayApi": JSON.stringify({ enabled: false }) });
        await stack.up(quiet);
        expect(new Set(channels())).toEqual(new Set(["experimental"]));
        await stack.destroy(quiet);
        expect(new Set(channels())).toEqual(new Set(["experimental"]));
        expect(kubectlJson("httproute", "user-route", "-n", "default").metadata.uid).toBe(routeUid);
    });
});
