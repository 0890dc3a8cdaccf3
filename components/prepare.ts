// The package's light entry, `istio-mesh/prepare`: what a program does before it
// builds the mesh (read and validate the stack config, check the upgrade path,
// make the release data local), without loading the Kubernetes SDK, so that a
// config typo or a failed download is reported in a second. The full entry
// (`istio-mesh`, components/index.ts) re-exports all of it.
export * from "./config";
export * from "./charts/releases";
export * from "./charts/plan";
export * from "./config/version";
