import type { ComponentVersion } from "../../components/status/installation";
import type { WorkloadObject } from "../../components/cluster/kube";
import { assessInstallation, CrdObject, formatStatus, withReadyProbe } from "../../components/status/installation";

const istiod: ComponentVersion = {
    component: "istiod",
    chart: "istiod",
    version: "1.30.3",
    namespace: "istio-system",
    workload: { kind: "Deployment", name: "istiod" },
};
const base: ComponentVersion = { component: "base", chart: "base", version: "1.30.3", namespace: "istio-system" };

function deployment(version: string, ready: number, generation = 2, observed = 2): WorkloadObject {
    return {
        kind: "Deployment",
        metadata: {
            name: "istiod",
            namespace: "istio-system",
            generation,
            labels: { "app.kubernetes.io/version": version },
        },
        spec: {
            replicas: 1,
            template: { spec: { containers: [{ name: "discovery", image: `docker.io/istio/pilot:${version}` }] } },
        },
        status: { observedGeneration: observed, replicas: 1, readyReplicas: ready, updatedReplicas: ready },
    };
}

function crd(name: string, version: string, established = true): CrdObject {
    return {
        metadata: { name, labels: { "app.kubernetes.io/version": version } },
        status: { conditions: [{ type: "Established", status: established ? "True" : "False" }] },
    };
}

describe("assessInstallation", () => {
    test("a ready istiod at the stack's version is ok", () => {
        const [row] = assessInstallation([istiod], [deployment("1.30.3", 1)], [], []);
        expect(row).toEqual({
            component: "istiod",
            workload: "Deployment/istio-system/istiod",
            version: "1.30.3",
            ready: "1/1",
            ok: true,
        });
    });

    test("an istiod still at the old version is reported", () => {
        const [row] = assessInstallation([istiod], [deployment("1.29.6", 1)], [], []);
        expect(row.ok).toBe(false);
        expect(row.problem).toBe("runs 1.29.6, expected 1.30.3");
    });

    test("a rollout the controller has not seen yet is not ready", () => {
        const [row] = assessInstallation([istiod], [deployment("1.30.3", 1, 3, 2)], [], []);
        expect(row).toMatchObject({ ok: false, problem: "not ready" });
    });

    test("a missing workload is reported as missing", () => {
        expect(assessInstallation([istiod], [], [], [])[0]).toMatchObject({ ok: false, problem: "missing" });
    });

    test("CRDs must all be established and at the stack's version", () => {
        const names = ["a.istio.io", "b.istio.io"];
        expect(
            assessInstallation([base], [], names, [crd("a.istio.io", "1.30.3"), crd("b.istio.io", "1.30.3")])[0],
        ).toMatchObject({ ok: true, ready: "2/2" });
        expect(
            assessInstallation([base], [], names, [crd("a.istio.io", "1.30.3"), crd("b.istio.io", "1.30.3", false)])[0],
        ).toMatchObject({
            ok: false,
            problem: "not established: b.istio.io",
        });
        expect(
            assessInstallation([base], [], names, [crd("a.istio.io", "1.30.3"), crd("b.istio.io", "1.29.6")])[0],
        ).toMatchObject({ ok: false });
    });

    test("the table has one aligned line per component", () => {
        const text = formatStatus(assessInstallation([istiod], [deployment("1.30.3", 0)], [], []));
        expect(text.split("\n")).toEqual([
            "COMPONENT  WORKLOAD                        VERSION  READY  STATUS",
            "istiod     Deployment/istio-system/istiod  1.30.3   0/1    NOT OK: not ready",
        ]);
    });
});

describe("withReadyProbe", () => {
    const [ready] = assessInstallation([istiod], [deployment("1.30.3", 1)], [], []);

    test("an istiod whose every pod answers /ready stays ok and says so", () => {
        const row = withReadyProbe(ready, { pods: 1, answered: 1 });
        expect(row.ok).toBe(true);
        expect(row.ready).toBe("1/1, 1/1 answer /ready");
    });

    test("a Ready pod whose istiod does not answer is not ok, with the proxy's error", () => {
        const row = withReadyProbe(ready, { pods: 1, answered: 0, failure: "istiod-abc: 503 Service Unavailable" });
        expect(row.ok).toBe(false);
        expect(row.problem).toBe("0/1 answer /ready: istiod-abc: 503 Service Unavailable");
    });

    test("no pod to ask is not ok", () => {
        expect(withReadyProbe(ready, { pods: 0, answered: 0 }).problem).toBe("no istiod pod to ask");
    });
});
