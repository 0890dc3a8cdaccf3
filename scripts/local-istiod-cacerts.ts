// Istio's plug-in CA for the local istiod: on a real cluster the istiod pod
// mounts the Secret `cacerts` (chart volume `cacerts`, optional) at
// /etc/cacerts, and istiod signs workload certificates with it when it finds a
// complete bundle there at start (pilot/pkg/bootstrap/istio_ca.go). The local
// istiod runs in a working directory where in-pod paths are relative, so the
// supervisor writes the Secret's keys to <work>/etc/cacerts as the kubelet would:
// before istiod starts, and again whenever the Secret changes (the kubelet
// updates a mounted Secret in place; what istiod then does is istiod's own
// business, exactly as in a pod). Only this one mount is materialised: every
// other volume keeps the local istiod reading from the API server.
import * as fs from "fs";
import * as path from "path";

/** The parts of an istiod Deployment that say where a Secret volume is mounted. */
export interface SecretMountingDeployment {
    spec: {
        template: {
            spec: {
                containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[];
                volumes?: { name: string; secret?: { secretName?: string; optional?: boolean } }[];
            };
        };
    };
}

/** Where istiod looks for a plugged-in CA (its LocalCertDir default, ./etc/cacerts). */
export const CACERTS_MOUNT_PATH = "/etc/cacerts";

/** The Secret volume istiod's container mounts at /etc/cacerts, if any. */
export function cacertsMount(d: SecretMountingDeployment): { secretName: string; optional: boolean } | undefined {
    const spec = d.spec.template.spec;
    const container = spec.containers.find((c) => c.name === "discovery") ?? spec.containers[0];
    const mount = container?.volumeMounts?.find((m) => path.posix.normalize(m.mountPath) === CACERTS_MOUNT_PATH);
    const volume = mount && spec.volumes?.find((v) => v.name === mount.name);
    if (!volume?.secret?.secretName) return undefined;
    return { secretName: volume.secret.secretName, optional: volume.secret.optional ?? false };
}

/** A Secret's files as its volume shows them: one per key, the value decoded. */
export function secretFiles(secret: { data?: Record<string, string> } | undefined): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    for (const [key, value] of Object.entries(secret?.data ?? {})) files.set(key, Buffer.from(value, "base64"));
    return files;
}

/**
 * Makes `dir` hold exactly `files` (written atomically, stale ones removed);
 * returns the names of what changed, empty when nothing did.
 */
export function syncFolder(dir: string, files: Map<string, Buffer>): string[] {
    const changed: string[] = [];
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir)) {
        if (!files.has(name)) {
            fs.rmSync(path.join(dir, name), { force: true });
            changed.push(name);
        }
    }
    for (const [name, content] of files) {
        const file = path.join(dir, name);
        if (fs.existsSync(file) && fs.readFileSync(file).equals(content)) continue;
        fs.writeFileSync(`${file}.tmp`, content, { mode: 0o600 });
        fs.renameSync(`${file}.tmp`, file);
        changed.push(name);
    }
    return changed.sort();
}

/**
 * Brings `<work>/etc/cacerts` in line with the Secret the Deployment mounts there.
 * `getSecret` answers the Secret, or undefined when it does not exist (an API
 * error must throw: it says nothing about the Secret, so nothing is changed).
 * Returns what changed, for the supervisor's log.
 */
export async function materializeCacerts(
    d: SecretMountingDeployment & { metadata: { namespace: string } },
    workDir: string,
    getSecret: (namespace: string, name: string) => Promise<{ data?: Record<string, string> } | undefined>,
): Promise<string[]> {
    const mount = cacertsMount(d);
    if (!mount) return [];
    const secret = await getSecret(d.metadata.namespace, mount.secretName);
    if (!secret && !mount.optional) {
        // A pod mounting a missing Secret that is not optional does not start either.
        throw new Error(
            `Secret ${d.metadata.namespace}/${mount.secretName} mounted at ${CACERTS_MOUNT_PATH} does not exist`,
        );
    }
    return syncFolder(path.join(workDir, CACERTS_MOUNT_PATH), secretFiles(secret));
}
