/**
 * The proxyless gRPC flavour of a proxy's policy (reference/xds.md section 1): gRPC takes a
 * narrower resource set than Envoy. One `api_listener` per name a client may dial, with an
 * inline route configuration (xds.md 1.9 #1: an LDS-only change with RDS is not applied); EDS
 * clusters whose TLS uses the `mesh` certificate-provider instance from the client's bootstrap
 * (gRPC has no SDS); server listeners named by gRPC's listening-address template with exactly
 * one HTTP connection manager, `raw_buffer` transport (1.9 #3) and server-side RBAC.
 */
import { hostnamesOf, isHttp, type OutboundRoute, type ProxyPolicy, type RetryPolicy, type UpstreamCluster } from '../catalog/index.js';
import { upstreamClustersOf } from './cds.js';
import { adsConfigSource, byKey, duration, principalNames, socketAddress, typedConfig, UINT32_MAX } from './common.js';
import type { GeneratorContext } from './context.js';
import { loadAssignment } from './eds.js';
import { upstreamClusterName } from './names.js';
import {
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  create,
  DownstreamTlsContextSchema,
  FilterChainSchema,
  HttpConnectionManagerSchema,
  HttpFilterSchema,
  HttpRbacSchema,
  ListenerSchema,
  packAny,
  RouteConfigurationSchema,
  RouterSchema,
  TransportSocketSchema,
  UpstreamTlsContextSchema,
  type Cluster,
  type Listener,
  type RouteConfiguration,
} from './proto.js';
import { httpRules, regexHeader } from './rbac.js';
import type { EnvoyResources } from './resources.js';
import type { SecretMaterial } from './sds.js';

/** The certificate-provider instance name `osm proxy bootstrap --format grpc` writes. */
export const GRPC_CERTIFICATE_INSTANCE = 'mesh';
/** gRPC's server listener name template (the bootstrap's `server_listener_resource_name_template`). */
export const GRPC_SERVER_LISTENER_TEMPLATE = 'grpc/server?xds.resource.listening_address=%s';

const routerFilter = () => create(HttpFilterSchema, typedConfig('envoy.filters.http.router', RouterSchema, create(RouterSchema)));

/** gRPC resources for a proxyless client or server. Secrets are never sent: gRPC reads certificate files. */
export function buildGrpcResources(policy: ProxyPolicy, ctx: GeneratorContext, _material: SecretMaterial): EnvoyResources {
  const listeners: Listener[] = [];
  for (const svc of policy.outbound.services) {
    if (!isHttp(svc.port.protocol)) continue;
    const routeConfig = create(RouteConfigurationSchema, {
      name: `grpc-route|${svc.port.id}`,
      virtualHosts: [{ name: svc.port.id, domains: hostnamesOf(svc.port), routes: svc.routes.flatMap((r) => grpcRoutes(r, svc.retry)) }],
    });
    const hcm = create(HttpConnectionManagerSchema, { statPrefix: svc.port.id, routeSpecifier: { case: 'routeConfig', value: routeConfig }, httpFilters: [routerFilter()] });
    const names = hostnamesOf(svc.port).filter((h) => h.endsWith(`:${svc.port.port}`) && (svc.port.namespace === policy.proxy.namespace || h.includes('.')));
    for (const name of names) {
      listeners.push(create(ListenerSchema, { name, apiListener: { apiListener: packAny(HttpConnectionManagerSchema, hcm) } }));
    }
  }
  if (policy.proxy.ip) {
    for (const port of policy.inbound.ports) {
      if (isHttp(port.protocol)) listeners.push(serverListener(policy.proxy.ip, port.port, port.routes, ctx));
    }
  }
  const clusters = [...upstreamClustersOf(policy)].map(([name, upstream]) => grpcCluster(name, upstream, ctx));
  return {
    listeners: listeners.sort(byKey((l) => l.name)),
    routes: [],
    clusters: clusters.sort(byKey((c) => c.name)),
    endpoints: [...upstreamClustersOf(policy).values()].map(loadAssignment),
    secrets: [],
  };
}

/** gRPC retries on status codes; an HTTP `retryOn` becomes `unavailable` (what 5xx and resets surface as). */
function grpcRetry(retry: RetryPolicy) {
  const grpcCodes = new Set(['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);
  const wanted = retry.retryOn.split(',').map((s) => s.trim());
  const codes = wanted.filter((c) => grpcCodes.has(c));
  if (wanted.some((c) => !grpcCodes.has(c))) codes.push('unavailable');
  return {
    retryOn: [...new Set(codes)].sort().join(','),
    numRetries: Math.max(1, retry.numRetries ?? 1),
    ...(retry.retryBackoffBaseIntervalMs !== undefined ? { retryBackOff: { baseInterval: duration(retry.retryBackoffBaseIntervalMs) } } : {}),
  };
}

function grpcRoutes(route: OutboundRoute, retry: RetryPolicy | undefined) {
  const matches = route.matches ? [...route.matches] : [undefined];
  return matches.map((m) => ({
    name: m ? `${m.group.name}#${m.name}` : 'default',
    match: {
      pathSpecifier: m?.path ? ({ case: 'safeRegex' as const, value: { regex: m.path.source } }) : ({ case: 'prefix' as const, value: '' }),
      headers: (m?.headers ?? []).map((h) => regexHeader(h.name, h.value.source)),
    },
    action: {
      case: 'route' as const,
      value: {
        clusterSpecifier: {
          case: 'weightedClusters' as const,
          value: { clusters: route.backends.filter((b) => b.weight > 0).map((b) => ({ name: upstreamClusterName(b.cluster.port), weight: b.weight })) },
        },
        ...(retry ? { retryPolicy: grpcRetry(retry) } : {}),
      },
    },
  }));
}

function grpcCluster(name: string, upstream: UpstreamCluster, ctx: GeneratorContext): Cluster {
  const sans = [...upstream.identities].sort().flatMap((id) => principalNames(id, ctx.trustDomain)).map((value) => ({ matchPattern: { case: 'exact' as const, value } }));
  const tls = create(UpstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateProviderInstance: { instanceName: GRPC_CERTIFICATE_INSTANCE },
      validationContextType: {
        case: 'validationContext',
        value: { caCertificateProviderInstance: { instanceName: GRPC_CERTIFICATE_INSTANCE }, matchSubjectAltNames: sans.length > 0 ? sans : [{ matchPattern: { case: 'exact', value: 'no-workload-serves-this-service' } }] },
      },
    },
  });
  return create(ClusterSchema, {
    name,
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: adsConfigSource(), serviceName: name },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
    connectTimeout: duration(upstream.connection?.connectTimeoutMs ?? 5000),
    circuitBreakers: { thresholds: [{ maxRequests: upstream.connection?.maxRequests ?? UINT32_MAX }] },
    transportSocket: create(TransportSocketSchema, typedConfig('envoy.transport_sockets.tls', UpstreamTlsContextSchema, tls)),
  });
}

function serverListener(ip: string, port: number, routes: Parameters<typeof httpRules>[0], ctx: GeneratorContext): Listener {
  const routeConfig: RouteConfiguration = create(RouteConfigurationSchema, {
    name: `grpc-inbound|${port}`,
    virtualHosts: [{ name: 'inbound', domains: ['*'], routes: [{ name: 'default', match: { pathSpecifier: { case: 'prefix', value: '' } }, action: { case: 'nonForwardingAction', value: {} } }] }],
  });
  const rbac = create(HttpFilterSchema, typedConfig('envoy.filters.http.rbac', HttpRbacSchema, create(HttpRbacSchema, { rules: httpRules(routes, ctx) })));
  const hcm = create(HttpConnectionManagerSchema, { statPrefix: `grpc-inbound.${port}`, routeSpecifier: { case: 'routeConfig', value: routeConfig }, httpFilters: [rbac, routerFilter()] });
  const tls = create(DownstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateProviderInstance: { instanceName: GRPC_CERTIFICATE_INSTANCE },
      validationContextType: { case: 'validationContext', value: { caCertificateProviderInstance: { instanceName: GRPC_CERTIFICATE_INSTANCE } } },
    },
    requireClientCertificate: true,
  });
  const address = ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  return create(ListenerSchema, {
    name: GRPC_SERVER_LISTENER_TEMPLATE.replace('%s', address),
    address: socketAddress(ip, port),
    filterChains: [
      create(FilterChainSchema, {
        name: `grpc-inbound.${port}`,
        filterChainMatch: { transportProtocol: 'raw_buffer' },
        transportSocket: create(TransportSocketSchema, typedConfig('envoy.transport_sockets.tls', DownstreamTlsContextSchema, tls)),
        filters: [typedConfig('envoy.filters.network.http_connection_manager', HttpConnectionManagerSchema, hcm)],
      }),
    ],
  });
}
