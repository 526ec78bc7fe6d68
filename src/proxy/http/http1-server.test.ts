/**
 * The HTTP/1.1 downstream loop over loopback: bodies by length and chunked (with trailers),
 * pipelining, HEAD and bodiless statuses, HTTP/1.0, Expect: 100-continue, Connection: close,
 * malformed and oversized heads, clients that go away mid-request, and large bodies both ways
 * under back-pressure.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  forward, hcmConfig, httpUpstream, listenerConfig, rawUpstream, request, route, routeConfig, startProxy, TestClient, testRuntime, virtualHost,
  type RunningServer, type TestRuntime, type Upstream,
} from './testing/harness.js';

describe('HTTP/1.1 downstream', () => {
  let app: Upstream;
  let runtime: TestRuntime;
  let proxy: RunningServer;

  before(async () => {
    app = await httpUpstream((req, res, body) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/chunked') {
        res.setHeader('trailer', 'x-checksum');
        res.write('part one, ');
        res.write('part two');
        res.addTrailers({ 'x-checksum': 'abc' });
        res.end();
        return;
      }
      if (url.pathname === '/status') {
        res.statusCode = Number(url.searchParams.get('code'));
        res.end();
        return;
      }
      if (url.pathname === '/delay') {
        setTimeout(() => res.end(`delayed ${url.searchParams.get('n')}`), Number(url.searchParams.get('ms')));
        return;
      }
      if (url.pathname === '/big') {
        const size = Number(url.searchParams.get('bytes'));
        res.setHeader('content-length', size);
        const block = Buffer.alloc(64 * 1024, 'x');
        let sent = 0;
        const pump = (): void => {
          while (sent < size) {
            const n = Math.min(block.length, size - sent);
            sent += n;
            if (!res.write(block.subarray(0, n))) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      res.setHeader('content-type', 'application/json');
      const json = JSON.stringify({ method: req.method, url: req.url, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null, sha: createHash('sha256').update(body).digest('hex'), length: body.length, trailers: req.trailers });
      res.setHeader('content-length', Buffer.byteLength(json));
      res.end(json);
    });
    runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
    proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app'))])]), { accessLog: true }), runtime);
  });

  after(async () => {
    await proxy.close();
    runtime.clusters.close();
    await app.close();
  });

  test('a chunked request body is forwarded chunked, trailers included', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    client.send('6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n');
    const res = await client.response();
    client.close();
    const echo = JSON.parse(res.body) as { te: string; cl: string | null; length: number; sha: string; trailers: Record<string, string> };
    assert.equal(echo.te, 'chunked');
    assert.equal(echo.cl, null);
    assert.equal(echo.length, 11);
    assert.equal(echo.sha, createHash('sha256').update('hello world').digest('hex'));
    assert.deepEqual(echo.trailers, { 'x-sum': '11' });
  });

  test('a chunked response is forwarded chunked to an HTTP/1.1 client, with its trailers', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('GET /chunked HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n');
    const res = await client.response();
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    assert.equal(res.body, 'part one, part two');
    // The next request on the same connection still works: the chunked framing ended exactly.
    client.send('GET /echo HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await client.response()).status, 200);
    client.close();
  });

  test('pipelined requests are answered in order, even when the first is the slowest', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('GET /delay?ms=40&n=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /delay?ms=0&n=2 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /delay?ms=5&n=4 HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await client.response()).body, 'delayed 1');
    assert.equal((await client.response()).body, 'delayed 2');
    const head = await client.response('HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.ok(Number(head.headers.get('content-length')) > 0, 'HEAD keeps the length of the body it stands for');
    assert.equal((await client.response()).body, 'delayed 4');
    client.close();
  });

  test('204 and 304 carry no body; the connection stays usable', async () => {
    const client = await TestClient.connect(proxy.port);
    for (const code of [204, 304]) {
      client.send(`GET /status?code=${code} HTTP/1.1\r\nHost: a\r\n\r\n`);
      const res = await client.response();
      assert.equal(res.status, code);
      assert.equal(res.headers.get('transfer-encoding'), undefined);
    }
    client.send('GET /echo HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await client.response()).status, 200);
    client.close();
  });

  test('HTTP/1.0: closed after the response unless keep-alive was asked; a chunked upstream body is sent close-delimited', async () => {
    const plain = await TestClient.connect(proxy.port);
    plain.send('GET /echo HTTP/1.0\r\n\r\n');
    const res = await plain.response();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('connection'), 'close');
    await plain.closed;

    const kept = await TestClient.connect(proxy.port);
    kept.send('GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.equal((await kept.response()).headers.get('connection'), 'keep-alive');
    kept.send('GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    const chunked = await kept.response();
    assert.equal(chunked.headers.get('transfer-encoding'), undefined);
    assert.equal(chunked.body, 'part one, part two');
    await kept.closed;
  });

  test('Connection: close is answered with Connection: close and the connection closes', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('GET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    const res = await client.response();
    assert.equal(res.headers.get('connection'), 'close');
    await client.closed;
  });

  test('Expect: 100-continue is answered by the proxy before the body is sent', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    const cont = await client.response();
    assert.equal(cont.status, 100);
    client.send('body');
    const res = await client.response();
    assert.equal((JSON.parse(res.body) as { length: number }).length, 4);
    assert.equal(app.requests.at(-1)?.headers.expect, undefined);
    client.close();
  });

  const malformed: Array<[string, string, number]> = [
    ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
    ['unknown transfer coding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo\r\n\r\n', 501],
    ['HTTP/3.0 request-line', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
  ];
  for (const [name, text, status] of malformed) {
    test(`malformed head (${name}): ${status}, then the connection closes`, async () => {
      const before = runtime.stats.value('http.test.downstream_cx_protocol_error');
      const client = await TestClient.connect(proxy.port);
      client.send(text);
      const res = await client.response();
      assert.equal(res.status, status);
      assert.equal(res.headers.get('connection'), 'close');
      await client.closed;
      assert.equal(runtime.stats.value('http.test.downstream_cx_protocol_error'), before + 1);
      assert.equal(runtime.logs.at(-1)?.response_flags, 'DPE');
    });
  }

  test('an oversized head gets 431, also when it arrives a few bytes at a time', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n');
    const line = `X-Filler: ${'y'.repeat(1000)}\r\n`;
    for (let i = 0; i < 70 && !client.socket.destroyed; i++) client.send(line);
    const res = await client.response();
    assert.equal(res.status, 431);
    await client.closed;
  });

  test('a malformed chunked body resets the exchange and closes the connection', async () => {
    const client = await TestClient.connect(proxy.port);
    client.send('POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    await client.closed;
    assert.equal(runtime.logs.at(-1)?.response_flags, 'DC');
  });

  test('large bodies both ways keep their bytes under back-pressure', async () => {
    const size = 8 * 1024 * 1024;
    const body = Buffer.alloc(size);
    // Letters only: the test upstream hands bodies over as strings.
    for (let i = 0; i < size; i++) body[i] = 0x61 + ((i * 31) % 26);
    const client = await TestClient.connect(proxy.port);
    client.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    client.send(body);
    const echo = JSON.parse((await client.response()).body) as { length: number; sha: string };
    assert.equal(echo.length, size);
    assert.equal(echo.sha, createHash('sha256').update(body).digest('hex'));
    client.send(`GET /big?bytes=${size} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const big = await client.response();
    assert.equal(big.body.length, size);
    client.close();
  });
});

test('a client that disconnects mid-body cancels the upstream request', async () => {
  const upstreamSockets: Socket[] = [];
  const app = await rawUpstream((s) => upstreamSockets.push(s));
  const runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app'))])]), { accessLog: true }), runtime);
  try {
    const client = await TestClient.connect(proxy.port);
    client.send('POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
    while (upstreamSockets.length === 0) await new Promise((r) => setImmediate(r));
    client.close();
    const upstream = upstreamSockets[0]!;
    if (!upstream.destroyed) await once(upstream, 'close');
    while (runtime.logs.length === 0) await new Promise((r) => setImmediate(r));
    assert.equal(runtime.stats.value('http.test.downstream_cx_destroy_remote_active_rq'), 1);
    assert.equal(runtime.stats.value('http.test.downstream_rq_rx_reset'), 1);
    assert.equal(runtime.stats.value('cluster.app.upstream_rq_tx_reset'), 1);
    assert.equal(runtime.logs[0]?.response_flags, 'DC');
    assert.equal(runtime.logs[0]?.response_code, 0);
    assert.equal(runtime.logs[0]?.bytes_received, 10);
    assert.equal(runtime.clusters.get('app')!.slotsHeld, 0);
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await app.close();
  }
});

test('a retried request whose body outgrows the retry buffer is forwarded once, not retried', async () => {
  const app = await httpUpstream((_req, res, body) => {
    res.statusCode = 503;
    res.end(String(body.length));
  });
  const runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
  const rc = routeConfig([virtualHost('all', ['*'], [route(forward('app', { retry: { retryOn: ['5xx'], numRetries: 3 } }))])]);
  const proxy = await startProxy(hcmConfig(rc), runtime, { options: { random: () => 0, retryBufferBytes: 1024 } });
  try {
    const small = await request(proxy.port, { method: 'POST', body: 'x'.repeat(100) });
    assert.equal(small.status, 503);
    assert.equal(app.requests.length, 4, 'a small body is replayed on each retry');
    const big = await request(proxy.port, { method: 'POST', body: 'x'.repeat(4096) });
    assert.equal(big.status, 503);
    assert.equal(big.body, '4096');
    assert.equal(app.requests.length, 5, 'a body past the buffer goes once');
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await app.close();
  }
});

test('a connection whose filter chain left the config closes after its next response (Envoy drains it)', async () => {
  const app = await httpUpstream((_req, res) => res.end('ok'));
  const runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app'))])])), runtime);
  try {
    const client = await TestClient.connect(proxy.port);
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await client.response()).headers.get('connection'), undefined);
    runtime.setConfig(listenerConfig(['test-chain']));
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal((await client.response()).headers.get('connection'), undefined, 'a new config that keeps the chain changes nothing');
    runtime.setConfig(listenerConfig(['another-chain']));
    client.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const last = await client.response();
    assert.equal(last.body, 'ok');
    assert.equal(last.headers.get('connection'), 'close');
    await client.closed;
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await app.close();
  }
});

test('drain: an idle connection closes at once, a busy one after its response with Connection: close', async () => {
  const held: Array<() => void> = [];
  const app = await httpUpstream((_req, res) => held.push(() => res.end('late')));
  const runtime = testRuntime([{ name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('app'))])])), runtime);
  try {
    const idle = await TestClient.connect(proxy.port);
    const busy = await TestClient.connect(proxy.port);
    busy.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    while (held.length === 0) await new Promise((r) => setImmediate(r));
    proxy.drain();
    await idle.closed;
    held[0]!();
    const res = await busy.response();
    assert.equal(res.body, 'late');
    assert.equal(res.headers.get('connection'), 'close');
    await busy.closed;
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await app.close();
  }
});
