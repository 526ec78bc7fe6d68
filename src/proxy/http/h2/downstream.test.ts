/**
 * The HTTP/2 downstream codec through the router over loopback: h2c with prior knowledge and
 * TLS with ALPN `h2` on an `auto` listener (HTTP/1.1 still served there), an `http2` listener
 * refusing HTTP/1.1, headers, bodies and trailers both ways, HTTP/2 to HTTP/1.1 translation,
 * client cancels and upstream resets, a large body under flow control, and the stats.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, constants, type ServerHttp2Stream } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestMesh, type TestMesh } from '../../clusters/testing.js';
import type { HttpConnection } from '../connection-manager.js';
import { forward, hcmConfig, httpUpstream, request, route, routeConfig, virtualHost, type Upstream } from '../testing/harness.js';
import { h2Client, h2Cluster, h2Request, h2Runtime, startH2Proxy, startH2Upstream, waitFor, type H2Upstream } from './testing.js';

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_REFUSED_STREAM } = constants;

const toUpstream = hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('up'))])]));

const UPSTREAM_DATE = 'Thu, 01 Jan 2026 00:00:00 GMT';

/** Answers with what it got, a set-cookie pair and a trailer naming the body's length. */
function echoHandler(stream: ServerHttp2Stream, seen: { headers: Record<string, unknown>; body: Buffer }): void {
  stream.respond({ ':status': 200, 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], server: 'app', date: UPSTREAM_DATE }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'x-body-length': String(seen.body.length) }));
  stream.end(JSON.stringify({ path: seen.headers[':path'], method: seen.headers[':method'], body: seen.body.toString() }));
}

describe('HTTP/2 downstream', { timeout: 30_000 }, () => {
  let upstream: H2Upstream;
  before(async () => {
    upstream = await startH2Upstream(echoHandler);
  });
  after(async () => {
    await upstream.close();
  });

  test('h2c with prior knowledge: requests, bodies and trailers pass both ways on one upstream session', async () => {
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const post = await h2Request(
        client,
        { ':method': 'POST', ':path': '/books?id=1', ':authority': 'books.test', 'content-type': 'text/plain', te: 'trailers', cookie: ['a=1', 'b=2'] },
        'a book',
        { 'x-request-trailer': 'sent' },
      );
      assert.equal(post.status, 200);
      assert.ok(post.complete);
      assert.deepEqual(JSON.parse(post.body.toString()), { path: '/books?id=1', method: 'POST', body: 'a book' });
      assert.deepEqual(post.headers['set-cookie'], ['a=1', 'b=2']);
      assert.equal(post.headers.server, 'envoy');
      assert.match(String(post.headers['x-envoy-upstream-service-time']), /^\d+$/);
      assert.equal(post.headers.date, UPSTREAM_DATE, "the upstream's Date, not one the proxy made");
      assert.equal(post.trailers?.['x-body-length'], '6');

      const seen = upstream.seen.at(-1)!;
      assert.equal(seen.headers[':authority'], 'books.test');
      assert.equal(seen.headers[':scheme'], 'http');
      assert.equal(seen.headers.te, 'trailers');
      assert.equal(seen.headers.cookie, 'a=1; b=2');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.match(String(seen.headers['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(seen.headers['osm-stats-name'], 'bookbuyer');
      assert.equal(seen.trailers?.['x-request-trailer'], 'sent');

      const gets = await Promise.all(Array.from({ length: 20 }, (_, i) => h2Request(client, { ':path': `/get/${i}`, ':authority': 'books.test' })));
      gets.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body.toString()).path, `/get/${i}`);
      });
      const s = runtime.stats;
      assert.equal(s.value('http.test.downstream_cx_http2_total'), 1);
      assert.equal(s.value('http.test.downstream_cx_http1_total'), 0);
      assert.equal(s.value('http.test.downstream_rq_http2_total'), 21);
      assert.equal(s.value('http.test.downstream_rq_2xx'), 21);
      assert.equal(s.value('cluster.up.upstream_rq_total'), 21);
      assert.equal(s.value('cluster.up.upstream_rq_200'), 21);
      assert.equal(s.value('cluster.up.upstream_cx_total'), 1, 'one multiplexed upstream session');
      await waitFor(() => s.value('http.test.downstream_rq_active') === 0, 'requests to finish');
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
    }
    await waitFor(() => runtime.stats.value('http.test.downstream_cx_active') === 0, 'the connection to close');
    assert.equal(runtime.stats.value('http.test.downstream_cx_http2_active'), 0);
    assert.equal(runtime.stats.value('http.test.downstream_cx_destroy_remote'), 1);
    assert.ok(runtime.stats.value('http.test.downstream_cx_rx_bytes_total') > 0);
  });

  test('TLS with ALPN h2 is HTTP/2; ALPN http/1.1 on the same listener is HTTP/1.1', async (t) => {
    const mesh: TestMesh = await createTestMesh();
    t.after(() => mesh.close());
    const serverCert = await mesh.workload('bookstore', 'bookstore');
    const clientCert = await mesh.workload('bookbuyer', 'bookbuyer');
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime, { tls: { cert: serverCert, ca: mesh.rootPem, alpn: ['h2', 'http/1.1'] } });
    const tlsOptions = { ca: mesh.rootPem, cert: clientCert.certChainPem, key: clientCert.privateKeyPem, checkServerIdentity: () => undefined };
    try {
      const client = http2Connect(`https://127.0.0.1:${proxy.port}`, tlsOptions);
      client.on('error', () => undefined);
      const r = await h2Request(client, { ':path': '/tls', ':authority': 'books.test' });
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body.toString()).path, '/tls');
      assert.equal(upstream.seen.at(-1)!.headers[':scheme'], 'https');
      client.close();

      const { connect: tlsConnect } = await import('node:tls');
      const socket = tlsConnect({ host: '127.0.0.1', port: proxy.port, ALPNProtocols: ['http/1.1'], ...tlsOptions });
      await once(socket, 'secureConnect');
      assert.equal(socket.alpnProtocol, 'http/1.1');
      socket.write('GET /tls-h1 HTTP/1.1\r\nhost: books.test\r\nconnection: close\r\n\r\n');
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      await once(socket, 'close');
      assert.match(text, /^HTTP\/1\.1 200 /);
      assert.match(text, /"path":"\/tls-h1"/);
      assert.equal(runtime.stats.value('http.test.downstream_cx_http2_total'), 1);
      assert.equal(runtime.stats.value('http.test.downstream_cx_http1_total'), 1);
    } finally {
      await proxy.close();
      runtime.close();
    }
  });

  test('auto: an HTTP/1.1 client is served as HTTP/1.1, to an HTTP/2 upstream', async () => {
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    try {
      const r = await request(proxy.port, { method: 'POST', path: '/from-h1', host: 'books.test', headers: { 'x-one': '1' }, body: 'body from h1' });
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body), { path: '/from-h1', method: 'POST', body: 'body from h1' });
      const seen = upstream.seen.at(-1)!;
      assert.equal(seen.headers[':authority'], 'books.test');
      assert.equal(seen.headers['content-length'], '12');
      assert.equal(seen.headers['x-one'], '1');
      assert.equal(seen.headers.connection, undefined);
      assert.equal(runtime.stats.value('http.test.downstream_cx_http1_total'), 1);
      assert.equal(runtime.stats.value('http.test.downstream_cx_http2_total'), 0);
    } finally {
      await proxy.close();
      runtime.close();
    }
  });

  test('an http2 listener closes a connection that does not start with the HTTP/2 preface', async () => {
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy({ ...toUpstream, codec: 'http2' }, runtime);
    try {
      const socket = netConnect({ host: '127.0.0.1', port: proxy.port });
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      socket.write('GET / HTTP/1.1\r\nhost: books.test\r\n\r\n');
      await once(socket, 'close');
      await waitFor(() => runtime.stats.value('http.test.downstream_cx_active') === 0, 'the proxy to close the connection');
      assert.equal(runtime.stats.value('http.test.downstream_cx_protocol_error'), 1);
      assert.equal(runtime.stats.value('http.test.downstream_rq_total'), 0);
    } finally {
      await proxy.close();
      runtime.close();
    }
  });

  test('to an HTTP/1.1 upstream: a body of unknown length goes chunked, cookies as one field', async () => {
    const h1: Upstream = await httpUpstream((req, res, body) => res.end(JSON.stringify({ te: req.headers['transfer-encoding'], cookie: req.headers.cookie, host: req.headers.host, body })));
    const runtime = h2Runtime([h2Cluster('up', h1.port, { upstreamProtocol: 'http1' })]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const r = await h2Request(client, { ':method': 'PUT', ':path': '/h1', ':authority': 'books.test', cookie: ['a=1', 'b=2'] }, 'streamed');
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.body.toString()), { te: 'chunked', cookie: 'a=1; b=2', host: 'books.test', body: 'streamed' });
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await h1.close();
    }
  });

  test('a client cancelling a stream resets the upstream stream; the connection keeps serving', async () => {
    const held = await startH2Upstream(
      (stream, seen) => {
        if (seen.headers[':path'] !== '/hold') return echoHandler(stream, seen);
        stream.respond({ ':status': 200 });
        stream.write('first');
      },
      { eager: true },
    );
    const runtime = h2Runtime([h2Cluster('up', held.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const stream = client.request({ ':path': '/hold', ':authority': 'books.test' });
      stream.on('error', () => undefined);
      await once(stream, 'data');
      stream.close(NGHTTP2_CANCEL);
      await waitFor(() => held.seen[0]?.closedWith !== undefined, 'the upstream stream to close');
      assert.equal(held.seen[0]!.closedWith, NGHTTP2_CANCEL);
      const s = runtime.stats;
      await waitFor(() => s.value('http.test.downstream_rq_rx_reset') === 1, 'the reset to be counted');
      assert.equal(s.value('cluster.up.upstream_rq_tx_reset'), 1);
      assert.equal(s.value('http.test.downstream_rq_active'), 0);

      const later = await h2Request(client, { ':path': '/after', ':authority': 'books.test' }, '');
      assert.equal(later.status, 200);
      assert.equal(s.value('cluster.up.upstream_cx_total'), 1);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await held.close();
    }
  });

  test('an upstream reset after the response started resets the client stream', async () => {
    const resetting = await startH2Upstream(
      (stream) => {
        stream.respond({ ':status': 200 }, { waitForTrailers: true });
        stream.write('partial', () => stream.close(NGHTTP2_INTERNAL_ERROR));
      },
      { eager: true },
    );
    const runtime = h2Runtime([h2Cluster('up', resetting.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const r = await h2Request(client, { ':path': '/cut', ':authority': 'books.test' });
      assert.equal(r.status, 200);
      assert.equal(r.complete, false);
      assert.equal(r.rstCode, NGHTTP2_INTERNAL_ERROR);
      const s = runtime.stats;
      assert.equal(s.value('http.test.rq_reset_after_downstream_response_started'), 1);
      assert.equal(s.value('cluster.up.upstream_rq_rx_reset'), 1);
      assert.equal(s.value('http.test.downstream_rq_tx_reset'), 1);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await resetting.close();
    }
  });

  const beforeHead = [
    { name: 'REFUSED_STREAM', code: NGHTTP2_REFUSED_STREAM, status: 503, reason: 'connection termination', flag: 'UC' },
    { name: 'PROTOCOL_ERROR', code: NGHTTP2_PROTOCOL_ERROR, status: 502, reason: 'protocol error', flag: 'UPE' },
  ];
  for (const c of beforeHead) {
    test(`an upstream ${c.name} before the response is a local ${c.status} (${c.flag})`, async () => {
      const refusing = await startH2Upstream((stream) => stream.close(c.code), { eager: true });
      const runtime = h2Runtime([h2Cluster('up', refusing.port)]);
      const proxy = await startH2Proxy({ ...toUpstream, accessLog: true }, runtime);
      const client = await h2Client(proxy.port);
      try {
        const r = await h2Request(client, { ':path': '/refused', ':authority': 'books.test' });
        assert.equal(r.status, c.status);
        assert.equal(r.body.toString(), `upstream connect error or disconnect/reset before headers. reset reason: ${c.reason}`);
        await waitFor(() => runtime.logs.length === 1, 'the access log line');
        assert.equal(runtime.logs[0]!.response_flags, c.flag);
        assert.equal(runtime.logs[0]!.protocol, 'HTTP/2');
      } finally {
        client.close();
        await proxy.close();
        runtime.close();
        await refusing.close();
      }
    });
  }

  test('drain: GOAWAY, the stream in flight finishes, new streams are refused, then the connection closes', async () => {
    let release: (() => void) | undefined;
    const held = await startH2Upstream((stream, seen) => {
      if (seen.headers[':path'] !== '/slow') return echoHandler(stream, seen);
      release = () => echoHandler(stream, seen);
    });
    const runtime = h2Runtime([h2Cluster('up', held.port)]);
    const served: HttpConnection[] = [];
    const proxy = await startH2Proxy(toUpstream, runtime, { onConnection: (c) => served.push(c) });
    const client = await h2Client(proxy.port);
    try {
      const slow = h2Request(client, { ':path': '/slow', ':authority': 'books.test' });
      await waitFor(() => release !== undefined, 'the slow request to reach the upstream');
      const goaway = once(client, 'goaway');
      served[0]!.drain();
      await goaway;
      assert.throws(() => client.request({ ':path': '/late', ':authority': 'books.test' }), { code: 'ERR_HTTP2_GOAWAY_SESSION' });
      release!();
      const r = await slow;
      assert.equal(r.status, 200);
      assert.ok(r.complete);
      await waitFor(() => runtime.stats.value('http.test.downstream_cx_active') === 0, 'the drained connection to close');
      assert.equal(runtime.stats.value('http.test.downstream_cx_destroy_local'), 1);
      assert.equal(held.seen.length, 1);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await held.close();
    }
  });

  test('a 4 MiB body each way crosses both hops under flow control', async () => {
    const echo = await startH2Upstream((stream, seen) => {
      stream.respond({ ':status': 200 });
      stream.end(seen.body);
    });
    const rt = h2Runtime([h2Cluster('up', echo.port)]);
    const proxy = await startH2Proxy(toUpstream, rt);
    const client = await h2Client(proxy.port);
    try {
      const body = randomBytes(4 * 1024 * 1024);
      const r = await h2Request(client, { ':method': 'POST', ':path': '/big', ':authority': 'books.test' }, body);
      assert.equal(r.status, 200);
      assert.ok(r.complete);
      assert.equal(r.body.length, body.length);
      assert.ok(r.body.equals(body));
    } finally {
      client.close();
      await proxy.close();
      rt.close();
      await echo.close();
    }
  });
});
