// The program's own API client finds the cluster and credentials the way the
// Kubernetes provider does (kubeconfig.ts): the setting a file that exists or else
// contents (JSON too), `~` expanded, relative paths against the working directory;
// without the setting, $KUBECONFIG's files merged; the context and cluster
// overrides; exec plugins and token files fetched again when they expire; no
// kubeconfig contents in any error message.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as yaml from "js-yaml";
import * as os from "os";
import * as path from "path";
import { KubeClient } from "../../components/cluster/kube";
import {
    CredentialSource,
    kubeAccess,
    kubeconfigSetting,
    TOKEN_FILE_REFRESH_MS,
} from "../../components/cluster/kubeconfig";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-kubeconfig-"));
const savedEnv = { KUBECONFIG: process.env.KUBECONFIG };
afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
    }
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
/** A secret that must never show in an error message. */
const TOKEN = "s3cr3t-token-value";

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: ${b64("CA-A")}}
- name: b
  cluster: {server: "https://b.example.com", certificate-authority: certs/ca-b.pem, insecure-skip-tls-verify: true}
users:
- name: cert
  user: {client-certificate: certs/client.pem, client-key-data: ${b64("KEY")}}
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ${process.execPath}
      args: ["-e", "console.log(JSON.stringify({status: {token: 'from-' + process.env.WHO}}))"]
      env: [{name: WHO, value: plugin}]
- name: bearer
  user: {token: ${TOKEN}}
contexts:
- name: first
  context: {cluster: a, user: cert}
- name: second
  context: {cluster: b, user: plugin}
- name: third
  context: {cluster: a, user: bearer}
current-context: first
`;

beforeAll(() => {
    fs.mkdirSync(path.join(dir, "certs"));
    fs.writeFileSync(path.join(dir, "certs", "ca-b.pem"), "CA-B");
    fs.writeFileSync(path.join(dir, "certs", "client.pem"), "CERT");
    fs.writeFileSync(path.join(dir, "config"), KUBECONFIG);
});

describe("the kubernetes:kubeconfig setting, as the provider reads it", () => {
    test("a relative path is read from the working directory, and so are the files it names", () => {
        const access = kubeAccess({ kubeconfig: "config", workDir: dir });
        expect(access.server).toBe("https://127.0.0.1:6443");
        expect(access.ca?.toString()).toBe("CA-A");
        const credentials = access.credentials.current();
        expect(credentials.cert?.toString()).toBe("CERT");
        expect(credentials.key?.toString()).toBe("KEY");
        expect(access.insecureSkipTlsVerify).toBe(false);
    });

    test("~/ is the home directory", () => {
        // The module object itself: the components' `os` reads through to it.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const home = jest.spyOn(require("os") as typeof os, "homedir").mockReturnValue(dir);
        try {
            expect(kubeconfigSetting("~/config", "/")).toEqual({ file: path.join(dir, "config") });
            expect(kubeAccess({ kubeconfig: "~/config", workDir: "/" }).server).toBe("https://127.0.0.1:6443");
        } finally {
            home.mockRestore();
        }
    });

    test("contents in YAML, a named context, and an exec credential plugin", () => {
        const access = kubeAccess({ kubeconfig: KUBECONFIG, context: "second", workDir: dir });
        expect(access.server).toBe("https://b.example.com");
        expect(access.ca?.toString()).toBe("CA-B");
        expect(access.credentials.current().token).toBe("from-plugin");
        expect(access.insecureSkipTlsVerify).toBe(true);
    });

    test("contents on a single line (JSON) are contents, not a path", () => {
        const json = JSON.stringify(yaml.load(KUBECONFIG));
        expect(json).not.toContain("\n");
        expect(kubeconfigSetting(json, dir)).toEqual({ contents: json });
        const access = kubeAccess({ kubeconfig: json, context: "third", workDir: dir });
        expect(access.server).toBe("https://127.0.0.1:6443");
        expect(access.credentials.current().token).toBe(TOKEN);
    });

    test("kubernetes:cluster replaces the context's cluster", () => {
        const access = kubeAccess({ kubeconfig: KUBECONFIG, context: "third", cluster: "b", workDir: dir });
        expect(access.server).toBe("https://b.example.com");
    });

    test("an unknown context is an error that names it", () => {
        expect(() => kubeAccess({ kubeconfig: KUBECONFIG, context: "fourth", workDir: dir })).toThrow(
            'the kubeconfig has no context "fourth"',
        );
    });

    test("contents that do not parse are refused without being shown", () => {
        const broken = `{"users": [{"name": "x", "user": {"token": "${TOKEN}"}}`;
        expect(() => kubeAccess({ kubeconfig: broken, workDir: dir })).toThrow(
            /^kubernetes:kubeconfig: not valid YAML or JSON at line \d+ \(.+\); the contents are not shown, they may hold credentials$/,
        );
        expect(() => kubeAccess({ kubeconfig: broken, workDir: dir })).not.toThrow(TOKEN);
        // A path with a typo is neither a file nor a kubeconfig; a bare token is not shown either.
        expect(() => kubeAccess({ kubeconfig: TOKEN, workDir: dir })).toThrow(
            "kubernetes:kubeconfig: not a kubeconfig (a map with clusters, users and contexts); the value is not shown, it may hold credentials",
        );
    });
});

describe("without the setting: $KUBECONFIG's files, merged as client-go merges them", () => {
    test("the first file to name a cluster or set current-context wins; missing files are skipped; paths are relative to their file", () => {
        const other = path.join(dir, "other");
        fs.mkdirSync(other, { recursive: true });
        fs.writeFileSync(path.join(other, "ca.pem"), "CA-OTHER");
        fs.writeFileSync(
            path.join(other, "config"),
            yaml.dump({
                "current-context": "mine",
                clusters: [
                    { name: "a", cluster: { server: "https://other.example.com", "certificate-authority": "ca.pem" } },
                ],
                users: [{ name: "me", user: { token: "t" } }],
                contexts: [{ name: "mine", context: { cluster: "a", user: "me" } }],
            }),
        );
        process.env.KUBECONFIG = [path.join(dir, "missing"), path.join(other, "config"), path.join(dir, "config")].join(
            path.delimiter,
        );
        try {
            const access = kubeAccess({ workDir: "/" });
            expect(access.server).toBe("https://other.example.com");
            expect(access.ca?.toString()).toBe("CA-OTHER");
            // The second file's context, its own user, the first file's cluster "a".
            const second = kubeAccess({ context: "second", workDir: "/" });
            expect(second.ca?.toString()).toBe("CA-B");
        } finally {
            process.env.KUBECONFIG = savedEnv.KUBECONFIG;
        }
    });
});

describe("credentials are fetched again when they expire", () => {
    test("an exec plugin runs again once its credential's expirationTimestamp has passed, not before", () => {
        const counter = path.join(dir, "count");
        fs.writeFileSync(counter, "0");
        const script =
            `const fs = require("fs"); const n = Number(fs.readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;` +
            `fs.writeFileSync(${JSON.stringify(counter)}, String(n));` +
            `console.log(JSON.stringify({ status: { token: "t" + n, expirationTimestamp: new Date(Number(process.env.NOW) + 60000).toISOString() } }));`;
        let now = Date.parse("2026-12-03T08:00:00Z");
        process.env.NOW = String(now);
        const source = new CredentialSource(
            "plugin",
            { exec: { command: process.execPath, args: ["-e", script] } },
            () => now,
        );
        expect(source.current().token).toBe("t1");
        now += 30_000;
        expect(source.current().token).toBe("t1");
        now += 30_000;
        expect(source.current().token).toBe("t2");
        source.invalidate();
        expect(source.current().token).toBe("t3");
    });

    test("a token file is read again a minute after it was read", () => {
        const tokenFile = path.join(dir, "token");
        fs.writeFileSync(tokenFile, "first\n");
        let now = 0;
        const source = new CredentialSource("file", { tokenFile }, () => now);
        expect(source.current().token).toBe("first");
        fs.writeFileSync(tokenFile, "rotated\n");
        now += TOKEN_FILE_REFRESH_MS - 1;
        expect(source.current().token).toBe("first");
        now += 1;
        expect(source.current().token).toBe("rotated");
    });

    test("a failing plugin's error names the user and the command, not its output", () => {
        const source = new CredentialSource("plugin", {
            exec: { command: process.execPath, args: ["-e", `console.log("${TOKEN}"); process.exit(3)`] },
        });
        expect(() => source.current()).toThrow(
            `kubeconfig user "plugin": its exec credential plugin ${process.execPath} failed (exit code 3)`,
        );
        const noCredential = new CredentialSource("plugin", {
            exec: { command: process.execPath, args: ["-e", `console.log("${TOKEN}")`] },
        });
        expect(() => noCredential.current()).toThrow(/printed no ExecCredential with a token or client certificate$/);
    });
});

describe("the client on a real connection", () => {
    let server: https.Server;
    let url: string;
    let ca: string;
    const accepted = "Bearer t2";

    beforeAll(async () => {
        // A self-signed certificate for 127.0.0.1, made with openssl as a cluster's CA would be.
        const certDir = path.join(dir, "tls");
        fs.mkdirSync(certDir);
        execFileSync(
            "openssl",
            [
                ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"],
                ...["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem"],
            ],
            { cwd: certDir, stdio: "ignore" },
        );
        ca = fs.readFileSync(path.join(certDir, "cert.pem"), "utf8");
        server = https.createServer({ key: fs.readFileSync(path.join(certDir, "key.pem")), cert: ca }, (req, res) => {
            const ok = req.headers.authorization === accepted;
            res.writeHead(ok ? 200 : 401, { "Content-Type": "application/json" });
            res.end(JSON.stringify(ok ? { items: [{ metadata: { name: "ns" } }] } : { message: "Unauthorized" }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    test("an expired credential (401) makes the exec plugin run again, and the request is sent once more", async () => {
        const counter = path.join(dir, "client-count");
        fs.writeFileSync(counter, "0");
        const script =
            `const fs = require("fs"); const n = Number(fs.readFileSync(${JSON.stringify(counter)}, "utf8")) + 1;` +
            `fs.writeFileSync(${JSON.stringify(counter)}, String(n));` +
            `console.log(JSON.stringify({ status: { token: "t" + n } }));`;
        const kubeconfig = JSON.stringify({
            "current-context": "c",
            clusters: [{ name: "c", cluster: { server: url, "certificate-authority-data": b64(ca) } }],
            users: [{ name: "u", user: { exec: { command: process.execPath, args: ["-e", script] } } }],
            contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
        });
        const client = new KubeClient({ kubeconfig, workDir: dir });
        expect(await client.list<{ metadata: { name: string } }>("/api/v1/namespaces")).toEqual([
            { metadata: { name: "ns" } },
        ]);
        expect(fs.readFileSync(counter, "utf8")).toBe("2");
        // Still valid: no third run.
        await client.list("/api/v1/namespaces");
        expect(fs.readFileSync(counter, "utf8")).toBe("2");
    });
});
