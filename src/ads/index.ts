/**
 * The ADS server: Envoy xDS v3 over gRPC, state of the world and delta, with mTLS, admission,
 * versions, nonces, ACK/NACK, debounced make-before-break pushes and a proxy registry. It is
 * I/O only: it serves whatever a SnapshotProvider (the controller) computes, and must know no
 * SMI and no Kubernetes, nor build or change a resource.
 */
export type { Admission, ClientFlavour, ConnectingProxy, ProxySnapshot, SnapshotProvider, VersionedResource } from './snapshot.js';
export { startAdsServer, AdsServer, DEFAULT_ADS_ADDRESS, systemAdsClock, type AdsServerOptions } from './server.js';
export type { AdsHooks, NackEvent, PushEvent, ResponseEvent, StreamInfo, StreamRefusal } from './hooks.js';
export type { ProxyRegistry, ProxyRegistryCounters } from './registry.js';
export type { AdsClock, ProxyStatus } from './stream.js';
export type { NackRecord, TypeStatus } from './type-state.js';
export { AdsError, type AdsErrorCode } from './errors.js';
export { DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_DELAY_MS } from './scheduler.js';
export { aggregatedDiscoveryServiceDefinition } from './service.js';
