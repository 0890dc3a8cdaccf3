// The stack configuration: what every other module imports. The parser lives in
// components/config/, one module per topic (allowed values, profiles, the reader
// that collects problems, sources, gateways, addons, mesh settings, mTLS policy,
// injection, istiod values); this file is its single public entry.
export * from "./allowed";
export * from "./types";
export { defaultGateway, profileDefaults } from "./profiles";
export type { ProfileDefaults } from "./profiles";
export { CONFIG_NAMESPACE, ConfigError } from "./reader";
export { findProjectDir, projectConfigKeys } from "./project";
export { DEFAULT_ADDON_SOURCE, DEFAULT_CHART_SOURCE, expandSource, isRemoteSource } from "./sources";
export { STACK_MANAGED_ISTIOD_VALUES } from "./istiodValues";
export { parseStackConfig, STACK_SETTINGS } from "./parse";
export { ADDONS_WITHOUT_LOGIN, GRAFANA_PASSWORD_KEY, GRAFANA_PASSWORD_MIN_LENGTH } from "./addons";
export { DEFAULT_TAG } from "./revisions";
export { DEFAULT_GATEWAY_API_SOURCE, GATEWAY_API_FOR_ISTIO, GATEWAY_API_MANIFEST } from "./gatewayApi";
export type { WaypointConfig, WaypointTraffic } from "./ambient";
export { rolloutResourceNames } from "./injection";
export { missingGatewayNamespaces } from "./gateways";
export { checkScheme, releaseSources } from "./sources";
export type { ReleaseSource } from "./sources";
export { LIMITS } from "./limits";
export { ENVIRONMENTS } from "./allowed";
export type { Environment } from "./allowed";
