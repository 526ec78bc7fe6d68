/**
 * Upstream clusters for the sidecar: hosts from EDS and static assignments (or the original
 * destination), Envoy's balancing with priorities and panic, pooled HTTP/1.1 and dedicated TCP
 * connections with mTLS and SAN checks, circuit breakers, outlier detection, active HTTP health
 * checks, and `cluster.<name>.*` stats. It must not parse or route HTTP requests (the router
 * does) and must never close a connection that is in use because the config changed.
 */
export { createClusterManager, DEFAULT_IDLE_TIMEOUT_MS, type ClusterManagerOptions } from './manager.js';
export { systemClusterClock, type ClusterClock } from './clock.js';
export type * from './types.js';
