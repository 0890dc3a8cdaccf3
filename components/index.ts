// The package entry, `import { IstioMesh, parseStackConfig } from "istio-mesh"`:
// the components with their Args, the config parser, the release data resolver
// and the Helm values builders. The Pulumi program of this repository (index.ts)
// is one user of these exports. Transforms, chart plumbing and the status checks
// stay internal: they may change without notice.
export * from "./prepare";
export * from "./values";
export * from "./mesh";
export * from "./namespace";
export * from "./base";
export * from "./istiod";
export * from "./cni";
export * from "./ztunnel";
export * from "./gateway";
export * from "./addons";
export * from "./mtls";
export * from "./injectionLabel";
export * from "./sidecarRollout";
