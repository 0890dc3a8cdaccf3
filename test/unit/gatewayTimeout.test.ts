// A LoadBalancer gateway whose address never comes fails `up` within a time the
// user sets (gateways[].loadBalancerTimeoutSeconds, default 300 s) instead of the
// provider's ten minutes. The setting is refused where it means nothing; the
// transform gives exactly the gateway's LoadBalancer Service the timeout. The real
// engine's failure, named, is test/e2e/stacks.test.ts's.
import { DEFAULT_LOAD_BALANCER_TIMEOUT_SECONDS, loadBalancerTimeout } from "../../components/dataPlane/gateway";
import { configParser } from "./configParser";

const { parse, problems } = configParser("1.29.6");
const gateway = (extra: Record<string, unknown>) => ({ gateways: [{ name: "edge", kind: "ingress", ...extra }] });

describe("gateways[].loadBalancerTimeoutSeconds", () => {
    test("is read for a LoadBalancer gateway and left unset otherwise", () => {
        const set = parse(gateway({ serviceType: "LoadBalancer", loadBalancerTimeoutSeconds: "60" }));
        expect(set.gateways[0].loadBalancerTimeoutSeconds).toBe(60);
        const unset = parse(gateway({ serviceType: "LoadBalancer" }));
        expect(unset.gateways[0]).not.toHaveProperty("loadBalancerTimeoutSeconds");
    });

    test("is refused outside 10-86400 seconds, and on a gateway whose Service waits for no address", () => {
        expect(problems(gateway({ serviceType: "LoadBalancer", loadBalancerTimeoutSeconds: 5 }))).toEqual([
            "istio-mesh:gateways[0].loadBalancerTimeoutSeconds: 5 is not a whole number from 10 to 86400",
        ]);
        expect(problems(gateway({ serviceType: "LoadBalancer", loadBalancerTimeoutSeconds: "5m" }))).toEqual([
            'istio-mesh:gateways[0].loadBalancerTimeoutSeconds: "5m" is not a whole number from 10 to 86400',
        ]);
        expect(problems(gateway({ serviceType: "NodePort", loadBalancerTimeoutSeconds: 60 }))).toEqual([
            "istio-mesh:gateways[0].loadBalancerTimeoutSeconds: 60 needs serviceType LoadBalancer; a NodePort Service waits for no address",
        ]);
        // An egress gateway is ClusterIP unless told otherwise.
        expect(problems({ gateways: [{ name: "out", kind: "egress", loadBalancerTimeoutSeconds: 60 }] })).toEqual([
            "istio-mesh:gateways[0].loadBalancerTimeoutSeconds: 60 needs serviceType LoadBalancer; a ClusterIP Service waits for no address",
        ]);
    });
});

describe("loadBalancerTimeout (the gateway chart's transform)", () => {
    const args = (type: string, spec: object) => ({
        type,
        name: "edge",
        props: { metadata: { name: "edge" }, spec },
        opts: { ignoreChanges: ["x"] },
        custom: true,
    });

    test("gives the LoadBalancer Service create and update timeouts, keeping its other options", () => {
        const result = loadBalancerTimeout(42)(args("kubernetes:core/v1:Service", { type: "LoadBalancer" }));
        expect(result).toEqual({
            props: { metadata: { name: "edge" }, spec: { type: "LoadBalancer" } },
            opts: { ignoreChanges: ["x"], customTimeouts: { create: "42s", update: "42s" } },
        });
    });

    test("leaves every other object alone", () => {
        const t = loadBalancerTimeout(42);
        expect(t(args("kubernetes:core/v1:Service", { type: "NodePort" }))).toBeUndefined();
        expect(t(args("kubernetes:apps/v1:Deployment", { type: "LoadBalancer" }))).toBeUndefined();
    });

    test("defaults to five minutes, half the provider's own wait", () => {
        expect(DEFAULT_LOAD_BALANCER_TIMEOUT_SECONDS).toBe(300);
    });
});
