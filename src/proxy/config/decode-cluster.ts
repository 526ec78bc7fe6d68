/**
 * Cluster -> ClusterConfig.
 *
 * Supported: discovery types EDS (over ADS), STATIC (inline load assignment) and ORIGINAL_DST
 * (which Envoy requires to use the CLUSTER_PROVIDED lb policy); lb policies ROUND_ROBIN and
 * LEAST_REQUEST; connect timeout; UpstreamTlsContext (decode-tls.ts); default-priority circuit
 * breakers; `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` choosing HTTP/1.1, HTTP/2
 * or the downstream protocol, and max requests per connection. Rejected: DNS and custom
 * cluster types, other lb policies and load-balancing-policy extensions, health checks,
 * outlier detection, high-priority thresholds and retry budgets, upstream filters, and
 * anything else set.
 */
import {
  CircuitBreakers_ThresholdsSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  HttpProtocolOptionsSchema,
  type Any,
  type Cluster,
} from '../../xds/proto.js';
import { at, checkAdsSource, Issues, item, key, msOf, rejectUnsupported, rejectUnsupportedIn, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import { decodeAssignment } from './decode-endpoints.js';
import { decodeUpstreamTls } from './decode-tls.js';
import type { CircuitBreakerConfig, ClusterConfig, Decoded } from './model.js';

/** Envoy's default connect timeout. */
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Envoy's circuit-breaker defaults when a threshold is not given. */
const DEFAULT_LIMITS: CircuitBreakerConfig = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

const LB: Partial<Record<Cluster_LbPolicy, ClusterConfig['lbPolicy']>> = {
  [Cluster_LbPolicy.ROUND_ROBIN]: 'roundRobin',
  [Cluster_LbPolicy.LEAST_REQUEST]: 'leastRequest',
  [Cluster_LbPolicy.CLUSTER_PROVIDED]: 'clusterProvided',
};

/** Decodes a CDS resource. */
export function decodeCluster(msg: Cluster): Decoded<ClusterConfig> {
  const issues = new Issues();
  rejectUnsupported(ClusterSchema, msg, '', ['name', 'type', 'eds_cluster_config', 'connect_timeout', 'lb_policy', 'load_assignment', 'circuit_breakers', 'transport_socket', 'typed_extension_protocol_options'], issues);
  if (msg.name === '') issues.add('name', 'required');
  const type = msg.clusterDiscoveryType.case === 'type' ? msg.clusterDiscoveryType.value : Cluster_DiscoveryType.STATIC;
  const lbPolicy = LB[msg.lbPolicy];
  const lbName = Cluster_LbPolicy[msg.lbPolicy] ?? String(msg.lbPolicy);
  let discovery: ClusterConfig['discovery'] = { kind: 'originalDst' };
  if (type === Cluster_DiscoveryType.ORIGINAL_DST) {
    if (msg.lbPolicy !== Cluster_LbPolicy.CLUSTER_PROVIDED) issues.add('lb_policy', `an ORIGINAL_DST cluster must use CLUSTER_PROVIDED, not ${lbName}`);
    if (msg.loadAssignment) issues.add('load_assignment', 'an ORIGINAL_DST cluster takes its endpoint from the connection');
  } else {
    if (!lbPolicy || lbPolicy === 'clusterProvided') issues.add('lb_policy', `${lbName} is not supported by the sidecar for a ${Cluster_DiscoveryType[type] ?? type} cluster (ROUND_ROBIN or LEAST_REQUEST)`);
    if (type === Cluster_DiscoveryType.EDS) {
      checkAdsSource(msg.edsClusterConfig?.edsConfig, 'eds_cluster_config.eds_config', issues);
      if (msg.loadAssignment) issues.add('load_assignment', 'an EDS cluster takes its endpoints from EDS');
      discovery = { kind: 'eds', edsServiceName: msg.edsClusterConfig?.serviceName || msg.name };
    } else if (type === Cluster_DiscoveryType.STATIC) {
      if (msg.edsClusterConfig) issues.add('eds_cluster_config', 'only EDS clusters take an eds_cluster_config');
      if (!msg.loadAssignment) issues.add('load_assignment', 'required for a STATIC cluster');
      const endpoints = msg.loadAssignment ? decodeAssignment(msg.loadAssignment, 'load_assignment', issues) : { clusterName: msg.name, localities: [] };
      discovery = { kind: 'static', endpoints: { ...endpoints, clusterName: msg.name } };
    } else {
      issues.add('type', `${Cluster_DiscoveryType[type] ?? type} clusters are not supported by the sidecar (EDS, STATIC, ORIGINAL_DST)`);
    }
  }
  const connectTimeoutMs = msOf(msg.connectTimeout, 'connect_timeout', issues) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (connectTimeoutMs <= 0) issues.add('connect_timeout', 'must be greater than 0');
  const protocol = decodeProtocolOptions(msg.typedExtensionProtocolOptions, 'typed_extension_protocol_options', issues);
  return issues.result<ClusterConfig>({
    name: msg.name,
    discovery,
    lbPolicy: lbPolicy ?? 'roundRobin',
    connectTimeoutMs,
    tls: msg.transportSocket ? decodeUpstreamTls(msg.transportSocket, 'transport_socket', issues) : undefined,
    circuitBreakers: decodeCircuitBreakers(msg, issues),
    ...protocol,
  });
}

function decodeCircuitBreakers(msg: Cluster, issues: Issues): CircuitBreakerConfig {
  let limits = DEFAULT_LIMITS;
  msg.circuitBreakers?.thresholds.forEach((t, i) => {
    const p = item('circuit_breakers.thresholds', i);
    rejectUnsupported(CircuitBreakers_ThresholdsSchema, t, p, ['max_connections', 'max_pending_requests', 'max_requests', 'max_retries', 'track_remaining'], issues);
    limits = {
      maxConnections: t.maxConnections ?? DEFAULT_LIMITS.maxConnections,
      maxPendingRequests: t.maxPendingRequests ?? DEFAULT_LIMITS.maxPendingRequests,
      maxRequests: t.maxRequests ?? DEFAULT_LIMITS.maxRequests,
      maxRetries: t.maxRetries ?? DEFAULT_LIMITS.maxRetries,
    };
  });
  if ((msg.circuitBreakers?.thresholds.length ?? 0) > 1) issues.add('circuit_breakers.thresholds', 'the sidecar has one (DEFAULT) priority');
  return limits;
}

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

function decodeProtocolOptions(options: { readonly [k: string]: Any }, path: string, issues: Issues): Pick<ClusterConfig, 'upstreamProtocol' | 'maxRequestsPerConnection'> {
  let out: Pick<ClusterConfig, 'upstreamProtocol' | 'maxRequestsPerConnection'> = { upstreamProtocol: 'http1', maxRequestsPerConnection: undefined };
  for (const name of Object.keys(options).sort()) {
    const any = options[name];
    const p = key(path, name);
    if (!any) continue;
    if (name !== HTTP_OPTIONS_KEY || typeNameOf(any) !== HttpProtocolOptionsSchema.typeName) {
      issues.add(p, `protocol options ${name} of type ${typeNameOf(any) || '(empty type URL)'} are not supported by the sidecar`);
      continue;
    }
    const o = unpackTyped(any, HttpProtocolOptionsSchema, p, issues);
    if (!o) continue;
    const tp = typedPath(p, HttpProtocolOptionsSchema);
    rejectUnsupported(HttpProtocolOptionsSchema, o, tp, ['common_http_protocol_options', 'explicit_http_config', 'use_downstream_protocol_config'], issues);
    if (o.commonHttpProtocolOptions) rejectUnsupportedIn(o.commonHttpProtocolOptions, at(tp, 'common_http_protocol_options'), ['max_requests_per_connection'], issues);
    const u = o.upstreamProtocolOptions;
    let upstreamProtocol: ClusterConfig['upstreamProtocol'] = 'http1';
    if (u.case === 'explicitHttpConfig') {
      const c = u.value.protocolConfig;
      if (c.case === 'http2ProtocolOptions') upstreamProtocol = 'http2';
      else if (c.case !== 'httpProtocolOptions') issues.add(at(tp, 'explicit_http_config'), 'only HTTP/1.1 or HTTP/2 are supported by the sidecar');
      if (c.case === 'httpProtocolOptions' || c.case === 'http2ProtocolOptions') rejectUnsupportedIn(c.value, at(tp, `explicit_http_config.${c.case === 'http2ProtocolOptions' ? 'http2' : 'http'}_protocol_options`), [], issues);
    } else if (u.case === 'useDownstreamProtocolConfig') {
      upstreamProtocol = 'downstream';
      const d = u.value;
      if (d.http3ProtocolOptions) issues.add(at(tp, 'use_downstream_protocol_config.http3_protocol_options'), 'HTTP/3 is not supported by the sidecar');
      if (d.httpProtocolOptions) rejectUnsupportedIn(d.httpProtocolOptions, at(tp, 'use_downstream_protocol_config.http_protocol_options'), [], issues);
      if (d.http2ProtocolOptions) rejectUnsupportedIn(d.http2ProtocolOptions, at(tp, 'use_downstream_protocol_config.http2_protocol_options'), [], issues);
    }
    out = { upstreamProtocol, maxRequestsPerConnection: o.commonHttpProtocolOptions?.maxRequestsPerConnection };
  }
  return out;
}
