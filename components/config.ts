// The stack configuration: what every other module imports. The parser lives in
// components/config/, one module per topic (allowed values, profiles, the reader
// that collects problems, sources, gateways, addons, mesh settings, mTLS policy,
// injection, istiod values); this file is its single public entry.
export * from "./config/allowed";
export * from "./config/types";
export { defaultGateway, profileDefaults } from "./config/profiles";
export type { ProfileDefaults } from "./config/profiles";
export { CONFIG_NAMESPACE, ConfigError } from "./config/reader";
export { findProjectDir, projectConfigKeys } from "./config/project";
export { DEFAULT_ADDON_SOURCE, DEFAULT_CHART_SOURCE, expandSource, isRemoteSource } from "./config/sources";
export { STACK_MANAGED_ISTIOD_VALUES } from "./config/istiodValues";
export { parseStackConfig, STACK_SETTINGS } from "./config/parse";
export { ADDONS_WITHOUT_LOGIN, GRAFANA_PASSWORD_KEY, GRAFANA_PASSWORD_MIN_LENGTH } from "./config/addons";
export { DEFAULT_TAG } from "./config/revisions";
export type { GatewayApiSettings } from "./config/gatewayApi";
export { DEFAULT_GATEWAY_API_SOURCE, GATEWAY_API_FOR_ISTIO, GATEWAY_API_MANIFEST } from "./config/gatewayApi";
export type { WaypointConfig, WaypointTraffic } from "./config/ambient";
export { rolloutResourceNames } from "./config/injection";
export { missingGatewayNamespaces } from "./config/gateways";
export { checkScheme, releaseSources } from "./config/sources";
export type { ReleaseSource } from "./config/sources";
export { LIMITS } from "./config/limits";
export { ENVIRONMENTS } from "./config/allowed";
export type { Environment } from "./config/allowed";
