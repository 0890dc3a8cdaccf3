import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { istioChart } from "./chart";
import { GatewayConfig, StackConfig } from "./config";
import { gatewaySelectorLabel, gatewayValues } from "./values";
import type { StatusWorkload } from "./verify";

export interface IstioGatewayArgs {
    config: StackConfig;
    gateway: GatewayConfig;
}

export interface GatewayPortStatus {
    name: string;
    port: number;
    nodePort?: number;
}

/**
 * Chart `gateway`: one ingress or egress gateway. Its pods get their proxy from
 * istiod's injector (`image: auto`), so the Mesh creates it only after istiod is
 * ready; before that, pods would keep the placeholder image and never start.
 */
export class IstioGateway extends pulumi.ComponentResource {
    public readonly chart: k8s.helm.v4.Chart;
    /** The `istio` label of the gateway's pods, which Istio Gateway resources select. */
    public readonly selectorLabel: string;
    public readonly serviceType: string;
    /** The gateway's Deployment (the chart names it after the release), which `npm run status` checks. */
    public readonly workload: StatusWorkload;
    /** The Service's ports as the cluster assigned them (node ports included). */
    public readonly ports: pulumi.Output<GatewayPortStatus[]>;
    /** LoadBalancer addresses; empty until the cluster's load balancer assigns one. */
    public readonly addresses: pulumi.Output<string[]>;

    constructor(name: string, args: IstioGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:IstioGateway", name, {}, opts);
        const { config, gateway } = args;
        this.selectorLabel = gatewaySelectorLabel(gateway);
        this.serviceType = gateway.serviceType;
        this.workload = { kind: "Deployment", name: gateway.name };
        this.chart = istioChart(
            `${name}-chart`,
            {
                chart: "gateway",
                source: config,
                releaseName: gateway.name,
                namespace: gateway.namespace,
                values: gatewayValues(config, gateway),
            },
            { parent: this },
        );
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
