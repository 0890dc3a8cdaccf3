// `npm run status`: what the stack installed, at which versions, and whether it is
// ready, read from the stack's outputs and checked against the cluster.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { KubeObject, WorkloadObject } from "../components/cluster/kube";
import { kubeconfigSetting } from "../components/cluster/kubeconfig";
import type { MeshOutputValues } from "../components/status/outputs";
import type { PodObject } from "../components/cluster/pods";
import { dataPlaneLine, SyncStatus, SynczResult } from "./dataplane-status";
import { revisionReport } from "../components/status/revisionReport";
import {
    assessInstallation,
    CrdObject,
    formatStatus,
    labelSelector,
    ReadyProbe,
    withReadyProbe,
} from "../components/status/installation";

function flag(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

const stack = flag("stack") ?? "local";
/** kubectl's cluster settings: flags that name no secret; the kubeconfig itself travels in KUBECONFIG. */
const kubectlArgs: string[] = [];
const kubectlEnv: NodeJS.ProcessEnv = { ...process.env };

/** A stack setting, or undefined when it is not set. */
function stackConfig(key: string): string | undefined {
    try {
        return execFileSync("pulumi", ["config", "get", key, "--stack", stack], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
        }).replace(/\n$/, "");
    } catch {
        return undefined;
    }
}

/**
 * Points kubectl at the cluster the stack's provider uses: --kubeconfig FILE when
 * given, else the stack's kubernetes:kubeconfig (a file that exists, or contents,
 * decided as the provider decides it), context and cluster. Contents go to a file
 * only this user can read, removed on exit, never to a command line (where `ps`
 * and CI logs show them).
 */
function useStackCluster(): void {
    const given = flag("kubeconfig");
    if (given) {
        kubectlEnv.KUBECONFIG = path.resolve(given);
        return;
    }
    const value = stackConfig("kubernetes:kubeconfig");
    if (value) {
        const setting = kubeconfigSetting(value, process.cwd());
        if ("file" in setting) {
            kubectlEnv.KUBECONFIG = setting.file;
        } else {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-status-"));
            process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
            const file = path.join(dir, "kubeconfig");
            fs.writeFileSync(file, setting.contents, { mode: 0o600 });
            kubectlEnv.KUBECONFIG = file;
        }
    }
    const context = stackConfig("kubernetes:context");
    if (context) kubectlArgs.push("--context", context);
    const cluster = stackConfig("kubernetes:cluster");
    if (cluster) kubectlArgs.push("--cluster", cluster);
}

function kubectlItems<T>(...args: string[]): T[] {
    const out = execFileSync("kubectl", [...kubectlArgs, "get", ...args, "-o", "json"], {
        encoding: "utf8",
        env: kubectlEnv,
        maxBuffer: 256 * 1024 * 1024,
    });
    return (JSON.parse(out) as { items: T[] }).items;
}

/** Asks every pod of an istiod Deployment for /ready through the API server's pod proxy (RBAC: pods/proxy). */
function probeIstiod(deployment: WorkloadObject): ReadyProbe {
    const namespace = deployment.metadata.namespace ?? "default";
    const selector = labelSelector(deployment.spec?.selector?.matchLabels);
    const pods = kubectlItems<{ metadata: { name: string } }>("pods", "-n", namespace, "-l", selector);
    const probe: ReadyProbe = { pods: pods.length, answered: 0 };
    for (const pod of pods) {
        try {
            execFileSync(
                "kubectl",
                [
                    ...kubectlArgs,
                    "get",
                    "--request-timeout=10s",
                    "--raw",
                    `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:8080/proxy/ready`,
                ],
                { encoding: "utf8", env: kubectlEnv, stdio: ["ignore", "pipe", "pipe"] },
            );
            probe.answered++;
        } catch (e) {
            probe.failure ??= `${pod.metadata.name}: ${String((e as { stderr?: string }).stderr ?? e).trim()}`;
        }
    }
    return probe;
}

/**
 * Asks every pod of an istiod Deployment for /debug/syncz through the API
 * server's pod proxy (RBAC: pods/proxy): the proxies connected to it and what
 * they acknowledged. istiod answers its debug endpoints unauthenticated only to
 * loopback callers (the local cluster's egress proxy is one); elsewhere it
 * answers 401, which the line reports.
 */
function istiodSyncz(deployment: WorkloadObject): SynczResult[] {
    const namespace = deployment.metadata.namespace ?? "default";
    const selector = labelSelector(deployment.spec?.selector?.matchLabels);
    const pods = kubectlItems<{ metadata: { name: string } }>("pods", "-n", namespace, "-l", selector);
    return pods.map((pod) => {
        try {
            const out = execFileSync(
                "kubectl",
                [
                    ...kubectlArgs,
                    "get",
                    "--request-timeout=10s",
                    "--raw",
                    `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:15014/proxy/debug/syncz`,
                ],
                { encoding: "utf8", env: kubectlEnv, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 },
            );
            return { pod: pod.metadata.name, syncz: JSON.parse(out) as SyncStatus[] };
        } catch (e) {
            const reason = String((e as { stderr?: string }).stderr || e).trim();
            return { pod: pod.metadata.name, error: reason.split("\n")[0] };
        }
    });
}

function main(): number {
    const outputs = JSON.parse(
        execFileSync("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack], { encoding: "utf8" }),
        // Outputs of stacks deployed by older versions may lack any of them.
    ) as Partial<MeshOutputValues>;
    if (!outputs.components) {
        console.error(`stack ${stack} has no installation (no 'components' output): run pulumi up first`);
        return 2;
    }
    useStackCluster();
    const workloads = [
        ...kubectlItems<WorkloadObject>("deployments", "--all-namespaces"),
        ...kubectlItems<WorkloadObject>("daemonsets", "--all-namespaces"),
    ];
    const crds = kubectlItems<CrdObject>("customresourcedefinitions");
    const rows = assessInstallation(outputs.components, workloads, outputs.crds ?? [], crds).map((row, i) => {
        const c = outputs.components?.[i];
        const deployment =
            c?.chart === "istiod" &&
            workloads.find(
                (w) =>
                    w.kind === "Deployment" &&
                    w.metadata.name === c.workload?.name &&
                    w.metadata.namespace === c.namespace,
            );
        return deployment ? withReadyProbe(row, probeIstiod(deployment)) : row;
    });
    console.log(`Istio ${outputs.version} (stack ${stack})`);
    console.log(formatStatus(rows));
    // Per control plane: who uses it, proxies at another version, and pods left behind.
    if (outputs.revisions) {
        const report = revisionReport({
            revisions: outputs.revisions,
            tags: outputs.revisionTags ?? {},
            namespaces: outputs.namespaceRevisions ?? [],
            pods: kubectlItems<PodObject>("pods", "--all-namespaces"),
            replicaSets: kubectlItems<KubeObject>("replicasets", "--all-namespaces"),
        });
        console.log(report.lines.join("\n"));
    }
    // Per control plane: the proxies connected to it and whether they applied what it sent.
    for (const c of outputs.components) {
        const deployment =
            c.chart === "istiod" &&
            workloads.find(
                (w) =>
                    w.kind === "Deployment" &&
                    w.metadata.name === c.workload?.name &&
                    w.metadata.namespace === c.namespace,
            );
        if (!deployment) continue;
        // The istiod chart selects its pods by revision.
        const revision = deployment.spec?.selector?.matchLabels?.["istio.io/rev"] ?? "default";
        console.log(dataPlaneLine(revision, istiodSyncz(deployment)));
    }
    const bad = rows.filter((r) => !r.ok).length;
    console.log(bad === 0 ? "installation verified: every component is ready" : `${bad} component(s) not ready`);
    return bad === 0 ? 0 : 1;
}

process.exit(main());
