// `npm run status`: what the stack installed, at which versions, and whether it is
// ready, read from the stack's outputs and checked against the cluster.
import { execFileSync } from "child_process";
import type { KubeObject, WorkloadObject } from "../components/kube";
import type { ComponentVersion } from "../components/mesh";
import type { PodObject } from "../components/migration";
import { dataPlaneLine, SyncStatus, SynczResult } from "./dataplane-status";
import { revisionReport, RevisionReportInput } from "../components/revisionReport";
import {
    assessInstallation,
    CrdObject,
    formatStatus,
    labelSelector,
    ReadyProbe,
    withReadyProbe,
} from "../components/verify";

function flag(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

const stack = flag("stack") ?? "local";
const kubeconfigArgs = (() => {
    const file = flag("kubeconfig");
    return file ? ["--kubeconfig", file] : [];
})();

function kubectlItems<T>(...args: string[]): T[] {
    const out = execFileSync("kubectl", [...kubeconfigArgs, "get", ...args, "-o", "json"], {
        encoding: "utf8",
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
                    ...kubeconfigArgs,
                    "get",
                    "--request-timeout=10s",
                    "--raw",
                    `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:8080/proxy/ready`,
                ],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
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
                    ...kubeconfigArgs,
                    "get",
                    "--request-timeout=10s",
                    "--raw",
                    `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}:15014/proxy/debug/syncz`,
                ],
                { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 },
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
    ) as {
        version?: string;
        components?: ComponentVersion[];
        crds?: string[];
        revisions?: RevisionReportInput["revisions"];
        revisionTags?: RevisionReportInput["tags"];
        namespaceRevisions?: RevisionReportInput["namespaces"];
    };
    if (!outputs.components) {
        console.error(`stack ${stack} has no installation (no 'components' output): run pulumi up first`);
        return 2;
    }
    const kubeconfig = (() => {
        if (kubeconfigArgs.length > 0) return;
        try {
            return execFileSync("pulumi", ["config", "get", "kubernetes:kubeconfig", "--stack", stack], {
                encoding: "utf8",
            }).trim();
        } catch {
            return undefined;
        }
    })();
    if (kubeconfig) kubeconfigArgs.push("--kubeconfig", kubeconfig);
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
