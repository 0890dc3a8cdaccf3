// The local istiod's plug-in CA mount (scripts/local-istiod-cacerts.ts): the
// Secret the istiod chart mounts at /etc/cacerts becomes files in the local
// istiod's working directory, as the kubelet would write them.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cacertsMount, materializeCacerts, SecretMountingDeployment } from "../../scripts/local-istiod-cacerts";

/** The istiod chart's discovery container and volumes, as far as the mount goes. */
function istiod(volumes = [{ name: "cacerts", secret: { secretName: "cacerts", optional: true } }]) {
    const d: SecretMountingDeployment & { metadata: { namespace: string } } = {
        metadata: { namespace: "istio-system" },
        spec: {
            template: {
                spec: {
                    containers: [
                        {
                            name: "discovery",
                            volumeMounts: [
                                { name: "local-certs", mountPath: "/var/run/secrets/istio-dns" },
                                { name: "cacerts", mountPath: "/etc/cacerts" },
                            ],
                        },
                    ],
                    volumes,
                },
            },
        },
    };
    return d;
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("the local istiod's cacerts mount", () => {
    let work: string;
    beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "cacerts-test-"))));
    afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

    test("the chart's optional cacerts volume is found by its mount path", () => {
        expect(cacertsMount(istiod())).toEqual({ secretName: "cacerts", optional: true });
        expect(cacertsMount(istiod([]))).toBeUndefined();
    });

    test("the Secret's keys become files at ./etc/cacerts, rewritten when it changes and removed with it", async () => {
        let secret: { data: Record<string, string> } | undefined = {
            data: { "ca-cert.pem": b64("CA"), "root-cert.pem": b64("ROOT") },
        };
        const get = async () => secret;
        const dir = path.join(work, "etc", "cacerts");
        expect(await materializeCacerts(istiod(), work, get)).toEqual(["ca-cert.pem", "root-cert.pem"]);
        expect(fs.readFileSync(path.join(dir, "root-cert.pem"), "utf8")).toBe("ROOT");
        expect(await materializeCacerts(istiod(), work, get)).toEqual([]);
        secret = { data: { "ca-cert.pem": b64("CA2") } };
        expect(await materializeCacerts(istiod(), work, get)).toEqual(["ca-cert.pem", "root-cert.pem"]);
        expect(fs.readdirSync(dir)).toEqual(["ca-cert.pem"]);
        secret = undefined;
        expect(await materializeCacerts(istiod(), work, get)).toEqual(["ca-cert.pem"]);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    test("a missing Secret that the volume does not mark optional is an error naming it", async () => {
        const d = istiod([{ name: "cacerts", secret: { secretName: "cacerts", optional: false } }]);
        await expect(materializeCacerts(d, work, async () => undefined)).rejects.toThrow(
            "Secret istio-system/cacerts mounted at /etc/cacerts does not exist",
        );
    });

    test("an API error reaches the caller and changes nothing", async () => {
        const dir = path.join(work, "etc", "cacerts");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "ca-cert.pem"), "CA");
        await expect(
            materializeCacerts(istiod(), work, async () => {
                throw new Error("GET secret: 503");
            }),
        ).rejects.toThrow("503");
        expect(fs.readdirSync(dir)).toEqual(["ca-cert.pem"]);
    });
});
