// The program-time API client finds the cluster and credentials the way the
// Kubernetes provider does: the kubeconfig setting as a path or as content, the
// current context or a named one, files relative to the kubeconfig, exec plugins.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { kubeAccess } from "../../components/kube";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-kubeconfig-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: ${Buffer.from("CA-A").toString("base64")}}
- name: b
  cluster: {server: "https://b.example.com", certificate-authority: certs/ca-b.pem, insecure-skip-tls-verify: true}
users:
- name: cert
  user: {client-certificate: certs/client.pem, client-key-data: ${Buffer.from("KEY").toString("base64")}}
- name: plugin
  user:
    exec:
      command: ${process.execPath}
      args: ["-e", "console.log(JSON.stringify({status: {token: 'from-' + process.env.WHO}}))"]
      env: [{name: WHO, value: plugin}]
contexts:
- name: first
  context: {cluster: a, user: cert}
- name: second
  context: {cluster: b, user: plugin}
current-context: first
`;

beforeAll(() => {
    fs.mkdirSync(path.join(dir, "certs"));
    fs.writeFileSync(path.join(dir, "certs", "ca-b.pem"), "CA-B");
    fs.writeFileSync(path.join(dir, "certs", "client.pem"), "CERT");
    fs.writeFileSync(path.join(dir, "config"), KUBECONFIG);
});

test("a relative kubernetes:kubeconfig path is read from the project; its own files from beside it", () => {
    const access = kubeAccess({ kubeconfig: "config" }, dir);
    expect(access.server).toBe("https://127.0.0.1:6443");
    expect(access.ca?.toString()).toBe("CA-A");
    expect(access.cert?.toString()).toBe("CERT");
    expect(access.key?.toString()).toBe("KEY");
    expect(access.insecureSkipTlsVerify).toBe(false);
});

test("kubeconfig content in the setting, a named context, and an exec credential plugin", () => {
    const access = kubeAccess({ kubeconfig: KUBECONFIG, context: "second" }, dir);
    expect(access.server).toBe("https://b.example.com");
    expect(access.ca?.toString()).toBe("CA-B");
    expect(access.token).toBe("from-plugin");
    expect(access.insecureSkipTlsVerify).toBe(true);
});

test("an unknown context is an error that names it", () => {
    expect(() => kubeAccess({ kubeconfig: KUBECONFIG, context: "third" }, dir)).toThrow(
        'the kubeconfig has no context "third"',
    );
});
