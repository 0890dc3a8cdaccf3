// The local cluster's load-balancer stand-in (scripts/local-lb.ts): which address
// each Service's status gets, from a loopback pool only. The loop itself runs in
// every end-to-end suite's cluster (test/e2e/stacks.test.ts asserts the addresses).
import { planStatus, poolAddresses, ServiceObject } from "../../scripts/local-lb-lib";

function svc(name: string, spec: ServiceObject["spec"], ips: string[] = [], namespace = "istio-system"): ServiceObject {
    return {
        metadata: { namespace, name },
        spec,
        status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
    };
}

const LB = { type: "LoadBalancer" };
const POOL = poolAddresses("127.0.240.0/29"); // 127.0.240.1-6

describe("the pool", () => {
    test("is the range's usable addresses, lowest first", () => {
        expect(POOL).toEqual([
            "127.0.240.1",
            "127.0.240.2",
            "127.0.240.3",
            "127.0.240.4",
            "127.0.240.5",
            "127.0.240.6",
        ]);
        expect(poolAddresses("127.0.240.0/24")).toHaveLength(254);
    });

    test("must be loopback, a range's first address, and /16 to /30", () => {
        expect(() => poolAddresses("10.0.0.0/24")).toThrow(
            "local-lb: --pool 10.0.0.0/24: not a loopback range (127.0.0.0/8); only loopback may be used",
        );
        expect(() => poolAddresses("127.0.240.7/24")).toThrow("the address is not the range's first");
        expect(() => poolAddresses("127.0.0.0/8")).toThrow("not an IPv4 range from /16 to /30");
        expect(() => poolAddresses("127.0.240.300/24")).toThrow("not an IPv4 range");
    });
});

describe("the addresses", () => {
    test("a LoadBalancer Service gets the lowest free address; others keep theirs", () => {
        const plan = planStatus(
            [svc("held", LB, ["127.0.240.1"]), svc("new", LB), svc("plain", { type: "ClusterIP" })],
            POOL,
        );
        expect(plan.changes).toEqual([
            {
                namespace: "istio-system",
                name: "new",
                ingress: [{ ip: "127.0.240.2" }],
                reason: "the lowest free address",
            },
        ]);
        expect(plan.pending).toEqual([]);
    });

    test("a Service with a load-balancer class is another balancer's, and is left alone", () => {
        expect(planStatus([svc("classy", { ...LB, loadBalancerClass: "example.com/lb" })], POOL)).toEqual({
            changes: [],
            pending: [],
        });
    });

    test("an address is taken back from a Service that stopped being a LoadBalancer, and only a pool address", () => {
        const plan = planStatus(
            [svc("was-lb", { type: "NodePort" }, ["127.0.240.3"]), svc("foreign", { type: "NodePort" }, ["192.0.2.1"])],
            POOL,
        );
        expect(plan.changes).toEqual([
            {
                namespace: "istio-system",
                name: "was-lb",
                ingress: [],
                reason: "not a LoadBalancer Service of the default class",
            },
        ]);
    });

    test("two Services holding one address: the first (by namespace/name) keeps it, the other gets a free one", () => {
        const plan = planStatus([svc("b", LB, ["127.0.240.1"]), svc("a", LB, ["127.0.240.1"])], POOL);
        expect(plan.changes.map((c) => [c.name, c.ingress])).toEqual([["b", [{ ip: "127.0.240.2" }]]]);
    });

    test("loadBalancerIP is honoured inside the pool and refused outside it", () => {
        const plan = planStatus(
            [
                svc("wants-5", { ...LB, loadBalancerIP: "127.0.240.5" }),
                svc("wants-out", { ...LB, loadBalancerIP: "198.51.100.7" }),
            ],
            POOL,
        );
        expect(plan.changes.map((c) => [c.name, c.ingress])).toEqual([["wants-5", [{ ip: "127.0.240.5" }]]]);
        expect(plan.pending).toEqual([
            { namespace: "istio-system", name: "wants-out", reason: "loadBalancerIP 198.51.100.7 is not in the pool" },
        ]);
    });

    test("an exhausted pool leaves the next Service pending, named", () => {
        const full = POOL.map((ip, i) => svc(`s${i}`, LB, [ip]));
        const plan = planStatus([...full, svc("late", LB, [], "shop")], POOL);
        expect(plan.changes).toEqual([]);
        expect(plan.pending).toEqual([{ namespace: "shop", name: "late", reason: "the pool is exhausted" }]);
    });
});
