/**
 * Connections through a cluster, over real loopback sockets and real mutual TLS with
 * certificates from our CA: pooled reuse, SAN and CA failures, refused and timed-out
 * connects, circuit breakers, idle closing and request caps.
 */
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import type { IssuedCertificate } from '../../certs/index.js';
import {
  certificateSecretOf,
  closedPort,
  clusterConfig,
  connect,
  createTestMesh,
  endpoints,
  get,
  meshTls,
  proxyConfig,
  startSilentServer,
  startUpstream,
  testManager,
  validationSecretOf,
  waitFor,
  type TestMesh,
} from './testing.js';
import type { UpstreamConnection } from './types.js';

const NAME = 'bookstore/bookstore|14001';
const BOOKSTORE_SPIFFE = 'spiffe://cluster.local/ns/bookstore/sa/bookstore';

let mesh: TestMesh;
let foreign: TestMesh;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;

before(async () => {
  mesh = await createTestMesh();
  foreign = await createTestMesh();
  serverCert = await mesh.workload('bookstore', 'bookstore');
  clientCert = await mesh.workload('bookbuyer', 'bookbuyer');
});

after(() => {
  mesh.close();
  foreign.close();
});

/** A TLS cluster to `port` that trusts `ca` and expects `sans`. */
function tlsCluster(port: number, opts: { ca?: string; sans?: string[]; connectTimeoutMs?: number } = {}) {
  const config = clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port }]), { tls: meshTls('service-cert:bookbuyer/bookbuyer', 'root-cert-for-mtls-outbound:bookstore/bookstore'), connectTimeoutMs: opts.connectTimeoutMs ?? 5000 });
  return proxyConfig([config], [certificateSecretOf('service-cert:bookbuyer/bookbuyer', clientCert), validationSecretOf('root-cert-for-mtls-outbound:bookstore/bookstore', opts.ca ?? mesh.rootPem, opts.sans ?? [BOOKSTORE_SPIFFE])]);
}

test('pooled: sequential requests share one mTLS connection (one handshake on the server)', async (ctx) => {
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(upstream.port));
  for (let i = 0; i < 5; i++) {
    const { error, connection } = await connect(t.manager, NAME);
    assert.equal(error, undefined);
    assert.ok(connection);
    assert.equal((connection.socket as TLSSocket).alpnProtocol, 'osm');
    const res = await get(connection);
    assert.equal(res.status, 200);
    assert.equal(connection.requests, i + 1);
    connection.release();
  }
  assert.equal(upstream.seen.handshakes, 1);
  assert.equal(upstream.seen.connections, 1);
  assert.equal(upstream.seen.requests.length, 5);
  assert.equal(upstream.seen.clientSerials[0], new X509Certificate(clientCert.certChainPem).serialNumber, 'the client certificate from the secret was presented');
  assert.equal(t.counter(NAME, 'upstream_cx_total'), 1);
  assert.equal(t.counter(NAME, 'ssl.handshake'), 1);
  assert.equal(t.gauge(NAME, 'upstream_cx_active'), 1);
});

test('a server certificate whose SANs do not match is a tlsFailure naming cluster, host and SANs', async (ctx) => {
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(upstream.port, { sans: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v2'] }));
  const { error, connection } = await connect(t.manager, NAME);
  assert.equal(connection, undefined);
  assert.equal(error?.kind, 'tlsFailure');
  assert.equal(error?.host?.id, `127.0.0.1:${upstream.port}`);
  assert.match(error?.message ?? '', new RegExp(`^cluster ${NAME.replace(/[|/]/g, '\\$&')}: host 127\\.0\\.0\\.1:${upstream.port} presented a certificate with URI:${BOOKSTORE_SPIFFE}, DNS:bookstore\\.bookstore\\.cluster\\.local`));
  assert.equal(t.counter(NAME, 'ssl.fail_verify_san'), 1);
  assert.equal(t.counter(NAME, 'upstream_cx_connect_fail'), 1);
  assert.equal(t.gauge(NAME, 'upstream_cx_active'), 0);
  // The rejected server's session ticket was not kept: resuming it would skip the check.
  const again = await connect(t.manager, NAME);
  assert.equal(again.error?.kind, 'tlsFailure');
  assert.equal(t.counter(NAME, 'ssl.fail_verify_san'), 2);
  assert.equal(t.counter(NAME, 'ssl.session_reused'), 0);
});

test('a server certificate from another CA is a tlsFailure', async (ctx) => {
  const stranger = await foreign.workload('bookstore', 'bookstore');
  const upstream = await startUpstream({ tls: { cert: stranger, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(upstream.port));
  const { error } = await connect(t.manager, NAME);
  assert.equal(error?.kind, 'tlsFailure');
  assert.match(error?.message ?? '', /TLS handshake with 127\.0\.0\.1:\d+ failed/);
  assert.equal(t.counter(NAME, 'ssl.fail_verify_error'), 1);
  assert.equal(upstream.seen.requests.length, 0);
});

test('a refused connect is a connectFailure, counted as such', async (ctx) => {
  const port = await closedPort();
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port }]))]));
  const { error } = await connect(t.manager, NAME);
  assert.equal(error?.kind, 'connectFailure');
  assert.equal(error?.message, `cluster ${NAME}: connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.equal(t.counter(NAME, 'upstream_cx_total'), 1);
  assert.equal(t.counter(NAME, 'upstream_cx_connect_fail'), 1);
  assert.equal(t.counter(NAME, 'upstream_rq_pending_failure_eject'), 1);
  assert.equal(t.gauge(NAME, 'upstream_cx_active'), 0);
  assert.equal(t.gauge(NAME, 'upstream_rq_pending_active'), 0);
});

test('the connect timeout covers the TLS handshake', async (ctx) => {
  const silent = await startSilentServer();
  ctx.after(() => silent.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(silent.port, { connectTimeoutMs: 250 }));
  const result = connect(t.manager, NAME);
  await waitFor(() => silent.accepted() === 1, 'the TCP connection');
  t.clock.advance(249);
  t.clock.advance(1);
  const { error } = await result;
  assert.equal(error?.kind, 'connectTimeout');
  assert.equal(error?.message, `cluster ${NAME}: connect to 127.0.0.1:${silent.port} timed out after 250 ms (TCP connect and TLS handshake)`);
  assert.equal(t.counter(NAME, 'upstream_cx_connect_timeout'), 1);
  assert.equal(t.counter(NAME, 'upstream_cx_connect_fail'), 1);
});

test('max_connections: a request waits as pending, the next overflows, the wait ends on release', async (ctx) => {
  const upstream = await startUpstream();
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  const config = clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: upstream.port }]), { circuitBreakers: { maxConnections: 1, maxPendingRequests: 1, maxRequests: 1024, maxRetries: 3 } });
  t.manager.update(proxyConfig([config]));
  const first = await connect(t.manager, NAME);
  assert.ok(first.connection);
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.cx_open'), 1);
  let secondDone = false;
  const second = connect(t.manager, NAME).then((r) => ((secondDone = true), r));
  assert.equal(t.gauge(NAME, 'upstream_rq_pending_active'), 1);
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.rq_pending_open'), 1);
  assert.equal(t.counter(NAME, 'upstream_cx_overflow'), 1);
  const third = await connect(t.manager, NAME);
  assert.equal(third.error?.kind, 'overflow');
  assert.match(third.error?.message ?? '', /max_pending_requests 1/);
  assert.equal(t.counter(NAME, 'upstream_rq_pending_overflow'), 1);
  await get(first.connection);
  assert.equal(secondDone, false, 'still waiting while the only connection is busy');
  first.connection.release();
  const { connection } = await second;
  assert.equal(connection, first.connection, 'the released connection went to the waiting request');
  assert.equal((await get(connection)).status, 200);
  assert.equal(upstream.seen.connections, 1);
  assert.equal(t.gauge(NAME, 'upstream_rq_pending_active'), 0);
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.rq_pending_open'), 0);
});

test('max_connections: a waiting dedicated connection gets the slot a closed connection frees', async (ctx) => {
  const upstream = await startUpstream();
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  const config = clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: upstream.port }]), { circuitBreakers: { maxConnections: 1, maxPendingRequests: 5, maxRequests: 1024, maxRetries: 3 } });
  t.manager.update(proxyConfig([config]));
  const first = await connect(t.manager, NAME, { pooled: false });
  const second = connect(t.manager, NAME, { pooled: false });
  assert.equal(t.gauge(NAME, 'upstream_rq_pending_active'), 1);
  first.connection?.close();
  const { connection } = await second;
  assert.ok(connection);
  assert.notEqual(connection, first.connection);
  await waitFor(() => upstream.seen.connections === 2, 'a second connection');
});

test('max_requests: a slot per request; overflow counts upstream_rq_pending_overflow', (ctx) => {
  const t = testManager();
  ctx.after(() => t.manager.close());
  const config = clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: 9 }]), { circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 2, maxRetries: 1 } });
  t.manager.update(proxyConfig([config]));
  const cluster = t.manager.get(NAME);
  assert.ok(cluster);
  assert.equal(cluster.tryStartRequest(), true);
  assert.equal(cluster.tryStartRequest(), true);
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.rq_open'), 1);
  assert.equal(cluster.tryStartRequest(), false);
  assert.equal(t.counter(NAME, 'upstream_rq_pending_overflow'), 1);
  cluster.endRequest();
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.rq_open'), 0);
  assert.equal(cluster.tryStartRequest(), true);
  assert.equal(cluster.tryStartRetry(), true);
  assert.equal(cluster.tryStartRetry(), false);
  assert.equal(t.counter(NAME, 'upstream_rq_retry_overflow'), 1);
  assert.equal(t.gauge(NAME, 'circuit_breakers.default.rq_retry_open'), 1);
});

test('idle connections: LIFO reuse, closed by the server leaves the pool, closed after the idle timeout', async (ctx) => {
  const upstream = await startUpstream();
  ctx.after(() => upstream.close());
  const t = testManager({ idleTimeoutMs: 60_000 });
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: upstream.port }]))]));
  const a = (await connect(t.manager, NAME)).connection;
  const b = (await connect(t.manager, NAME)).connection;
  assert.ok(a && b && a !== b);
  a.release();
  b.release();
  assert.equal((await connect(t.manager, NAME)).connection, b, 'the most recently released comes first');
  b.release();
  // The server closes the idle ones (a keep-alive timeout, say): they leave the pool.
  for (const s of upstream.seen.openSockets) s.destroy();
  await waitFor(() => t.gauge(NAME, 'upstream_cx_active') === 0, 'the pool to see both closes');
  const c = (await connect(t.manager, NAME)).connection;
  assert.ok(c && c !== a && c !== b);
  assert.equal((await get(c)).status, 200);
  c.release();
  t.clock.advance(59_999);
  assert.equal(c.socket.destroyed, false);
  t.clock.advance(1);
  assert.equal(c.socket.destroyed, true);
  assert.equal(t.counter(NAME, 'upstream_cx_idle_timeout'), 1);
  await waitFor(() => t.gauge(NAME, 'upstream_cx_active') === 0, 'the idle close');
  assert.ok(t.counter(NAME, 'upstream_cx_tx_bytes_total') > 0 && t.counter(NAME, 'upstream_cx_rx_bytes_total') > 0);
});

test('max_requests_per_connection closes a connection once it served its share', async (ctx) => {
  const upstream = await startUpstream();
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: upstream.port }]), { maxRequestsPerConnection: 2 })]));
  for (let i = 0; i < 3; i++) {
    const { connection } = await connect(t.manager, NAME);
    assert.ok(connection);
    await get(connection);
    connection.release();
  }
  assert.equal(upstream.seen.connections, 2);
  assert.equal(t.counter(NAME, 'upstream_cx_max_requests'), 1);
});

test('dedicated connections (tcp_proxy) are never reused', async (ctx) => {
  const upstream = await startUpstream();
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port: upstream.port }]))]));
  const first = (await connect(t.manager, NAME, { pooled: false })).connection;
  assert.ok(first);
  first.release();
  assert.equal(first.socket.destroyed, true, 'release closes a dedicated connection');
  const second = (await connect(t.manager, NAME, { pooled: false })).connection;
  assert.ok(second && second !== first);
  second.close();
  await waitFor(() => upstream.seen.connections === 2, 'two connections');
});

test('a cancelled wait gets no callback and frees its pending slot', async (ctx) => {
  const silent = await startSilentServer();
  ctx.after(() => silent.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(silent.port));
  const cluster = t.manager.get(NAME);
  const host = cluster?.chooseHost(undefined);
  assert.ok(cluster && host);
  let called = false;
  const cancel = cluster.connect(host, { pooled: false }, () => (called = true));
  await waitFor(() => silent.accepted() === 1, 'the TCP connection');
  cancel();
  assert.equal(t.gauge(NAME, 'upstream_rq_pending_active'), 0);
  assert.equal(t.gauge(NAME, 'upstream_cx_active'), 0, 'the dedicated connect was abandoned');
  t.clock.runAll();
  await new Promise((r) => setImmediate(r));
  assert.equal(called, false);
});

test('TLS sessions are resumed on the next connection to a host', async (ctx) => {
  const upstream = await startUpstream({ tls: { cert: serverCert, ca: mesh.rootPem } });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(tlsCluster(upstream.port));
  const first = (await connect(t.manager, NAME, { pooled: false })).connection;
  assert.ok(first);
  // TLS 1.3 tickets come after the handshake, with the first response.
  await get(first);
  first.close();
  const next = await connect(t.manager, NAME, { pooled: false });
  assert.equal(next.error, undefined);
  const second = next.connection;
  assert.ok(second);
  assert.equal((second.socket as TLSSocket).isSessionReused(), true);
  assert.equal(t.counter(NAME, 'ssl.session_reused'), 1);
  second.close();
});

test('an original-destination cluster connects where the connection was going, and forgets the host after', async (ctx) => {
  const upstream = await startUpstream({ address: '127.0.0.4' });
  ctx.after(() => upstream.close());
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig('passthrough-outbound', endpoints('passthrough-outbound', []), { discovery: { kind: 'originalDst' }, lbPolicy: 'clusterProvided' })]));
  const cluster = t.manager.get('passthrough-outbound');
  assert.ok(cluster);
  assert.equal(cluster.chooseHost(undefined), undefined, 'no destination, no host');
  const host = cluster.chooseHost({ address: '127.0.0.4', port: upstream.port });
  assert.equal(host?.id, `127.0.0.4:${upstream.port}`);
  assert.ok(host);
  const connection = await new Promise<UpstreamConnection | undefined>((resolve) => cluster.connect(host, { pooled: false }, (_e, c) => resolve(c)));
  assert.ok(connection);
  assert.equal((await get(connection)).status, 200);
  assert.deepEqual(t.manager.describe()[0]?.hosts.map((h) => [h.id, h.activeConnections]), [[host.id, 1]]);
  connection.close();
  await waitFor(() => t.manager.describe()[0]?.hosts.length === 0, 'the host to be forgotten');
});
