// Names within Kubernetes' rules, and the control plane's namespace.
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("names within Kubernetes' rules and length limits", () => {
    const label63 = "a".repeat(64);
    test.each([
        [
            { gateways: [{ name: `gw-${"x".repeat(61)}` }] },
            `istio-mesh:gateways[0].name: "gw-${"x".repeat(56)}… is not a valid gateway name; it names the gateway's Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway`,
        ],
        [
            { gateways: [{ name: "1st" }] },
            'istio-mesh:gateways[0].name: "1st" is not a valid gateway name; it names the gateway\'s Deployment and Service, so use a DNS label that starts with a letter, at most 63 characters, such as istio-ingressgateway',
        ],
        [
            { namespace: label63 },
            `istio-mesh:namespace: "${"a".repeat(59)}… is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters`,
        ],
        [
            { revision: "r".repeat(57) },
            `istio-mesh:revision: "${"r".repeat(57)}" is not a valid revision; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision`,
        ],
        [
            { cni: { namespace: "Kube_System" } },
            "istio-mesh:cni.namespace: \"Kube_System\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            { profile: "demo", addons: { expose: { mode: "host", domain: `${label63}.example.com` } } },
            `istio-mesh:addons.expose.domain: "${"a".repeat(59)}… is not a valid domain; use a DNS name such as mesh.example.com: lowercase labels of at most 63 characters, at most 242 characters in all`,
        ],
        [
            { sidecarRollout: [{ namespace: "shop", name: "Web_1" }] },
            "istio-mesh:sidecarRollout[0].name: \"Web_1\" is not a valid workload name; use a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters",
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("the longest names that fit are accepted", () => {
        const c = parse({ revision: "r".repeat(56), gateways: [{ name: `g${"x".repeat(62)}` }] });
        expect(c.revision).toHaveLength(56);
        expect(c.gateways[0].name).toHaveLength(63);
    });
});

describe("the control plane namespace is one of the stack's own", () => {
    test.each(["kube-system", "kube-public", "kube-node-lease", "default"])("%s", (namespace) => {
        expect(problems({ namespace })).toEqual([
            `istio-mesh:namespace: "${namespace}" is not a valid control-plane namespace: Kubernetes keeps kube-system, kube-public, kube-node-lease and default for itself, and the stack deletes its namespace on destroy; use one of its own such as istio-system`,
        ]);
    });
});
