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
  HttpConnectionManagerSchema,
  ListenerSchema,
  packAny,
  RouteConfigurationSchema,
  RouterSchema,
  SecretSchema,
  TcpProxySchema,
  type Any,
  type DescMessage,
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

