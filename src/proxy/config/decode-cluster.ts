/**
 * Cluster -> ClusterConfig.
 *
 * Supported: discovery types EDS (over ADS), STATIC (inline load assignment) and ORIGINAL_DST
 * (which Envoy requires to use the CLUSTER_PROVIDED lb policy); lb policies ROUND_ROBIN and
 * LEAST_REQUEST; connect timeout; UpstreamTlsContext (decode-tls.ts); default-priority circuit
 * breakers; `envoy.extensions.upstreams.http.v3.HttpProtocolOptions` choosing HTTP/1.1, HTTP/2
 * or the downstream protocol, and max requests per connection; outlier detection (consecutive
 * 5xx, gateway and local-origin failures, success rate, failure percentage); one active HTTP
 * health check (GET or HEAD). Rejected: DNS and custom cluster types, other lb policies and
 * load-balancing-policy extensions, TCP/gRPC/custom health checkers, outlier monitor
 * extensions, high-priority thresholds and retry budgets, upstream filters, and anything else set.
 */
import {
  CircuitBreakers_ThresholdsSchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  HealthCheckSchema,
  HttpProtocolOptionsSchema,
  envoyRegistry,
  OutlierDetectionSchema,
  type Any,
  type Cluster,
  type HealthCheck,
  type OutlierDetection,
} from '../../xds/proto.js';
import { at, checkAdsSource, Issues, item, key, msOf, rejectUnsupported, rejectUnsupportedIn, snake, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import { decodeAssignment } from './decode-endpoints.js';
import { decodeUpstreamTls } from './decode-tls.js';
import type { CircuitBreakerConfig, ClusterConfig, Decoded, HealthCheckConfig, OutlierDetectionConfig, StatusRange } from './model.js';

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
  rejectUnsupported(ClusterSchema, msg, '', ['name', 'type', 'eds_cluster_config', 'connect_timeout', 'lb_policy', 'load_assignment', 'circuit_breakers', 'transport_socket', 'typed_extension_protocol_options', 'outlier_detection', 'health_checks'], issues);
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
    outlierDetection: msg.outlierDetection ? decodeOutlierDetection(msg.outlierDetection, 'outlier_detection', issues) : undefined,
    healthCheck: decodeHealthChecks(msg.healthChecks, 'health_checks', issues),
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

/** A percentage field (0 to 100) with Envoy's default when unset. */
function percent(value: number | undefined, fallback: number, path: string, issues: Issues): number {
  if (value !== undefined && value > 100) issues.add(path, 'must be at most 100');
  return value ?? fallback;
}

/** A duration that must be greater than 0 when set. */
function positiveMs(d: Parameters<typeof msOf>[0], path: string, fallback: number, issues: Issues): number {
  const ms = msOf(d, path, issues);
  if (ms !== undefined && ms <= 0) issues.add(path, 'must be greater than 0');
  return ms ?? fallback;
}

/** Envoy's defaults (config.cluster.v3.OutlierDetection field docs). */
function decodeOutlierDetection(o: OutlierDetection, path: string, issues: Issues): OutlierDetectionConfig {
  rejectUnsupported(OutlierDetectionSchema, o, path, [
    'consecutive_5xx', 'interval', 'base_ejection_time', 'max_ejection_percent', 'enforcing_consecutive_5xx', 'enforcing_success_rate',
    'success_rate_minimum_hosts', 'success_rate_request_volume', 'success_rate_stdev_factor', 'consecutive_gateway_failure',
    'enforcing_consecutive_gateway_failure', 'split_external_local_origin_errors', 'consecutive_local_origin_failure',
    'enforcing_consecutive_local_origin_failure', 'enforcing_local_origin_success_rate', 'failure_percentage_threshold',
    'enforcing_failure_percentage', 'enforcing_failure_percentage_local_origin', 'failure_percentage_minimum_hosts',
    'failure_percentage_request_volume', 'max_ejection_time', 'max_ejection_time_jitter', 'successful_active_health_check_uneject_host',
    'always_eject_one_host',
  ], issues);
  const p = (field: string) => at(path, field);
  const baseEjectionTimeMs = positiveMs(o.baseEjectionTime, p('base_ejection_time'), 30_000, issues);
  // Envoy: an unset max_ejection_time is 300 s, or the base ejection time when that is longer.
  const maxEjectionTimeMs = positiveMs(o.maxEjectionTime, p('max_ejection_time'), Math.max(300_000, baseEjectionTimeMs), issues);
  if (maxEjectionTimeMs < baseEjectionTimeMs) issues.add(p('max_ejection_time'), 'must not be smaller than base_ejection_time');
  return {
    consecutive5xx: o.consecutive5xx ?? 5,
    enforcingConsecutive5xxPercent: percent(o.enforcingConsecutive5xx, 100, p('enforcing_consecutive_5xx'), issues),
    consecutiveGatewayFailure: o.consecutiveGatewayFailure ?? 5,
    enforcingConsecutiveGatewayFailurePercent: percent(o.enforcingConsecutiveGatewayFailure, 0, p('enforcing_consecutive_gateway_failure'), issues),
    splitExternalLocalOriginErrors: o.splitExternalLocalOriginErrors,
    consecutiveLocalOriginFailure: o.consecutiveLocalOriginFailure ?? 5,
    enforcingConsecutiveLocalOriginFailurePercent: percent(o.enforcingConsecutiveLocalOriginFailure, 100, p('enforcing_consecutive_local_origin_failure'), issues),
    intervalMs: positiveMs(o.interval, p('interval'), 10_000, issues),
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: msOf(o.maxEjectionTimeJitter, p('max_ejection_time_jitter'), issues) ?? 0,
    maxEjectionPercent: percent(o.maxEjectionPercent, 10, p('max_ejection_percent'), issues),
    alwaysEjectOneHost: o.alwaysEjectOneHost ?? false,
    successfulActiveHealthCheckUnejectHost: o.successfulActiveHealthCheckUnejectHost ?? true,
    successRate: {
      minimumHosts: o.successRateMinimumHosts ?? 5,
      requestVolume: o.successRateRequestVolume ?? 100,
      stdevFactor: (o.successRateStdevFactor ?? 1900) / 1000,
      enforcingPercent: percent(o.enforcingSuccessRate, 100, p('enforcing_success_rate'), issues),
      enforcingLocalOriginPercent: percent(o.enforcingLocalOriginSuccessRate, 100, p('enforcing_local_origin_success_rate'), issues),
    },
    failurePercentage: {
      thresholdPercent: percent(o.failurePercentageThreshold, 85, p('failure_percentage_threshold'), issues),
      minimumHosts: o.failurePercentageMinimumHosts ?? 5,
      requestVolume: o.failurePercentageRequestVolume ?? 50,
      enforcingPercent: percent(o.enforcingFailurePercentage, 0, p('enforcing_failure_percentage'), issues),
      enforcingLocalOriginPercent: percent(o.enforcingFailurePercentageLocalOrigin, 0, p('enforcing_failure_percentage_local_origin'), issues),
    },
  };
}

/** `envoy.config.core.v3.RequestMethod` numbers: METHOD_UNSPECIFIED (GET), GET, HEAD. */
const HC_METHODS: Readonly<Record<number, HealthCheckConfig['http']['method']>> = { 0: 'GET', 1: 'GET', 2: 'HEAD' };

/** Header names are tokens and values carry no CR, LF or NUL: they go into the check's request head verbatim. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;

/** The one HTTP health check the sidecar runs; Envoy's defaults from config.core.v3.HealthCheck. */
function decodeHealthChecks(list: readonly HealthCheck[], path: string, issues: Issues): HealthCheckConfig | undefined {
  if (list.length > 1) issues.add(path, 'the sidecar runs one health check per cluster');
  const hc = list[0];
  if (!hc) return undefined;
  const p = (field: string) => at(item(path, 0), field);
  rejectUnsupported(HealthCheckSchema, hc, item(path, 0), [
    'timeout', 'interval', 'initial_jitter', 'interval_jitter', 'interval_jitter_percent', 'unhealthy_threshold', 'healthy_threshold',
    'reuse_connection', 'http_health_check', 'no_traffic_interval', 'no_traffic_healthy_interval', 'unhealthy_interval',
    'unhealthy_edge_interval', 'healthy_edge_interval',
    // Checker types other than HTTP get their own message below.
    'tcp_health_check', 'grpc_health_check', 'custom_health_check',
  ], issues);
  const required = (ms: number | undefined, field: string): number => {
    if (ms === undefined) issues.add(p(field), 'required');
    return ms ?? 1;
  };
  const timeoutMs = required(hc.timeout && positiveMs(hc.timeout, p('timeout'), 1, issues), 'timeout');
  const intervalMs = required(hc.interval && positiveMs(hc.interval, p('interval'), 1, issues), 'interval');
  if (hc.unhealthyThreshold === undefined) issues.add(p('unhealthy_threshold'), 'required');
  if (hc.healthyThreshold === undefined) issues.add(p('healthy_threshold'), 'required');
  const noTrafficIntervalMs = positiveMs(hc.noTrafficInterval, p('no_traffic_interval'), 60_000, issues);
  const unhealthyIntervalMs = positiveMs(hc.unhealthyInterval, p('unhealthy_interval'), intervalMs, issues);
  const checker = hc.healthChecker;
  if (checker.case !== 'httpHealthCheck') {
    issues.add(checker.case ? p(snake(checker.case)) : p('http_health_check'), checker.case ? 'only HTTP health checks are supported by the sidecar' : 'required');
    return undefined;
  }
  const h = checker.value;
  const hp = p('http_health_check');
  rejectUnsupportedIn(h, hp, ['host', 'path', 'request_headers_to_add', 'expected_statuses', 'retriable_statuses', 'method'], issues);
  if (h.path === '') issues.add(at(hp, 'path'), 'required');
  const method = HC_METHODS[h.method];
  if (!method) {
    const name = envoyRegistry.getEnum('envoy.config.core.v3.RequestMethod')?.values.find((v) => v.number === h.method)?.name ?? String(h.method);
    issues.add(at(hp, 'method'), `${name} is not supported by the sidecar (GET or HEAD)`);
  }
  const requestHeadersToAdd = h.requestHeadersToAdd.flatMap((o, i) => {
    const op = item(at(hp, 'request_headers_to_add'), i);
    rejectUnsupportedIn(o, op, ['header', 'append', 'append_action'], issues);
    if (!o.header || o.header.key === '') {
      issues.add(at(op, 'header.key'), 'required');
      return [];
    }
    rejectUnsupportedIn(o.header, at(op, 'header'), ['key', 'value'], issues);
    if (!TOKEN.test(o.header.key)) issues.add(at(op, 'header.key'), 'not an HTTP header name');
    if (UNSAFE_VALUE.test(o.header.value)) issues.add(at(op, 'header.value'), 'must not contain CR, LF or NUL');
    return [{ name: o.header.key.toLowerCase(), value: o.header.value }];
  });
  const ranges = (list: ReadonlyArray<{ start: bigint; end: bigint }>, field: string): StatusRange[] =>
    list.map((r, i) => {
      const start = Number(r.start);
      const end = Number(r.end);
      if (start < 100 || end > 600 || start >= end) issues.add(item(at(hp, field), i), `[${start}, ${end}) is not a range of HTTP statuses (100 <= start < end <= 600)`);
      return { start, end };
    });
  const expected = ranges(h.expectedStatuses, 'expected_statuses');
  return {
    timeoutMs,
    intervalMs,
    noTrafficIntervalMs,
    noTrafficHealthyIntervalMs: positiveMs(hc.noTrafficHealthyInterval, p('no_traffic_healthy_interval'), noTrafficIntervalMs, issues),
    unhealthyIntervalMs,
    unhealthyEdgeIntervalMs: positiveMs(hc.unhealthyEdgeInterval, p('unhealthy_edge_interval'), unhealthyIntervalMs, issues),
    healthyEdgeIntervalMs: positiveMs(hc.healthyEdgeInterval, p('healthy_edge_interval'), intervalMs, issues),
    initialJitterMs: msOf(hc.initialJitter, p('initial_jitter'), issues) ?? 0,
    intervalJitterMs: msOf(hc.intervalJitter, p('interval_jitter'), issues) ?? 0,
    intervalJitterPercent: hc.intervalJitterPercent,
    unhealthyThreshold: Math.max(1, hc.unhealthyThreshold ?? 1),
    healthyThreshold: Math.max(1, hc.healthyThreshold ?? 1),
    reuseConnection: hc.reuseConnection ?? true,
    http: {
      host: h.host,
      path: h.path,
      method: method ?? 'GET',
      requestHeadersToAdd,
      expectedStatuses: expected.length > 0 ? expected : [{ start: 200, end: 201 }],
      retriableStatuses: ranges(h.retriableStatuses, 'retriable_statuses'),
    },
  };
}
