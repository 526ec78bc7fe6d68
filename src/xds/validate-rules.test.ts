import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFileRegistry, setExtension } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FieldOptionsSchema,
  FileDescriptorProtoSchema,
  MessageOptionsSchema,
  type FieldOptions,
  type MessageOptions,
} from '@bufbuild/protobuf/wkt';
import {
  AnySchema,
  BootstrapSchema,
  Cluster_LbPolicy,
  ClusterSchema,
  create,
  type DescMessage,
  durationFromMs,
  envoyRegistry,
  HttpConnectionManagerSchema,
  HttpProtocolOptionsSchema,
  ListenerSchema,
  type MessageInitShape,
  type MessageShape,
  packAny,
  RoundRobinSchema,
  RouteConfigurationSchema,
  typeUrl,
} from './proto.js';
import { disabled, FieldRulesSchema, file_validate_validate, rules } from '../gen/validate/validate_pb.js';
import { unsupportedRules, validateRules } from './validate-rules.js';

/** `path rule` for each violation: tests assert where and which rule, not the wording. */
function broken(schema: DescMessage, message: MessageShape<DescMessage>, registry = false): string[] {
  return validateRules(schema, message, registry ? { registry: envoyRegistry } : {}).map((v) => `${v.path} ${v.rule}`);
}

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} }, resourceApiVersion: 2 };

function listenerWith(filterChain: MessageInitShape<typeof ListenerSchema> = {}) {
  return create(ListenerSchema, { name: 'outbound-listener', ...filterChain });
}

function routesWith(route: object, vhost: object = {}) {
  return create(RouteConfigurationSchema, {
    name: 'rds-outbound.80',
    virtualHosts: [{ name: 'vh', domains: ['api.shop'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, ...route }], ...vhost }],
  });
}

const toCluster = { action: { case: 'route' as const, value: { clusterSpecifier: { case: 'cluster' as const, value: 'shop/api|80' } } } };

function clusterWith(fields: object) {
  return create(ClusterSchema, { name: 'shop/api|80', ...fields });
}

const hcm = (fields: object) => create(HttpConnectionManagerSchema, { statPrefix: 'in', routeSpecifier: { case: 'rds', value: { routeConfigName: 'rds-inbound.80', configSource: ads } }, ...fields });

const protocolOptions = (overrideAutoSniHeader: string) => create(HttpProtocolOptionsSchema, {
  upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
  upstreamHttpProtocolOptions: { overrideAutoSniHeader },
});

const healthCheck = (fields: object) => ({ interval: durationFromMs(1000), unhealthyThreshold: 3, healthyThreshold: 2, healthChecker: { case: 'tcpHealthCheck' as const, value: {} }, ...fields });

interface Case {
  name: string;
  schema: DescMessage;
  bad: MessageShape<DescMessage>;
  good: MessageShape<DescMessage>;
  want: string[];
  registry?: boolean;
}

// Real Envoy messages, each breaking one rule its proto declares, beside a fixed twin.
const cases: Case[] = [
  {
    name: 'string.min_len: a Listener filter with an empty name',
    schema: ListenerSchema,
    bad: listenerWith({ filterChains: [{ filters: [{ name: '' }] }] }),
    good: listenerWith({ filterChains: [{ filters: [{ name: 'envoy.filters.network.tcp_proxy' }] }] }),
    want: ['filter_chains[0].filters[0].name string.min_len'],
  },
  {
    name: 'duration.gt: a Cluster with connect_timeout 0s',
    schema: ClusterSchema,
    bad: clusterWith({ connectTimeout: durationFromMs(0) }),
    good: clusterWith({ connectTimeout: durationFromMs(250) }),
    want: ['connect_timeout duration.gt'],
  },
  {
    name: 'duration.lt: a Bootstrap stats flush interval of 300s',
    schema: BootstrapSchema,
    bad: create(BootstrapSchema, { statsFlushInterval: durationFromMs(300_000) }),
    good: create(BootstrapSchema, { statsFlushInterval: durationFromMs(5_000) }),
    want: ['stats_flush_interval duration.lt'],
  },
  {
    name: 'duration.gte: a Bootstrap stats flush interval under 1ms',
    schema: BootstrapSchema,
    bad: create(BootstrapSchema, { statsFlushInterval: { nanos: 999_999 } }),
    good: create(BootstrapSchema, { statsFlushInterval: { nanos: 1_000_000 } }),
    want: ['stats_flush_interval duration.gte'],
  },
  {
    name: 'duration.required: a health check without a timeout',
    schema: ClusterSchema,
    bad: clusterWith({ healthChecks: [healthCheck({})] }),
    good: clusterWith({ healthChecks: [healthCheck({ timeout: durationFromMs(1000) })] }),
    want: ['health_checks[0].timeout duration.required'],
  },
  {
    name: 'message.required: a route without a match',
    schema: RouteConfigurationSchema,
    bad: routesWith({ match: undefined, ...toCluster }),
    good: routesWith(toCluster),
    want: ['virtual_hosts[0].routes[0].match message.required'],
  },
  {
    name: 'oneof.required: a route with no action',
    schema: RouteConfigurationSchema,
    bad: routesWith({}),
    good: routesWith(toCluster),
    want: ['virtual_hosts[0].routes[0].action oneof.required'],
  },
  {
    name: 'string.min_len: a route header matcher with an empty name',
    schema: RouteConfigurationSchema,
    bad: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: '', headerMatchSpecifier: { case: 'presentMatch', value: true } }] } }),
    good: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x-user', headerMatchSpecifier: { case: 'presentMatch', value: true } }] } }),
    want: ['virtual_hosts[0].routes[0].match.headers[0].name string.min_len'],
  },
  {
    name: 'string.well_known_regex (strict: false): a header matcher name with a newline',
    schema: RouteConfigurationSchema,
    bad: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x-user\n', headerMatchSpecifier: { case: 'presentMatch', value: true } }] } }),
    good: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'prefix', value: '/' }, headers: [{ name: 'x user', headerMatchSpecifier: { case: 'presentMatch', value: true } }] } }),
    want: ['virtual_hosts[0].routes[0].match.headers[0].name string.well_known_regex'],
  },
  {
    name: 'string.well_known_regex HTTP_HEADER_NAME (strict): an SNI header name with a space',
    schema: HttpProtocolOptionsSchema,
    bad: protocolOptions('x sni'),
    good: protocolOptions('x-sni'),
    want: ['upstream_http_protocol_options.override_auto_sni_header string.well_known_regex'],
  },
  {
    name: 'string.ignore_empty: an empty SNI header name is not checked',
    schema: HttpProtocolOptionsSchema,
    bad: protocolOptions(':'),
    good: protocolOptions(''),
    want: ['upstream_http_protocol_options.override_auto_sni_header string.well_known_regex'],
  },
  {
    name: 'string.pattern: a path_separated_prefix ending in a slash',
    schema: RouteConfigurationSchema,
    bad: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/api/' } } }),
    good: routesWith({ ...toCluster, match: { pathSpecifier: { case: 'pathSeparatedPrefix', value: '/api' } } }),
    want: ['virtual_hosts[0].routes[0].match.path_separated_prefix string.pattern'],
  },
  {
    name: 'string.max_bytes: a request header name over 16 KiB',
    schema: RouteConfigurationSchema,
    bad: create(RouteConfigurationSchema, { requestHeadersToAdd: [{ header: { key: 'x'.repeat(16_385), value: 'v' } }] }),
    good: create(RouteConfigurationSchema, { requestHeadersToAdd: [{ header: { key: 'x'.repeat(16_384), value: 'v' } }] }),
    want: ['request_headers_to_add[0].header.key string.max_bytes'],
  },
  {
    name: 'bytes.max_len: a raw header value over 16 KiB',
    schema: RouteConfigurationSchema,
    bad: create(RouteConfigurationSchema, { requestHeadersToAdd: [{ header: { key: 'x-a', rawValue: new Uint8Array(16_385) } }] }),
    good: create(RouteConfigurationSchema, { requestHeadersToAdd: [{ header: { key: 'x-a', rawValue: new Uint8Array(16_384) } }] }),
    want: ['request_headers_to_add[0].header.raw_value bytes.max_len'],
  },
  {
    name: 'string.in: an HCM scheme_to_overwrite other than http or https',
    schema: HttpConnectionManagerSchema,
    bad: hcm({ schemeHeaderTransformation: { transformation: { case: 'schemeToOverwrite', value: 'ftp' } } }),
    good: hcm({ schemeHeaderTransformation: { transformation: { case: 'schemeToOverwrite', value: 'https' } } }),
    want: ['scheme_header_transformation.scheme_to_overwrite string.in'],
  },
  {
    name: 'uint32.gte: a direct response status of 99',
    schema: RouteConfigurationSchema,
    bad: routesWith({ action: { case: 'directResponse', value: { status: 99 } } }),
    good: routesWith({ action: { case: 'directResponse', value: { status: 503 } } }),
    want: ['virtual_hosts[0].routes[0].direct_response.status uint32.gte'],
  },
  {
    name: 'uint32.lt: a direct response status of 600',
    schema: RouteConfigurationSchema,
    bad: routesWith({ action: { case: 'directResponse', value: { status: 600 } } }),
    good: routesWith({ action: { case: 'directResponse', value: { status: 599 } } }),
    want: ['virtual_hosts[0].routes[0].direct_response.status uint32.lt'],
  },
  {
    name: 'uint32.lte on a UInt32Value wrapper: destination port 70000',
    schema: ListenerSchema,
    bad: listenerWith({ filterChains: [{ filterChainMatch: { destinationPort: 70_000 } }] }),
    good: listenerWith({ filterChains: [{ filterChainMatch: { destinationPort: 8080 } }] }),
    want: ['filter_chains[0].filter_chain_match.destination_port uint32.lte'],
  },
  {
    name: 'uint32.gte on a wrapper set to 0: destination port 0 is set, not absent',
    schema: ListenerSchema,
    bad: listenerWith({ filterChains: [{ filterChainMatch: { destinationPort: 0 } }] }),
    good: listenerWith({ filterChains: [{ filterChainMatch: {} }] }),
    want: ['filter_chains[0].filter_chain_match.destination_port uint32.gte'],
  },
  {
    name: 'repeated.items uint32.gte: source port 0',
    schema: ListenerSchema,
    bad: listenerWith({ filterChains: [{ filterChainMatch: { sourcePorts: [443, 0] } }] }),
    good: listenerWith({ filterChains: [{ filterChainMatch: { sourcePorts: [443, 1] } }] }),
    want: ['filter_chains[0].filter_chain_match.source_ports[1] uint32.gte'],
  },
  {
    name: 'double.gte on a DoubleValue: a preconnect ratio under 1',
    schema: ClusterSchema,
    bad: clusterWith({ preconnectPolicy: { perUpstreamPreconnectRatio: 0.5 } }),
    good: clusterWith({ preconnectPolicy: { perUpstreamPreconnectRatio: 1.5 } }),
    want: ['preconnect_policy.per_upstream_preconnect_ratio double.gte'],
  },
  {
    name: 'double.lte on a DoubleValue: a preconnect ratio over 3',
    schema: ClusterSchema,
    bad: clusterWith({ preconnectPolicy: { perUpstreamPreconnectRatio: 3.5 } }),
    good: clusterWith({ preconnectPolicy: { perUpstreamPreconnectRatio: 3 } }),
    want: ['preconnect_policy.per_upstream_preconnect_ratio double.lte'],
  },
  {
    name: 'enum.defined_only: a Cluster lb_policy that is no LbPolicy',
    schema: ClusterSchema,
    bad: clusterWith({ lbPolicy: 99 }),
    good: clusterWith({ lbPolicy: Cluster_LbPolicy.LEAST_REQUEST }),
    want: ['lb_policy enum.defined_only'],
  },
  {
    name: 'enum.not_in: an HTTP health check using CONNECT',
    schema: ClusterSchema,
    // envoy.config.core.v3.RequestMethod: 1 GET, 6 CONNECT.
    bad: clusterWith({ healthChecks: [healthCheck({ timeout: durationFromMs(1000), healthChecker: { case: 'httpHealthCheck', value: { path: '/healthz', method: 6 } } })] }),
    good: clusterWith({ healthChecks: [healthCheck({ timeout: durationFromMs(1000), healthChecker: { case: 'httpHealthCheck', value: { path: '/healthz', method: 1 } } })] }),
    want: ['health_checks[0].http_health_check.method enum.not_in'],
  },
  {
    name: 'repeated.min_items: a virtual host with no domains',
    schema: RouteConfigurationSchema,
    bad: routesWith(toCluster, { domains: [] }),
    good: routesWith(toCluster, { domains: ['*'] }),
    want: ['virtual_hosts[0].domains repeated.min_items'],
  },
  {
    name: 'repeated.items string.well_known_regex: a domain with a newline',
    schema: RouteConfigurationSchema,
    bad: routesWith(toCluster, { domains: ['api.shop', 'api\n'] }),
    good: routesWith(toCluster, { domains: ['api.shop', 'api.shop:80'] }),
    want: ['virtual_hosts[0].domains[1] string.well_known_regex'],
  },
  {
    name: 'repeated.unique: an internal redirect policy copying one header twice',
    schema: RouteConfigurationSchema,
    bad: routesWith({ action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' }, internalRedirectPolicy: { responseHeadersToCopy: ['x-a', 'x-b', 'x-a'] } } } }),
    good: routesWith({ action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'c' }, internalRedirectPolicy: { responseHeadersToCopy: ['x-a', 'x-b'] } } } }),
    want: ['virtual_hosts[0].routes[0].route.internal_redirect_policy.response_headers_to_copy repeated.unique'],
  },
  {
    name: 'any.required: a load-balancing policy extension without typed_config',
    schema: ClusterSchema,
    bad: clusterWith({ loadBalancingPolicy: { policies: [{ typedExtensionConfig: { name: 'envoy.load_balancing_policies.round_robin' } }] } }),
    good: clusterWith({ loadBalancingPolicy: { policies: [{ typedExtensionConfig: { name: 'envoy.load_balancing_policies.round_robin', typedConfig: packAny(RoundRobinSchema, create(RoundRobinSchema, {})) } }] } }),
    want: ['load_balancing_policy.policies[0].typed_extension_config.typed_config any.required'],
  },
  {
    name: 'map keys string.min_len: Cluster metadata under an empty filter name',
    schema: ClusterSchema,
    bad: clusterWith({ metadata: { filterMetadata: { '': { version: 'v1' } } } }),
    good: clusterWith({ metadata: { filterMetadata: { 'envoy.lb': { version: 'v1' } } } }),
    want: ['metadata.filter_metadata[""] (key) string.min_len'],
  },
  {
    name: 'map.min_pairs: a Listener filter-chain matcher with an empty exact-match map',
    schema: ListenerSchema,
    bad: listenerWith({ filterChainMatcher: { matcherType: { case: 'matcherTree', value: { input: { name: 'port', typedConfig: create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput' }) }, treeType: { case: 'exactMatchMap', value: { map: {} } } } } } }),
    good: listenerWith({ filterChainMatcher: { matcherType: { case: 'matcherTree', value: { input: { name: 'port', typedConfig: create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DestinationPortInput' }) }, treeType: { case: 'exactMatchMap', value: { map: { '80': { onMatch: { case: 'action', value: { name: 'http', typedConfig: create(AnySchema, { typeUrl: 'type.googleapis.com/google.protobuf.StringValue' }) } } } } } } } } } }),
    want: ['filter_chain_matcher.matcher_tree.exact_match_map.map map.min_pairs'],
  },
  {
    name: 'bool.const: a listener filter disabled by any_match false',
    schema: ListenerSchema,
    bad: listenerWith({ listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', filterDisabled: { rule: { case: 'anyMatch', value: false } } }] }),
    good: listenerWith({ listenerFilters: [{ name: 'envoy.filters.listener.tls_inspector', filterDisabled: { rule: { case: 'anyMatch', value: true } } }] }),
    want: ['listener_filters[0].filter_disabled.any_match bool.const'],
  },
  {
    name: 'inside an Any (with a registry): an HCM with an empty stat_prefix',
    schema: ListenerSchema,
    registry: true,
    bad: listenerWith({ filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: packAny(HttpConnectionManagerSchema, hcm({ statPrefix: '' })) } }] }] }),
    good: listenerWith({ filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: packAny(HttpConnectionManagerSchema, hcm({})) } }] }] }),
    want: ['filter_chains[0].filters[0].typed_config<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager>.stat_prefix string.min_len'],
  },
  {
    name: 'any.decode (with a registry): HCM bytes that do not parse',
    schema: ListenerSchema,
    registry: true,
    bad: listenerWith({ filterChains: [{ filters: [{ name: 'hcm', configType: { case: 'typedConfig', value: create(AnySchema, { typeUrl: typeUrl(HttpConnectionManagerSchema), value: new Uint8Array([0x0a, 0x05, 0x61]) }) } }] }] }),
    good: listenerWith({ filterChains: [{ filters: [{ name: 'hcm', configType: { case: 'typedConfig', value: create(AnySchema, { typeUrl: 'type.googleapis.com/example.Unknown', value: new Uint8Array([0x0a, 0x05, 0x61]) }) } }] }] }),
    want: ['filter_chains[0].filters[0].typed_config<envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager> any.decode'],
  },
];

for (const c of cases) {
  test(`${c.name}: caught`, () => assert.deepEqual(broken(c.schema, c.bad, c.registry), c.want));
  test(`${c.name}: the fixed twin passes`, () => assert.deepEqual(broken(c.schema, c.good, c.registry), []));
}

test('without a registry, Any contents are not checked', () => {
  const bad = cases.find((c) => c.name.startsWith('inside an Any'));
  assert.ok(bad);
  assert.deepEqual(broken(bad.schema, bad.bad, false), []);
});

test('violations carry a readable message with the field path', () => {
  const [violation] = validateRules(ListenerSchema, listenerWith({ filterChains: [{ filters: [{ name: '' }] }] }));
  assert.deepEqual(violation, { path: 'filter_chains[0].filters[0].name', rule: 'string.min_len', message: 'must be at least 1 character' });
});

test('one message collects every violation, in field order', () => {
  const message = clusterWith({ connectTimeout: durationFromMs(0), lbPolicy: 42, healthChecks: [healthCheck({ interval: undefined })] });
  assert.deepEqual(broken(ClusterSchema, message), [
    'connect_timeout duration.gt',
    'lb_policy enum.defined_only',
    'health_checks[0].timeout duration.required',
    'health_checks[0].interval duration.required',
  ]);
});

test('every rule the generated Envoy protos use is implemented', () => {
  const unsupported = new Set<string>();
  for (const desc of envoyRegistry) {
    if (desc.kind === 'message') for (const rule of unsupportedRules(desc)) unsupported.add(rule);
  }
  assert.deepEqual([...unsupported], []);
});

// Rules no Envoy message we generate carries, on a message type described here at run time.
function testMessageType(fieldOptions: FieldOptions, messageOptions?: MessageOptions): DescMessage {
  const file = create(FileDescriptorProtoSchema, {
    name: 'osm_test.proto',
    package: 'osmtest',
    syntax: 'proto3',
    dependency: ['validate/validate.proto'],
    messageType: [{
      name: 'Contact',
      options: messageOptions,
      field: [{ name: 'email', jsonName: 'email', number: 1, type: FieldDescriptorProto_Type.STRING, label: FieldDescriptorProto_Label.OPTIONAL, options: fieldOptions }],
    }],
  });
  const desc = createFileRegistry(file, (name) => (name === 'validate/validate.proto' ? file_validate_validate : undefined)).getMessage('osmtest.Contact');
  assert.ok(desc);
  return desc;
}

const emailRule = () => {
  const options = create(FieldOptionsSchema);
  setExtension(options, rules, create(FieldRulesSchema, { type: { case: 'string', value: { wellKnown: { case: 'email', value: true } } } }));
  return options;
};

test('a rule the checker does not implement is a violation, and unsupportedRules lists it', () => {
  const contact = testMessageType(emailRule());
  assert.deepEqual(broken(contact, create(contact, {})), ['email unsupported']);
  assert.deepEqual(unsupportedRules(contact), ['osmtest.Contact.email: string.email']);
});

test('(validate.disabled) on a message turns its rules off', () => {
  const messageOptions = create(MessageOptionsSchema);
  setExtension(messageOptions, disabled, true);
  const contact = testMessageType(emailRule(), messageOptions);
  assert.deepEqual(broken(contact, create(contact, {})), []);
});
