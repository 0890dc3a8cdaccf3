import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { IstioChartRelease, IstioChartReleaseArgs } from "../charts/chart";
import { GatewayConfig } from "../config";
import { SERVICE_TYPE } from "../charts/transforms";
import { gatewaySelectorLabel } from "../charts/values";
import type { GatewayPortStatus } from "../status/outputs";

export interface IstioGatewayArgs extends IstioChartReleaseArgs {
    /** The gateway's settings: its `istio` label, Service type and load balancer timeout come from them. */
    gateway: GatewayConfig;
}

/**
 * How long `up` waits for a LoadBalancer gateway's address unless
 * `gateways[].loadBalancerTimeoutSeconds` says otherwise: long enough for a cloud
 * load balancer to be provisioned, half the provider's own ten minutes.
 */
export const DEFAULT_LOAD_BALANCER_TIMEOUT_SECONDS = 300;

/**
 * The provider awaits a LoadBalancer Service until the cluster's load balancer
 * writes an address into its status, for ten minutes by default. A cluster without
 * one (no cloud controller, a full address pool) would hold `up` that long before
 * failing; the Service's own custom timeouts make it fail after `seconds` instead,
 * with the provider's message naming the Service (the gateway's name) and "Service
 * was not allocated an IP address". Custom timeouts, not the provider's
 * `pulumi.com/timeoutSeconds` annotation (which they take precedence over): they
 * are engine options, so changing the timeout changes no object in the cluster
 * and shows in no preview.
 */
export function loadBalancerTimeout(seconds: number): pulumi.ResourceTransform {
    return (args) =>
        args.type === SERVICE_TYPE && (args.props as { spec?: { type?: string } }).spec?.type === "LoadBalancer"
            ? {
                  props: args.props,
                  opts: { ...args.opts, customTimeouts: { create: `${seconds}s`, update: `${seconds}s` } },
              }
            : undefined;
}

export type { GatewayPortStatus } from "../status/outputs";

/**
 * Chart `gateway`: one ingress or egress gateway. Its pods get their proxy from
 * istiod's injector (`image: auto`), so the Mesh creates it only after istiod is
 * ready; before that, pods would keep the placeholder image and never start.
 */
export class IstioGateway extends IstioChartRelease {
    /** The gateway's settings. */
    public readonly gateway: GatewayConfig;
    /** The `istio` label of the gateway's pods, which Istio Gateway resources select. */
    public readonly selectorLabel: string;
    public readonly serviceType: string;
    /** The Service's ports as the cluster assigned them (node ports included). */
    public readonly ports: pulumi.Output<GatewayPortStatus[]>;
    /** LoadBalancer addresses; empty until the cluster's load balancer assigns one. */
    public readonly addresses: pulumi.Output<string[]>;

    constructor(name: string, args: IstioGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        const { gateway } = args;
        const timeout = loadBalancerTimeout(
            gateway.loadBalancerTimeoutSeconds ?? DEFAULT_LOAD_BALANCER_TIMEOUT_SECONDS,
        );
        super(
            name,
            { ...args, transforms: [...(args.transforms ?? []), timeout] },
            opts,
            "istio-mesh:index:IstioGateway",
        );
        this.gateway = gateway;
        this.selectorLabel = gatewaySelectorLabel(gateway);
        this.serviceType = gateway.serviceType;
        const service = this.chart.resources.apply(
            (rs) => (rs as unknown[]).find(k8s.core.v1.Service.isInstance) as k8s.core.v1.Service | undefined,
        );
        this.ports = service.apply((svc): pulumi.Output<GatewayPortStatus[]> =>
            svc
                ? svc.spec.ports.apply((ps) => ps.map((p) => ({ name: p.name, port: p.port, nodePort: p.nodePort })))
                : pulumi.output([]),
        );
        this.addresses = service.apply((svc): pulumi.Output<string[]> =>
            svc
                ? svc.status.apply((s) =>
                      (s?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter((a) => !!a),
                  )
                : pulumi.output([]),
        );
        this.registerOutputs({ ports: this.ports, addresses: this.addresses });
    }
}
