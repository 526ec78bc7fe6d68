import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AnySchema,
  Cluster_DiscoveryType,
  Cluster_LbPolicy,
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  create,
  decode,
  decodeJson,
  type DescMessage,
  durationFromMs,
  encode,
  encodeJson,
  envoyRegistry,
  equals,
  HttpConnectionManagerSchema,
  HttpProtocolOptionsSchema,
  ListenerSchema,
  type MessageShape,
  OriginalDstSchema,
  packAny,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  RouterSchema,
  SecretSchema,
  TcpProxySchema,
  typeUrl,
  unpackAny,
  UpstreamTlsContextSchema,
} from './proto.js';
import { validateRules } from './validate-rules.js';

const router = create(RouterSchema, {});

const listener = create(ListenerSchema, {
  name: 'outbound-listener',
  address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } } } },
  listenerFilters: [{ name: 'envoy.filters.listener.original_dst', configType: { case: 'typedConfig', value: packAny(OriginalDstSchema, create(OriginalDstSchema, {})) } }],
  filterChains: [
    {
      name: 'outbound_shop/api_80_http',
      filterChainMatch: { destinationPort: 80, prefixRanges: [{ addressPrefix: '10.0.0.1', prefixLen: 32 }] },
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        configType: {
          case: 'typedConfig',
          value: packAny(HttpConnectionManagerSchema, create(HttpConnectionManagerSchema, {
            statPrefix: 'outbound_shop/api_80',
            routeSpecifier: { case: 'rds', value: { routeConfigName: 'rds-outbound.80', configSource: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 } } },
            httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: packAny(RouterSchema, router) } }],
          })),
        },
      }],
    },
    {
      name: 'outbound_shop/db_5432_tcp',
      filterChainMatch: { destinationPort: 5432 },
      filters: [{ name: 'envoy.filters.network.tcp_proxy', configType: { case: 'typedConfig', value: packAny(TcpProxySchema, create(TcpProxySchema, { statPrefix: 'db', clusterSpecifier: { case: 'cluster', value: 'shop/db|5432' } })) } }],
    },
  ],
});

const cluster = create(ClusterSchema, {
  name: 'shop/api|8080',
  clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
  edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 }, serviceName: 'shop/api|8080' },
  connectTimeout: durationFromMs(1500),
  lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  maxRequestsPerConnection: 100,
  circuitBreakers: { thresholds: [{ maxConnections: 1024, maxRetries: 3 }] },
  transportSocket: {
    name: 'envoy.transport_sockets.tls',
    configType: {
      case: 'typedConfig',
      value: packAny(UpstreamTlsContextSchema, create(UpstreamTlsContextSchema, {
        sni: 'api.shop.svc.cluster.local',
        commonTlsContext: { alpnProtocols: ['osm'], tlsCertificateSdsSecretConfigs: [{ name: 'service-cert:web/web' }] },
      })),
    },
  },
  typedExtensionProtocolOptions: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': packAny(HttpProtocolOptionsSchema, create(HttpProtocolOptionsSchema, {
      upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
    })),
  },
});

const routeConfiguration = create(RouteConfigurationSchema, {
  name: 'rds-outbound.80',
  virtualHosts: [{
    name: 'outbound_virtual-host|api.shop',
    domains: ['api.shop', 'api.shop.svc.cluster.local', 'api.shop:80'],
    routes: [{
      match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: ':method', headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'exact', value: 'GET' } } } }] },
      action: {
        case: 'route',
        value: {
          clusterSpecifier: { case: 'weightedClusters', value: { clusters: [{ name: 'shop/api-v1|8080', weight: 80 }, { name: 'shop/api-v2|8080', weight: 20 }] } },
          timeout: durationFromMs(15_000),
        },
      },
    }],
  }],
});

const roundTrips: Array<{ name: string; schema: DescMessage; message: MessageShape<DescMessage> }> = [
  { name: 'Listener', schema: ListenerSchema, message: listener },
  { name: 'Cluster', schema: ClusterSchema, message: cluster },
  { name: 'RouteConfiguration', schema: RouteConfigurationSchema, message: routeConfiguration },
  { name: 'ClusterLoadAssignment', schema: ClusterLoadAssignmentSchema, message: create(ClusterLoadAssignmentSchema, { clusterName: 'shop/api|8080', endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '10.0.0.1', portSpecifier: { case: 'portValue', value: 8080 } } } } } } }] }] }) },
];

for (const c of roundTrips) {
  test(`${c.name} survives an encode/decode round trip byte for byte`, () => {
    const bytes = encode(c.schema, c.message);
    const decoded = decode(c.schema, bytes);
    assert.ok(equals(c.schema, decoded, c.message), 'decoded message equals the original');
    assert.deepEqual(encode(c.schema, decoded), bytes);
  });
  test(`${c.name} example satisfies Envoy's validate rules, typed configs included`, () => {
    assert.deepEqual(validateRules(c.schema, c.message, { registry: envoyRegistry }), []);
  });
  test(`${c.name} survives a proto3 JSON round trip`, () => {
    const json = encodeJson(c.schema, c.message);
    assert.ok(equals(c.schema, decodeJson(c.schema, json), c.message));
  });
}

test('typeUrl and the resource type URLs use type.googleapis.com and the full message name', () => {
  assert.equal(typeUrl(ListenerSchema), 'type.googleapis.com/envoy.config.listener.v3.Listener');
  assert.deepEqual({ ...ResourceTypeUrl }, {
    listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
    routeConfiguration: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
    cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
    clusterLoadAssignment: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
    secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
  });
  assert.equal(typeUrl(SecretSchema), ResourceTypeUrl.secret);
});

test('packAny then unpackAny gives the message back', () => {
  const any = packAny(ClusterSchema, cluster);
  assert.equal(any.typeUrl, ResourceTypeUrl.cluster);
  assert.deepEqual(any.value, encode(ClusterSchema, cluster));
  const result = unpackAny(any, ClusterSchema);
  assert.ok(result.ok);
  assert.ok(equals(ClusterSchema, result.message, cluster));
});

const unpackFailures = [
  { name: 'a different type URL', any: packAny(RouterSchema, router), want: /expected type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster, got .*Router/ },
  { name: 'an empty type URL', any: create(AnySchema, {}), want: /got \(empty type URL\)/ },
  { name: 'truncated bytes', any: create(AnySchema, { typeUrl: ResourceTypeUrl.cluster, value: encode(ClusterSchema, cluster).subarray(0, 7) }), want: /^malformed envoy\.config\.cluster\.v3\.Cluster: / },
];
for (const c of unpackFailures) {
  test(`unpackAny reports ${c.name}`, () => {
    const result = unpackAny(c.any, ClusterSchema);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.reason, c.want);
  });
}

test('encode writes map entries in key order whatever the insertion order, and leaves the input alone', () => {
  const options = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, packAny(RouterSchema, router)]));
  const metadata = (keys: string[]) => ({ filterMetadata: { 'envoy.lb': Object.fromEntries(keys.map((k) => [k, k])) } });
  const sorted = create(ClusterSchema, { name: 'c', typedExtensionProtocolOptions: options(['a.x', 'b.y', 'c.z']), metadata: metadata(['canary', 'version', 'zone']) });
  const shuffled = create(ClusterSchema, { name: 'c', typedExtensionProtocolOptions: options(['c.z', 'a.x', 'b.y']), metadata: metadata(['zone', 'canary', 'version']) });
  assert.deepEqual(encode(ClusterSchema, shuffled), encode(ClusterSchema, sorted));
  assert.deepEqual(Object.keys(shuffled.typedExtensionProtocolOptions), ['c.z', 'a.x', 'b.y']);
  assert.deepEqual(Object.keys(shuffled.metadata?.filterMetadata['envoy.lb'] ?? {}), ['zone', 'canary', 'version']);
});

test('encode puts integer-like map keys first, in numeric order, as JavaScript objects do', () => {
  const labels = (keys: string[]) => create(ClusterSchema, { name: 'c', metadata: { filterMetadata: Object.fromEntries(keys.map((k) => [k, {}])) } });
  assert.deepEqual(encode(ClusterSchema, labels(['b', '10', 'a', '9'])), encode(ClusterSchema, labels(['9', '10', 'a', 'b'])));
});
