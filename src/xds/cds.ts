/**
 * CDS: one EDS cluster per upstream service port the proxy may route to (mesh mTLS, circuit
 * breakers from UpstreamTrafficSetting, HTTP/2 where the port speaks gRPC), one static cluster
 * per local app port, and the passthrough and metrics clusters when they are needed.
 */
import type { ConnectionSettings, ProxyPolicy, UpstreamCluster } from '../catalog/index.js';
import { isHttp } from '../catalog/index.js';
import { adsConfigSource, byKey, duration, socketAddress, UINT32_MAX } from './common.js';
import type { GeneratorContext } from './context.js';
import { localClusterName, METRICS_CLUSTER, PASSTHROUGH_CLUSTER, upstreamClusterName } from './names.js';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  create,
  HttpProtocolOptionsSchema,
  packAny,
  type Any,
  type Cluster,
} from './proto.js';
import { upstreamTls } from './tls.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** Every upstream cluster the proxy's routes name, by cluster name. */
export function upstreamClustersOf(policy: ProxyPolicy): Map<string, UpstreamCluster> {
  const out = new Map<string, UpstreamCluster>();
  for (const svc of policy.outbound.services) {
    for (const route of svc.routes) for (const b of route.backends) out.set(upstreamClusterName(b.cluster.port), b.cluster);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The proxy's clusters, sorted by name. */
export function buildClusters(policy: ProxyPolicy, ctx: GeneratorContext): Cluster[] {
  const clusters: Cluster[] = [];
  for (const [name, upstream] of upstreamClustersOf(policy)) clusters.push(upstreamCluster(name, upstream, policy, ctx));
  const localAddress = ctx.mesh.sidecar.localProxyMode === 'PodIP' && policy.proxy.ip ? policy.proxy.ip : '127.0.0.1';
  const locals = new Map<string, { podPort: number; grpc: boolean }>();
  for (const port of policy.inbound.ports) for (const svc of port.services) locals.set(localClusterName(svc, port.port), { podPort: port.port, grpc: port.protocol === 'grpc' });
  // A gRPC app speaks HTTP/2 only; other local apps get HTTP/1.1, Envoy's default upstream protocol.
  for (const [name, local] of locals) clusters.push(staticCluster(name, localAddress, local.podPort, local.grpc ? { [HTTP_PROTOCOL_OPTIONS]: HTTP2_ONLY } : {}));
  if (policy.outbound.egressPassthrough) {
    clusters.push(
      create(ClusterSchema, {
        name: PASSTHROUGH_CLUSTER,
        clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST },
        lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED,
        connectTimeout: duration(5000),
      }),
    );
  }
  if (policy.proxy.metricsScraped) clusters.push(staticCluster(METRICS_CLUSTER, '127.0.0.1', ctx.adminPort));
  return clusters.sort(byKey((c) => c.name));
}

function upstreamCluster(name: string, upstream: UpstreamCluster, policy: ProxyPolicy, ctx: GeneratorContext): Cluster {
  const c = upstream.connection;
  const options: { [key: string]: Any } = {};
  if (isHttp(upstream.port.protocol)) options[HTTP_PROTOCOL_OPTIONS] = httpProtocolOptions(upstream, c);
  return create(ClusterSchema, {
    name,
    altStatName: name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource(), serviceName: name },
    connectTimeout: duration(c?.connectTimeoutMs ?? 5000),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    transportSocket: upstreamTls(policy.proxy.identity, upstream.port, ctx.mesh.sidecar),
    circuitBreakers: { thresholds: [circuitBreaker(c)] },
    typedExtensionProtocolOptions: options,
  });
}

/** OSM's defaults are "no limit" on every threshold; an UpstreamTrafficSetting lowers them. */
function circuitBreaker(c: ConnectionSettings | undefined) {
  return {
    maxConnections: c?.maxConnections ?? UINT32_MAX,
    maxPendingRequests: c?.maxPendingRequests ?? UINT32_MAX,
    maxRequests: c?.maxRequests ?? UINT32_MAX,
    maxRetries: c?.maxRetries ?? UINT32_MAX,
    trackRemaining: true,
  };
}

/** gRPC ports speak HTTP/2 upstream; plain HTTP ports use whatever the client used. */
function httpProtocolOptions(upstream: UpstreamCluster, c: ConnectionSettings | undefined): Any {
  const common = c?.maxRequestsPerConnection !== undefined ? { maxRequestsPerConnection: c.maxRequestsPerConnection } : undefined;
  const message = create(HttpProtocolOptionsSchema, {
    ...(common ? { commonHttpProtocolOptions: common } : {}),
    upstreamProtocolOptions:
      upstream.port.protocol === 'grpc'
        ? { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } }
        : { case: 'useDownstreamProtocolConfig', value: { httpProtocolOptions: {}, http2ProtocolOptions: {} } },
  });
  return packAny(HttpProtocolOptionsSchema, message);
}

const HTTP2_ONLY: Any = packAny(
  HttpProtocolOptionsSchema,
  create(HttpProtocolOptionsSchema, { upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } } }),
);

function staticCluster(name: string, address: string, port: number, options: { [key: string]: Any } = {}): Cluster {
  return create(ClusterSchema, {
    name,
    typedExtensionProtocolOptions: options,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    connectTimeout: duration(1000),
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    loadAssignment: {
      clusterName: name,
      endpoints: [{ locality: { zone: 'local' }, loadBalancingWeight: 100, lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: socketAddress(address, port) } } }] }],
    },
  });
}
