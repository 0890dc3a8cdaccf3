// gateways: names the stack's own objects already use, ports and node ports.
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

// Issue 8, part 4: every bad input is refused up front, one test per class of problem.
describe("names that collide with what the stack itself creates are refused", () => {
    const taken = (name: string, namespace: string, owner: string) =>
        `istio-mesh:gateways[0].name: "${name}" is taken in namespace ${namespace} by ${owner}; choose another name or namespace`;
    const istiod = "istiod (its Deployment, Service and ServiceAccount are istiod or istiod-<revision>)";

    test.each([
        [{ gateways: [{ name: "istiod" }] }, taken("istiod", "istio-system", istiod)],
        [{ revision: "1-29-6", gateways: [{ name: "istiod-1-29-6" }] }, taken("istiod-1-29-6", "istio-system", istiod)],
        [
            { profile: "demo", gateways: [{ name: "grafana" }] },
            taken("grafana", "istio-system", "addon grafana (its Deployment or Services)"),
        ],
        [
            { addons: { jaeger: true }, gateways: [{ name: "tracing" }] },
            taken("tracing", "istio-system", "addon jaeger (its Deployment or Services)"),
        ],
        [
            { profile: "demo", addons: { expose: { mode: "nodePort" } }, gateways: [{ name: "kiali-nodeport" }] },
            taken("kiali-nodeport", "istio-system", "addon kiali's node-port Service"),
        ],
        [
            { profile: "ambient", gateways: [{ name: "ztunnel" }] },
            taken("ztunnel", "istio-system", "ztunnel (its DaemonSet and ServiceAccount)"),
        ],
        [
            { cni: { enabled: true }, gateways: [{ name: "istio-cni", namespace: "kube-system" }] },
            taken("istio-cni", "kube-system", "the CNI plugin's ServiceAccount"),
        ],
        [
            { gateways: [{ name: "edge" }, { name: "edge", namespace: "other" }] },
            'istio-mesh:gateways[1].name: "edge" is a duplicate of gateways[0].name; gateway names must be unique, across namespaces too, as each one also names the gateway\'s Pulumi resource',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a name is free where the stack has nothing of that name", () => {
        expect(
            parse({ profile: "demo", gateways: [{ name: "grafana", namespace: "edge" }] }).gateways[0],
        ).toMatchObject({
            name: "grafana",
            namespace: "edge",
        });
        expect(parse({ gateways: [{ name: "grafana" }] }).gateways[0].name).toBe("grafana");
    });
});

describe("ports and node ports are unique and in range", () => {
    const nodePortGateway = (name: string, ports: unknown[]) => ({ name, serviceType: "NodePort", ports });

    test.each([
        [
            {
                gateways: [
                    nodePortGateway("gw", [
                        { name: "http", port: 80 },
                        { name: "web", port: 80 },
                    ]),
                ],
            },
            "istio-mesh:gateways[0].ports[1].port: 80 is a duplicate of gateways[0].ports[0].port; the ports of a Service must differ",
        ],
        [
            {
                gateways: [
                    nodePortGateway("gw", [
                        { name: "http", port: 80 },
                        { name: "http", port: 8080 },
                    ]),
                ],
            },
            'istio-mesh:gateways[0].ports[1].name: "http" is a duplicate of gateways[0].ports[0].name; port names must differ within a gateway',
        ],
        [
            {
                gateways: [
                    nodePortGateway("a", [{ name: "http", port: 80, nodePort: 31380 }]),
                    nodePortGateway("b", [{ name: "http", port: 80, nodePort: "31380" }]),
                ],
            },
            'istio-mesh:gateways[1].ports[0].nodePort: "31380" is a duplicate of gateways[0].ports[0].nodePort; a node port serves one Service in the whole cluster',
        ],
        [
            {
                profile: "demo",
                gateways: [nodePortGateway("gw", [{ name: "http", port: 80, nodePort: 32000 }])],
                addons: { expose: { mode: "nodePort", nodePorts: { grafana: 32000 } } },
            },
            "istio-mesh:addons.expose.nodePorts.grafana: 32000 is a duplicate of gateways[0].ports[0].nodePort; a node port serves one Service in the whole cluster",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 0 }])] },
            "istio-mesh:gateways[0].ports[0].port: 0 is not a whole number from 1 to 65535",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, targetPort: 65536 }])] },
            "istio-mesh:gateways[0].ports[0].targetPort: 65536 is not a whole number from 1 to 65535",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, nodePort: 32768 }])] },
            "istio-mesh:gateways[0].ports[0].nodePort: 32768 is not a whole number from 30000 to 32767",
        ],
        [
            { gateways: [nodePortGateway("gw", [{ name: "http", port: 80, protocol: "UDP" }])] },
            'istio-mesh:gateways[0].ports[0].protocol: "UDP" is not a known setting; allowed: name, port, targetPort, nodePort',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
