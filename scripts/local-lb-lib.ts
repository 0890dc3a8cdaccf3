// Pure parts of scripts/local-lb.ts (the local cluster's load-balancer stand-in),
// kept apart so the unit tests need no cluster: the address pool and the decision,
// per Service, of which address its status should carry.

/** The pool the stand-in hands out by default: loopback, so nothing could ever leave the machine. */
export const DEFAULT_POOL = "127.0.240.0/24";

/** The fields of a Service the stand-in reads. */
export interface ServiceObject {
    metadata: { namespace: string; name: string };
    spec?: { type?: string; loadBalancerClass?: string; loadBalancerIP?: string };
    status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** A Service of ours left without an address, and why. */
export interface Pending {
    namespace: string;
    name: string;
    reason: string;
}

/** What one pass writes, and which Services stay without an address. */
export interface StatusPlan {
    changes: StatusChange[];
    pending: Pending[];
}

/** One change of a Service's `status.loadBalancer.ingress`, and why. */
export interface StatusChange {
    namespace: string;
    name: string;
    /** The new list: one address, or none (the address is taken back). */
    ingress: { ip: string }[];
    reason: string;
}

function ipToNumber(ip: string): number | undefined {
    const parts = ip.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) {
        return undefined;
    }
    return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

function numberToIp(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The usable addresses of a loopback CIDR range, lowest first: neither the network's nor the broadcast address. */
export function poolAddresses(cidr: string): string[] {
    const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(cidr);
    const base = m ? ipToNumber(m[1]) : undefined;
    const prefix = m ? Number(m[2]) : NaN;
    if (base === undefined || !(prefix >= 16 && prefix <= 30)) {
        throw new Error(`local-lb: --pool ${cidr}: not an IPv4 range from /16 to /30 (e.g. ${DEFAULT_POOL})`);
    }
    const size = 2 ** (32 - prefix);
    const network = base - (base % size);
    if (network !== base) throw new Error(`local-lb: --pool ${cidr}: the address is not the range's first`);
    // 127.0.0.0/8: the only addresses this machine may send anything to.
    if (Math.floor(network / 2 ** 24) !== 127) {
        throw new Error(`local-lb: --pool ${cidr}: not a loopback range (127.0.0.0/8); only loopback may be used`);
    }
    return Array.from({ length: size - 2 }, (_, i) => numberToIp(network + 1 + i));
}

/** Whether the stand-in answers for this Service: type LoadBalancer without a class (the cluster's default balancer). */
export function isOurs(svc: ServiceObject): boolean {
    return svc.spec?.type === "LoadBalancer" && !svc.spec.loadBalancerClass;
}

function poolIps(svc: ServiceObject, pool: Set<string>): string[] {
    return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? "").filter((ip) => pool.has(ip));
}

/**
 * What to write so that every Service of ours carries one pool address and no
 * other Service keeps one: the cluster's Services are the only state, so a
 * restarted stand-in picks up where it was. A Service that asks for an address
 * (`spec.loadBalancerIP`) gets it if it is in the pool and free, else none (as a
 * cloud refuses an address it does not own). Addresses go lowest first.
 */
export function planStatus(services: ServiceObject[], pool: string[]): StatusPlan {
    const inPool = new Set(pool);
    const taken = new Set<string>();
    const changes: StatusChange[] = [];
    const pending: Pending[] = [];
    const waiting: ServiceObject[] = [];
    const key = (s: ServiceObject) => `${s.metadata.namespace}/${s.metadata.name}`;
    const sorted = [...services].sort((a, b) => key(a).localeCompare(key(b)));
    for (const svc of sorted) {
        const held = poolIps(svc, inPool);
        if (!isOurs(svc)) {
            if (held.length > 0) {
                const { namespace, name } = svc.metadata;
                changes.push({
                    namespace,
                    name,
                    ingress: [],
                    reason: "not a LoadBalancer Service of the default class",
                });
            }
            continue;
        }
        const [first] = held;
        if (held.length === 1 && !taken.has(first)) {
            taken.add(first);
        } else {
            waiting.push(svc);
        }
    }
    const leaveWithout = (svc: ServiceObject, reason: string) => {
        const { namespace, name } = svc.metadata;
        pending.push({ namespace, name, reason });
        if (poolIps(svc, inPool).length > 0) changes.push({ namespace, name, ingress: [], reason });
    };
    for (const svc of waiting) {
        const { namespace, name } = svc.metadata;
        const wanted = svc.spec?.loadBalancerIP;
        if (wanted) {
            if (!inPool.has(wanted)) leaveWithout(svc, `loadBalancerIP ${wanted} is not in the pool`);
            else if (taken.has(wanted)) leaveWithout(svc, `loadBalancerIP ${wanted} is taken`);
            else {
                taken.add(wanted);
                changes.push({ namespace, name, ingress: [{ ip: wanted }], reason: "its loadBalancerIP" });
            }
            continue;
        }
        const free = pool.find((ip) => !taken.has(ip));
        if (free === undefined) {
            leaveWithout(svc, "the pool is exhausted");
            continue;
        }
        taken.add(free);
        changes.push({ namespace, name, ingress: [{ ip: free }], reason: "the lowest free address" });
    }
    return { changes, pending };
}
