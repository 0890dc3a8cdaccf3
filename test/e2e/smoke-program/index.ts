import * as k8s from "@pulumi/kubernetes";

const ns = new k8s.core.v1.Namespace("smoke", { metadata: { name: "smoke" } });
const labels = { app: "smoke" };
const deployment = new k8s.apps.v1.Deployment("smoke", {
    metadata: { name: "smoke", namespace: ns.metadata.name },
    spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
            metadata: { labels },
            spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
        },
    },
});
export const readyReplicas = deployment.status.readyReplicas;
