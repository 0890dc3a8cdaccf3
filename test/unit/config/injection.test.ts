// injectionNamespaces and sidecarRollout.
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
        [
            {
                sidecarRollout: [
                    { namespace: "a-deployment", name: "w" },
                    { namespace: "a", name: "deployment-w" },
                ],
            },
            'istio-mesh:sidecarRollout[1]: {"namespace":"a","kind":"Deployment","name":"deployment-w"} would get the same Pulumi resource name as sidecarRollout[0] (a-deployment-deployment-w); restart one of the two by hand',
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
