// What each installation profile turns on when the stack config does not say
// otherwise, after istioctl's profiles of the same names.
import { ADDONS, Addon, GatewayKind, Profile } from "./allowed";
import { GatewayConfig } from "./types";

export interface ProfileDefaults {
    gateways: GatewayKind[];
    addons: Addon[];
    cni: boolean;
    tracingSampling: number;
    accessLogFile: string;
}

/** What a profile turns on when the stack config does not say otherwise. */
export function profileDefaults(profile: Profile): ProfileDefaults {
    switch (profile) {
        case "minimal":
            return { gateways: [], addons: [], cni: false, tracingSampling: 1, accessLogFile: "" };
        case "demo":
            return {
                gateways: ["ingress", "egress"],
                addons: [...ADDONS],
                cni: false,
                tracingSampling: 100,
                accessLogFile: "/dev/stdout",
            };
        case "ambient":
            return { gateways: ["ingress"], addons: [], cni: true, tracingSampling: 1, accessLogFile: "" };
        case "default":
        case "preview":
            return { gateways: ["ingress"], addons: [], cni: false, tracingSampling: 1, accessLogFile: "" };
    }
}

/** The gateway a profile installs for a kind, named as istioctl names it. */
export function defaultGateway(kind: GatewayKind, namespace: string): GatewayConfig {
    return {
        name: kind === "ingress" ? "istio-ingressgateway" : "istio-egressgateway",
        kind,
        namespace,
        serviceType: kind === "ingress" ? "LoadBalancer" : "ClusterIP",
        ports: [],
        replicas: 1,
    };
}
