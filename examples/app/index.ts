// The application stack: reads its settings and the mesh stack's outputs, refuses
// anything wrong before a resource is registered, then deploys the runbook's
// workloads and their traffic rules into a namespace the mesh injects.
import * as pulumi from "@pulumi/pulumi";
import {
    AppConfig,
    appConfigValues,
    checkMesh,
    MESH_OUTPUTS,
    MeshOutputName,
    MeshView,
    parseAppConfig,
} from "./config";

/** Errors the user fixes: the message alone, without a stack trace. */
function userCheck<T>(check: () => T): T {
    try {
        return check();
    } catch (e) {
        if (e instanceof Error) {
            Error.stackTraceLimit = 0;
            throw new pulumi.RunError(e.message);
        }
        throw e;
    }
}

/** The mesh stack's outputs this program reads; a missing one stays undefined and is reported by checkMesh. */
async function meshOutputs(mesh: pulumi.StackReference): Promise<Partial<Record<MeshOutputName, unknown>>> {
    const names = Object.keys(MESH_OUTPUTS) as MeshOutputName[];
    const values = await Promise.all(names.map((n) => mesh.getOutputDetails(n)));
    return Object.fromEntries(names.map((n, i) => [n, values[i].value ?? values[i].secretValue]));
}

export = async () => {
    const config: AppConfig = userCheck(() =>
        parseAppConfig(appConfigValues(pulumi.runtime.allConfig()), {
            organization: pulumi.getOrganization(),
            stack: pulumi.getStack(),
            programDir: __dirname,
            mirror: process.env.ISTIO_MESH_RELEASE_MIRROR,
        }),
    );
    const meshRef = new pulumi.StackReference("mesh", { name: config.meshStack });
    const outputs = await meshOutputs(meshRef);
    const mesh: MeshView = userCheck(() => checkMesh(config, outputs));

    // Loaded only for a valid configuration and a mesh that fits it.
    const k8s = await import("@pulumi/kubernetes");
    const { Bookinfo } = await import("./bookinfo");
    const { HelloService } = await import("./hello");
    const { bookinfoManifest } = await import("./config");
    const { ServiceTrafficRoute } = await import("./traffic/serviceRoute");
    const { IngressRoute } = await import("./traffic/ingressRoute");

    const workloads: pulumi.Resource[] = [];
    if (config.bookinfo) {
        workloads.push(
            new Bookinfo("bookinfo", {
                namespace: config.namespace,
                manifest: bookinfoManifest(config.sampleSource, mesh.version),
            }),
        );
    }
    if (config.hello) workloads.push(new HelloService("hello", { namespace: config.namespace }));

    const objects: pulumi.Output<string[]>[] = [];
    for (const route of config.routes) {
        // After the workloads: a Gateway API route is attached to its Service.
        const component = new ServiceTrafficRoute(
            route.service,
            { namespace: config.namespace, api: config.trafficApi, route },
            { dependsOn: workloads },
        );
        objects.push(pulumi.output(component.objects));
    }

    let ingressPort: pulumi.Output<number | undefined> = pulumi.output(undefined);
    if (config.ingress && mesh.ingressGateway) {
        const gw = mesh.ingressGateway;
        // The gateway's pod labels are its Service's selector, read from the cluster:
        // whatever installed the gateway, an Istio Gateway selects exactly its pods.
        const gatewayService = k8s.core.v1.Service.get("ingress-gateway-service", `${gw.namespace}/${gw.name}`);
        const { gateway: _gatewayName, ...route } = config.ingress;
        void _gatewayName;
        const ingress = new IngressRoute(
            "ingress",
            {
                namespace: config.namespace,
                api: config.trafficApi,
                gateway: {
                    service: gw.name,
                    namespace: gw.namespace,
                    selector: gatewayService.spec.selector,
                    ports: gw.ports,
                },
                route,
            },
            { dependsOn: workloads },
        );
        objects.push(pulumi.output(ingress.objects));
        ingressPort = pulumi.output(gw.ports.find((p) => p.port === ingress.port)?.nodePort);
    }

    return {
        namespace: config.namespace,
        trafficApi: config.trafficApi,
        meshStack: config.meshStack,
        meshVersion: mesh.version,
        meshRevision: mesh.revision,
        objects: pulumi.all(objects).apply((lists) => lists.flat()),
        /** The node port requests enter by on the local cluster (NodePort gateways), if any. */
        ingressNodePort: ingressPort,
    };
};
