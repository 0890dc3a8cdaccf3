// The local cluster's istiod supervisor and egress proxy: what it forwards, and
// how a chart's istiod Deployment becomes a loopback-only local process.
import {
    DeploymentObject,
    injectorConfigMapName,
    istiodCommand,
    LOCAL_PORT_OF_POD_PORT,
    parseConnectRequest,
} from "../../scripts/local-istiod-lib";

function istiodDeployment(revision?: string): DeploymentObject {
    return {
        metadata: { name: revision ? `istiod-${revision}` : "istiod", namespace: "istio-system" },
        spec: {
            selector: { matchLabels: { app: "istiod", "istio.io/rev": revision ?? "default" } },
            template: {
                metadata: { labels: { app: "istiod", "istio.io/rev": revision ?? "default" } },
                spec: {
                    serviceAccountName: revision ? `istiod-${revision}` : "istiod",
                    containers: [
                        {
                            name: "discovery",
                            image: "docker.io/istio/pilot:1.29.6",
                            args: [
                                "discovery",
                                "--monitoringAddr=:15014",
                                "--log_output_level=default:info",
                                "--domain",
                                "cluster.local",
                                "--keepaliveMaxServerConnectionAge",
                                "30m",
                            ],
                            env: [
                                { name: "REVISION", value: revision ?? "default" },
                                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                                { name: "KUBECONFIG", value: "/var/run/secrets/remote/config" },
                                { name: "PILOT_ENABLE_ANALYSIS", value: "false" },
                            ],
                        },
                    ],
                },
            },
        },
    };
}

const ports = { http: 1001, https: 1002, grpc: 1003, secureGrpc: 1004, monitoring: 1005, ctrlz: 1006 };

describe("istiodCommand", () => {
    const cmd = istiodCommand(istiodDeployment(), {
        kubeconfig: "/c/istiod/kubeconfig",
        ports,
        podName: "istiod-local",
        baseEnv: { PATH: "/bin", HOME: "/root", SECRET_OF_THE_SHELL: "x" },
    });

    test("every listener is on loopback, replacing the chart's all-interfaces address", () => {
        expect(cmd.args).not.toContain("--monitoringAddr=:15014");
        for (const a of cmd.args.filter((x) => /Addr=/.test(x))) expect(a).toMatch(/=127\.0\.0\.1:\d+$/);
        expect(cmd.args).toEqual(
            expect.arrayContaining([
                "--httpsAddr=127.0.0.1:1002",
                "--secureGRPCAddr=127.0.0.1:1004",
                "--ctrlz_address=127.0.0.1",
                "--kubeconfig=/c/istiod/kubeconfig",
            ]),
        );
    });

    test("the chart's own flags are kept in order", () => {
        expect(cmd.args.slice(0, 6)).toEqual([
            "discovery",
            "--log_output_level=default:info",
            "--domain",
            "cluster.local",
            "--keepaliveMaxServerConnectionAge",
            "30m",
        ]);
    });

    test("plain env is kept, the in-pod KUBECONFIG and the caller's environment are not", () => {
        expect(cmd.env.PILOT_ENABLE_ANALYSIS).toBe("false");
        expect(cmd.env.KUBECONFIG).toBeUndefined();
        expect(cmd.env.SECRET_OF_THE_SHELL).toBeUndefined();
        expect(cmd.env.POD_NAME).toBe("istiod-local");
        expect(cmd.env.POD_NAMESPACE).toBe("istio-system");
        expect(cmd.env.SERVICE_ACCOUNT).toBe("istiod");
        expect(cmd.env.REVISION).toBe("default");
        expect(cmd.env.PILOT_JWT_ENABLE_REMOTE_JWKS).toBe("envoy");
    });

    test("a revision's istiod runs as its own service account and reads its own injector", () => {
        const d = istiodDeployment("1-30-3");
        const c = istiodCommand(d, { kubeconfig: "k", ports, podName: "p", baseEnv: {} });
        expect(c.env.SERVICE_ACCOUNT).toBe("istiod-1-30-3");
        expect(c.env.REVISION).toBe("1-30-3");
        expect(injectorConfigMapName(d)).toBe("istio-sidecar-injector-1-30-3");
        expect(injectorConfigMapName(istiodDeployment())).toBe("istio-sidecar-injector");
    });
});

describe("egress proxy requests", () => {
    test("a CONNECT to a pod address is parsed", () => {
        expect(parseConnectRequest("CONNECT 10.244.0.7:15017 HTTP/1.1\r\nHost: 10.244.0.7:15017")).toEqual({
            host: "10.244.0.7",
            port: 15017,
        });
        expect(parseConnectRequest("CONNECT [fd00::7]:15017 HTTP/1.1")).toEqual({ host: "fd00::7", port: 15017 });
    });

    test("anything else is not a CONNECT the proxy will serve", () => {
        for (const head of [
            "GET / HTTP/1.1",
            "CONNECT 10.244.0.7 HTTP/1.1",
            "CONNECT 10.244.0.7:99999 HTTP/1.1",
            "CONNECT 10.244.0.7:0 HTTP/1.1",
            "CONNECT a b:1 HTTP/1.1",
        ]) {
            expect(parseConnectRequest(head)).toBeUndefined();
        }
    });

    test("only istiod's own container ports are forwarded", () => {
        expect(LOCAL_PORT_OF_POD_PORT[15017]).toBe("https");
        expect(LOCAL_PORT_OF_POD_PORT[8080]).toBe("http");
        expect(LOCAL_PORT_OF_POD_PORT[22]).toBeUndefined();
        expect(LOCAL_PORT_OF_POD_PORT[10250]).toBeUndefined();
    });
});
