// What istiod hands a proxy, for the mesh settings only a proxy can show: one
// injected pod (a MySQL stand-in for the runbook's case) gets a proxy stand-in
// (docs/proxy-standin.md), whose received configuration and certificate are
// asserted on. With `mesh.mtls.mode: STRICT` its inbound ports accept only mTLS,
// except the MySQL port of the exception; the external MySQL host gets an
// outbound cluster without Istio mTLS; REGISTRY_ONLY sends an unknown host to
// the black hole. PERMISSIVE and ALLOW_ANY are then visible after `up`. Its
// certificate chains to istiod's self-signed root, and after Istio's plug-in CA
// procedure (cacerts, istiod and workload restarted) to the user's root.
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    exists,
    freshStack,
    kubeconfig,
    kubectl,
    kubectlJson,
    MINIMAL_MESH,
    projectDir,
    MESH_KEPT_ON_DESTROY,
    requireCluster,
    setConfigValues,
    waitFor,
} from "./harness";
import { ConfigDump, podOf, simulate, STANDIN_ANNOTATION, syncedStandin } from "./proxy";
import { chainsTo, pemCertificates } from "./standins";

jest.setTimeout(900_000);

const STACK = "e2e-dataplane";
const NS = "dataplane-db";
const SA = "mysql";
const EXTERNAL_HOST = "mysql.example.com";
/** An address of TEST-NET-3 that no Service or ServiceEntry names. */
const UNKNOWN = { address: "203.0.113.7", host: "unknown.example.org" };
const quiet = { onOutput: () => undefined };
let stack: Stack;
let caDir: string | undefined;

function meshSettings(mtlsMode: "STRICT" | "PERMISSIVE", egress: "REGISTRY_ONLY" | "ALLOW_ANY"): string {
    return JSON.stringify({
        outboundTrafficPolicy: egress,
        mtls: {
            mode: mtlsMode,
            exceptions: [{ name: "mysql", namespace: NS, selector: { app: "mysql" }, ports: { "3306": "PERMISSIVE" } }],
            externalServices: [{ name: "external-mysql", host: EXTERNAL_HOST, port: 3306 }],
        },
    });
}

/** The MySQL workload: its account, a Service with the MySQL port and an HTTP admin port, one pod asking for a stand-in. */
function applyWorkload(): void {
    const labels = { app: "mysql" };
    const manifests = [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: SA, namespace: NS } },
        {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "mysql", namespace: NS },
            spec: {
                selector: labels,
                ports: [
                    { name: "tcp-mysql", port: 3306, targetPort: 3306 },
                    { name: "http-admin", port: 8080, targetPort: 8080 },
                ],
            },
        },
        {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "mysql", namespace: NS },
            spec: {
                replicas: 1,
                selector: { matchLabels: labels },
                template: {
                    metadata: { labels, annotations: { [STANDIN_ANNOTATION]: "true" } },
                    spec: {
                        serviceAccountName: SA,
                        containers: [
                            {
                                name: "mysql",
                                image: "docker.io/library/mysql:8.4",
                                ports: [{ containerPort: 3306 }, { containerPort: 8080 }],
                            },
                        ],
                    },
                },
            },
        },
    ];
    execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: manifests }),
    });
}

const mysqlPod = () => waitFor("the mysql pod running", 120, () => podOf(NS, "app=mysql"));

/** Istio's plug-in CA files (root, intermediate), made with openssl as Istio's guide makes them. */
function pluginCaFiles(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-dataplane-ca-"));
    const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    ssl(
        "req",
        ...["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
        ...["-subj", "/O=Dataplane test/CN=User Root CA", "-keyout", "root-key.pem", "-out", "root-cert.pem"],
    );
    ssl(
        "req",
        ...["-newkey", "rsa:2048", "-nodes", "-subj", "/O=Dataplane test/CN=User Intermediate CA"],
        ...["-keyout", "ca-key.pem", "-out", "ca.csr"],
    );
    fs.writeFileSync(
        path.join(dir, "ext.cnf"),
        "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectAltName=URI:spiffe://cluster.local/ns/istio-system/sa/citadel\n",
    );
    ssl(
        "x509",
        ...["-req", "-in", "ca.csr", "-CA", "root-cert.pem", "-CAkey", "root-key.pem", "-CAcreateserial"],
        ...["-days", "1", "-extfile", "ext.cnf", "-out", "ca-cert.pem"],
    );
    fs.writeFileSync(
        path.join(dir, "cert-chain.pem"),
        fs.readFileSync(path.join(dir, "ca-cert.pem"), "utf8") +
            fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8"),
    );
    return dir;
}

/** The SPIFFE identity of a workload certificate (its URI SAN). */
function spiffeOf(cert: X509Certificate): string | undefined {
    return /URI:(spiffe:\/\/[^,\s]+)/.exec(cert.subjectAltName ?? "")?.[1];
}

async function cleanSlate(): Promise<void> {
    await stack.cancel().catch(() => undefined);
    await stack.destroy(quiet).catch(() => undefined);
    if (exists("namespace", "istio-system"))
        kubectl("delete", "secret", "cacerts", "-n", "istio-system", "--ignore-not-found");
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true");
    kubectl("create", "namespace", NS);
}

beforeAll(async () => {
    requireCluster();
    // Charts from the official source, replaced by the mirror scripts/env.sh names (ISTIO_MESH_RELEASE_MIRROR).
    stack = await freshStack(projectDir, STACK, { config: {} });
    await stack.setConfig("istio-mesh:version", { value: "1.29.6" });
    await setConfigValues(stack, {
        ...MINIMAL_MESH,
        "istio-mesh:injectionNamespaces": JSON.stringify([NS]),
        "istio-mesh:mesh": meshSettings("STRICT", "REGISTRY_ONLY"),
    });
    await cleanSlate();
}, 900_000);

afterAll(async () => {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => unknown) => {
        try {
            await fn();
        } catch (e) {
            problems.push(`${what}: ${String(e)}`);
        }
    };
    // The user's Secret first: the stack does not own it, and destroy leaves a namespace holding it.
    await attempt("delete cacerts", () =>
        kubectl("delete", "secret", "cacerts", "-n", "istio-system", "--ignore-not-found"),
    );
    if (stack) {
        await attempt("destroy", () => stack.destroy(quiet));
        await attempt("remove stack", () => stack.workspace.removeStack(STACK, { force: true }));
    }
    await attempt("delete namespace", () => kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true"));
    await attempt("delete Istio CRDs", () => {
        const crds = kubectlJson<{ items: { metadata: { name: string } }[] }>("crd")
            .items.map((c) => c.metadata.name)
            .filter((n) => n.endsWith(".istio.io"));
        if (crds.length > 0) kubectl("delete", "crd", ...crds, "--wait=true");
    });
    for (const [what, run] of MESH_KEPT_ON_DESTROY) await attempt(what, run);
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`cleanup of the dataplane suite failed:\n${problems.join("\n")}`);
}, 900_000);

describe("what istiod serves a proxy on the local cluster", () => {
    test("1. STRICT with the MySQL exception, external MySQL, REGISTRY_ONLY: the pod's proxy configuration and its self-signed certificate", async () => {
        await stack.up(quiet);
        applyWorkload();
        const pod = await mysqlPod();
        const standin = await syncedStandin(NS, pod);
        const dump = standin.dumpFile;

        // The workload's HTTP port takes mTLS only; plain text finds no filter chain.
        const admin = simulate(dump, { direction: "inbound", port: 8080 });
        expect(admin.accepts).toEqual({ plaintext: false, tls: false, mtls: true });
        expect(admin.requiresMtls).toBe(true);
        // The exception's port: plain text (a MySQL client without a sidecar) and mTLS.
        const mysql = simulate(dump, { direction: "inbound", port: 3306, protocol: "tcp" });
        expect(mysql.accepts).toEqual({ plaintext: true, tls: true, mtls: true });
        expect(mysql.clusters?.map((c) => c.name)).toEqual(["inbound|3306||"]);

        // The external MySQL: its own cluster, resolved by DNS, never wrapped in Istio mTLS.
        const external = simulate(dump, { port: 3306, protocol: "tcp", host: EXTERNAL_HOST });
        expect(external.clusters).toEqual([
            { name: `outbound|3306||${EXTERNAL_HOST}`, type: "STRICT_DNS", upstreamTls: "none" },
        ]);
        const cluster = new ConfigDump(dump).cluster(`outbound|3306||${EXTERNAL_HOST}`);
        expect(cluster.transport_socket).toBeUndefined();
        expect(cluster.transport_socket_matches).toBeUndefined();

        // REGISTRY_ONLY: TLS to an unknown host is dropped, plain HTTP answered 502 by the proxy.
        const tls = simulate(dump, { ...UNKNOWN, port: 443, protocol: "tcp", tls: "tls" });
        expect(tls.clusters?.map((c) => c.name)).toEqual(["BlackHoleCluster"]);

        // The workload certificate istiod's CA issued: the pod's SPIFFE identity, chained to
        // istiod's self-signed root (the istio-ca-secret istiod made), which the proxy also holds.
        const certs = new ConfigDump(dump);
        const chain = certs.secretCertificates("default");
        expect(spiffeOf(chain[0])).toBe(`spiffe://cluster.local/ns/${NS}/sa/${SA}`);
        const selfSigned = pemCertificates(
            Buffer.from(
                kubectlJson("secret", "istio-ca-secret", "-n", "istio-system").data["ca-cert.pem"],
                "base64",
            ).toString(),
        )[0];
        expect(selfSigned.verify(selfSigned.publicKey)).toBe(true);
        expect(chainsTo(chain, selfSigned)).toBe(true);
        expect(certs.secretCertificates("ROOTCA").map((c) => c.fingerprint256)).toContain(selfSigned.fingerprint256);
    });

    test("2. PERMISSIVE and ALLOW_ANY after `up`: the same port takes plain text, the unknown host passes through", async () => {
        await stack.setConfig("istio-mesh:mesh", { value: meshSettings("PERMISSIVE", "ALLOW_ANY") });
        await stack.up(quiet);
        const pod = podOf(NS, "app=mysql");
        // The stand-in rewrites its dump on every push: wait for this one.
        const standin = await syncedStandin(
            NS,
            pod,
            90,
            (s) => !simulate(s.dumpFile, { direction: "inbound", port: 8080 }).requiresMtls,
        );
        const admin = simulate(standin.dumpFile, { direction: "inbound", port: 8080 });
        expect(admin.accepts).toEqual({ plaintext: true, tls: false, mtls: true });
        const tls = simulate(standin.dumpFile, { ...UNKNOWN, port: 443, protocol: "tcp", tls: "tls" });
        expect(tls.clusters?.map((c) => c.name)).toEqual(["PassthroughCluster"]);
    });

    test("3. plug-in CA: with the user's cacerts, istiod and the workload restarted, the certificate chains to the user's root", async () => {
        caDir = pluginCaFiles();
        const files = ["ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem"];
        kubectl(
            "create",
            ...["secret", "generic", "cacerts", "-n", "istio-system"],
            ...files.map((f) => `--from-file=${path.join(caDir as string, f)}`),
        );
        // Istio's procedure for a CA plugged in after install: restart istiod, then the workloads.
        kubectl("rollout", "restart", "deployment/istiod", "-n", "istio-system");
        kubectl("rollout", "status", "deployment/istiod", "-n", "istio-system", "--timeout=120s");
        const userRoot = new X509Certificate(fs.readFileSync(path.join(caDir, "root-cert.pem")));
        const intermediate = new X509Certificate(fs.readFileSync(path.join(caDir, "ca-cert.pem")));
        await waitFor("istiod to publish the user's root in istio-ca-root-cert", 60, () => {
            const root = kubectlJson("configmap", "istio-ca-root-cert", "-n", NS).data["root-cert.pem"] as string;
            return pemCertificates(root).some((c) => c.fingerprint256 === userRoot.fingerprint256) ? true : undefined;
        });
        const before = podOf(NS, "app=mysql");
        kubectl("rollout", "restart", "deployment/mysql", "-n", NS);
        kubectl("rollout", "status", "deployment/mysql", "-n", NS, "--timeout=120s");
        const pod = await waitFor("the restarted mysql pod", 60, () => {
            const p = podOf(NS, "app=mysql");
            return p !== before ? p : undefined;
        });
        const standin = await syncedStandin(NS, pod, 120);
        const chain = new ConfigDump(standin.dumpFile).secretCertificates("default");
        expect(spiffeOf(chain[0])).toBe(`spiffe://cluster.local/ns/${NS}/sa/${SA}`);
        expect(chain[0].verify(intermediate.publicKey)).toBe(true);
        expect(chainsTo(chain, userRoot)).toBe(true);
        expect(chain.map((c) => c.subject)).toContain(intermediate.subject);
    });
});
