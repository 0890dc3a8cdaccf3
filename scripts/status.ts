// `npm run status`: what the stack installed, at which versions, and whether it is
// ready, read from the stack's outputs and checked against the cluster.
import { execFileSync } from "child_process";
import type { ComponentVersion } from "../components/mesh";
import { assessInstallation, CrdObject, formatStatus, WorkloadObject } from "../components/verify";

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

function main(): number {
    const outputs = JSON.parse(
        execFileSync("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack], { encoding: "utf8" }),
    ) as {
        version?: string;
        components?: ComponentVersion[];
        crds?: string[];
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
    const rows = assessInstallation(outputs.components, workloads, outputs.crds ?? [], crds);
    console.log(`Istio ${outputs.version} (stack ${stack})`);
    console.log(formatStatus(rows));
    const bad = rows.filter((r) => !r.ok).length;
    console.log(bad === 0 ? "installation verified: every component is ready" : `${bad} component(s) not ready`);
    return bad === 0 ? 0 : 1;
}

process.exit(main());
