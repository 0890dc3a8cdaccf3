// The traffic components' resource graphs, recorded through Pulumi's mocks: which
// objects each API gets, and that bad rules stop the component before it
// registers a single object.
import * as pulumi from "@pulumi/pulumi";
import { recorded, RecordedResource, registrationsSettled, stopMocks, useRecordingMocks } from "./mocks";

beforeAll(useRecordingMocks);
afterAll(stopMocks);

const HELLO = {
    service: "hello",
    port: 5000,
    versions: ["v1", "v2"],
    canary: { header: "lab", value: "canary", version: "v2" },
};

/** Registers a component and waits for its children to reach the mocks. */
async function record(make: () => pulumi.ComponentResource): Promise<RecordedResource[]> {
    recorded.length = 0;
    const component = make();
    await new Promise<void>((resolve) => component.urn.apply(() => resolve()));
    await registrationsSettled();
    return [...recorded];
}

const kinds = (rs: RecordedResource[]) =>
    rs
        .filter((r) => r.type.startsWith("kubernetes:"))
        .map((r) => `${r.inputs.kind ?? r.type.split(":").pop()}/${r.inputs.metadata.name}`)
        .sort();

describe("ServiceTrafficRoute", () => {
    test("Istio APIs: a DestinationRule and a VirtualService named after the Service, in its namespace", async () => {
        const { ServiceTrafficRoute } = await import("../../examples/app/traffic/serviceRoute");
        const rs = await record(() => new ServiceTrafficRoute("hello", { namespace: "bookinfo", route: HELLO }));
        expect(kinds(rs)).toEqual(["DestinationRule/hello", "VirtualService/hello"]);
        expect(rs.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs.metadata.namespace)).toEqual([
            "bookinfo",
            "bookinfo",
        ]);
    });

    test("Gateway API: a Service per version and an HTTPRoute", async () => {
        const { ServiceTrafficRoute } = await import("../../examples/app/traffic/serviceRoute");
        const rs = await record(
            () => new ServiceTrafficRoute("hello", { namespace: "bookinfo", api: "gateway-api", route: HELLO }),
        );
        expect(kinds(rs)).toEqual(["HTTPRoute/hello", "Service/hello-v1", "Service/hello-v2"]);
    });

    test("bad rules: a ResourceError listing every problem, and no object registered", async () => {
        const { ServiceTrafficRoute } = await import("../../examples/app/traffic/serviceRoute");
        recorded.length = 0;
        expect(
            () =>
                new ServiceTrafficRoute("hello", {
                    namespace: "bookinfo",
                    api: "gateway-api",
                    route: { ...HELLO, weights: { v1: 50 }, fault: { abort: { httpStatus: 503 } } },
                }),
        ).toThrow(
            [
                "invalid traffic rules for hello:",
                '  - route.weights: {"v1":50} add up to 50; the weights are percentages of the Service\'s traffic and must add up to 100',
                '  - route.fault: {"abort":{"httpStatus":503}} cannot be written as Gateway API: HTTPRoute has no fault injection; use trafficApi istio for delays and aborts, or leave fault out',
            ].join("\n"),
        );
        await registrationsSettled();
        expect(recorded.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
    });
});

describe("IngressRoute", () => {
    const gateway = {
        service: "istio-ingressgateway",
        namespace: "istio-system",
        selector: { app: "istio-ingressgateway", istio: "ingressgateway" },
        ports: [{ name: "http2", port: 80 }],
    };
    const route = { name: "bookinfo-gateway", paths: [{ path: "/productpage", service: "productpage", port: 9080 }] };

    test("Istio APIs: Gateway and VirtualService in the app namespace", async () => {
        const { IngressRoute } = await import("../../examples/app/traffic/ingressRoute");
        const rs = await record(() => new IngressRoute("ingress", { namespace: "bookinfo", gateway, route }));
        const objects = rs.filter((r) => r.type.startsWith("kubernetes:"));
        expect(
            objects.map((r) => `${r.inputs.kind}/${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort(),
        ).toEqual(["Gateway/bookinfo/bookinfo-gateway", "VirtualService/bookinfo/bookinfo-gateway"]);
    });

    test("Gateway API: the Gateway beside the ingress gateway's Service, the HTTPRoute in the app namespace", async () => {
        const { IngressRoute } = await import("../../examples/app/traffic/ingressRoute");
        const rs = await record(
            () => new IngressRoute("ingress", { namespace: "bookinfo", api: "gateway-api", gateway, route }),
        );
        const objects = rs.filter((r) => r.type.startsWith("kubernetes:"));
        expect(
            objects.map((r) => `${r.inputs.kind}/${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`).sort(),
        ).toEqual(["Gateway/istio-system/bookinfo-gateway", "HTTPRoute/bookinfo/bookinfo-gateway"]);
    });
});
