// istiod's validating webhooks fail closed (values.ts renders Fail from the start),
// so an Istio resource sent before the API server can reach istiod, and trust it, is
// refused: `x509: certificate signed by unknown authority` until the API server has
// seen the caBundle istiod writes into its webhooks at start, `no endpoints` or a
// refused connection before that. A Ready istiod pod does not mean any of that is
// done. Before the stack creates its own Istio resources it asks the API server what
// istiod itself asks before it switches its webhook to fail-closed: a server-side
// dry run of a Gateway that every istiod rejects. A denial means the whole path works.
import { setTimeout as sleep } from "timers/promises";
import { KubeClient, KubeError } from "../cluster/kube";

/** The annotation every istiod's validation refuses (Istio's `internal.istio.io/webhook-always-reject`). */
export const ALWAYS_REJECT_ANNOTATION = "internal.istio.io/webhook-always-reject";

export interface ValidationProbeArgs {
    /** Where the dry-run Gateway would live: the control plane namespace. */
    namespace: string;
    /** The revisions whose validators must answer, as their `istio.io/rev` label ("default" for the unnamed one). */
    revisions: string[];
    /** How long istiod may take to answer. @default 120 */
    timeoutSeconds?: number;
}

/** How one dry run came back. */
export type ProbeAnswer =
    | { kind: "denied" }
    /** A webhook could not be called (TLS, endpoints, connection): istiod is not reachable yet. */
    | { kind: "unreachable"; message: string }
    /** Created in the dry run: no validator of this revision was called (a just-created webhook not yet seen). */
    | { kind: "accepted" }
    | { kind: "other"; message: string };

/** What the API server said to the dry run: stored (it would have been), or refused with a message. */
export type DryRunResult = { ok: true } | { ok: false; message: string };

/** Sorts the API server's answer to the dry run. */
export function classifyProbe(result: DryRunResult): ProbeAnswer {
    if (result.ok) return { kind: "accepted" };
    const { message } = result;
    // One failed webhook call makes the whole request fail, whatever the others said.
    if (/failed calling webhook/.test(message)) return { kind: "unreachable", message };
    if (/denied the request/.test(message)) return { kind: "denied" };
    return { kind: "other", message };
}

/**
 * The Gateway every istiod refuses, for one revision's validator. Its spec is valid,
 * so the CRD's own schema never refuses it before the webhook is called: only the
 * annotation does, and only istiod reads it.
 */
export function probeGateway(namespace: string, revision: string): object {
    return {
        apiVersion: "networking.istio.io/v1",
        kind: "Gateway",
        metadata: {
            name: "istio-mesh-validation-probe",
            namespace,
            labels: { "istio.io/rev": revision },
            annotations: { [ALWAYS_REJECT_ANNOTATION]: "true" },
        },
        spec: { servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] },
    };
}

/** What the wait needs of the cluster and of time; the real ones by default, fakes in unit tests. */
export interface ProbeDeps {
    dryRunCreate(apiPath: string, body: object): Promise<DryRunResult>;
    now(): number;
    sleep(ms: number): Promise<void>;
}

export function clusterProbeDeps(kube: KubeClient): ProbeDeps {
    return {
        async dryRunCreate(apiPath, body) {
            try {
                await kube.create(apiPath, body, { dryRun: true });
                return { ok: true };
            } catch (e) {
                if (e instanceof KubeError) return { ok: false, message: e.message };
                throw e;
            }
        },
        now: () => Date.now(),
        sleep: (ms) => sleep(ms),
    };
}

/**
 * Resolves once every revision's validating webhook, called by the API server, has
 * denied the probe; throws after `timeoutSeconds` with the last answer. Returns how
 * many dry runs it took, for the log.
 */
export async function awaitIstioValidation(args: ValidationProbeArgs, deps: ProbeDeps): Promise<number> {
    const timeoutMs = (args.timeoutSeconds ?? 120) * 1000;
    const deadline = deps.now() + timeoutMs;
    const apiPath = `/apis/networking.istio.io/v1/namespaces/${args.namespace}/gateways`;
    let attempts = 0;
    for (const revision of args.revisions) {
        for (;;) {
            attempts++;
            const answer = classifyProbe(await deps.dryRunCreate(apiPath, probeGateway(args.namespace, revision)));
            if (answer.kind === "denied") break;
            if (deps.now() >= deadline) {
                const last =
                    answer.kind === "accepted"
                        ? "a Gateway marked to be rejected was accepted: no validating webhook of this revision was called"
                        : answer.message;
                throw new Error(
                    `istiod's validating webhook for revision ${revision} did not answer within ${timeoutMs / 1000} s, so the stack's Istio resources cannot be admitted. Last answer of the API server: ${last}. Check that istiod is running and has written its caBundle into its ValidatingWebhookConfiguration.`,
                );
            }
            await deps.sleep(250);
        }
    }
    return attempts;
}
