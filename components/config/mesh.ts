// `mesh` (mesh-wide proxy settings and mTLS policy) and `cni` (the node agent that
// redirects traffic).
import { OUTBOUND_POLICIES, Profile } from "./allowed";
import { ControlPlane } from "./controlPlane";
import { readMtls } from "./mtls";
import { NAMESPACE_NAME, readName } from "./names";
import { ProfileDefaults } from "./profiles";
import { field, Reader } from "./reader";
import { CniSettings, MeshSettings } from "./types";

export const MESH_SETTINGS = [
    "accessLogFile",
    "tracingSampling",
    "outboundTrafficPolicy",
    "enableAutoMtls",
    "mtls",
] as const;
export const CNI_SETTINGS = ["enabled", "namespace"] as const;

export function readMesh(r: Reader, v: unknown, defaults: ProfileDefaults, control: ControlPlane): MeshSettings {
    const mesh = r.object("mesh", v, MESH_SETTINGS) ?? {};
    return {
        accessLogFile:
            r.text(
                "mesh.accessLogFile",
                field(mesh, "accessLogFile"),
                'is not a string; use "/dev/stdout" or "" to turn access logs off',
            ) ?? defaults.accessLogFile,
        tracingSampling:
            r.number("mesh.tracingSampling", field(mesh, "tracingSampling"), 0, 100, "a percentage") ??
            defaults.tracingSampling,
        outboundTrafficPolicy:
            r.oneOf(
                "mesh.outboundTrafficPolicy",
                field(mesh, "outboundTrafficPolicy"),
                OUTBOUND_POLICIES,
                "a policy",
            ) ?? "ALLOW_ANY",
        enableAutoMtls: r.boolean("mesh.enableAutoMtls", field(mesh, "enableAutoMtls")) ?? true,
        mtls: readMtls(r, field(mesh, "mtls"), control),
    };
}

export function readCni(r: Reader, v: unknown, defaults: ProfileDefaults, profile: Profile): CniSettings {
    const cni = r.object("cni", v, CNI_SETTINGS) ?? {};
    const enabled = r.boolean("cni.enabled", field(cni, "enabled"));
    if (profile === "ambient" && enabled === false) {
        r.invalid(
            "cni.enabled",
            false,
            "contradicts profile ambient: ambient mode redirects traffic with the CNI plugin; remove cni.enabled or choose another profile",
        );
    }
    const on = enabled ?? defaults.cni;
    const namespace = readName(r, "cni.namespace", field(cni, "namespace"), NAMESPACE_NAME);
    if (namespace !== undefined && !on && r.valid("cni.enabled", "profile")) {
        r.invalid(
            "cni.namespace",
            namespace,
            `is for the CNI plugin, which is off (${enabled === false ? "cni.enabled: false" : `profile ${profile} leaves it off`}); turn it on (cni.enabled: true) or remove cni.namespace`,
        );
    }
    return { enabled: on, namespace: namespace ?? "kube-system" };
}
