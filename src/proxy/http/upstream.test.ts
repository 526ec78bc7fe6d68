/**
 * The router against real upstreams on loopback: keep-alive reuse of pooled connections,
 * retries with Envoy's exact stats, per-try and route timeouts, connection failures, circuit
 * breakers, and upstreams that break HTTP/1.1 mid-response.
 */
import * as assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { once } from 'node:events';
import {
  forward, hcmConfig, httpUpstream, rawUpstream, request, route, routeConfig, startProxy, TestClient, testRuntime, virtualHost,
  type ForwardOptions, type TestRuntime, type Upstream,
} from './testing/harness.js';
import type { TestClusterSpec } from './testing/clusters.js';

async function withProxy(
  upstreams: readonly Upstream[],
  opts: ForwardOptions & { cluster?: Partial<TestClusterSpec>; random?: () => number },
  run: (port: number, runtime: TestRuntime) => Promise<void>,
): Promise<void> {
  const runtime = testRuntime([{ name: 'app', endpoints: upstreams.map((u) => ({ address: '127.0.0.1', port: u.port })), ...opts.cluster }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app', opts))])]), { accessLog: true }), runtime, {
    options: opts.random === undefined ? {} : { random: opts.random },
  });
  try {
    await run(proxy.port, runtime);
  } finally {
    await proxy.close();
    runtime.clusters.close();
    for (const u of upstreams) await u.close();
  }
}

const stat = (runtime: TestRuntime, name: string): number => runtime.stats.value(`cluster.app.${name}`);

test('keep-alive: sequential requests from several clients share pooled upstream connections', async () => {
  const app = await httpUpstream((_req, res) => res.end('ok'));
  await withProxy([app], {}, async (port, runtime) => {
    for (let c = 0; c < 3; c++) {
      const client = await TestClient.connect(port);
      for (let i = 0; i < 5; i++) {
        client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal((await client.response()).body, 'ok');
      }
      client.close();
    }
    assert.equal(app.connections, 1, 'one upstream connection carried all 15 requests');
    assert.equal(runtime.clusters.get('app')!.connectionsOpened, 1);
    assert.equal(stat(runtime, 'upstream_rq_total'), 15);
    assert.equal(stat(runtime, 'upstream_rq_200'), 15);
    assert.equal(stat(runtime, 'upstream_rq_active'), 0);
    assert.equal(runtime.clusters.get('app')!.slotsHeld, 0);
  });
});

test('an upstream response with Connection: close is not pooled', async () => {
  const app = await httpUpstream((_req, res) => {
    res.setHeader('connection', 'close');
    res.end('bye');
  });
  await withProxy([app], {}, async (port) => {
    for (let i = 0; i < 3; i++) assert.equal((await request(port)).body, 'bye');
    assert.equal(app.connections, 3);
  });
});

test('retries: an upstream that always answers 503 with num_retries 5 gives Envoy\'s retry stats and the final 503', async () => {
  const app = await httpUpstream((_req, res) => {
    res.statusCode = 503;
    res.end('unavailable');
  });
  await withProxy([app], { retry: { retryOn: ['5xx'], numRetries: 5 }, random: () => 0, cluster: { maxRetries: 10 } }, async (port, runtime) => {
    const res = await request(port, { method: 'POST', path: '/buy', body: 'book' });
    assert.equal(res.status, 503);
    assert.equal(res.body, 'unavailable');
    assert.equal(app.requests.length, 6);
    assert.ok(app.requests.every((r) => r.body === 'book'), 'the body is replayed on every try');
    assert.equal(stat(runtime, 'upstream_rq_retry'), 5);
    assert.equal(stat(runtime, 'upstream_rq_retry_limit_exceeded'), 1);
    assert.equal(stat(runtime, 'upstream_rq_retry_backoff_exponential'), 5);
    assert.equal(stat(runtime, 'upstream_rq_retry_success'), 0);
    assert.equal(stat(runtime, 'upstream_rq_503'), 6);
    assert.equal(runtime.logs[0]?.response_flags, 'URX');
    assert.equal(runtime.clusters.get('app')!.slotsHeld, 0);
  });
});

test('retries: a retry that succeeds counts upstream_rq_retry_success and prefers another host', async () => {
  const bad = await httpUpstream((_req, res) => {
    res.statusCode = 502;
    res.end();
  });
  const good = await httpUpstream((_req, res) => res.end('good'));
  await withProxy([bad, good], { retry: { retryOn: ['gateway-error'], numRetries: 2 }, random: () => 0 }, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.body, 'good');
    assert.equal(bad.requests.length, 1);
    assert.equal(stat(runtime, 'upstream_rq_retry'), 1);
    assert.equal(stat(runtime, 'upstream_rq_retry_success'), 1);
    assert.deepEqual(runtime.clusters.get('app')!.outcomes.map((o) => o.outcome), ['gatewayError', 'success']);
    assert.equal(runtime.logs[0]?.response_flags, '-');
  });
});

test('retries: statuses outside retry_on are forwarded at once', async () => {
  const app = await httpUpstream((_req, res) => {
    res.statusCode = 500;
    res.end();
  });
  await withProxy([app], { retry: { retryOn: ['gateway-error', 'retriable-4xx'], numRetries: 3 }, random: () => 0 }, async (port, runtime) => {
    assert.equal((await request(port)).status, 500);
    assert.equal(app.requests.length, 1);
    assert.equal(stat(runtime, 'upstream_rq_retry'), 0);
    assert.equal(stat(runtime, 'upstream_rq_retry_limit_exceeded'), 0);
  });
});

test('retries: the retry circuit breaker refuses with upstream_rq_retry_overflow and flag UO', async () => {
  const app = await httpUpstream((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  await withProxy([app], { retry: { retryOn: ['5xx'], numRetries: 3 }, random: () => 0, cluster: { maxRetries: 0 } }, async (port, runtime) => {
    assert.equal((await request(port)).status, 503);
    assert.equal(app.requests.length, 1);
    assert.equal(stat(runtime, 'upstream_rq_retry_overflow'), 1);
    assert.equal(runtime.logs[0]?.response_flags, 'UO');
  });
});

test('connect failure: 503 with Envoy\'s body and flag UF; retried under connect-failure', async () => {
  // A port that was just closed: connections are refused.
  const gone = await httpUpstream(() => undefined);
  await gone.close();
  const runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: gone.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app', { retry: { retryOn: ['connect-failure'], numRetries: 2 } }))])]), { accessLog: true }), runtime, { options: { random: () => 0 } });
  try {
    const res = await request(proxy.port);
    assert.equal(res.status, 503);
    assert.equal(res.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
    assert.equal(runtime.stats.value('cluster.app.upstream_rq_retry'), 2);
    assert.equal(runtime.stats.value('cluster.app.upstream_cx_connect_fail'), 3);
    assert.equal(runtime.logs[0]?.response_flags, 'UF,URX');
    assert.equal(runtime.logs[0]?.response_code_details, 'upstream_reset_before_response_started{connection_failure}');
  } finally {
    await proxy.close();
    runtime.clusters.close();
  }
});

test('no healthy upstream: 503 "no healthy upstream", flag UH; missing cluster: 503 NC', async () => {
  const runtime = testRuntime([{ name: 'empty', endpoints: [] }]);
  const rc = routeConfig([virtualHost('all', ['*'], [route(forward('missing'), { prefix: '/missing' }), route(forward('empty'))])]);
  const proxy = await startProxy(hcmConfig(rc, { accessLog: true }), runtime);
  try {
    const res = await request(proxy.port);
    assert.equal(res.status, 503);
    assert.equal(res.body, 'no healthy upstream');
    assert.equal((await request(proxy.port, { path: '/missing' })).status, 503);
    assert.deepEqual(runtime.logs.map((l) => l.response_flags), ['UH', 'NC']);
    assert.equal(runtime.stats.value('http.test.no_cluster'), 1);
  } finally {
    await proxy.close();
    runtime.clusters.close();
  }
});

test('max_requests overflow: 503 UO, counted by the cluster as upstream_rq_pending_overflow', async () => {
  const held: Array<() => void> = [];
  const app = await httpUpstream((_req, res) => held.push(() => res.end('late')));
  await withProxy([app], { cluster: { maxRequests: 1 } }, async (port, runtime) => {
    const first = request(port);
    while (app.requests.length === 0) await new Promise((r) => setImmediate(r));
    const second = await request(port);
    assert.equal(second.status, 503);
    assert.equal(second.body, 'upstream connect error or disconnect/reset before headers. reset reason: overflow');
    assert.equal(stat(runtime, 'upstream_rq_pending_overflow'), 1);
    held[0]!();
    assert.equal((await first).body, 'late');
    assert.equal(runtime.logs.find((l) => l.response_code === 503)?.response_flags, 'UO');
  });
});

test('per-try timeout: 504 "upstream request timeout" with flag UT, then a retry that succeeds', async () => {
  let calls = 0;
  const app = await httpUpstream((_req, res) => {
    // The first try never answers; the second does.
    if (++calls > 1) res.end('second');
  });
  await withProxy([app], { retry: { retryOn: ['reset'], numRetries: 1, perTryTimeoutMs: 50 }, random: () => 0 }, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.body, 'second');
    assert.equal(stat(runtime, 'upstream_rq_per_try_timeout'), 1);
    assert.equal(stat(runtime, 'upstream_rq_retry'), 1);
    assert.equal(stat(runtime, 'upstream_rq_timeout'), 0);
  });
  const silent = await httpUpstream(() => undefined);
  await withProxy([silent], { retry: { retryOn: ['connect-failure'], numRetries: 1, perTryTimeoutMs: 50 } }, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.status, 504);
    assert.equal(res.body, 'upstream request timeout');
    assert.equal(runtime.logs[0]?.response_flags, 'UT');
    assert.equal(runtime.logs[0]?.response_code_details, 'upstream_per_try_timeout');
    assert.equal(stat(runtime, 'upstream_rq_retry'), 0, 'connect-failure does not retry a timeout');
  });
});

test('route timeout: 504 UT and upstream_rq_timeout; the upstream connection is closed, not reused', async () => {
  const sockets: Socket[] = [];
  const silent = await rawUpstream((s) => sockets.push(s));
  await withProxy([silent], { timeoutMs: 60 }, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.status, 504);
    assert.equal(res.body, 'upstream request timeout');
    assert.equal(stat(runtime, 'upstream_rq_timeout'), 1);
    assert.equal(runtime.logs[0]?.response_code_details, 'upstream_response_timeout');
    if (!sockets[0]!.destroyed) await once(sockets[0]!, 'close');
    assert.equal(runtime.clusters.get('app')!.slotsHeld, 0);
  });
});

test('route timeout after the response started: the client connection is reset', async () => {
  const app = await rawUpstream((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc')));
  await withProxy([app], { timeoutMs: 60 }, async (port, runtime) => {
    const client = await TestClient.connect(port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await assert.rejects(client.response(), /closed before the response was complete/);
    assert.equal(runtime.logs[0]?.response_code, 200);
    assert.equal(runtime.logs[0]?.response_flags, 'UT');
    assert.equal(runtime.stats.value('http.test.downstream_rq_tx_reset'), 1);
  });
});

test('an upstream that closes before the head: 503 UC; after the head: the client is reset', async () => {
  const closer = await rawUpstream((s) => s.once('data', () => s.destroy()));
  await withProxy([closer], {}, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.status, 503);
    assert.equal(res.body, 'upstream connect error or disconnect/reset before headers. reset reason: connection termination');
    assert.equal(runtime.logs[0]?.response_flags, 'UC');
    assert.equal(stat(runtime, 'upstream_rq_rx_reset'), 1);
  });
  const truncating = await rawUpstream((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial')));
  await withProxy([truncating], {}, async (port, runtime) => {
    const client = await TestClient.connect(port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await assert.rejects(client.response());
    assert.equal(runtime.stats.value('http.test.rq_reset_after_downstream_response_started'), 1);
    assert.equal(runtime.logs[0]?.response_flags, 'UC');
  });
});

test('a malformed upstream response: 502 with flag UPE', async () => {
  const garbage = await rawUpstream((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n')));
  await withProxy([garbage], {}, async (port, runtime) => {
    const res = await request(port);
    assert.equal(res.status, 502);
    assert.equal(runtime.logs[0]?.response_flags, 'UPE');
  });
});
