// The package entry, `import { IstioMesh, parseStackConfig } from "istio-mesh"`:
// the components with their Args, the config parser, the release data resolver
// and the Helm values builders. The Pulumi program of this repository (index.ts)
// is one user of these exports. Transforms, chart plumbing and the status checks
// stay internal: they may change without notice.
export * from "./prepare";
export * from "./charts/values";
export * from "./istioMesh";
export { IstioChartRelease } from "./charts/chart";
export type { IstioChartReleaseArgs } from "./charts/chart";
export * from "./status/outputs";
export * from "./controlPlane/namespace";
export * from "./controlPlane/base";
export * from "./controlPlane/istiod";
export * from "./dataPlane/cni";
export * from "./dataPlane/ztunnel";
export * from "./dataPlane/gateway";
export * from "./addons/observability";
export * from "./dataPlane/mtlsPolicy";
export * from "./dataPlane/injectionLabel";
export * from "./upgrade/sidecarRollout";
