// mesh and cni: mesh-wide proxy settings, and the CNI plugin a profile needs.
import { configParser } from "../configParser";

const { problems } = configParser("1.29.6");

describe("messages name the key, the value and what is allowed", () => {
    test.each([
        [
            { profile: "ambient", cni: { enabled: false } },
            "istio-mesh:cni.enabled: false contradicts profile ambient: ambient mode redirects traffic with the CNI plugin; remove cni.enabled or choose another profile",
        ],
        [{ mesh: { tracingSampling: 150 } }, "istio-mesh:mesh.tracingSampling: 150 is not a percentage from 0 to 100"],
        [
            { mesh: { outboundTrafficPolicy: "DENY" } },
            'istio-mesh:mesh.outboundTrafficPolicy: "DENY" is not a policy; allowed: ALLOW_ANY, REGISTRY_ONLY',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
