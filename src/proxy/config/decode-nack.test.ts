/**
 * What the sidecar refuses, and exactly how it says so: each case is a resource, the decoder,
 * and the one issue (field path and message) its NACK must carry.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AddressSchema,
  AnySchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterSchema,
  create,
  DownstreamTlsContextSchema,
  HealthCheckSchema,
  HttpConnectionManagerSchema,
  ListenerSchema,
  packAny,
  RouteConfigurationSchema,
  RouterSchema,
  SecretSchema,
  TcpProxySchema,
  type Any,
  type DescMessage,
  type HealthCheck,
  type MessageInitShape,
  type RouteConfiguration,
} from '../../xds/proto.js';
import { decodeCluster } from './decode-cluster.js';
import { decodeListener } from './decode-listener.js';
import { decodeRouteConfiguration } from './decode-route.js';
import { decodeSecret } from './decode-secret.js';
import type { ConfigIssue, Decoded } from './model.js';

const typed = <Desc extends DescMessage>(name: string, schema: Desc, init: MessageInitShape<Desc>) => ({ name, configType: { case: 'typedConfig' as const, value: packAny(schema, create(schema, init)) } });
const opaque = (typeName: string): Any => create(AnySchema, { typeUrl: `type.googleapis.com/${typeName}`, value: new Uint8Array() });
const address = { address: { case: 'socketAddress' as const, value: { address: '0.0.0.0', portSpecifier: { case: 'portValue' as const, value: 15001 } } } };
const tcp = typed('envoy.filters.network.tcp_proxy', TcpProxySchema, { statPrefix: 't', clusterSpecifier: { case: 'cluster', value: 'c' } });
const router = typed('envoy.filters.http.router', RouterSchema, {});
const forward = { case: 'route' as const, value: { clusterSpecifier: { case: 'cluster' as const, value: 'c' } } };
const seconds = (n: number) => ({ seconds: BigInt(n), nanos: 0 });
type ClusterInit = MessageInitShape<typeof ClusterSchema>;
/** An ORIGINAL_DST cluster (valid on its own) with `init` added. */
const passthrough = (init: ClusterInit) => decodeCluster(create(ClusterSchema, { name: 'passthrough', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST }, lbPolicy: Cluster_LbPolicy.CLUSTER_PROVIDED, ...init }));
/** A HealthCheck's init fields (the message-typed member of the init union left out, so it spreads). */
type HealthCheckInit = Exclude<MessageInitShape<typeof HealthCheckSchema>, HealthCheck>;
const httpCheck = (http: object, more: HealthCheckInit = {}): HealthCheckInit => ({
  timeout: seconds(1),
  interval: seconds(10),
  unhealthyThreshold: 3,
  healthyThreshold: 1,
  healthChecker: { case: 'httpHealthCheck', value: { path: '/healthz/osm', ...http } },
  ...more,
});

function hcmWith(routeConfig: MessageInitShape<typeof RouteConfigurationSchema>, httpFilters = [router]) {
  return typed('envoy.filters.network.http_connection_manager', HttpConnectionManagerSchema, { statPrefix: 'h', routeSpecifier: { case: 'routeConfig', value: routeConfig }, httpFilters });
}

function routes(...rs: NonNullable<MessageInitShape<typeof RouteConfigurationSchema>['virtualHosts']>[number]['routes'] & object[]): RouteConfiguration {
  return create(RouteConfigurationSchema, { name: 'r', virtualHosts: [{ name: 'vh', domains: ['*'], routes: rs }] });
}

function listener(init: MessageInitShape<typeof ListenerSchema>) {
  const l = create(ListenerSchema, init);
  l.name ||= 'l';
  l.address ??= create(AddressSchema, address);
  return l;
}

interface Case {
  name: string;
  decode: () => Decoded<unknown>;
  want: ConfigIssue;
}

const HCM = 'typed_config<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>';

const cases: Case[] = [
  {
    name: 'an unknown network filter',
    decode: () => decodeListener(listener({ filterChains: [{ filters: [{ name: 'mongo', configType: { case: 'typedConfig', value: opaque('envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy') } }] }] })),
    want: { path: 'filter_chains[0].filters[0].typed_config', message: 'the network filter type envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy is not supported by the sidecar' },
  },
  {
    name: 'a regex that is not RE2, deep in an inline route config',
    decode: () =>
      decodeListener(
        listener({
          filterChains: [
            { filters: [tcp] },
            { filters: [hcmWith(routes({ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: forward }, { match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/books/(?=new)' } } }, action: forward }))] },
          ],
        }),
      ),
    want: { path: `filter_chains[1].filters[0].${HCM}.route_config.virtual_hosts[0].routes[1].match.safe_regex.regex`, message: 'not RE2: a lookahead "(?=...)" (invalid or unsupported Perl syntax: `(?=`)' },
  },
  {
    name: 'an ORIGINAL_DST cluster without CLUSTER_PROVIDED',
    decode: () => decodeCluster(create(ClusterSchema, { name: 'passthrough', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.ORIGINAL_DST }, lbPolicy: Cluster_LbPolicy.ROUND_ROBIN })),
    want: { path: 'lb_policy', message: 'an ORIGINAL_DST cluster must use CLUSTER_PROVIDED, not ROUND_ROBIN' },
  },
  {
    name: 'a DNS cluster',
    decode: () => decodeCluster(create(ClusterSchema, { name: 'dns', clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS } })),
    want: { path: 'type', message: 'STRICT_DNS clusters are not supported by the sidecar (EDS, STATIC, ORIGINAL_DST)' },
  },
  {
    name: 'weighted clusters whose weights add up to 0',
    decode: () => decodeRouteConfiguration(routes({ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'a', weight: 0 }, { name: 'b', weight: 0 }] } } } } })),
    want: { path: 'virtual_hosts[0].routes[0].route.weighted_clusters.clusters', message: 'the weights add up to 0: no cluster can be chosen' },
  },
  {
    name: 'a listener without an address',
    decode: () => decodeListener(create(ListenerSchema, { name: 'l', filterChains: [{ filters: [tcp] }] })),
    want: { path: 'address', message: 'required: the sidecar binds listeners to a socket address' },
  },
  {
    name: 'a downstream TLS context naming no certificate',
    decode: () =>
      decodeListener(
        listener({
          listenerFilters: [],
          filterChains: [
            {
              filters: [tcp],
              transportSocket: typed('envoy.transport_sockets.tls', DownstreamTlsContextSchema, { commonTlsContext: { validationContextType: { case: 'validationContextSdsSecretConfig', value: { name: 'ca', sdsConfig: { configSourceSpecifier: { case: 'ads', value: {} } } } } } }),
            },
          ],
        }),
      ),
    want: { path: 'filter_chains[0].transport_socket.typed_config<envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext>.common_tls_context.tls_certificate_sds_secret_configs', message: 'a TLS context must name one certificate secret' },
  },
  {
    name: 'a header matcher the sidecar does not implement',
    decode: () => decodeRouteConfiguration(routes({ match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x-n', headerMatchSpecifier: { case: 'rangeMatch', value: { start: 1n, end: 5n } } }] }, action: forward })),
    want: { path: 'virtual_hosts[0].routes[0].match.headers[0].range_match', message: 'the header matcher range_match is not supported by the sidecar' },
  },
  {
    name: 'an unknown HTTP filter',
    decode: () => decodeListener(listener({ filterChains: [{ filters: [hcmWith(routes({ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: forward }), [{ name: 'lua', configType: { case: 'typedConfig', value: opaque('envoy.extensions.filters.http.lua.v3.Lua') } }, router])] }] })),
    want: { path: `filter_chains[0].filters[0].${HCM}.http_filters[0].typed_config`, message: 'the HTTP filter type envoy.extensions.filters.http.lua.v3.Lua is not supported by the sidecar' },
  },
  {
    name: 'a redirect',
    decode: () => decodeRouteConfiguration(routes({ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'redirect', value: { hostRedirect: 'x' } } })),
    want: { path: 'virtual_hosts[0].routes[0].redirect', message: 'not supported by the sidecar' },
  },
  {
    name: 'a listener setting the sidecar would ignore',
    decode: () => decodeListener(listener({ perConnectionBufferLimitBytes: 1024, filterChains: [{ filters: [tcp] }] })),
    want: { path: 'per_connection_buffer_limit_bytes', message: 'not supported by the sidecar' },
  },
  {
    name: 'an outlier detection monitor extension',
    decode: () => passthrough({ outlierDetection: { monitors: [{ name: 'm' }] } }),
    want: { path: 'outlier_detection.monitors', message: 'not supported by the sidecar' },
  },
  {
    name: 'a max ejection time below the base ejection time',
    decode: () => passthrough({ outlierDetection: { baseEjectionTime: seconds(60), maxEjectionTime: seconds(30) } }),
    want: { path: 'outlier_detection.max_ejection_time', message: 'must not be smaller than base_ejection_time' },
  },
  {
    name: 'an enforcing percentage above 100',
    decode: () => passthrough({ outlierDetection: { enforcingConsecutive5xx: 101 } }),
    want: { path: 'outlier_detection.enforcing_consecutive_5xx', message: 'must be at most 100' },
  },
  {
    name: 'a TCP health check',
    decode: () => passthrough({ healthChecks: [httpCheck({}, { healthChecker: { case: 'tcpHealthCheck', value: {} } })] }),
    want: { path: 'health_checks[0].tcp_health_check', message: 'only HTTP health checks are supported by the sidecar' },
  },
  {
    name: 'a health check without a timeout',
    decode: () => passthrough({ healthChecks: [httpCheck({}, { timeout: undefined })] }),
    want: { path: 'health_checks[0].timeout', message: 'required' },
  },
  {
    name: 'two health checks',
    decode: () => passthrough({ healthChecks: [httpCheck({}), httpCheck({})] }),
    want: { path: 'health_checks', message: 'the sidecar runs one health check per cluster' },
  },
  {
    name: 'a health check over its own TLS options',
    decode: () => passthrough({ healthChecks: [httpCheck({}, { tlsOptions: { alpnProtocols: ['h2'] } })] }),
    want: { path: 'health_checks[0].tls_options', message: 'not supported by the sidecar' },
  },
  {
    name: 'an HTTP health check by POST',
    decode: () => passthrough({ healthChecks: [httpCheck({ method: 3 })] }),
    want: { path: 'health_checks[0].http_health_check.method', message: 'POST is not supported by the sidecar (GET or HEAD)' },
  },
  {
    name: 'an HTTP health check sending a payload',
    decode: () => passthrough({ healthChecks: [httpCheck({ send: { payload: { case: 'text', value: '00' } } })] }),
    want: { path: 'health_checks[0].http_health_check.send', message: 'not supported by the sidecar' },
  },
  {
    name: 'an HTTP health check header that would break the request head',
    decode: () => passthrough({ healthChecks: [httpCheck({ requestHeadersToAdd: [{ header: { key: 'x-a', value: 'b\r\nx-evil: 1' } }] })] }),
    want: { path: 'health_checks[0].http_health_check.request_headers_to_add[0].header.value', message: 'must not contain CR, LF or NUL' },
  },
  {
    name: 'expected statuses that are not HTTP statuses',
    decode: () => passthrough({ healthChecks: [httpCheck({ expectedStatuses: [{ start: 200n, end: 700n }] })] }),
    want: { path: 'health_checks[0].http_health_check.expected_statuses[0]', message: '[200, 700) is not a range of HTTP statuses (100 <= start < end <= 600)' },
  },
  {
    name: 'a secret read from a file',
    decode: () => decodeSecret(create(SecretSchema, { name: 's', type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'filename', value: '/etc/ca.pem' } } } } })),
    want: { path: 'validation_context.trusted_ca.filename', message: 'only inline_string and inline_bytes are supported by the sidecar' },
  },
];

for (const c of cases) {
  test(`NACK: ${c.name}`, () => {
    const result = c.decode();
    assert.equal(result.ok, false, 'the resource is rejected');
    if (result.ok) return;
    assert.deepEqual(result.errors, [c.want]);
  });
}

test('access logs and stat prefixes are read or ignored, never a NACK', () => {
  const result = decodeListener(listener({ statPrefix: 'x', filterChains: [{ filters: [tcp] }] }));
  assert.ok(result.ok, JSON.stringify(result));
});

test('a decoded resource is frozen', () => {
  const result = decodeListener(listener({ filterChains: [{ filters: [tcp] }] }));
  assert.ok(result.ok);
  if (!result.ok) return;
  assert.ok(Object.isFrozen(result.value.filterChains[0]));
  assert.throws(() => (result.value as { name: string }).name = 'y', TypeError);
});


test("OSM's active health check and an empty outlier_detection decode with Envoy's defaults", () => {
  const result = passthrough({
    outlierDetection: {},
    healthChecks: [httpCheck({ host: 'bookstore.bookstore.svc.cluster.local', requestHeadersToAdd: [{ header: { key: 'x-osm-envoy-healthcheck', value: '1' } }] })],
  });
  assert.ok(result.ok, JSON.stringify(result));
  if (!result.ok) return;
  const { healthCheck, outlierDetection } = result.value;
  assert.deepEqual(healthCheck, {
    timeoutMs: 1000,
    intervalMs: 10_000,
    noTrafficIntervalMs: 60_000,
    noTrafficHealthyIntervalMs: 60_000,
    unhealthyIntervalMs: 10_000,
    unhealthyEdgeIntervalMs: 10_000,
    healthyEdgeIntervalMs: 10_000,
    initialJitterMs: 0,
    intervalJitterMs: 0,
    intervalJitterPercent: 0,
    unhealthyThreshold: 3,
    healthyThreshold: 1,
    reuseConnection: true,
    http: {
      host: 'bookstore.bookstore.svc.cluster.local',
      path: '/healthz/osm',
      method: 'GET',
      requestHeadersToAdd: [{ name: 'x-osm-envoy-healthcheck', value: '1' }],
      expectedStatuses: [{ start: 200, end: 201 }],
      retriableStatuses: [],
    },
  });
  assert.equal(outlierDetection?.consecutive5xx, 5);
  assert.equal(outlierDetection?.enforcingConsecutiveGatewayFailurePercent, 0);
  assert.equal(outlierDetection?.intervalMs, 10_000);
  assert.equal(outlierDetection?.baseEjectionTimeMs, 30_000);
  assert.equal(outlierDetection?.maxEjectionTimeMs, 300_000);
  assert.equal(outlierDetection?.maxEjectionPercent, 10);
  assert.equal(outlierDetection?.successRate.stdevFactor, 1.9);
  const plain = passthrough({});
  assert.ok(plain.ok);
  if (plain.ok) assert.equal(plain.value.healthCheck, undefined, 'absent when not configured');
});
