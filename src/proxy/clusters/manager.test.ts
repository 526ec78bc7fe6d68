/**
 * Config updates over real connections: an unchanged cluster keeps its object and pool; a
 * changed one (a rotated client certificate) serves new requests with the new settings while a
 * connection in use finishes; a removed one drains; EDS endpoints change in place; health
 * verdicts survive a change.
 */
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { IssuedCertificate } from '../../certs/index.js';
import type { ClusterConfig, EndpointsConfig, ProxyConfig, SecretConfig } from '../config/index.js';
import {
  certificateSecretOf,
  clusterConfig,
  connect,
  createTestMesh,
  endpoints,
  get,
  meshTls,
  proxyConfig,
  startUpstream,
  testManager,
  validationSecretOf,
  waitFor,
  type TestMesh,
} from './testing.js';
import type { UpstreamConnection } from './types.js';

const NAME = 'bookstore/bookstore|14001';
const OTHER = 'bookstore/bookstore-v2|14001';

let mesh: TestMesh;
let serverCert: IssuedCertificate;

before(async () => {
  mesh = await createTestMesh();
  serverCert = await mesh.workload('bookstore', 'bookstore');
});

after(() => mesh.close());

/** A fresh, structurally equal config each call: what the xDS client hands over on every push. */
function meshConfig(port: number, client: IssuedCertificate, extra: ClusterConfig[] = []): ProxyConfig {
  const secrets: SecretConfig[] = [certificateSecretOf('cert', client), validationSecretOf('validation', mesh.rootPem, ['spiffe://cluster.local/ns/bookstore/sa/bookstore'])];
  return proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port }]), { tls: meshTls('cert', 'validation') }), ...extra], secrets);
}

const serialOf = (cert: IssuedCertificate) => new X509Certificate(cert.certChainPem).serialNumber;

test('an unchanged cluster keeps its object and its pooled connections across updates', async (ctx) => {
  const client = await mesh.workload('bookbuyer', 'bookbuyer');
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(meshConfig(upstream.port, client));
  const before = t.manager.get(NAME);
  const first = (await connect(t.manager, NAME)).connection;
  assert.ok(first);
  await get(first);
  first.release();

  t.manager.update(meshConfig(upstream.port, client, [clusterConfig(OTHER, endpoints(OTHER, [{ address: '127.0.0.1', port: 1 }]))]));
  assert.equal(t.manager.get(NAME), before);
  const again = (await connect(t.manager, NAME)).connection;
  assert.equal(again, first, 'the same pooled connection');
  assert.equal((await get(again)).status, 200);
  assert.equal(upstream.seen.handshakes, 1);
  assert.equal(t.stats.counter('cluster_manager.cluster_modified').value, 0);
  assert.equal(t.stats.counter('cluster_manager.cluster_added').value, 2);
  assert.deepEqual(
    t.manager.describe().map((c) => c.name),
    [OTHER, NAME],
    'sorted by name',
  );
});

test('a rotated client certificate: new connections present it, the one in use finishes, idle ones close', async (ctx) => {
  const oldCert = await mesh.workload('bookbuyer', 'bookbuyer');
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(meshConfig(upstream.port, oldCert));
  const old = t.manager.get(NAME);
  const busy = (await connect(t.manager, NAME)).connection;
  const idle = (await connect(t.manager, NAME)).connection;
  assert.ok(busy && idle);
  idle.release();

  const newCert = await mesh.rotate('bookbuyer', 'bookbuyer');
  assert.notEqual(serialOf(newCert), serialOf(oldCert));
  t.manager.update(meshConfig(upstream.port, newCert));
  assert.notEqual(t.manager.get(NAME), old, 'a new cluster object for new requests');
  assert.equal(t.stats.counter('cluster_manager.cluster_modified').value, 1);
  await waitFor(() => idle.socket.destroyed, 'the idle old connection to close');
  assert.equal(busy.socket.destroyed, false, 'the connection in use is left alone');
  assert.equal((await get(busy)).status, 200, 'and still serves its request');

  const fresh = (await connect(t.manager, NAME)).connection;
  assert.ok(fresh && fresh !== busy);
  await get(fresh);
  assert.deepEqual(upstream.seen.clientSerials, [serialOf(oldCert), serialOf(oldCert), serialOf(newCert)]);

  busy.release();
  assert.equal(busy.socket.destroyed, true, 'released into a draining pool: closed');
  fresh.release();
  await waitFor(() => t.gauge(NAME, 'upstream_cx_active') === 1, 'only the new connection to remain');
});

test('a removed cluster drains: idle connections close, busy ones finish', async (ctx) => {
  const client = await mesh.workload('bookbuyer', 'bookbuyer');
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(meshConfig(upstream.port, client));
  const busy = (await connect(t.manager, NAME)).connection;
  const idle = (await connect(t.manager, NAME)).connection;
  assert.ok(busy && idle);
  idle.release();
  t.manager.update(proxyConfig([]));
  assert.equal(t.manager.get(NAME), undefined);
  assert.deepEqual(t.manager.describe(), []);
  assert.equal(t.stats.counter('cluster_manager.cluster_removed').value, 1);
  await waitFor(() => idle.socket.destroyed, 'the idle connection to close');
  assert.equal((await get(busy)).status, 200);
  busy.release();
  await waitFor(() => t.gauge(NAME, 'upstream_cx_active') === 0, 'every connection closed');
});

/** An EDS cluster with its assignment in the config's endpoints map. */
function edsConfig(eps: EndpointsConfig, overrides: Partial<ClusterConfig> = {}): ProxyConfig {
  const cluster = clusterConfig(NAME, eps, { discovery: { kind: 'eds', edsServiceName: NAME }, ...overrides });
  return { ...proxyConfig([cluster]), endpoints: new Map([[NAME, eps]]) };
}

test('EDS endpoints change in place: kept hosts keep their state and connections, removed ones drain', async (ctx) => {
  const a = await startUpstream({ address: '127.0.0.1' });
  const b = await startUpstream({ address: '127.0.0.2' });
  const c = await startUpstream({ address: '127.0.0.3' });
  for (const u of [a, b, c]) ctx.after(() => u.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(edsConfig(endpoints(NAME, [a, b])));
  const cluster = t.manager.get(NAME);
  assert.ok(cluster);
  const hostA = [0, 1].map(() => cluster.chooseHost(undefined)).find((h) => h?.address === '127.0.0.1');
  const hostB = [0, 1].map(() => cluster.chooseHost(undefined)).find((h) => h?.address === '127.0.0.2');
  assert.ok(hostA && hostB);
  const open = async (host: typeof hostA) =>
    new Promise<UpstreamConnection>((resolve, reject) => cluster.connect(host, { pooled: true }, (e, conn) => (conn ? resolve(conn) : reject(new Error(e?.message)))));
  const toA = await open(hostA);
  const toB = await open(hostB);
  toA.release();
  toB.release();

  t.manager.update(edsConfig(endpoints(NAME, [a, c])));
  assert.equal(t.manager.get(NAME), cluster, 'same cluster object');
  await waitFor(() => toB.socket.destroyed, "the removed host's idle connection to close");
  const picks = new Set(Array.from({ length: 10 }, () => cluster.chooseHost(undefined)));
  assert.ok(picks.has(hostA), 'the kept host is the same object');
  assert.deepEqual([...picks].map((h) => h?.address).sort(), ['127.0.0.1', '127.0.0.3']);
  assert.equal(await open(hostA), toA, "the kept host's pool survived");
  assert.equal(t.gauge(NAME, 'membership_total'), 2);
});

test('outlier ejections survive a change to other settings of the cluster', async (ctx) => {
  const t = testManager();
  ctx.after(() => t.manager.close());
  const od = {
    consecutive5xx: 1,
    enforcingConsecutive5xxPercent: 100,
    consecutiveGatewayFailure: 5,
    enforcingConsecutiveGatewayFailurePercent: 0,
    splitExternalLocalOriginErrors: false,
    consecutiveLocalOriginFailure: 5,
    enforcingConsecutiveLocalOriginFailurePercent: 100,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionTimeJitterMs: 0,
    maxEjectionPercent: 50,
    alwaysEjectOneHost: false,
    successfulActiveHealthCheckUnejectHost: true,
    successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9, enforcingPercent: 100, enforcingLocalOriginPercent: 100 },
    failurePercentage: { thresholdPercent: 85, minimumHosts: 5, requestVolume: 50, enforcingPercent: 0, enforcingLocalOriginPercent: 0 },
  };
  const eps = endpoints(NAME, [
    { address: '127.0.2.1', port: 80 },
    { address: '127.0.2.2', port: 80 },
  ]);
  t.manager.update(edsConfig(eps, { outlierDetection: od }));
  const first = t.manager.get(NAME);
  const host = first?.chooseHost(undefined);
  assert.ok(first && host);
  first.hostRequestStarted(host);
  first.hostRequestEnded(host, 'error5xx');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 1);

  t.manager.update(edsConfig(eps, { outlierDetection: od, connectTimeoutMs: 1000 }));
  const second = t.manager.get(NAME);
  assert.ok(second && second !== first);
  const picks = new Set(Array.from({ length: 10 }, () => second.chooseHost(undefined)?.id));
  assert.equal(picks.has(host.id), false, 'still ejected in the new cluster object');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 1, 'counted once');
  t.clock.advance(30_000);
  assert.equal(new Set(Array.from({ length: 10 }, () => second.chooseHost(undefined)?.id)).has(host.id), true, 'and returns on schedule');
});
