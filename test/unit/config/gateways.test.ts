// gateways: names the stack's own objects already use, ports and node ports.
import { missingGatewayNamespaces } from "../../../components/config";
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

// Issue 22: what Kubernetes allows is accepted, what leaves the mesh closed or a
// release half-applied is refused, before anything changes.
describe("gateways: named target ports, replicas, namespaces and sizes", () => {
    const gateway = (fields: Record<string, unknown>) => ({ name: "gw", ...fields });

    test("a target port may name a container port, as a Service's targetPort may", () => {
        const c = parse({ gateways: [gateway({ ports: [{ name: "http2", port: 80, targetPort: "http" }] })] });
        expect(c.gateways[0].ports[0]).toEqual({ name: "http2", port: 80, targetPort: "http" });
        expect(
            parse({ gateways: [gateway({ ports: [{ name: "a", port: 80, targetPort: "8080" }] })] }).gateways[0]
                .ports[0].targetPort,
        ).toBe(8080);
    });

    test.each(["Http", "http_port", "-http", "http--2", "a-very-long-port-name", "1234-5"])(
        "a target port name outside Kubernetes' rule is refused: %s",
        (targetPort) => {
            expect(problems({ gateways: [gateway({ ports: [{ name: "a", port: 80, targetPort }] })] })).toEqual([
                `istio-mesh:gateways[0].ports[0].targetPort: "${targetPort}" is not a port number from 1 to 65535 or a container port name (at most 15 lowercase letters, digits and '-', with a letter, such as http)`,
            ]);
        },
    );

    test.each([
        [
            { gateways: [gateway({ replicas: 0 })] },
            "istio-mesh:gateways[0].replicas: 0 leaves gw, the stack's only ingress gateway, without a pod: nothing can enter the mesh; give it at least 1 replica, or remove the gateway (kind: ingress) from gateways",
        ],
        [
            { gateways: [gateway({ replicas: "0" }), { name: "eg", kind: "egress", replicas: 2 }] },
            "istio-mesh:gateways[0].replicas: 0 leaves gw, the stack's only ingress gateway, without a pod: nothing can enter the mesh; give it at least 1 replica, or remove the gateway (kind: ingress) from gateways",
        ],
    ])("the only ingress gateway at 0 replicas: %j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("ingress gateways all at 0 are each named; one gateway with a pod is enough", () => {
        expect(problems({ gateways: [gateway({ replicas: 0 }), { name: "gw2", replicas: 0 }] })).toEqual([
            "istio-mesh:gateways[0].replicas: 0 leaves gw without a pod, and every other ingress gateway is at 0 too: nothing can enter the mesh; give one of them at least 1 replica",
            "istio-mesh:gateways[1].replicas: 0 leaves gw2 without a pod, and every other ingress gateway is at 0 too: nothing can enter the mesh; give one of them at least 1 replica",
        ]);
        expect(
            parse({ gateways: [gateway({ replicas: 0 }), { name: "gw2" }] }).gateways.map((g) => g.replicas),
        ).toEqual([0, 1]);
        expect(parse({ gateways: [{ name: "eg", kind: "egress", replicas: 0 }] }).gateways[0].replicas).toBe(0);
    });

    test("a gateway outside the control-plane namespace needs its namespace to exist before anything changes", () => {
        const gateways = [
            { name: "istio-ingressgateway", namespace: "istio-system" },
            { name: "edge", namespace: "edge" },
            { name: "internal", namespace: "internal" },
        ];
        expect(missingGatewayNamespaces(gateways, "istio-system", new Set(["internal"]))).toEqual([
            'istio-mesh:gateways[1].namespace: "edge" does not exist in the cluster, and the stack creates only its control-plane namespace (istio-system); create it first (kubectl create namespace edge) or leave gateway edge in istio-system',
        ]);
        expect(missingGatewayNamespaces(gateways, "istio-system", new Set(["edge", "internal"]))).toEqual([]);
    });

    test("thousands of gateways are refused as one problem, with the bound and why", () => {
        const many = Array.from({ length: 2000 }, (_, i) => ({ name: `gw-${i}` }));
        expect(problems({ gateways: many })).toEqual([
            'istio-mesh:gateways: [{"name":"gw-0"},{"name":"gw-1"},{"name":"gw-2"},{"name":"gw… lists 2000 items; at most 20 are allowed: each gateway is a Helm release of its own (Deployment, Service, ServiceAccount, Role); split larger fleets over several stacks',
        ]);
        expect(parse({ gateways: many.slice(0, 20) }).gateways).toHaveLength(20);
    });

    test.each([
        [
            { gateways: [gateway({ replicas: 5000 })] },
            "istio-mesh:gateways[0].replicas: 5000 is not a whole number from 0 to 100",
        ],
        [
            {
                gateways: [
                    gateway({ ports: Array.from({ length: 51 }, (_, i) => ({ name: `p${i}`, port: 1000 + i })) }),
                ],
            },
            'istio-mesh:gateways[0].ports: [{"name":"p0","port":1000},{"name":"p1","port":1001},{"name"… lists 51 items; at most 50 are allowed: a gateway Service with more ports than that is a generated list gone wrong',
        ],
    ])("absurd sizes: %#", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("messages name the key, the value and what is allowed", () => {
    test.each([
        [
            { gateways: [{ kind: "ingress" }] },
            "istio-mesh:gateways[0].name: is required; every gateway needs a name, a DNS label such as istio-ingressgateway",
        ],
        [
            { gateways: [{ name: "gw", kind: "sideways" }] },
            'istio-mesh:gateways[0].kind: "sideways" is not a gateway kind; allowed: ingress, egress',
        ],
        [
            { gateways: [{ name: "gw", serviceType: "External" }] },
            'istio-mesh:gateways[0].serviceType: "External" is not a Service type; allowed: LoadBalancer, NodePort, ClusterIP',
        ],
        [
            {
                gateways: [
                    { name: "gw", serviceType: "ClusterIP", ports: [{ name: "http", port: 80, nodePort: 31380 }] },
                ],
            },
            "istio-mesh:gateways[0].ports[0].nodePort: 31380 needs serviceType NodePort or LoadBalancer; a ClusterIP Service has no node ports",
        ],
        [
            { gateways: [{ name: "gw", serviceType: "NodePort", ports: [{ name: "http", port: 80, nodePort: 80 }] }] },
            "istio-mesh:gateways[0].ports[0].nodePort: 80 is not a whole number from 30000 to 32767",
        ],
        [
            { gateways: [{ name: "gw" }, { name: "gw" }] },
            'istio-mesh:gateways[1].name: "gw" is a duplicate of gateways[0].name; gateway names must be unique, across namespaces too, as each one also names the gateway\'s Pulumi resource',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
