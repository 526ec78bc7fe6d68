/**
 * The sidecar end to end without root: the controller, five `osm proxy` processes in explicit
 * mode and their apps on loopback addresses. Traffic goes app -> client sidecar -> mTLS ->
 * server sidecar -> app, with the policies of `mesh.ts`.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startLoopbackMesh, type LoopbackMesh } from '../../../src/testing/loopback-mesh.js';
import { httpVia, startHttpApp, startTcpApp, tcpExchange, type AppServer } from './apps.js';
import { APP, IP, meshYaml, OUT, sidecarSpecs } from './mesh.js';

let dir: string;
let mesh: LoopbackMesh;
const apps: Array<{ close(): Promise<void> }> = [];
let v1: AppServer;
let v2: AppServer;

const clientEntry = (o: { bindPort: number }) => ({ host: IP.client, port: o.bindPort });
const thiefEntry = (o: { bindPort: number }) => ({ host: IP.thief, port: o.bindPort });

/** Polls until `check` holds (policy pushes take a moment), failing with the last value seen. */
async function eventually<T>(what: string, probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osm-sidecar-'));
  v1 = await startHttpApp(APP.v1, 8080, 'server-v1-1');
  v2 = await startHttpApp(APP.v2, 8080, 'server-v2-1');
  apps.push(v1, v2, await startTcpApp(APP.db, 3306, 'db-1'));
  mesh = await startLoopbackMesh({ dir, manifests: meshYaml(), sidecars: sidecarSpecs() });
});

after(async () => {
  await mesh?.stop();
  await Promise.all(apps.map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

test('a request crosses the sidecar pair over mTLS and reaches a server pod', async () => {
  const res = await httpVia(clientEntry(OUT.server), 'server.shop', '/api/books');
  assert.equal(res.status, 200, res.body);
  const body = JSON.parse(res.body) as { pod: string };
  assert.match(body.pod, /^server-v[12]-1$/);
  const seen = (body.pod === 'server-v1-1' ? v1 : v2).requests.at(-1);
  assert.ok(seen?.headers['x-request-id'], 'the sidecar adds x-request-id');
  // Set by the client sidecar from the app's plain connection and kept by the server sidecar (Envoy without use_remote_address).
  assert.equal(seen?.headers['x-forwarded-proto'], 'http');
  assert.equal(seen?.headers['osm-stats-namespace'], undefined, 'osm-stats headers stop at the server sidecar');
  const stats = await mesh.sidecar(`shop/${body.pod}`).stats();
  assert.ok((stats.get(`listener.${body.pod === 'server-v1-1' ? IP.v1 : IP.v2}_8080.ssl.handshake`) ?? 0) >= 1);
});

test('a client without a mesh certificate is refused by the inbound listener', async () => {
  const plain = await tcpExchange(IP.v1, 8080, 'GET /api/x HTTP/1.1\r\nhost: server\r\n\r\n');
  assert.equal(plain.received, '', 'plain HTTP gets no answer');
  assert.ok(plain.closed, 'plain HTTP is disconnected');
  const outcome = await new Promise<string>((resolve) => {
    const s = tlsConnect({ host: IP.v1, port: 8080, servername: 'server.shop.svc.cluster.local', ALPNProtocols: ['osm'], rejectUnauthorized: false });
    s.on('secureConnect', () => {
      s.write('GET /api/x HTTP/1.1\r\nhost: server\r\n\r\n');
    });
    s.on('data', () => resolve('answered'));
    s.on('error', (e) => resolve(`error: ${e.message}`));
    s.on('close', () => resolve('closed'));
  });
  assert.notEqual(outcome, 'answered', 'TLS without a client certificate gets no answer');
});

test('the split sends both versions their share', async () => {
  const counts = { 'server-v1-1': 0, 'server-v2-1': 0 } as Record<string, number>;
  for (let i = 0; i < 300; i++) {
    const res = await httpVia(clientEntry(OUT.server), 'server.shop', `/api/split/${i}`);
    assert.equal(res.status, 200, res.body);
    counts[(JSON.parse(res.body) as { pod: string }).pod]! += 1;
  }
  // 50/50 over 300 requests: each side is within 150 ± 60 except with probability < 1e-10.
  assert.ok(counts['server-v1-1']! > 90 && counts['server-v2-1']! > 90, JSON.stringify(counts));
});

test('per-route RBAC: an allowed route passes, another path gets 403 from the server sidecar', async () => {
  assert.equal((await httpVia(clientEntry(OUT.server), 'server.shop', '/api/ok')).status, 200);
  const denied = await httpVia(clientEntry(OUT.server), 'server.shop', '/admin/secrets');
  assert.equal(denied.status, 403);
  assert.match(denied.body, /RBAC: access denied/);
  const post = await httpVia(clientEntry(OUT.server), 'server.shop', '/status/200', { method: 'POST' });
  assert.equal(post.status, 403, 'the status route allows GET only');
});

test('a service account without a TrafficTarget is denied by its own sidecar', async () => {
  const res = await httpVia(thiefEntry(OUT.server), 'server.shop', '/api/books');
  assert.equal(res.status, 403);
  assert.match(res.body, /no TrafficTarget/);
});

test('TCP: the allowed client reaches the server-first database, the thief is cut off', async () => {
  const allowed = await tcpExchange(IP.client, OUT.db.bindPort, 'ping\n', 'hello from db-1\nping\n');
  assert.equal(allowed.received, 'hello from db-1\nping\n');
  assert.equal(allowed.closed, false);
  const denied = await tcpExchange(IP.thief, OUT.db.bindPort, 'ping\n');
  assert.equal(denied.received, '');
  assert.ok(denied.closed, 'the thief\'s sidecar closes the connection');
});

test('retries: a 503 upstream with numRetries 5 gives retry 5 and retry_limit_exceeded 1', async () => {
  const before = await mesh.sidecar('shop/client-1').stats();
  const res = await httpVia(clientEntry(OUT.server), 'server.shop', '/status/503');
  assert.equal(res.status, 503);
  const after = await mesh.sidecar('shop/client-1').stats();
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const clusters = ['shop/server-v1|8080', 'shop/server-v2|8080'];
  const sum = (stat: string) => clusters.reduce((n, c) => n + delta(`cluster.${c}.${stat}`), 0);
  assert.equal(sum('upstream_rq_retry'), 5);
  assert.equal(sum('upstream_rq_retry_limit_exceeded'), 1);
  assert.equal(sum('upstream_rq_retry_backoff_exponential'), 5);
});

test('the local rate limit answers 429 once the bucket is empty', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await httpVia(clientEntry(OUT.quota), 'quota.shop', '/api/q')).status);
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
});

test('circuit breaking: concurrent requests beyond one connection and one pending overflow with 503', async () => {
  const agent = new Agent({ keepAlive: false });
  const results = await Promise.all(Array.from({ length: 8 }, () => httpVia(clientEntry(OUT.cb), 'cb.shop', '/slow', { agent })));
  const statuses = results.map((r) => r.status);
  assert.ok(statuses.includes(200), statuses.join(','));
  const overflowed = results.filter((r) => r.status === 503);
  assert.ok(overflowed.length > 0, statuses.join(','));
  const stats = await mesh.sidecar('shop/client-1').stats();
  assert.ok((stats.get('cluster.shop/cb|8080.upstream_rq_pending_overflow') ?? 0) >= overflowed.length);
});

test('OSM request metrics count requests at the server sidecar with source and destination', async () => {
  // The split may send any one request to v2: enough requests reach v1 too.
  for (let i = 0; i < 20; i++) await httpVia(clientEntry(OUT.server), 'server.shop', '/api/metrics');
  const text = await (await fetch(`${mesh.sidecar('shop/server-v1-1').adminUrl}/stats/prometheus`)).text();
  // OSM's WASM filter wrote label values with `_` for `-`; its dashboards and e2e tests expect that.
  assert.match(text, /osm_request_total\{[^}]*source_namespace="shop"[^}]*source_pod="client_1"[^}]*destination_pod="server_v1_1"[^}]*\} [1-9]/);
  assert.match(text, /envoy_cluster_upstream_rq_total\{envoy_cluster_name="shop\/server\|8080\|local"\} [1-9]/);
});

test('a policy change under steady load drops no request', async () => {
  let failures = 0;
  let done = 0;
  let running = true;
  const load = (async () => {
    while (running) {
      const res = await httpVia(clientEntry(OUT.server), 'server.shop', '/api/load').catch((e: Error) => ({ status: 0, body: e.message }));
      if (res.status !== 200) failures++;
      done++;
    }
  })();
  await mesh.writeManifests(meshYaml({ split: [100, 0], allowThief: true }));
  await eventually('the thief is allowed', () => httpVia(thiefEntry(OUT.server), 'server.shop', '/api/x').then((r) => r.status), (s) => s === 200);
  await eventually('all traffic goes to v1', () => httpVia(clientEntry(OUT.server), 'server.shop', '/api/x').then((r) => (JSON.parse(r.body) as { pod: string }).pod), (p) => p === 'server-v1-1');
  await mesh.writeManifests(meshYaml());
  await eventually('the thief is denied again', () => httpVia(thiefEntry(OUT.server), 'server.shop', '/api/x').then((r) => r.status), (s) => s === 403);
  running = false;
  await load;
  assert.ok(done > 20, `only ${done} requests ran`);
  assert.equal(failures, 0, `${failures} of ${done} requests failed`);
});

test('with the controller stopped traffic keeps flowing, and after its restart policy changes apply again', async () => {
  await mesh.stopController();
  for (let i = 0; i < 20; i++) assert.equal((await httpVia(clientEntry(OUT.server), 'server.shop', '/api/offline')).status, 200);
  await mesh.startController();
  await mesh.writeManifests(meshYaml({ allowThief: true }));
  await eventually('the thief is allowed after the restart', () => httpVia(thiefEntry(OUT.server), 'server.shop', '/api/x').then((r) => r.status), (s) => s === 200, 40_000);
  await mesh.writeManifests(meshYaml());
  await eventually('the thief is denied again', () => httpVia(thiefEntry(OUT.server), 'server.shop', '/api/x').then((r) => r.status), (s) => s === 403);
});

test('the access log has OSM\'s fields', async () => {
  await httpVia(clientEntry(OUT.server), 'server.shop', '/api/logged', { headers: { 'user-agent': 'test-agent' } });
  // Lines are flushed in batches, at least once a second.
  const find = () => mesh.sidecar('shop/client-1').accessLog.findLast((e) => e.path === '/api/logged');
  await eventually('the access-log line', async () => find() !== undefined, (found) => found, 5000);
  const entry = find();
  assert.ok(entry, 'the client sidecar logged the request');
  for (const field of ['start_time', 'method', 'path', 'protocol', 'response_code', 'response_flags', 'bytes_received', 'bytes_sent', 'duration', 'upstream_cluster', 'upstream_host', 'user_agent', 'request_id', 'authority']) {
    assert.ok(field in entry, `field ${field}`);
  }
  assert.equal(entry.user_agent, 'test-agent');
  assert.equal(entry.response_code, 200);
});
