// What each profile installs when the stack says nothing else, and values Pulumi hands over as JSON text.
import { configParser } from "../configParser";

const { parse } = configParser("1.29.6");

describe("stack config defaults", () => {
    test("a version alone gives the default profile: istiod and an ingress gateway from the official repository", () => {
        const c = parse({});
        expect(c.profile).toBe("default");
        expect(c.namespace).toBe("istio-system");
        expect(c.chartSource).toBe("https://istio-release.storage.googleapis.com/charts");
        expect(c.gateways.map((g) => [g.name, g.kind, g.serviceType])).toEqual([
            ["istio-ingressgateway", "ingress", "LoadBalancer"],
        ]);
        expect(c.addons.enabled).toEqual([]);
        expect(c.cni.enabled).toBe(false);
        expect(c.retainCrdsOnDestroy).toBe(true);
        expect(c.injectionNamespaces).toEqual([{ name: "default", follows: "", revision: "", restartOnChange: false }]);
        // No mesh-wide PeerAuthentication: Istio's own default, PERMISSIVE, applies.
        expect(c.mesh.mtls).toEqual({ mode: undefined, exceptions: [], externalServices: [] });
    });

    test("demo installs both gateways and the four addons, traces everything and logs access", () => {
        const c = parse({ profile: "demo" });
        expect(c.gateways.map((g) => g.name)).toEqual(["istio-ingressgateway", "istio-egressgateway"]);
        expect(c.gateways[1].serviceType).toBe("ClusterIP");
        expect(c.addons.enabled).toEqual(["prometheus", "grafana", "kiali", "jaeger"]);
        expect(c.mesh.tracingSampling).toBe(100);
        expect(c.mesh.accessLogFile).toBe("/dev/stdout");
    });

    test("minimal installs istiod alone", () => {
        const c = parse({ profile: "minimal" });
        expect(c.gateways).toEqual([]);
        expect(c.addons.enabled).toEqual([]);
    });

    test("ambient turns CNI on and labels no namespace for sidecars", () => {
        const c = parse({ profile: "ambient" });
        expect(c.cni.enabled).toBe(true);
        expect(c.cni.namespace).toBe("kube-system");
        expect(c.injectionNamespaces).toEqual([]);
    });

    test("objects handed over by Pulumi as JSON text are decoded", () => {
        const c = parse({
            gateways: JSON.stringify([
                { name: "edge", serviceType: "NodePort", ports: [{ name: "http2", port: 80, nodePort: 31380 }] },
            ]),
            cni: '{"enabled": true}',
            retainCrdsOnDestroy: "false",
        });
        expect(c.gateways[0]).toMatchObject({
            name: "edge",
            kind: "ingress",
            serviceType: "NodePort",
            ports: [{ name: "http2", port: 80, targetPort: 80, nodePort: 31380 }],
        });
        expect(c.cni.enabled).toBe(true);
        expect(c.retainCrdsOnDestroy).toBe(false);
    });
});
