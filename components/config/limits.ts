// Upper bounds of the lists a stack config holds. Kubernetes would take far more,
// but a stack that big is a typo or a generated file gone wrong, and each item
// becomes resources the engine registers one by one: it is refused in a second
// here rather than found after an hour of `pulumi up`. Each bound is well above
// what the project's own stacks and benchmarks use (bench-scale: 500 namespaces
// and 500 workloads).
import { ListLimit } from "./reader";

export const LIMITS = {
    gateways: {
        max: 20,
        why: "each gateway is a Helm release of its own (Deployment, Service, ServiceAccount, Role); split larger fleets over several stacks",
    },
    gatewayPorts: { max: 50, why: "a gateway Service with more ports than that is a generated list gone wrong" },
    revisions: {
        max: 4,
        why: "a canary upgrade runs two control planes side by side, and Istio supports control planes at most two minors apart",
    },
    injectionNamespaces: {
        max: 1000,
        why: "each namespace is a label the stack owns and a list of pods it reads when revisions move",
    },
    sidecarRollout: { max: 1000, why: "each workload is a restart patch the stack registers and waits on" },
    ambientNamespaces: { max: 1000, why: "each namespace is a label the stack owns" },
    waypoints: { max: 1000, why: "one waypoint per ambient namespace at most" },
    mtlsExceptions: {
        max: 200,
        why: "each exception is a PeerAuthentication; more than that is a policy to write by hand",
    },
    externalServices: { max: 200, why: "each is a ServiceEntry and a DestinationRule every sidecar receives" },
    externalAddresses: { max: 64, why: "each address is a listener on every sidecar" },
} satisfies Record<string, ListLimit>;
