import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The two versions, and the release's helloworld images that answer for each. */
export const HELLO_VERSIONS = ["v1", "v2"] as const;
const helloImage = (version: string) => `docker.io/istio/examples-helloworld-${version}:1.0`;

export interface HelloServiceArgs {
    /** The application namespace, labelled for injection by the mesh. Required. */
    namespace: pulumi.Input<string>;
    /** Pods per version. @default 1 */
    replicas?: number;
}

/**
 * The runbook's small two-version service: Service `hello` (port 5000) in front
 * of Deployments hello-v1 and hello-v2, whose pods carry `app: hello` and
 * `version: v1|v2`, the labels the traffic rules select versions by.
 */
export class HelloService extends pulumi.ComponentResource {
    public readonly service: string;
    public readonly port: number;
    public readonly deployments: string[];

    constructor(name: string, args: HelloServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("istio-mesh:index:HelloService", name, {}, opts);
        this.service = "hello";
        this.port = 5000;
        const replicas = args.replicas ?? 1;
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: this.service, namespace: args.namespace, labels: { app: "hello", service: "hello" } },
                // Named http: Istio reads the protocol from the port name's prefix.
                spec: { selector: { app: "hello" }, ports: [{ name: "http", port: this.port, targetPort: this.port }] },
            },
            { parent: this },
        );
        this.deployments = HELLO_VERSIONS.map((version) => {
            const labels = { app: "hello", version };
            new k8s.apps.v1.Deployment(
                `${name}-${version}`,
                {
                    metadata: { name: `hello-${version}`, namespace: args.namespace, labels },
                    spec: {
                        replicas,
                        selector: { matchLabels: labels },
                        template: {
                            metadata: { labels },
                            spec: {
                                containers: [
                                    {
                                        name: "hello",
                                        image: helloImage(version),
                                        ports: [{ containerPort: this.port }],
                                        resources: { requests: { cpu: "100m" } },
                                    },
                                ],
                            },
                        },
                    },
                },
                { parent: this },
            );
            return `hello-${version}`;
        });
        this.registerOutputs({ service: this.service, port: this.port, deployments: this.deployments });
    }
}
