/**
 * Every xDS resource name, as pure functions of their inputs, in OSM's formats
 * (reference/osm.md 5.2), so Envoy stats, dashboards and habits carry over.
 */
import type { Identity, MeshServicePort } from '../catalog/index.js';

export const OUTBOUND_LISTENER = 'outbound-listener';
export const INBOUND_LISTENER = 'inbound-listener';
export const PROMETHEUS_LISTENER = 'inbound-prometheus-listener';
export const EGRESS_PASSTHROUGH_CHAIN = 'outbound-egress-filter-chain';
export const PASSTHROUGH_CLUSTER = 'passthrough-outbound';
export const METRICS_CLUSTER = 'envoy-metrics-cluster';
/** The ALPN protocol sidecars negotiate between themselves. */
export const MESH_ALPN = 'osm';

/** The port number a cluster is named by: the target port when it is a number, else the Service port. */
function clusterPort(port: MeshServicePort): number {
  return typeof port.targetPort === 'number' ? port.targetPort : port.port;
}

/** `<ns>/<svc>|<targetPort>`: a remote service port. */
export function upstreamClusterName(port: MeshServicePort): string {
  return `${port.namespace}/${port.name}|${clusterPort(port)}`;
}

/** `<ns>/<svc>|<targetPort>|local`: the local app behind an inbound port. */
export function localClusterName(port: MeshServicePort, podPort: number): string {
  return `${port.namespace}/${port.name}|${podPort}|local`;
}

export function outboundRouteConfigName(port: number): string {
  return `rds-outbound.${port}`;
}

export function inboundRouteConfigName(podPort: number): string {
  return `rds-inbound.${podPort}`;
}

export function outboundFilterChainName(port: MeshServicePort): string {
  return `outbound_${port.namespace}/${port.name}_${port.port}_${port.protocol}`;
}

export function inboundFilterChainName(port: MeshServicePort, podPort: number): string {
  return `inbound_${port.namespace}/${port.name}_${podPort}_${port.protocol}`;
}

export function outboundVirtualHostName(port: MeshServicePort): string {
  return `outbound_virtual-host|${port.name}.${port.namespace}.svc.cluster.local`;
}

export function inboundVirtualHostName(port: MeshServicePort): string {
  return `inbound_virtual-host|${port.name}.${port.namespace}.svc.cluster.local`;
}

/** The SNI a client sends to reach a service: `<svc>.<ns>.svc.cluster.local`. */
export function serviceSni(port: MeshServicePort): string {
  return `${port.name}.${port.namespace}.svc.cluster.local`;
}

/** SDS: the proxy's own certificate and key. */
export function serviceCertSecretName(identity: Identity): string {
  return `service-cert:${identity}`;
}

/** SDS: the CA that inbound client certificates must chain to. */
export function inboundRootSecretName(identity: Identity): string {
  return `root-cert-for-mtls-inbound:${identity}`;
}

/** SDS: the CA and the SANs a server of `<ns>/<svc>` must present. */
export function outboundRootSecretName(port: MeshServicePort): string {
  return `root-cert-for-mtls-outbound:${port.namespace}/${port.name}`;
}
