// The specs of the mTLS policy's Istio resources, built from typed config by pure
// functions: no Pulumi runtime, no mocks. What they must hold is what istiod
// accepts and applies as the README says.
import { ExternalService } from "../../components/config";
import {
    destinationRuleSpec,
    exceptionPeerAuthenticationSpec,
    exceptionProblem,
    externalPortName,
    meshPeerAuthenticationSpec,
    serviceEntrySpec,
} from "../../components/dataPlane/mtlsPolicy";

const externalMysql: ExternalService = {
    name: "external-mysql",
    host: "mysql.example.com",
    port: 3306,
    protocol: "TCP",
    namespace: "istio-system",
    addresses: [],
};

describe("PeerAuthentication specs", () => {
    test("the mesh-wide policy has a mode and no selector, so it covers every workload", () => {
        expect(meshPeerAuthenticationSpec("STRICT")).toEqual({ mtls: { mode: "STRICT" } });
    });

    test("the runbook's MySQL in the mesh: PERMISSIVE on 3306 for its pods, the rest inherited", () => {
        expect(
            exceptionPeerAuthenticationSpec({
                selector: { app: "mysql" },
                mode: undefined,
                ports: [{ port: 3306, mode: "PERMISSIVE" }],
            }),
        ).toEqual({ selector: { matchLabels: { app: "mysql" } }, portLevelMtls: { "3306": { mode: "PERMISSIVE" } } });
    });

    test("a workload mode and port modes together", () => {
        expect(
            exceptionPeerAuthenticationSpec({
                selector: { app: "billing", tier: "backend" },
                mode: "STRICT",
                ports: [
                    { port: 8080, mode: "DISABLE" },
                    { port: 9090, mode: "PERMISSIVE" },
                ],
            }),
        ).toEqual({
            selector: { matchLabels: { app: "billing", tier: "backend" } },
            mtls: { mode: "STRICT" },
            portLevelMtls: { "8080": { mode: "DISABLE" }, "9090": { mode: "PERMISSIVE" } },
        });
    });

    test("without selector an exception is its namespace's policy: a mode, no selector, no port modes", () => {
        expect(exceptionPeerAuthenticationSpec({ selector: {}, mode: "PERMISSIVE", ports: [] })).toEqual({
            mtls: { mode: "PERMISSIVE" },
        });
    });

    test("what istiod would refuse, or what would change nothing, is named before any resource", () => {
        expect(exceptionProblem({ selector: {}, mode: undefined, ports: [{ port: 3306, mode: "PERMISSIVE" }] })).toBe(
            "port modes need a selector: istiod refuses them in a namespace-wide PeerAuthentication",
        );
        expect(exceptionProblem({ selector: { app: "mysql" }, mode: undefined, ports: [] })).toBe(
            "sets neither a mode nor port modes",
        );
        expect(exceptionProblem({ selector: { app: "mysql" }, mode: "STRICT", ports: [] })).toBeUndefined();
    });
});

describe("external service specs", () => {
    test("the runbook's external MySQL: a DNS-resolved entry outside the mesh on 3306", () => {
        expect(serviceEntrySpec(externalMysql)).toEqual({
            hosts: ["mysql.example.com"],
            ports: [{ number: 3306, name: "tcp-3306", protocol: "TCP" }],
            location: "MESH_EXTERNAL",
            resolution: "DNS",
        });
    });

    test("addresses give a TCP entry a listener of its own", () => {
        expect(serviceEntrySpec({ ...externalMysql, addresses: ["203.0.113.10", "2001:db8::10"] }).addresses).toEqual([
            "203.0.113.10",
            "2001:db8::10",
        ]);
    });

    test("the port name carries the protocol, as Istio reads it", () => {
        expect(externalPortName({ protocol: "HTTPS", port: 443 })).toBe("https-443");
        expect(externalPortName({ protocol: "HTTP2", port: 8080 })).toBe("http2-8080");
    });

    test("the DestinationRule turns Istio mTLS off for that host only", () => {
        expect(destinationRuleSpec(externalMysql)).toEqual({
            host: "mysql.example.com",
            trafficPolicy: { tls: { mode: "DISABLE" } },
        });
    });
});
