// Settings of a component that is off: refused, naming the component and its
// switch, instead of silently ignored (issue 22). Addon settings of an addon that
// is off are in addons.test.ts.
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

describe("settings of a component that is off are refused", () => {
    test.each([
        [
            { cni: { namespace: "istio-cni" } },
            'istio-mesh:cni.namespace: "istio-cni" is for the CNI plugin, which is off (profile default leaves it off); turn it on (cni.enabled: true) or remove cni.namespace',
        ],
        [
            { cni: { enabled: false, namespace: "istio-cni" } },
            'istio-mesh:cni.namespace: "istio-cni" is for the CNI plugin, which is off (cni.enabled: false); turn it on (cni.enabled: true) or remove cni.namespace',
        ],
        [
            { gatewayApi: { enabled: false, source: "https://mirror.example.com/gateway-api/{version}" } },
            'istio-mesh:gatewayApi.source: "https://mirror.example.com/gateway-api/{version}" is for the Gateway API CRDs, which the stack does not install (gatewayApi.enabled: false); remove it, or turn them on',
        ],
        [
            // The off switch is the root cause: the source's own problem is not reported as well.
            { gatewayApi: { enabled: false, source: "/no/such/folder", takeOver: true } },
            'istio-mesh:gatewayApi.source: "/no/such/folder" is for the Gateway API CRDs, which the stack does not install (gatewayApi.enabled: false); remove it, or turn them on',
            "istio-mesh:gatewayApi.takeOver: true is for the Gateway API CRDs, which the stack does not install (gatewayApi.enabled: false); remove it, or turn them on",
        ],
    ])("%j", (raw, ...messages) => {
        expect(problems(raw)).toEqual(messages);
    });

    test("the same settings are taken when their component is on", () => {
        expect(parse({ cni: { enabled: true, namespace: "istio-cni" } }).cni).toEqual({
            enabled: true,
            namespace: "istio-cni",
        });
        expect(parse({ profile: "ambient", cni: { namespace: "istio-cni" } }).cni.namespace).toBe("istio-cni");
        expect(parse({ gatewayApi: { takeOver: true } }).gatewayApi.takeOver).toBe(true);
    });
});
