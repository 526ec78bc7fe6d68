/**
 * LDS: `outbound-listener` (original destination; a filter chain per reachable service port
 * matched on port and IPs; chains that answer 403 or close for mesh services the client may not
 * reach; the egress passthrough), `inbound-listener` (a mesh-TLS chain per local pod port with
 * network RBAC in SMI mode), and `inbound-prometheus-listener` when the pod is scraped.
 */
import { isHttp, type Identity, type InboundPort, type MeshServicePort, type OutboundService, type ProxyPolicy } from '../catalog/index.js';
import { accessLogs } from './access-log.js';
import { adsConfigSource, byKey, duration, socketAddress, typedConfig } from './common.js';
import type { GeneratorContext } from './context.js';
import {
  EGRESS_PASSTHROUGH_CHAIN,
  inboundFilterChainName,
  inboundRouteConfigName,
  INBOUND_LISTENER,
  localClusterName,
  MESH_ALPN,
  METRICS_CLUSTER,
  outboundFilterChainName,
  outboundRouteConfigName,
  OUTBOUND_LISTENER,
  PASSTHROUGH_CLUSTER,
  PROMETHEUS_LISTENER,
  serviceSni,
  upstreamClusterName,
} from './names.js';
import {
  create,
  FilterChainSchema,
  FilterSchema,
  HttpConnectionManager_CodecType,
  HttpConnectionManagerSchema,
  HttpFilterSchema,
  HttpLocalRateLimitSchema,
  HttpRbacSchema,
  ListenerFilterSchema,
  ListenerSchema,
  NetworkLocalRateLimitSchema,
  NetworkRbacSchema,
  OriginalDstSchema,
  RBAC_Action,
  RouteConfigurationSchema,
  RouterSchema,
  TcpProxySchema,
  TlsInspectorSchema,
  TrafficDirection,
  type Filter,
  type FilterChain,
  type HttpFilter,
  type Listener,
  type RouteConfiguration,
} from './proto.js';
import { connectionRules, httpPrincipals } from './rbac.js';
import { LOCAL_RATE_LIMIT_FILTER, RBAC_FILTER } from './rds.js';
import { downstreamTls } from './tls.js';

export const OUTBOUND_PORT = 15001;
export const INBOUND_PORT = 15003;
export const PROMETHEUS_PORT = 15010;

/** Mesh service ports the proxy may not reach at all: their traffic is refused by the client's sidecar (A15). */
export interface DeniedDestinations {
  ports: readonly MeshServicePort[];
}

/** The proxy's listeners, sorted by name. */
export function buildListeners(policy: ProxyPolicy, ctx: GeneratorContext, denied: DeniedDestinations): Listener[] {
  const listeners: Listener[] = [];
  const outbound = outboundListener(policy, ctx, denied);
  if (outbound) listeners.push(outbound);
  const inbound = inboundListener(policy, ctx);
  if (inbound) listeners.push(inbound);
  if (policy.proxy.metricsScraped) listeners.push(prometheusListener());
  return listeners.sort(byKey((l) => l.name));
}

const originalDst = () =>
  create(ListenerFilterSchema, typedConfig('envoy.filters.listener.original_dst', OriginalDstSchema, create(OriginalDstSchema)));
const tlsInspector = () =>
  create(ListenerFilterSchema, typedConfig('envoy.filters.listener.tls_inspector', TlsInspectorSchema, create(TlsInspectorSchema)));

function router(): HttpFilter {
  return create(HttpFilterSchema, typedConfig('envoy.filters.http.router', RouterSchema, create(RouterSchema, {})));
}

function httpConnectionManager(statPrefix: string, route: { rds: string } | { inline: RouteConfiguration }, httpFilters: HttpFilter[]): Filter {
  const hcm = create(HttpConnectionManagerSchema, {
    codecType: HttpConnectionManager_CodecType.AUTO,
    statPrefix,
    routeSpecifier:
      'rds' in route
        ? { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: route.rds } }
        : { case: 'routeConfig', value: route.inline },
    httpFilters: [...httpFilters, router()],
    upgradeConfigs: [{ upgradeType: 'websocket' }],
    accessLog: accessLogs(),
  });
  return create(FilterSchema, typedConfig('envoy.filters.network.http_connection_manager', HttpConnectionManagerSchema, hcm));
}

/** An RBAC HTTP filter whose rules come per route (an absent rule set enforces nothing by itself). */
function rbacHttpFilter(): HttpFilter {
  return create(HttpFilterSchema, typedConfig(RBAC_FILTER, HttpRbacSchema, create(HttpRbacSchema, {})));
}

function tcpProxy(statPrefix: string, clusters: ReadonlyArray<{ name: string; weight: number }>): Filter {
  const live = clusters.filter((c) => c.weight > 0);
  const message = create(TcpProxySchema, {
    statPrefix,
    clusterSpecifier:
      live.length === 1
        ? { case: 'cluster', value: (live[0] as { name: string }).name }
        : { case: 'weightedClusters', value: { clusters: live.map((c) => ({ name: c.name, weight: c.weight })) } },
    accessLog: accessLogs(),
  });
  return create(FilterSchema, typedConfig('envoy.filters.network.tcp_proxy', TcpProxySchema, message));
}

/** Where the client reaches a service: its ClusterIPs, or its endpoints' IPs when headless. */
function destinationIps(svc: OutboundService): string[] {
  if (!svc.port.headless) return [...svc.port.clusterIPs];
  const self = svc.routes.flatMap((r) => r.backends).find((b) => b.cluster.port.id === svc.port.id);
  return [...new Set((self?.cluster.endpoints ?? []).map((e) => e.ip))];
}

function prefixRanges(ips: readonly string[]) {
  return [...ips].sort().map((ip) => ({ addressPrefix: ip, prefixLen: ip.includes(':') ? 128 : 32 }));
}

function outboundListener(policy: ProxyPolicy, ctx: GeneratorContext, denied: DeniedDestinations): Listener | undefined {
  const chains: FilterChain[] = [];
  for (const svc of policy.outbound.services) {
    const ips = destinationIps(svc);
    // A chain without IPs would catch every destination on its port: leave the service out.
    if (ips.length === 0) continue;
    const name = outboundFilterChainName(svc.port);
    const filters = isHttp(svc.port.protocol)
      ? [httpConnectionManager(`mesh-http-conn-manager.${outboundRouteConfigName(svc.port.port)}`, { rds: outboundRouteConfigName(svc.port.port) }, [rbacHttpFilter()])]
      : [tcpProxy(`outbound-mesh-tcp-proxy_${name}`, (svc.routes.at(-1)?.backends ?? []).map((b) => ({ name: upstreamClusterName(b.cluster.port), weight: b.weight })))];
    chains.push(create(FilterChainSchema, { name, filterChainMatch: { destinationPort: svc.port.port, prefixRanges: prefixRanges(ips) }, filters }));
  }
  chains.push(...deniedChains(policy.proxy.identity, denied, ctx));
  const defaultFilterChain = policy.outbound.egressPassthrough
    ? create(FilterChainSchema, { name: EGRESS_PASSTHROUGH_CHAIN, filters: [tcpProxy('egress-passthrough', [{ name: PASSTHROUGH_CLUSTER, weight: 1 }])] })
    : undefined;
  // With nothing to match and nowhere to pass through, OSM leaves the listener out (osm.md 5.3).
  if (chains.length === 0 && !defaultFilterChain) return undefined;
  return create(ListenerSchema, {
    name: OUTBOUND_LISTENER,
    address: socketAddress('0.0.0.0', OUTBOUND_PORT),
    trafficDirection: TrafficDirection.OUTBOUND,
    listenerFilters: [originalDst()],
    filterChains: chains.sort(byKey((c) => c.name)),
    ...(defaultFilterChain ? { defaultFilterChain } : {}),
  });
}

/**
 * Chains for mesh services the client may not reach, one per port and kind of traffic, so the
 * client's own sidecar answers HTTP with 403 and closes TCP before any byte leaves (A15).
 */
function deniedChains(client: Identity, denied: DeniedDestinations, ctx: GeneratorContext): FilterChain[] {
  const groups = new Map<string, { port: number; http: boolean; ips: Set<string> }>();
  for (const p of denied.ports) {
    if (p.headless || p.clusterIPs.length === 0) continue;
    const http = isHttp(p.protocol);
    const key = `${p.port}-${http ? 'http' : 'tcp'}`;
    const g = groups.get(key) ?? { port: p.port, http, ips: new Set<string>() };
    for (const ip of p.clusterIPs) g.ips.add(ip);
    groups.set(key, g);
  }
  return [...groups.entries()].map(([key, g]) => {
    const name = `outbound-denied_${key}`;
    const filters = g.http
      ? [httpConnectionManager(`mesh-http-conn-manager.denied.${g.port}`, { inline: deniedRoutes(client, ctx) }, [])]
      : [
          create(FilterSchema, typedConfig('envoy.filters.network.rbac', NetworkRbacSchema, create(NetworkRbacSchema, { statPrefix: `network-denied-${g.port}.`, rules: { action: RBAC_Action.ALLOW } }))),
          tcpProxy(`outbound-denied_${key}`, [{ name: 'denied-by-mesh-policy', weight: 1 }]),
        ];
    return create(FilterChainSchema, { name, filterChainMatch: { destinationPort: g.port, prefixRanges: prefixRanges([...g.ips]) }, filters });
  });
}

function deniedRoutes(client: Identity, ctx: GeneratorContext): RouteConfiguration {
  const body = `denied by the mesh: no TrafficTarget lets ServiceAccount ${client} reach this service (trust domain ${ctx.trustDomain})\n`;
  return create(RouteConfigurationSchema, {
    name: 'outbound-denied',
    virtualHosts: [
      {
        name: 'denied',
        domains: ['*'],
        routes: [
          {
            name: 'denied',
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: { case: 'directResponse', value: { status: 403, body: { specifier: { case: 'inlineString', value: body } } } },
          },
        ],
      },
    ],
  });
}

function inboundListener(policy: ProxyPolicy, ctx: GeneratorContext): Listener | undefined {
  if (policy.inbound.ports.length === 0) return undefined;
  const identity = policy.proxy.identity;
  const chains = policy.inbound.ports.map((port) => inboundChain(port, identity, ctx));
  return create(ListenerSchema, {
    name: INBOUND_LISTENER,
    address: socketAddress('0.0.0.0', INBOUND_PORT),
    trafficDirection: TrafficDirection.INBOUND,
    listenerFilters: [tlsInspector(), originalDst()],
    filterChains: chains.sort(byKey((c) => c.name)),
  });
}

function inboundChain(port: InboundPort, identity: Identity, ctx: GeneratorContext): FilterChain {
  const first = port.services[0] as MeshServicePort;
  const name = inboundFilterChainName(first, port.port);
  const http = isHttp(port.protocol);
  const filters: Filter[] = [];
  if (!port.permissive) {
    const principals = http ? httpPrincipals(port.routes) : port.tcpPrincipals;
    filters.push(create(FilterSchema, typedConfig('envoy.filters.network.rbac', NetworkRbacSchema, create(NetworkRbacSchema, { statPrefix: `network-${name}.`, rules: connectionRules(principals, ctx) }))));
  }
  const tcpLimit = port.services.map((s) => port.rateLimits.get(s.id)?.tcp).find((l) => l !== undefined);
  if (tcpLimit) {
    const limit = create(NetworkLocalRateLimitSchema, {
      statPrefix: `inbound-tcp-rate-limit.${name}`,
      tokenBucket: { maxTokens: tcpLimit.tokens + tcpLimit.burst, tokensPerFill: tcpLimit.tokens, fillInterval: duration(tcpLimit.fillIntervalMs) },
    });
    filters.push(create(FilterSchema, typedConfig('envoy.filters.network.local_ratelimit', NetworkLocalRateLimitSchema, limit)));
  }
  if (http) {
    const httpFilters = [rbacHttpFilter()];
    if ([...port.rateLimits.values()].some((l) => l.http || l.routes.length)) {
      httpFilters.push(create(HttpFilterSchema, typedConfig(LOCAL_RATE_LIMIT_FILTER, HttpLocalRateLimitSchema, create(HttpLocalRateLimitSchema, { statPrefix: 'http_local_rate_limiter' }))));
    }
    filters.push(httpConnectionManager(`mesh-http-conn-manager.${inboundRouteConfigName(port.port)}`, { rds: inboundRouteConfigName(port.port) }, httpFilters));
  } else {
    filters.push(tcpProxy(`inbound-mesh-tcp-proxy.${localClusterName(first, port.port)}`, [{ name: localClusterName(first, port.port), weight: 1 }]));
  }
  return create(FilterChainSchema, {
    name,
    filterChainMatch: {
      destinationPort: port.port,
      serverNames: [...new Set(port.services.map(serviceSni))].sort(),
      transportProtocol: 'tls',
      applicationProtocols: [MESH_ALPN],
    },
    transportSocket: downstreamTls(identity, ctx.mesh.sidecar),
    filters,
  });
}

function prometheusListener(): Listener {
  const routes = create(RouteConfigurationSchema, {
    name: 'prometheus-route',
    virtualHosts: [
      {
        name: 'prometheus-inbound-virtual-host',
        domains: ['*'],
        routes: [
          {
            name: 'stats',
            match: { pathSpecifier: { case: 'prefix', value: '/stats/prometheus' } },
            action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: METRICS_CLUSTER }, prefixRewrite: '/stats/prometheus' } },
          },
        ],
      },
    ],
  });
  return create(ListenerSchema, {
    name: PROMETHEUS_LISTENER,
    address: socketAddress('0.0.0.0', PROMETHEUS_PORT),
    trafficDirection: TrafficDirection.INBOUND,
    filterChains: [{ name: 'prometheus', filters: [httpConnectionManager('prometheus-http-conn-manager', { inline: routes }, [])] }],
  });
}
