/**
 * The sidecar's admin interface: an HTTP server on loopback with Envoy's admin paths
 * (`/ready`, `/stats`, `/stats/prometheus`, `/config_dump`, `/clusters`, `/listeners`,
 * `/certs`, `/logging`, `/server_info`, `/quitquitquit`) and Envoy's output shapes, so tools
 * written for Envoy (osm's `proxy get`, Prometheus, dashboards) read it unchanged. It reads the
 * sidecar through `AdminSource` and must not change config, or serve anything off loopback.
 */
export { AdminError, isLoopbackAddress, startAdminServer, type AdminErrorCode, type AdminServer, type AdminServerOptions } from './server.js';
export type { AdminSource } from './endpoints.js';
export type { ListenerDescription } from './clusters.js';
export type { AcceptedResources, ConfigDumpInput } from './config-dump.js';
