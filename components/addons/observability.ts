import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { Addon, AddonAccess, AddonExposure, isRemoteSource } from "../config";
import { addonHardening, GRAFANA_ADMIN_SECRET_KEYS } from "./hardening";
import { ownDeclaredFields, scopedChildTransforms, skipServiceSettleWait } from "../charts/transforms";
import { ADDON_UI } from "../charts/addonManifests";

// Declared beside the other release data (the plan reads it); still exported from here.
export { ADDON_UI };

/** The container ports of each addon's UI and API, and (Jaeger) those its collector takes spans on. */
export const ADDON_PORTS: Record<Addon, { api: number[]; ingest: number[] }> = {
    prometheus: { api: [9090], ingest: [] },
    grafana: { api: [3000], ingest: [] },
    kiali: { api: [20001], ingest: [] },
    // Zipkin, Jaeger's own collector over HTTP and gRPC, OTLP over gRPC and HTTP.
    jaeger: { api: [16686, 16685], ingest: [9411, 14268, 14250, 4317, 4318] },
};

/** Who besides the other addons reaches an addon's pods. */
export interface AddonPeers {
    /** The enabled addons: they query and scrape each other (Grafana and Kiali read Prometheus, which scrapes them). */
    addons: Addon[];
    exposure: AddonExposure;
    /** With exposure mode host: the ingress gateway's namespace and `istio` label. */
    gateway?: { namespace: pulumi.Input<string>; selector: string };
    /** Namespaces whose pods may reach every addon's API. */
    fromNamespaces: string[];
}

type NetworkPolicyPeer = Record<string, unknown>;
interface NetworkPolicyIngressRule {
    from: NetworkPolicyPeer[];
    ports?: { protocol: "TCP"; port: number }[];
}

const namespaceNamed = (namespace: pulumi.Input<string>): NetworkPolicyPeer => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
});

/**
 * The ingress rules of `addon`'s NetworkPolicy: whatever is not listed here cannot
 * open a connection to its pods (kubectl port-forward still can: it enters the pod
 * from its node, which a NetworkPolicy does not filter).
 */
export function addonIngressRules(addon: Addon, peers: AddonPeers): NetworkPolicyIngressRule[] {
    const tcp = (ports: number[]) => ports.map((port) => ({ protocol: "TCP" as const, port }));
    const api = tcp(ADDON_PORTS[addon].api);
    const rules: NetworkPolicyIngressRule[] = [];
    const others = peers.addons.filter((a) => a !== addon);
    if (others.length > 0) {
        rules.push({ from: others.map((a) => ({ podSelector: { matchLabels: ADDON_UI[a].selector } })) });
    }
    if (peers.exposure.mode === "host" && peers.gateway) {
        rules.push({
            from: [
                {
                    ...namespaceNamed(peers.gateway.namespace),
                    podSelector: { matchLabels: { istio: peers.gateway.selector } },
                },
            ],
            ports: api,
        });
    }
    if (peers.exposure.mode === "nodePort") {
        // A node port forwards from any address that reaches a node, often rewritten
        // to the node's own: the policy cannot tell them apart, so the UI port is open.
        rules.push({ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }], ports: api });
    }
    if (peers.fromNamespaces.length > 0) {
        rules.push({ from: peers.fromNamespaces.map(namespaceNamed), ports: api });
    }
    if (ADDON_PORTS[addon].ingest.length > 0) {
        // Every sidecar and gateway of the mesh, in any namespace, sends its spans here.
        rules.push({ from: [{ namespaceSelector: {} }], ports: tcp(ADDON_PORTS[addon].ingest) });
    }
    return rules;
}

export function addonManifest(source: string, addon: Addon): string {
    return isRemoteSource(source) ? `${source.replace(/\/$/, "")}/${addon}.yaml` : path.join(source, `${addon}.yaml`);
}

export interface ObservabilityAddonsArgs {
    /** Addons to install. */
    addons: Addon[];
    /** URL or directory of the release's addon manifests. */
    source: string;
    /** The control plane namespace, which the manifests are written for. */
    namespace: pulumi.Input<string>;
    /** How the UIs are reached from outside the cluster. @default mode none */
    exposure: AddonExposure;
    /** The `istio` label of the ingress gateway (exposure mode host). */
    gatewaySelector?: string;
    /** The ingress gateway's namespace, where its access policies live (mode host). @default namespace */
    gatewayNamespace?: string;
    /**
     * What the host exposure (an Istio Gateway and VirtualServices) waits for: istiod,
     * whose validating webhook must answer before Istio resources are accepted, and the
     * gateway that serves the hosts. The addons themselves wait for nothing. @default []
     */
    exposureDependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * Who may use the addons. Whatever it says, Grafana has no anonymous Admin and no
     * admin/admin, Prometheus no lifecycle or admin API, and every addon's pods a
     * NetworkPolicy. @default closed: logins (Grafana's admin, Kiali's token), Kiali
     * read-only, reached only by the other addons and the exposure's way in
     */
    access?: AddonAccess;
    /**
     * Grafana's admin password, a Pulumi secret: the component keeps it in a Secret
     * `grafana-admin` (user admin) that Grafana reads its login from. @default undefined
     * (Grafana creates no admin user)
     */
    grafanaAdminPassword?: pulumi.Input<string>;
}

/** The Secret that holds Grafana's admin login, in the addons' namespace. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/**
 * What every object of the addon manifests goes through, in order: like the charts'
 * children, the stack owns what it declares (addons a runbook once applied with
 * kubectl are taken over) and Services are ready with their pods; then the addons
 * are closed as `access` says. `grafanaAdmin`: Grafana's login comes from the Secret.
 */
export function addonChildTransforms(access: AddonAccess, grafanaAdmin: boolean): pulumi.ResourceTransform[] {
    return [
        ownDeclaredFields,
        skipServiceSettleWait,
        ...addonHardening({
            anonymous: access.anonymous,
            kialiWrite: access.kialiWrite,
            grafanaAdminSecret: grafanaAdmin ? GRAFANA_ADMIN_SECRET : undefined,
        }),
    ];
}

/**
 * Prometheus, Grafana, Kiali and Jaeger from the Istio release's own manifests
 * (samples/addons of the same version), closed (addonHardening.ts) and fenced by a
 * NetworkPolicy each, optionally exposed by NodePort Services or by host name
 * through an Istio Gateway and one VirtualService per addon.
 */
export class ObservabilityAddons extends pulumi.ComponentResource {
    /** Where each addon's UI is reached, by addon. */
    public readonly urls: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ObservabilityAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        const access = args.access ?? { anonymous: false, kialiWrite: false, fromNamespaces: [] };
        const grafanaPassword = args.addons.includes("grafana") ? args.grafanaAdminPassword : undefined;
        super(
            "istio-mesh:index:ObservabilityAddons",
            name,
            {},
            scopedChildTransforms(
                opts,
                { type: "istio-mesh:index:ObservabilityAddons", subtree: true },
                ...addonChildTransforms(access, grafanaPassword !== undefined),
            ),
        );
        // Grafana's pod cannot start before the Secret it reads its login from.
        const grafanaAdmin =
            grafanaPassword === undefined
                ? undefined
                : new k8s.core.v1.Secret(
                      `${name}-grafana-admin`,
                      {
                          metadata: { name: GRAFANA_ADMIN_SECRET, namespace: args.namespace },
                          type: "Opaque",
                          stringData: {
                              [GRAFANA_ADMIN_SECRET_KEYS.user]: "admin",
                              [GRAFANA_ADMIN_SECRET_KEYS.password]: pulumi.secret(grafanaPassword),
                          },
                      },
                      { parent: this },
                  );
        const gatewayPeer =
            args.exposure.mode === "host"
                ? {
                      namespace: args.gatewayNamespace ?? args.namespace,
                      selector: args.gatewaySelector ?? "ingressgateway",
                  }
                : undefined;
        const tls = args.exposure.tls.credentialName;
        const scheme = args.exposure.mode === "host" && tls !== "" ? "https" : "http";
        const urls: Record<string, pulumi.Input<string>> = {};
        for (const addon of args.addons) {
            const manifests = new k8s.yaml.v2.ConfigFile(
                `${name}-${addon}`,
                { file: addonManifest(args.source, addon) },
                { parent: this, dependsOn: addon === "grafana" && grafanaAdmin ? [grafanaAdmin] : [] },
            );
            const ui = ADDON_UI[addon];
            // Not after the manifests: the pods never run unfenced.
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${addon}-access`,
                {
                    metadata: { name: `${addon}-access`, namespace: args.namespace },
                    spec: {
                        podSelector: { matchLabels: ui.selector },
                        policyTypes: ["Ingress"],
                        ingress: addonIngressRules(addon, {
                            addons: args.addons,
                            exposure: args.exposure,
                            gateway: gatewayPeer,
                            fromNamespaces: access.fromNamespaces,
                        }),
                    },
                },
                { parent: this },
            );
            urls[addon] = pulumi.interpolate`http://${ui.service}.${args.namespace}.svc.cluster.local:${ui.port}`;
            if (args.exposure.mode === "nodePort") {
                const svc = new k8s.core.v1.Service(
                    `${name}-${addon}-nodeport`,
                    {
                        metadata: { name: `${addon}-nodeport`, namespace: args.namespace },
                        spec: {
                            type: "NodePort",
                            selector: ui.selector,
                            ports: [
                                {
                                    name: "http",
                                    port: ui.port,
                                    targetPort: ui.targetPort,
                                    ...(args.exposure.nodePorts[addon]
                                        ? { nodePort: args.exposure.nodePorts[addon] }
                                        : {}),
                                },
                            ],
                        },
                    },
                    { parent: this, dependsOn: [manifests] },
                );
                urls[addon] = svc.spec.ports.apply((ps) => `http://<node-address>:${ps[0].nodePort}`);
            }
        }
        if (args.exposure.mode === "host" && args.addons.length > 0) {
            const hosts = args.addons.map((a) => `${a}.${args.exposure.domain}`);
            const gateway = new k8s.apiextensions.CustomResource(
                `${name}-gateway`,
                {
                    apiVersion: "networking.istio.io/v1",
                    kind: "Gateway",
                    metadata: { name: "addons", namespace: args.namespace },
                    spec: {
                        selector: { istio: args.gatewaySelector ?? "ingressgateway" },
                        servers:
                            tls === ""
                                ? [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts }]
                                : [
                                      {
                                          port: { number: 443, name: "https", protocol: "HTTPS" },
                                          tls: { mode: "SIMPLE", credentialName: tls },
                                          hosts,
                                      },
                                      // Logins never travel in plain text: HTTP only redirects.
                                      {
                                          port: { number: 80, name: "http", protocol: "HTTP" },
                                          tls: { httpsRedirect: true },
                                          hosts,
                                      },
                                  ],
                    },
                },
                { parent: this, dependsOn: args.exposureDependsOn ?? [] },
            );
            this.restrictAccess(name, hosts, args, gateway);
            for (const addon of args.addons) {
                const ui = ADDON_UI[addon];
                const host = `${addon}.${args.exposure.domain}`;
                new k8s.apiextensions.CustomResource(
                    `${name}-${addon}-route`,
                    {
                        apiVersion: "networking.istio.io/v1",
                        kind: "VirtualService",
                        metadata: { name: `${addon}-ui`, namespace: args.namespace },
                        spec: {
                            hosts: [host],
                            gateways: ["addons"],
                            http: [
                                {
                                    route: [
                                        {
                                            destination: {
                                                host: pulumi.interpolate`${ui.service}.${args.namespace}.svc.cluster.local`,
                                                port: { number: ui.port },
                                            },
                                        },
                                    ],
                                },
                            ],
                        },
                    },
                    { parent: this, dependsOn: [gateway] },
                );
                urls[addon] = `${scheme}://${host}`;
            }
        }
        this.urls = pulumi.output(urls);
        this.registerOutputs({ urls: this.urls });
    }

    /**
     * Istio's own access control on the ingress gateway, for the addon hosts only:
     * requests from outside `sourceRanges` are denied, and with `jwt` so are requests
     * without a valid token of that issuer. DENY policies, so they never open what
     * another policy closes.
     */
    private restrictAccess(
        name: string,
        hosts: string[],
        args: ObservabilityAddonsArgs,
        gateway: pulumi.Resource,
    ): void {
        const { sourceRanges, jwt } = args.exposure;
        const namespace = args.gatewayNamespace ?? args.namespace;
        const selector = { matchLabels: { istio: args.gatewaySelector ?? "ingressgateway" } };
        // The Host header may carry the port.
        const to = [{ operation: { hosts: hosts.flatMap((h) => [h, `${h}:*`]) } }];
        const policy = (part: string, spec: Record<string, unknown>, kind = "AuthorizationPolicy") =>
            new k8s.apiextensions.CustomResource(
                `${name}-${part}`,
                {
                    apiVersion: "security.istio.io/v1",
                    kind,
                    metadata: { name: `addons-${part}`, namespace },
                    spec: { selector, ...spec },
                },
                { parent: this, dependsOn: [gateway] },
            );
        if (sourceRanges.length > 0) {
            policy("source-ranges", {
                action: "DENY",
                rules: [{ to, from: [{ source: { notRemoteIpBlocks: sourceRanges } }] }],
            });
        }
        if (jwt) {
            policy(
                "jwt",
                { jwtRules: [{ issuer: jwt.issuer, jwksUri: jwt.jwksUri, forwardOriginalToken: true }] },
                "RequestAuthentication",
            );
            policy("require-jwt", {
                action: "DENY",
                rules: [{ to, from: [{ source: { notRequestPrincipals: ["*"] } }] }],
            });
        }
    }
}
