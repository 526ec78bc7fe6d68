/**
 * Envoy's default tag extraction. The first table is Envoy's own expectations
 * (test/common/stats/tag_extractor_impl_test.cc, `DefaultTagExtractors`), which compare tags as
 * a set; the second is the mesh's names, where the order of the tags (the label order in
 * `/stats/prometheus`) is part of the expectation.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractTags, type Tag } from './tag-extractor.js';

const tag = (name: string, value: string): Tag => ({ name: `envoy.${name}`, value });
const sorted = (tags: readonly Tag[]) => [...tags].sort((a, b) => (a.name + a.value < b.name + b.value ? -1 : 1));

const envoyCases: ReadonlyArray<{ name: string; extracted: string; tags: Tag[] }> = [
  { name: 'cluster.ratelimit.upstream_rq_timeout', extracted: 'cluster.upstream_rq_timeout', tags: [tag('cluster_name', 'ratelimit')] },
  { name: 'listener.[__1]_0.ssl.ciphers.AES256-SHA', extracted: 'listener.ssl.ciphers', tags: [tag('listener_address', '[__1]_0'), tag('ssl_cipher', 'AES256-SHA')] },
  {
    name: 'cluster.ratelimit.ssl.ciphers.ECDHE-RSA-AES128-GCM-SHA256',
    extracted: 'cluster.ssl.ciphers',
    tags: [tag('cluster_name', 'ratelimit'), { name: 'cipher_suite', value: 'ECDHE-RSA-AES128-GCM-SHA256' }],
  },
  {
    name: 'listener.[2001_0db8_85a3_0000_0000_8a2e_0370_7334]_3543.ssl.ciphers.AES256-SHA',
    extracted: 'listener.ssl.ciphers',
    tags: [tag('listener_address', '[2001_0db8_85a3_0000_0000_8a2e_0370_7334]_3543'), tag('ssl_cipher', 'AES256-SHA')],
  },
  { name: 'listener.127.0.0.1_0.ssl.ciphers.AES256-SHA', extracted: 'listener.ssl.ciphers', tags: [tag('listener_address', '127.0.0.1_0'), tag('ssl_cipher', 'AES256-SHA')] },
  { name: 'listener.my_prefix.ssl.ciphers.AES256-SHA', extracted: 'listener.ssl.ciphers', tags: [tag('listener_address', 'my_prefix'), tag('ssl_cipher', 'AES256-SHA')] },
  { name: 'listener.prefix.notmatching.ssl.ciphers.AES256-SHA', extracted: 'listener.notmatching.ssl.ciphers', tags: [tag('listener_address', 'prefix'), tag('ssl_cipher', 'AES256-SHA')] },
  { name: 'listener.admin.ssl.ciphers.AES256-SHA', extracted: 'listener.admin.ssl.ciphers', tags: [tag('ssl_cipher', 'AES256-SHA')] },
  { name: 'mongo.mongo_filter.op_reply', extracted: 'mongo.op_reply', tags: [tag('mongo_prefix', 'mongo_filter')] },
  { name: 'mongo.mongo_filter.cmd.foo_cmd.reply_size', extracted: 'mongo.cmd.reply_size', tags: [tag('mongo_prefix', 'mongo_filter'), tag('mongo_cmd', 'foo_cmd')] },
  {
    name: 'mongo.mongo_filter.collection.bar_collection.query.multi_get',
    extracted: 'mongo.collection.query.multi_get',
    tags: [tag('mongo_prefix', 'mongo_filter'), tag('mongo_collection', 'bar_collection')],
  },
  {
    name: 'mongo.mongo_filter.collection.bar_collection.callsite.baz_callsite.query.scatter_get',
    extracted: 'mongo.collection.callsite.query.scatter_get',
    tags: [tag('mongo_prefix', 'mongo_filter'), tag('mongo_collection', 'bar_collection'), tag('mongo_callsite', 'baz_callsite')],
  },
  { name: 'ratelimit.foo_ratelimiter.over_limit', extracted: 'ratelimit.over_limit', tags: [tag('ratelimit_prefix', 'foo_ratelimiter')] },
  { name: 'foo_ratelimiter.http_local_rate_limit.ok', extracted: 'http_local_rate_limit.ok', tags: [tag('local_http_ratelimit_prefix', 'foo_ratelimiter')] },
  { name: 'local_rate_limit.foo_ratelimiter.rate_limited', extracted: 'local_rate_limit.rate_limited', tags: [tag('local_network_ratelimit_prefix', 'foo_ratelimiter')] },
  { name: 'http.egress_dynamodb_iad.downstream_cx_total', extracted: 'http.downstream_cx_total', tags: [tag('http_conn_manager_prefix', 'egress_dynamodb_iad')] },
  {
    name: 'http.egress_dynamodb_iad.dynamodb.operation.Query.upstream_rq_time',
    extracted: 'http.dynamodb.operation.upstream_rq_time',
    tags: [tag('http_conn_manager_prefix', 'egress_dynamodb_iad'), tag('dynamo_operation', 'Query')],
  },
  {
    name: 'http.egress_dynamodb_iad.dynamodb.table.bar_table.upstream_rq_time',
    extracted: 'http.dynamodb.table.upstream_rq_time',
    tags: [tag('http_conn_manager_prefix', 'egress_dynamodb_iad'), tag('dynamo_table', 'bar_table')],
  },
  {
    name: 'http.egress_dynamodb_iad.dynamodb.table.bar_table.capacity.Query.__partition_id=ABC1234',
    extracted: 'http.dynamodb.table.capacity',
    tags: [tag('http_conn_manager_prefix', 'egress_dynamodb_iad'), tag('dynamo_table', 'bar_table'), tag('dynamo_operation', 'Query'), tag('dynamo_partition_id', 'ABC1234')],
  },
  {
    name: 'cluster.grpc_cluster.grpc.grpc_service_1.grpc_method_1.success',
    extracted: 'cluster.grpc.success',
    tags: [tag('cluster_name', 'grpc_cluster'), tag('grpc_bridge_method', 'grpc_method_1'), tag('grpc_bridge_service', 'grpc_service_1')],
  },
  {
    name: 'vhost.vhost_1.vcluster.vcluster_1.upstream_rq_2xx',
    extracted: 'vhost.vcluster.upstream_rq_xx',
    tags: [tag('virtual_host', 'vhost_1'), tag('virtual_cluster', 'vcluster_1'), tag('response_code_class', '2')],
  },
  {
    name: 'vhost.vhost_1.vcluster.vcluster_1.upstream_rq_200',
    extracted: 'vhost.vcluster.upstream_rq',
    tags: [tag('virtual_host', 'vhost_1'), tag('virtual_cluster', 'vcluster_1'), tag('response_code', '200')],
  },
  {
    name: 'listener.127.0.0.1_3012.http.http_prefix.downstream_rq_5xx',
    extracted: 'listener.http.downstream_rq_xx',
    tags: [tag('http_conn_manager_prefix', 'http_prefix'), tag('listener_address', '127.0.0.1_3012'), tag('response_code_class', '5')],
  },
  {
    name: 'http.egress_dynamodb_iad.user_agent.ios.downstream_cx_total',
    extracted: 'http.user_agent.downstream_cx_total',
    tags: [tag('http_user_agent', 'ios'), tag('http_conn_manager_prefix', 'egress_dynamodb_iad')],
  },
  { name: 'auth.clientssl.clientssl_prefix.auth_ip_allowlist', extracted: 'auth.clientssl.auth_ip_allowlist', tags: [tag('clientssl_prefix', 'clientssl_prefix')] },
  {
    name: 'tcp.tcp_prefix.downstream_flow_control_resumed_reading_total',
    extracted: 'tcp.downstream_flow_control_resumed_reading_total',
    tags: [tag('tcp_prefix', 'tcp_prefix')],
  },
  {
    name: 'udp.udp_prefix.downstream_flow_control_resumed_reading_total',
    extracted: 'udp.downstream_flow_control_resumed_reading_total',
    tags: [tag('udp_prefix', 'udp_prefix')],
  },
  {
    name: 'http.fault_connection_manager.fault.fault_cluster.aborts_injected',
    extracted: 'http.fault.aborts_injected',
    tags: [tag('http_conn_manager_prefix', 'fault_connection_manager'), tag('fault_downstream_cluster', 'fault_cluster')],
  },
  {
    name: 'http.rds_connection_manager.rds.agg/route_config.1-23.update_success',
    extracted: 'http.rds.update_success',
    tags: [tag('http_conn_manager_prefix', 'rds_connection_manager'), tag('rds_route_config', 'agg/route_config.1-23')],
  },
  {
    name: 'http.scoped_rds_connection_manager.scoped_rds.scoped_route_config.123.update_success',
    extracted: 'http.scoped_rds.update_success',
    tags: [tag('http_conn_manager_prefix', 'scoped_rds_connection_manager'), tag('scoped_rds_config', 'scoped_route_config.123')],
  },
  { name: 'listener_manager.worker_123.dispatcher.loop_duration_us', extracted: 'listener_manager.worker_dispatcher.loop_duration_us', tags: [tag('worker_id', '123')] },
  {
    name: 'listener.127.0.0.1_3012.worker_123.downstream_cx_active',
    extracted: 'listener.worker_downstream_cx_active',
    tags: [tag('listener_address', '127.0.0.1_3012'), tag('worker_id', '123')],
  },
  { name: 'listener.myprefix.worker_123.downstream_cx_active', extracted: 'listener.worker_downstream_cx_active', tags: [tag('listener_address', 'myprefix'), tag('worker_id', '123')] },
  { name: 'server.worker_123.watchdog_miss', extracted: 'server.worker_watchdog_miss', tags: [tag('worker_id', '123')] },
  { name: 'thrift.thrift_prefix.response', extracted: 'thrift.response', tags: [tag('thrift_prefix', 'thrift_prefix')] },
  { name: 'redis.my_redis_prefix.response', extracted: 'redis.response', tags: [tag('redis_prefix', 'my_redis_prefix')] },
  { name: 'dns_filter.my_dns_prefix.local_a_record_answers', extracted: 'dns_filter.local_a_record_answers', tags: [tag('dns_filter_prefix', 'my_dns_prefix')] },
  {
    name: 'connection_limit.my_connection_limit_prefix.limited_connections',
    extracted: 'connection_limit.limited_connections',
    tags: [tag('connection_limit_prefix', 'my_connection_limit_prefix')],
  },
  { name: 'my_rbac_prefix.rbac.allowed', extracted: 'rbac.allowed', tags: [tag('rbac_prefix', 'my_rbac_prefix')] },
  { name: 'http.hcm_prefix.rbac.prefix.allowed', extracted: 'http.rbac.allowed', tags: [tag('http_conn_manager_prefix', 'hcm_prefix'), tag('rbac_http_prefix', 'prefix')] },
  {
    name: 'http.hcm_prefix.rbac.policy.my_rbac_policy.allowed',
    extracted: 'http.rbac.policy.allowed',
    tags: [tag('http_conn_manager_prefix', 'hcm_prefix'), tag('rbac_policy_name', 'my_rbac_policy')],
  },
  {
    name: 'http.hcm_prefix.rbac.prefix.policy.my_rbac_policy.shadow_denied',
    extracted: 'http.rbac.policy.shadow_denied',
    tags: [tag('http_conn_manager_prefix', 'hcm_prefix'), tag('rbac_http_prefix', 'prefix'), tag('rbac_policy_name', 'my_rbac_policy')],
  },
  { name: 'http.http_prefix.ext_authz.authpfx.denied', extracted: 'http.ext_authz.denied', tags: [tag('http_conn_manager_prefix', 'http_prefix'), tag('ext_authz_prefix', 'authpfx')] },
  { name: 'cluster.grpc_cluster.ext_authz.authpfx.ok', extracted: 'cluster.ext_authz.ok', tags: [tag('cluster_name', 'grpc_cluster'), tag('ext_authz_prefix', 'authpfx')] },
];

for (const c of envoyCases) {
  test(`Envoy's case: ${c.name}`, () => {
    const got = extractTags(c.name);
    assert.equal(got.tagExtractedName, c.extracted);
    assert.deepEqual(sorted(got.tags), sorted(c.tags));
  });
}

const HCM = 'envoy.http_conn_manager_prefix';
const meshCases: ReadonlyArray<{ why: string; name: string; extracted: string; tags: Array<[string, string]> }> = [
  {
    why: 'a cluster name with "/" and "|" is one token; the response code comes first, as in Envoy',
    name: 'cluster.bookstore/bookstore-v1|14001.upstream_rq_200',
    extracted: 'cluster.upstream_rq',
    tags: [
      ['envoy.response_code', '200'],
      ['envoy.cluster_name', 'bookstore/bookstore-v1|14001'],
    ],
  },
  {
    why: 'the response code class of a local cluster',
    name: 'cluster.bookbuyer/bookbuyer|14001-local.upstream_rq_2xx',
    extracted: 'cluster.upstream_rq_xx',
    tags: [
      ['envoy.response_code_class', '2'],
      ['envoy.cluster_name', 'bookbuyer/bookbuyer|14001-local'],
    ],
  },
  {
    why: 'an HCM stat prefix with dots: only its first token becomes the tag (Envoy does the same)',
    name: 'http.mesh-http-conn-manager.rds-inbound.14001.downstream_rq_total',
    extracted: 'http.rds-inbound.14001.downstream_rq_total',
    tags: [[HCM, 'mesh-http-conn-manager']],
  },
  {
    why: 'downstream response classes under a dotted HCM prefix',
    name: 'http.mesh-http-conn-manager.rds-outbound.14001.downstream_rq_5xx',
    extracted: 'http.rds-outbound.14001.downstream_rq_xx',
    tags: [
      ['envoy.response_code_class', '5'],
      [HCM, 'mesh-http-conn-manager'],
    ],
  },
  {
    why: 'HTTP RBAC under a dotted HCM prefix: no RBAC tag, since "rbac" is not the third token',
    name: 'http.mesh-http-conn-manager.rds-inbound.14001.rbac.denied',
    extracted: 'http.rds-inbound.14001.rbac.denied',
    tags: [[HCM, 'mesh-http-conn-manager']],
  },
  {
    why: 'a TCP proxy stat prefix with dots keeps the cluster name in the metric name',
    name: 'tcp.inbound-mesh-tcp-proxy.bookstore/bookstore|14001|local.downstream_cx_total',
    extracted: 'tcp.bookstore/bookstore|14001|local.downstream_cx_total',
    tags: [['envoy.tcp_prefix', 'inbound-mesh-tcp-proxy']],
  },
  {
    why: 'a dot-free TCP stat prefix is the whole tag',
    name: 'tcp.egress-passthrough.downstream_cx_total',
    extracted: 'tcp.downstream_cx_total',
    tags: [['envoy.tcp_prefix', 'egress-passthrough']],
  },
  {
    why: 'a listener address with the port after "_"',
    name: 'listener.0.0.0.0_15001.downstream_cx_total',
    extracted: 'listener.downstream_cx_total',
    tags: [['envoy.listener_address', '0.0.0.0_15001']],
  },
  {
    why: "a listener's TLS stats",
    name: 'listener.0.0.0.0_15003.ssl.fail_verify_san',
    extracted: 'listener.ssl.fail_verify_san',
    tags: [['envoy.listener_address', '0.0.0.0_15003']],
  },
  {
    why: 'network RBAC under its stat prefix',
    name: 'network-inbound_bookstore_14001.rbac.denied',
    extracted: 'rbac.denied',
    tags: [['envoy.rbac_prefix', 'network-inbound_bookstore_14001']],
  },
  {
    why: 'the HTTP local rate limit under its stat prefix',
    name: 'http_local_rate_limiter.http_local_rate_limit.rate_limited',
    extracted: 'http_local_rate_limit.rate_limited',
    tags: [['envoy.local_http_ratelimit_prefix', 'http_local_rate_limiter']],
  },
  {
    why: 'a dotted network local rate limit prefix keeps its tail in the name',
    name: 'local_rate_limit.inbound-tcp-rate-limit.inbound_bookstore_14001.rate_limited',
    extracted: 'local_rate_limit.inbound_bookstore_14001.rate_limited',
    tags: [['envoy.local_network_ratelimit_prefix', 'inbound-tcp-rate-limit']],
  },
  {
    why: 'a cluster name with a dot: Envoy tags only up to the dot',
    name: 'cluster.httpbin.org:80.upstream_cx_total',
    extracted: 'cluster.org:80.upstream_cx_total',
    tags: [['envoy.cluster_name', 'httpbin']],
  },
  { why: 'a name no extractor matches', name: 'server.live', extracted: 'server.live', tags: [] },
  { why: 'a bare _rq_ code with nothing before', name: 'upstream_rq_503', extracted: 'upstream_rq', tags: [['envoy.response_code', '503']] },
];

for (const c of meshCases) {
  test(`mesh name: ${c.why}`, () => {
    const got = extractTags(c.name);
    assert.equal(got.tagExtractedName, c.extracted);
    assert.deepEqual(
      got.tags.map((t) => [t.name, t.value]),
      c.tags,
    );
  });
}
