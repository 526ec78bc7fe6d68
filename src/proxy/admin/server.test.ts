/**
 * The admin server over loopback, read with `fetch`: a real stats store, real xDS resources
 * encoded as the ADS client holds them, and secrets holding certificates from a mesh CA.
 * Each endpoint's status, content type and Envoy-shaped body; POST-only endpoints; the
 * loopback-only bind.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identityOf } from '../../catalog/index.js';
import { CertificateManager, MeshCA, systemClock, type IssuedCertificate } from '../../certs/index.js';
import { createLogger, type Logger } from '../../lib/logging.js';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  create,
  encode,
  ListenerSchema,
  packAny,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  SecretSchema,
  UpstreamTlsContextSchema,
} from '../../xds/proto.js';
import type { ClusterDescription } from '../clusters/types.js';
import type { SecretConfig } from '../config/index.js';
import { StatsStore } from '../stats/index.js';
import { parseExposition } from '../stats/testing/exposition.js';
import { AdminError, startAdminServer, type AdminServer, type AdminSource, type ConfigDumpInput } from './index.js';

const DAY_MS = 86_400_000;
const UPDATED_MS = Date.UTC(2025, 0, 2, 3, 4, 5);
const V1 = 'bookstore/bookstore-v1|14001';

let manager: CertificateManager;
let workload: IssuedCertificate;
let rootPem: string;
let server: AdminServer;
let base: string;
let logger: Logger;
let isReady = false;
let quit: () => void = () => undefined;
const quitRequested = new Promise<void>((resolve) => (quit = resolve));
const startedAtMs = Date.UTC(2025, 0, 1);
let nowMs = startedAtMs;

const clusters: ClusterDescription[] = [
  {
    name: V1,
    hosts: [
      { id: '10.1.0.5:14001', weight: 1, healthFlags: [], activeRequests: 1, activeConnections: 2, successes: 7, errors: 0 },
      { id: '10.1.0.6:14001', weight: 3, healthFlags: ['failed_outlier_check'], activeRequests: 0, activeConnections: 0, successes: 1, errors: 4 },
    ],
  },
  { name: 'bookbuyer/bookbuyer|14001-local', hosts: [{ id: '[::1]:14001', weight: 1, healthFlags: [], activeRequests: 0, activeConnections: 0, successes: 0, errors: 0 }] },
];

function xdsResources(): ConfigDumpInput {
  const tlsWithKey = packAny(
    UpstreamTlsContextSchema,
    create(UpstreamTlsContextSchema, {
      commonTlsContext: {
        tlsCertificates: [{ certificateChain: { specifier: { case: 'inlineString', value: 'CHAIN' } }, privateKey: { specifier: { case: 'inlineString', value: 'KEY-IN-CDS' } } }],
      },
      sni: 'bookstore.bookstore.svc.cluster.local',
    }),
  );
  const cluster = create(ClusterSchema, { name: V1, transportSocket: { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: tlsWithKey } } });
  const listener = create(ListenerSchema, { name: 'outbound-listener', address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } } } } });
  const route = create(RouteConfigurationSchema, { name: 'rds-outbound.14001', virtualHosts: [{ name: 'bookstore', domains: ['bookstore'] }] });
  const endpoints = create(ClusterLoadAssignmentSchema, { clusterName: V1, endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '10.1.0.5', portSpecifier: { case: 'portValue', value: 14001 } } } } } } }] }] });
  const secret = create(SecretSchema, {
    name: 'service-cert:bookstore/bookstore',
    type: {
      case: 'tlsCertificate',
      value: { certificateChain: { specifier: { case: 'inlineBytes', value: Buffer.from(workload.certChainPem) } }, privateKey: { specifier: { case: 'inlineBytes', value: Buffer.from(workload.privateKeyPem) } } },
    },
  });
  const one = (typeUrl: string, versionInfo: string, resources: Array<[string, Uint8Array]>) => ({ typeUrl, versionInfo, lastUpdatedMs: UPDATED_MS, resources: resources.map(([name, bytes]) => ({ name, version: '', bytes })) });
  return [
    one(ResourceTypeUrl.listener, 'v3', [['outbound-listener', encode(ListenerSchema, listener)]]),
    one(ResourceTypeUrl.routeConfiguration, 'v3', [['rds-outbound.14001', encode(RouteConfigurationSchema, route)]]),
    one(ResourceTypeUrl.cluster, 'v2', [[V1, encode(ClusterSchema, cluster)]]),
    one(ResourceTypeUrl.clusterLoadAssignment, 'v2', [[V1, encode(ClusterLoadAssignmentSchema, endpoints)]]),
    one(ResourceTypeUrl.secret, 'v1', [['service-cert:bookstore/bookstore', encode(SecretSchema, secret)]]),
  ];
}

before(async () => {
  const ca = await MeshCA.create({ nowMs: systemClock.now() });
  manager = new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock });
  workload = await manager.issueWorkload(identityOf('bookstore', 'bookstore'));
  rootPem = manager.rootCertificatePem();
  const secrets = new Map<string, SecretConfig>([
    ['service-cert:bookstore/bookstore', { name: 'service-cert:bookstore/bookstore', kind: 'certificate', certificateChainPem: workload.certChainPem, privateKeyPem: workload.privateKeyPem }],
    ['root-cert-for-mtls-inbound:bookstore/bookstore', { name: 'root-cert-for-mtls-inbound:bookstore/bookstore', kind: 'validation', trustedCaPem: rootPem, sanMatchers: [] }],
  ]);
  const stats = new StatsStore();
  stats.counter(`cluster.${V1}.upstream_rq_total`).inc(3);
  stats.counter(`cluster.${V1}.upstream_rq_2xx`).inc(3);
  stats.histogram(`cluster.${V1}.upstream_rq_time`, 'ms').record(12);
  logger = createLogger('proxy', { level: 'info', sink: { write: () => undefined, now: () => new Date(0) } });
  const resources = xdsResources();
  const source: AdminSource = {
    ready: () => isReady,
    stats,
    clusters: () => clusters,
    listeners: () => [
      { name: 'outbound-listener', address: '0.0.0.0', port: 15001 },
      { name: 'inbound-listener', address: '::', port: 15003 },
    ],
    secrets: () => secrets,
    xdsResources: () => resources,
    logger,
    quit: () => quit(),
  };
  server = await startAdminServer({ address: '127.0.0.1', port: 0, source, version: 'osm-ts-test', nowMs: () => nowMs });
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
  manager.close();
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const post = (path: string) => get(path, { method: 'POST' });

async function getJson<T>(path: string): Promise<T> {
  const res = await get(path);
  assert.equal(res.status, 200, res.body);
  assert.equal(res.type, 'application/json');
  return JSON.parse(res.body) as T;
}

test('/ready is 503 PRE_INITIALIZING before the first config and 200 LIVE after', async () => {
  isReady = false;
  assert.deepEqual(await get('/ready'), { status: 503, type: 'text/plain; charset=UTF-8', body: 'PRE_INITIALIZING\n' });
  isReady = true;
  assert.deepEqual(await get('/ready'), { status: 200, type: 'text/plain; charset=UTF-8', body: 'LIVE\n' });
});

test('/stats prints name: value lines; format=json and filter work; a bad filter is a 400', async () => {
  const text = await get('/stats');
  assert.equal(text.status, 200);
  assert.ok(text.body.includes(`cluster.${V1}.upstream_rq_total: 3\n`), text.body);
  assert.ok(text.body.includes('server.live: 1\n'));
  assert.match(text.body, new RegExp(`cluster\\.bookstore/bookstore-v1\\|14001\\.upstream_rq_time: P0\\(nan,12\\) `));
  const json = await getJson<{ stats: Array<{ name?: string; value?: number }> }>('/stats?format=json&filter=rq_total');
  assert.deepEqual(json.stats, [{ name: `cluster.${V1}.upstream_rq_total`, value: 3 }]);
  const bad = await get('/stats?filter=(');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /Invalid re2 regex/);
});

test('/stats/prometheus is a valid exposition with Envoy names and labels', async () => {
  const res = await get('/stats/prometheus');
  assert.equal(res.status, 200);
  assert.equal(res.type, 'text/plain; version=0.0.4; charset=UTF-8');
  const families = parseExposition(res.body);
  assert.deepEqual(families.get('envoy_cluster_upstream_rq_xx')?.samples, [{ name: 'envoy_cluster_upstream_rq_xx', labels: { envoy_response_code_class: '2', envoy_cluster_name: V1 }, value: 3 }]);
  assert.equal(families.get('envoy_server_live')?.samples[0]?.value, 1);
  assert.equal((await get('/stats?format=prometheus')).body, res.body);
});

type Json = Record<string, unknown>;

test('/config_dump: Envoy dump types in order, versions, last_updated, resources with @type', async () => {
  const dump = await getJson<{ configs: Json[] }>('/config_dump');
  const prefix = 'type.googleapis.com/envoy.admin.v3.';
  assert.deepEqual(
    dump.configs.map((c) => c['@type']),
    ['ClustersConfigDump', 'ListenersConfigDump', 'RoutesConfigDump', 'SecretsConfigDump'].map((t) => prefix + t),
  );
  const [clustersDump, listenersDump, routesDump, secretsDump] = dump.configs as [Json, Json, Json, Json];
  assert.equal(clustersDump.version_info, 'v2');
  const cluster = (clustersDump.dynamic_active_clusters as Json[])[0] as Json;
  assert.equal(cluster.version_info, 'v2');
  assert.equal(cluster.last_updated, '2025-01-02T03:04:05.000Z');
  assert.deepEqual(Object.keys(cluster.cluster as Json).slice(0, 2), ['@type', 'name']);
  assert.equal((cluster.cluster as Json)['@type'], ResourceTypeUrl.cluster);
  const listener = (listenersDump.dynamic_listeners as Json[])[0] as Json;
  assert.equal(listener.name, 'outbound-listener');
  assert.deepEqual((listener.active_state as Json).listener, {
    '@type': ResourceTypeUrl.listener,
    name: 'outbound-listener',
    address: { socket_address: { address: '0.0.0.0', port_value: 15001 } },
  });
  assert.equal(((routesDump.dynamic_route_configs as Json[])[0] as Json).version_info, 'v3');
  const secret = (secretsDump.dynamic_active_secrets as Json[])[0] as Json;
  assert.equal(secret.name, 'service-cert:bookstore/bookstore');
  assert.equal(secret.version_info, 'v1');
});

test('/config_dump redacts private keys as Envoy does, in secrets and in inline TLS, and keeps the chain', async () => {
  const body = (await get('/config_dump')).body;
  assert.ok(!body.includes('KEY-IN-CDS'), 'the inline key in CDS is gone');
  assert.ok(!body.includes(Buffer.from(workload.privateKeyPem).toString('base64')), 'the SDS key is gone');
  const dump = JSON.parse(body) as { configs: Json[] };
  const secret = ((dump.configs[3] as Json).dynamic_active_secrets as Json[])[0] as Json;
  const tls = (secret.secret as Json).tls_certificate as Json;
  assert.deepEqual(tls.private_key, { inline_bytes: 'W3JlZGFjdGVkXQ==' });
  assert.equal(Buffer.from((tls.certificate_chain as Json).inline_bytes as string, 'base64').toString(), workload.certChainPem);
  const cluster = (((dump.configs[0] as Json).dynamic_active_clusters as Json[])[0] as Json).cluster as Json;
  const upstream = ((cluster.transport_socket as Json).typed_config as Json).common_tls_context as Json;
  assert.deepEqual(((upstream.tls_certificates as Json[])[0] as Json).private_key, { inline_string: '[redacted]' });
});

test('/config_dump?include_eds adds endpoints after clusters; resource= lists one field; name_regex filters', async () => {
  const withEds = await getJson<{ configs: Json[] }>('/config_dump?include_eds');
  assert.equal(withEds.configs[1]?.['@type'], 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump');
  const eds = ((withEds.configs[1] as Json).dynamic_endpoint_configs as Json[])[0] as Json;
  assert.equal((eds.endpoint_config as Json).cluster_name, V1);
  const secrets = await getJson<{ configs: Json[] }>('/config_dump?resource=dynamic_active_secrets');
  assert.deepEqual(
    secrets.configs.map((c) => [c['@type'], c.name]),
    [['type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', 'service-cert:bookstore/bookstore']],
  );
  const none = await getJson<{ configs: Json[] }>('/config_dump?resource=dynamic_listeners&name_regex=^inbound');
  assert.deepEqual(none.configs, []);
  const missing = await get('/config_dump?resource=static_clusters');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /resource=static_clusters: not one of/);
});

test('/clusters prints cluster::host::stat::value lines, sorted by cluster', async () => {
  const res = await get('/clusters');
  assert.equal(res.status, 200);
  const lines = res.body.trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['bookbuyer/bookbuyer|14001-local::observability_name::bookbuyer/bookbuyer|14001-local', 'bookbuyer/bookbuyer|14001-local::added_via_api::true', 'bookbuyer/bookbuyer|14001-local::[::1]:14001::cx_active::0']);
  for (const expected of [
    `${V1}::10.1.0.5:14001::cx_active::2`,
    `${V1}::10.1.0.5:14001::rq_success::7`,
    `${V1}::10.1.0.5:14001::health_flags::healthy`,
    `${V1}::10.1.0.6:14001::rq_error::4`,
    `${V1}::10.1.0.6:14001::health_flags::/failed_outlier_check`,
    `${V1}::10.1.0.6:14001::weight::3`,
  ]) {
    assert.ok(lines.includes(expected), `missing ${expected}`);
  }
});

test('/clusters?format=json follows envoy.admin.v3.Clusters', async () => {
  const json = await getJson<{ cluster_statuses: Array<{ name: string; added_via_api: boolean; host_statuses: Json[] }> }>('/clusters?format=json');
  assert.deepEqual(
    json.cluster_statuses.map((c) => c.name),
    ['bookbuyer/bookbuyer|14001-local', V1],
  );
  const local = json.cluster_statuses[0]?.host_statuses[0] as Json;
  assert.deepEqual(local.address, { socket_address: { address: '::1', port_value: 14001 } });
  const ejected = json.cluster_statuses[1]?.host_statuses[1] as Json;
  assert.deepEqual(ejected.health_status, { failed_outlier_check: true, eds_health_status: 'HEALTHY' });
  assert.equal(ejected.weight, 3);
  assert.deepEqual(ejected.stats, [{ name: 'cx_active', type: 'GAUGE' }, { name: 'rq_active', type: 'GAUGE' }, { name: 'rq_error', value: '4' }, { name: 'rq_success', value: '1' }, { name: 'rq_total', value: '5' }]);
});

test('/listeners prints name::address:port (IPv6 in brackets) and the JSON form', async () => {
  assert.equal((await get('/listeners')).body, 'inbound-listener::[::]:15003\noutbound-listener::0.0.0.0:15001\n');
  assert.deepEqual(await getJson('/listeners?format=json'), {
    listener_statuses: [
      { name: 'inbound-listener', local_address: { socket_address: { address: '::', port_value: 15003 } } },
      { name: 'outbound-listener', local_address: { socket_address: { address: '0.0.0.0', port_value: 15001 } } },
    ],
  });
});

test('/certs describes the workload leaf and the trusted root from the secrets', async () => {
  nowMs = workload.notBeforeMs;
  const json = await getJson<{ certificates: Array<{ ca_cert: Json[]; cert_chain: Json[] }> }>('/certs');
  nowMs = startedAtMs;
  // Sorted by secret name: the root-cert validation secret, then the service cert.
  const [validation, certificate] = json.certificates as [{ ca_cert: Json[]; cert_chain: Json[] }, { ca_cert: Json[]; cert_chain: Json[] }];
  assert.equal(validation.cert_chain.length, 0);
  assert.equal(validation.ca_cert.length, 1);
  assert.equal(certificate.ca_cert.length, 0);
  assert.deepEqual(certificate.cert_chain, [
    {
      path: '<inline>',
      serial_number: workload.serialNumber,
      subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/bookstore/sa/bookstore' }, { dns: 'bookstore.bookstore.cluster.local' }],
      days_until_expiration: String(Math.floor((workload.notAfterMs - workload.notBeforeMs) / DAY_MS)),
      valid_from: new Date(workload.notBeforeMs).toISOString().replace('.000Z', 'Z'),
      expiration_time: new Date(workload.notAfterMs).toISOString().replace('.000Z', 'Z'),
    },
  ]);
  assert.ok(Number(validation.ca_cert[0]?.days_until_expiration) > 3000, 'the mesh root lives ten years');
});

test('/logging lists on GET, changes only by POST, and refuses unknown levels', async () => {
  assert.deepEqual(await get('/logging'), { status: 200, type: 'text/plain; charset=UTF-8', body: 'active loggers:\n  proxy: info\n' });
  const viaGet = await get('/logging?level=debug');
  assert.equal(viaGet.status, 405);
  assert.equal(viaGet.body, 'Method GET not allowed, POST required.\n');
  assert.equal(logger.level(), 'info');
  assert.equal((await post('/logging?level=debug')).body, 'active loggers:\n  proxy: debug\n');
  assert.equal(logger.level(), 'debug');
  assert.equal((await post('/logging?level=warning')).body, 'active loggers:\n  proxy: warning\n');
  const bad = await post('/logging?level=loud');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /level=loud: unknown level/);
  const perLogger = await post('/logging?upstream=debug');
  assert.equal(perLogger.status, 400);
  assert.equal(logger.level(), 'warn');
  logger.setLevel('info');
});

test('/server_info reports the version, state and uptime', async () => {
  nowMs = startedAtMs + 90_500;
  assert.deepEqual(await getJson('/server_info'), { version: 'osm-ts-test', state: 'LIVE', uptime_current_epoch: '90s', uptime_all_epochs: '90s' });
  nowMs = startedAtMs;
});

test('an unknown path is a 404 listing the admin commands', async () => {
  const res = await get('/nope');
  assert.equal(res.status, 404);
  assert.match(res.body, /^invalid path\. admin commands are:\n/);
  assert.match(res.body, /\n {2}\/quitquitquit \(POST\): exit the server\n/);
  assert.match((await get('/help')).body, /\n {2}\/stats\/prometheus: /);
});

test('/quitquitquit needs POST, answers OK, then asks the sidecar to quit', async () => {
  const viaGet = await get('/quitquitquit');
  assert.equal(viaGet.status, 405);
  const res = await post('/quitquitquit');
  assert.deepEqual(res, { status: 200, type: 'text/plain; charset=UTF-8', body: 'OK\n' });
  await quitRequested;
});

test('the admin server refuses to bind a non-loopback address', async () => {
  const source = { ...fakeSource(), logger };
  for (const address of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com']) {
    await assert.rejects(
      startAdminServer({ address, port: 0, source }),
      (e: unknown) => e instanceof AdminError && e.code === 'not-loopback' && e.message.includes(`admin address ${address}:`),
    );
  }
});

test('other loopback addresses work; a taken port is a listen-failed error naming it', async () => {
  const other = await startAdminServer({ address: '127.0.0.2', port: 0, source: { ...fakeSource(), logger } });
  try {
    assert.equal((await fetch(`http://127.0.0.2:${other.port}/ready`)).status, 200);
    await assert.rejects(
      startAdminServer({ address: '127.0.0.2', port: other.port, source: { ...fakeSource(), logger } }),
      (e: unknown) => e instanceof AdminError && e.code === 'listen-failed' && e.message.includes(`127.0.0.2:${other.port}`),
    );
  } finally {
    await other.close();
    await other.close();
  }
});

function fakeSource(): Omit<AdminSource, 'logger'> {
  return { ready: () => true, stats: new StatsStore(), clusters: () => [], listeners: () => [], secrets: () => new Map(), xdsResources: () => [] };
}
