// Proxy stand-ins on the local cluster (docs/proxy-standin.md): which pods get
// one, which istiod it talks to, its command line; and the data-plane line of
// `npm run status` built from istiod's /debug/syncz.
import { dataPlaneLine, proxySynced, SyncStatus } from "../../scripts/dataplane-status";
import {
    discoveryAddressOf,
    parseStandinMode,
    ProxyPodObject,
    selects,
    serviceOfAddress,
    standinArgs,
    wantsStandin,
} from "../../scripts/local-istiod-lib";

function injectedPod(
    opts: { annotated?: boolean; proxyConfig?: string; phase?: string; ip?: string } = {},
): ProxyPodObject {
    return {
        metadata: {
            name: "reviews-v1-abc",
            namespace: "bookinfo",
            uid: "u1",
            annotations: opts.annotated ? { "istio-mesh.dev/proxy-standin": "true" } : {},
        },
        spec: {
            containers: [
                { name: "reviews" },
                {
                    name: "istio-proxy",
                    env: [
                        {
                            name: "PROXY_CONFIG",
                            value: opts.proxyConfig ?? '{"discoveryAddress":"istiod-canary.istio-system.svc:15012"}\n',
                        },
                    ],
                },
            ],
        },
        status: { phase: opts.phase ?? "Running", podIP: opts.ip ?? "10.244.0.7" },
    };
}

describe("which pods get a stand-in", () => {
    it("annotated mode: only pods that ask for one", () => {
        expect(wantsStandin(injectedPod({ annotated: true }), "annotated")).toBe(true);
        expect(wantsStandin(injectedPod(), "annotated")).toBe(false);
    });
    it("all mode: every injected pod; off: none", () => {
        expect(wantsStandin(injectedPod(), "all")).toBe(true);
        expect(wantsStandin(injectedPod({ annotated: true }), "off")).toBe(false);
    });
    it("never a pod without a proxy, without an IP, not running or being deleted", () => {
        const plain: ProxyPodObject = { ...injectedPod({ annotated: true }), spec: { containers: [{ name: "app" }] } };
        expect(wantsStandin(plain, "all")).toBe(false);
        expect(wantsStandin(injectedPod({ annotated: true, ip: "" }), "all")).toBe(false);
        expect(wantsStandin(injectedPod({ annotated: true, phase: "Pending" }), "all")).toBe(false);
        const deleting = injectedPod({ annotated: true });
        deleting.metadata.deletionTimestamp = "2026-12-03T08:00:00Z";
        expect(wantsStandin(deleting, "all")).toBe(false);
    });
    it("a native sidecar (init container that keeps running) counts as a proxy", () => {
        const pod: ProxyPodObject = {
            ...injectedPod({ annotated: true }),
            spec: { containers: [{ name: "app" }], initContainers: [{ name: "istio-proxy", restartPolicy: "Always" }] },
        };
        expect(wantsStandin(pod, "annotated")).toBe(true);
    });
    it("the mode setting: default annotated; anything else is refused naming setting, value and choices", () => {
        expect(parseStandinMode(undefined, "ISTIO_MESH_CLUSTER_STANDINS")).toBe("annotated");
        expect(parseStandinMode("all\n", "ISTIO_MESH_CLUSTER_STANDINS")).toBe("all");
        expect(() => parseStandinMode("some", "ISTIO_MESH_CLUSTER_STANDINS")).toThrow(
            "ISTIO_MESH_CLUSTER_STANDINS: 'some' is not a stand-in mode (allowed: annotated, all, off)",
        );
    });
});

describe("the istiod a stand-in talks to", () => {
    it("is the discovery address of the injected proxy config", () => {
        expect(discoveryAddressOf(injectedPod())).toBe("istiod-canary.istio-system.svc:15012");
        expect(serviceOfAddress("istiod-canary.istio-system.svc:15012")).toEqual({
            name: "istiod-canary",
            namespace: "istio-system",
            port: 15012,
        });
        expect(serviceOfAddress("istiod.istio-system.svc.cluster.local:15012")?.name).toBe("istiod");
        expect(serviceOfAddress("10.96.0.10:15012")).toBeUndefined();
    });
    it("falls back to the mesh default when the proxy config names none, as pilot-agent does", () => {
        expect(discoveryAddressOf(injectedPod({ proxyConfig: "{}" }))).toBe("istiod.istio-system.svc:15012");
    });
    it("is the local istiod whose pod labels the Service selects", () => {
        const labels = { app: "istiod", "istio.io/rev": "canary" };
        expect(selects({ app: "istiod", "istio.io/rev": "canary" }, labels)).toBe(true);
        expect(selects({ app: "istiod", "istio.io/rev": "default" }, labels)).toBe(false);
        expect(selects({}, labels)).toBe(false);
    });
    it("is dialled on loopback only, with the pod's files in the stand-in's folder", () => {
        const args = standinArgs({
            pod: injectedPod(),
            kubeconfig: "/c/kubeconfig",
            xdsPort: 41234,
            dir: "/c/standins/k",
        });
        expect(args).toEqual([
            "run",
            "--kubeconfig",
            "/c/kubeconfig",
            "--pod",
            "bookinfo/reviews-v1-abc",
            "--xds-address",
            "127.0.0.1:41234",
            "--work-dir",
            "/c/standins/k/work",
            "--dump",
            "/c/standins/k/config_dump.json",
            "--state",
            "/c/standins/k/state.json",
        ]);
        expect(args.join(" ")).not.toContain("10.244.");
    });
});

const CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
const LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";

function proxy(id: string, version: string, cds: [string, string], lds: [string, string]): SyncStatus {
    return {
        proxy: id,
        istio_version: version,
        resources: { [CDS]: { sent: cds[0], acked: cds[1] }, [LDS]: { sent: lds[0], acked: lds[1] } },
    };
}

describe("the data-plane line", () => {
    it("counts SYNCED and STALE proxies and their versions, naming what a stale one has not acknowledged", () => {
        const line = dataPlaneLine("canary", [
            {
                pod: "istiod-canary-1",
                syncz: [
                    proxy("a.bookinfo", "1.30.3", ["n1", "n1"], ["n2", "n2"]),
                    proxy("b.bookinfo", "1.29.6", ["n3", "n3"], ["n4", "n0"]),
                ],
            },
        ]);
        expect(line).toBe(
            "data plane canary: 2 proxies (1 SYNCED, 1 STALE); versions 1.29.6 x1, 1.30.3 x1; STALE: b.bookinfo (LDS)",
        );
    });
    it("a type istiod has not sent does not make a proxy stale", () => {
        expect(proxySynced({ resources: { [CDS]: { sent: "n1", acked: "n1" }, [LDS]: {} } })).toBe(true);
        expect(proxySynced({ resources: { [CDS]: { sent: "n1" } } })).toBe(false);
    });
    it("no proxy is a count of zero, not an error", () => {
        expect(dataPlaneLine("default", [{ pod: "istiod-1", syncz: [] }])).toBe(
            "data plane default: 0 proxies (0 SYNCED, 0 STALE)",
        );
    });
    it("an istiod that does not answer is reported with its reason", () => {
        expect(dataPlaneLine("default", [{ pod: "istiod-1", error: "Unauthorized" }])).toBe(
            "data plane default: unknown (istiod-1: Unauthorized)",
        );
        expect(
            dataPlaneLine("default", [
                { pod: "istiod-1", syncz: [] },
                { pod: "istiod-2", error: "timeout" },
            ]),
        ).toBe("data plane default: 0 proxies (0 SYNCED, 0 STALE); not answering: istiod-2: timeout");
    });
});
