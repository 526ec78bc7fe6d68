/**
 * A filter chain's network filters, in order.
 *
 * Supported: envoy.extensions.filters.network.rbac.v3.RBAC, .local_ratelimit.v3.LocalRateLimit,
 * and exactly one terminal filter, last: .tcp_proxy.v3.TcpProxy (cluster or weighted clusters)
 * or .http_connection_manager.v3.HttpConnectionManager (codec AUTO/HTTP1/HTTP2, RDS over ADS
 * or an inline route config, the HTTP filters of decode-http-filters.ts, websocket upgrades;
 * access logs and tracing are observability and ignored). Anything else is rejected.
 */
import {
  HttpConnectionManager_CodecType,
  HttpConnectionManager_UpgradeConfigSchema,
  HttpConnectionManagerSchema,
  NetworkLocalRateLimitSchema,
  NetworkRbacSchema,
  TcpProxySchema,
  type Filter,
  type HttpConnectionManager,
  type TcpProxy,
} from '../../xds/proto.js';
import { at, checkAdsSource, decodeTokenBucket, Issues, item, rejectUnsupported, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import { decodeHttpFilters } from './decode-http-filters.js';
import { decodeRbacRules } from './decode-rbac.js';
import { decodeRouteConfig } from './decode-route.js';
import type { ClusterTarget, HttpConnectionManagerConfig, NetworkFilterConfig } from './model.js';

/** Decodes a chain's `filters`; `path` names that list. */
export function decodeNetworkFilters(filters: readonly Filter[], path: string, issues: Issues): NetworkFilterConfig[] {
  if (filters.length === 0) issues.add(path, 'a filter chain needs a tcp_proxy or http_connection_manager filter');
  const out: NetworkFilterConfig[] = [];
  filters.forEach((f, i) => {
    const p = item(path, i);
    const decoded = decodeFilter(f, p, issues);
    if (!decoded) return;
    const terminal = decoded.kind === 'tcpProxy' || decoded.kind === 'httpConnectionManager';
    if (terminal && i !== filters.length - 1) issues.add(p, `${f.name || decoded.kind} is a terminal filter and must be last`);
    if (!terminal && i === filters.length - 1) issues.add(p, 'the last filter must be tcp_proxy or http_connection_manager');
    out.push(decoded);
  });
  return out;
}

function decodeFilter(f: Filter, path: string, issues: Issues): NetworkFilterConfig | undefined {
  if (f.configType.case !== 'typedConfig') {
    issues.add(at(path, 'typed_config'), 'required (the sidecar knows filters by their config type)');
    return undefined;
  }
  const any = f.configType.value;
  const name = f.name;
  switch (typeNameOf(any)) {
    case NetworkRbacSchema.typeName: {
      const rbac = unpackTyped(any, NetworkRbacSchema, path, issues);
      if (!rbac) return undefined;
      const p = typedPath(path, NetworkRbacSchema);
      rejectUnsupported(NetworkRbacSchema, rbac, p, ['rules'], issues);
      return { kind: 'rbac', name, statPrefix: rbac.statPrefix, rules: rbac.rules ? decodeRbacRules(rbac.rules, at(p, 'rules'), issues) : undefined };
    }
    case NetworkLocalRateLimitSchema.typeName: {
      const limit = unpackTyped(any, NetworkLocalRateLimitSchema, path, issues);
      if (!limit) return undefined;
      const p = typedPath(path, NetworkLocalRateLimitSchema);
      rejectUnsupported(NetworkLocalRateLimitSchema, limit, p, ['token_bucket'], issues);
      const tokenBucket = decodeTokenBucket(limit.tokenBucket, at(p, 'token_bucket'), issues);
      return tokenBucket ? { kind: 'localRateLimit', name, statPrefix: limit.statPrefix, tokenBucket } : undefined;
    }
    case TcpProxySchema.typeName: {
      const tcp = unpackTyped(any, TcpProxySchema, path, issues);
      return tcp ? { kind: 'tcpProxy', name, statPrefix: tcp.statPrefix, target: decodeTcpProxy(tcp, typedPath(path, TcpProxySchema), issues) } : undefined;
    }
    case HttpConnectionManagerSchema.typeName: {
      const hcm = unpackTyped(any, HttpConnectionManagerSchema, path, issues);
      return hcm ? { kind: 'httpConnectionManager', name, hcm: decodeHcm(hcm, typedPath(path, HttpConnectionManagerSchema), issues) } : undefined;
    }
    default:
      issues.add(at(path, 'typed_config'), `the network filter type ${typeNameOf(any) || '(empty type URL)'} is not supported by the sidecar`);
      return undefined;
  }
}

function decodeTcpProxy(tcp: TcpProxy, path: string, issues: Issues): ClusterTarget {
  rejectUnsupported(TcpProxySchema, tcp, path, ['cluster', 'weighted_clusters'], issues);
  const spec = tcp.clusterSpecifier;
  if (spec.case === 'cluster') {
    if (spec.value === '') issues.add(at(path, 'cluster'), 'required');
    return { kind: 'cluster', cluster: spec.value };
  }
  if (spec.case === 'weightedClusters') {
    const p = at(path, 'weighted_clusters.clusters');
    const clusters = spec.value.clusters.map((c, i) => {
      if (c.name === '') issues.add(at(item(p, i), 'name'), 'required');
      if (c.metadataMatch) issues.add(at(item(p, i), 'metadata_match'), 'not supported by the sidecar');
      return { name: c.name, weight: c.weight, perFilter: {} };
    });
    const totalWeight = clusters.reduce((sum, c) => sum + c.weight, 0);
    if (clusters.length === 0) issues.add(p, 'at least one cluster is required');
    else if (totalWeight === 0) issues.add(p, 'the weights add up to 0: no cluster can be chosen');
    return { kind: 'weighted', clusters, totalWeight };
  }
  issues.add(path, 'a tcp_proxy needs cluster or weighted_clusters');
  return { kind: 'cluster', cluster: '' };
}

const CODEC: Partial<Record<HttpConnectionManager_CodecType, HttpConnectionManagerConfig['codec']>> = {
  [HttpConnectionManager_CodecType.AUTO]: 'auto',
  [HttpConnectionManager_CodecType.HTTP1]: 'http1',
  [HttpConnectionManager_CodecType.HTTP2]: 'http2',
};

function decodeHcm(hcm: HttpConnectionManager, path: string, issues: Issues): HttpConnectionManagerConfig {
  rejectUnsupported(HttpConnectionManagerSchema, hcm, path, ['codec_type', 'rds', 'route_config', 'http_filters', 'upgrade_configs', 'tracing'], issues);
  const codec = CODEC[hcm.codecType];
  if (!codec) issues.add(at(path, 'codec_type'), `${HttpConnectionManager_CodecType[hcm.codecType] ?? hcm.codecType} is not supported by the sidecar`);
  let routes: HttpConnectionManagerConfig['routes'] = { kind: 'rds', name: '' };
  const spec = hcm.routeSpecifier;
  if (spec.case === 'rds') {
    const p = at(path, 'rds');
    checkAdsSource(spec.value.configSource, at(p, 'config_source'), issues);
    if (spec.value.routeConfigName === '') issues.add(at(p, 'route_config_name'), 'required');
    routes = { kind: 'rds', name: spec.value.routeConfigName };
  } else if (spec.case === 'routeConfig') {
    routes = { kind: 'inline', config: decodeRouteConfig(spec.value, at(path, 'route_config'), issues) };
  } else {
    issues.add(spec.case === undefined ? path : at(path, 'scoped_routes'), 'an http_connection_manager needs rds or route_config');
  }
  let websocket = false;
  hcm.upgradeConfigs.forEach((u, i) => {
    const p = item(at(path, 'upgrade_configs'), i);
    rejectUnsupported(HttpConnectionManager_UpgradeConfigSchema, u, p, ['upgrade_type', 'enabled'], issues);
    if (u.upgradeType.toLowerCase() !== 'websocket') issues.add(at(p, 'upgrade_type'), `"${u.upgradeType}" upgrades are not supported by the sidecar (only websocket)`);
    else websocket = u.enabled ?? true;
  });
  return { codec: codec ?? 'auto', routes, httpFilters: decodeHttpFilters(hcm.httpFilters, at(path, 'http_filters'), issues), websocket, statPrefix: hcm.statPrefix, accessLog: hcm.accessLog.length > 0 };
}
