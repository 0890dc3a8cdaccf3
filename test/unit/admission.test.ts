// The wait for istiod's validating webhook: what counts as an answer, and what the
// user reads when istiod never answers. The API server's answers below are the
// messages it gives (seen on the local cluster, kube-apiserver 1.33); the e2e
// lifecycle suite runs the wait against the real istiod.
import { awaitIstioValidation, classifyProbe, probeGateway, ProbeDeps } from "../../components/controlPlane/admission";

const X509 =
    'Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority';
const DENIED =
    'admission webhook "rev.validation.istio.io" denied the request: configuration is invalid: "internal.istio.io/webhook-always-reject" annotation found, rejecting';
const NO_ENDPOINTS =
    'Internal error occurred: failed calling webhook "rev.validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": no endpoints available for service "istiod"';

type Answer = Awaited<ReturnType<ProbeDeps["dryRunCreate"]>>;
const refused = (message: string): Answer => ({ ok: false, message });

/** A cluster that gives `answers` in turn (the last one for ever), on a clock that only the waits move. */
function fakeCluster(answers: Answer[]) {
    let clock = 0;
    const calls: { apiPath: string; body: object }[] = [];
    const deps: ProbeDeps = {
        async dryRunCreate(apiPath, body) {
            calls.push({ apiPath, body });
            return answers[Math.min(calls.length - 1, answers.length - 1)];
        },
        now: () => clock,
        sleep: async (ms) => {
            clock += ms;
        },
    };
    return { deps, calls, elapsed: () => clock };
}

describe("classifyProbe", () => {
    test.each([
        ["a denial", refused(DENIED), "denied"],
        ["an untrusted certificate", refused(X509), "unreachable"],
        ["no endpoints", refused(NO_ENDPOINTS), "unreachable"],
        // Webhooks run in parallel; a failed call fails the request even if another denied it.
        ["a failed call beside a denial", refused(`${X509}; ${DENIED}`), "unreachable"],
        ["an accepted dry run", { ok: true } as Answer, "accepted"],
        ["a missing kind", refused("the server could not find the requested resource"), "other"],
    ])("%s", (_what, answer, kind) => {
        expect(classifyProbe(answer).kind).toBe(kind);
    });
});

describe("awaitIstioValidation", () => {
    test("sends the Gateway that istiod always rejects, as a dry run, labelled for the revision", async () => {
        const cluster = fakeCluster([refused(DENIED)]);
        await awaitIstioValidation({ namespace: "istio-system", revisions: ["default"] }, cluster.deps);
        expect(cluster.calls).toEqual([
            {
                apiPath: "/apis/networking.istio.io/v1/namespaces/istio-system/gateways",
                body: probeGateway("istio-system", "default"),
            },
        ]);
        expect(probeGateway("istio-system", "canary")).toMatchObject({
            metadata: {
                labels: { "istio.io/rev": "canary" },
                annotations: { "internal.istio.io/webhook-always-reject": "true" },
            },
        });
    });

    test("waits through the window in which the API server does not trust istiod yet", async () => {
        const cluster = fakeCluster([refused(NO_ENDPOINTS), refused(X509), refused(X509), refused(DENIED)]);
        const attempts = await awaitIstioValidation(
            { namespace: "istio-system", revisions: ["default"] },
            cluster.deps,
        );
        expect(attempts).toBe(4);
        expect(cluster.elapsed()).toBe(750);
    });

    test("waits for every revision in turn", async () => {
        const cluster = fakeCluster([refused(DENIED), { ok: true }, refused(DENIED)]);
        const attempts = await awaitIstioValidation(
            { namespace: "istio-system", revisions: ["1-29", "1-30"] },
            cluster.deps,
        );
        expect(attempts).toBe(3);
        expect(cluster.calls.map((c) => (c.body as { metadata: { labels: object } }).metadata.labels)).toEqual([
            { "istio.io/rev": "1-29" },
            { "istio.io/rev": "1-30" },
            { "istio.io/rev": "1-30" },
        ]);
    });

    test("gives up after the timeout, naming the revision and the API server's last answer", async () => {
        const cluster = fakeCluster([refused(X509)]);
        await expect(
            awaitIstioValidation({ namespace: "istio-system", revisions: ["canary"], timeoutSeconds: 5 }, cluster.deps),
        ).rejects.toThrow(
            `istiod's validating webhook for revision canary did not answer within 5 s, so the stack's Istio resources cannot be admitted. Last answer of the API server: ${X509}.`,
        );
        expect(cluster.elapsed()).toBe(5000);
    });

    test("a probe that keeps being accepted is reported as no webhook called", async () => {
        const cluster = fakeCluster([{ ok: true }]);
        await expect(
            awaitIstioValidation({ namespace: "mesh", revisions: ["default"], timeoutSeconds: 1 }, cluster.deps),
        ).rejects.toThrow(
            /a Gateway marked to be rejected was accepted: no validating webhook of this revision was called/,
        );
    });
});
