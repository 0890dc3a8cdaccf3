// injectionNamespaces and sidecarRollout.
import { rolloutResourceNames } from "../../../components/config";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("injection labels and sidecar restarts stay off system namespaces and are listed once", () => {
    test.each([
        [
            { injectionNamespaces: ["shop", "kube-system"] },
            'istio-mesh:injectionNamespaces[1]: "kube-system" is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down',
        ],
        [
            { injectionNamespaces: ["kube-node-lease"] },
            'istio-mesh:injectionNamespaces[0]: "kube-node-lease" is a Kubernetes system namespace; sidecars in its pods (cluster DNS among them) can take the whole cluster down',
        ],
        [
            { namespace: "mesh", injectionNamespaces: ["mesh"] },
            'istio-mesh:injectionNamespaces[0]: "mesh" is the control-plane namespace; the stack owns it, and istiod and the addons in it must not get sidecars',
        ],
        [
            { injectionNamespaces: ["shop", "web", "shop"] },
            'istio-mesh:injectionNamespaces[2]: "shop" is a duplicate of injectionNamespaces[0]; list each namespace once',
        ],
        [
            {
                sidecarRollout: [
                    { namespace: "shop", name: "web" },
                    { namespace: "shop", kind: "Deployment", name: "web" },
                ],
            },
            'istio-mesh:sidecarRollout[1]: {"namespace":"shop","kind":"Deployment","name":"web"} is a duplicate of sidecarRollout[0]; list each workload once',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("the same workload name in two namespaces, or of two kinds, is two workloads", () => {
        const rollout = [
            { namespace: "a", name: "web" },
            { namespace: "b", name: "web" },
            { namespace: "a", kind: "StatefulSet", name: "web" },
        ];
        expect(parse({ sidecarRollout: rollout }).sidecarRollout).toHaveLength(3);
    });
});

// Issue 22: distinct workloads are valid even when their names spell the same
// resource name, and the stack's own workloads are not restarted through sidecarRollout.
describe("sidecarRollout: every distinct workload is restarted, none of the stack's own", () => {
    test("two workloads whose derived names collide are both accepted, under distinct resource names", () => {
        const c = parse({
            sidecarRollout: [
                { namespace: "a-deployment", name: "w" },
                { namespace: "a", name: "deployment-w" },
                { namespace: "b", name: "web" },
            ],
        });
        expect(c.sidecarRollout).toHaveLength(3);
        expect(rolloutResourceNames(c.sidecarRollout)).toEqual([
            "a-deployment-deployment-w",
            "a/deployment/deployment-w",
            "b-deployment-web",
        ]);
    });

    test.each([
        [
            { sidecarRollout: [{ namespace: "istio-system", name: "istiod" }] },
            'istio-mesh:sidecarRollout[0].name: "istiod" is the stack\'s own istiod (its Deployment, Service and ServiceAccount are istiod or istiod-<revision>) in namespace istio-system: the stack updates it with its chart, and a restart stamp would roll it on every proxy change; remove it from sidecarRollout',
        ],
        [
            { revision: "1-29-6", sidecarRollout: [{ namespace: "istio-system", name: "istiod-1-29-6" }] },
            'istio-mesh:sidecarRollout[0].name: "istiod-1-29-6" is the stack\'s own istiod (its Deployment, Service and ServiceAccount are istiod or istiod-<revision>) in namespace istio-system: the stack updates it with its chart, and a restart stamp would roll it on every proxy change; remove it from sidecarRollout',
        ],
        [
            { sidecarRollout: [{ namespace: "istio-system", name: "istio-ingressgateway" }] },
            'istio-mesh:sidecarRollout[0].name: "istio-ingressgateway" is the stack\'s own gateway istio-ingressgateway in namespace istio-system: the stack updates it with its chart, and a restart stamp would roll it on every proxy change; remove it from sidecarRollout',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a workload named istiod outside the control-plane namespace is the user's", () => {
        expect(parse({ sidecarRollout: [{ namespace: "shop", name: "istiod" }] }).sidecarRollout).toHaveLength(1);
    });
});

describe("messages name the key, the value and what is allowed", () => {
    test.each([
        [
            { injectionNamespaces: ["Default"] },
            "istio-mesh:injectionNamespaces[0]: \"Default\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { sidecarRollout: [{ namespace: "shop", kind: "Job", name: "x" }] },
            'istio-mesh:sidecarRollout[0].kind: "Job" is not a workload kind; allowed: Deployment, StatefulSet, DaemonSet',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
