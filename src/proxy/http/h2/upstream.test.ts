/**
 * The HTTP/2 upstream codec through the router: the server's concurrent-stream limit (streams
 * beyond it wait), GOAWAY and max requests per connection (a new session for what follows), a
 * connection lost mid-response, a failed connect, and closing the codec.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { describe, test } from 'node:test';
import { closedPort } from '../../clusters/testing.js';
import { forward, hcmConfig, route, routeConfig, virtualHost } from '../testing/harness.js';
import { h2Client, h2Cluster, h2Request, h2Runtime, startH2Proxy, startH2Upstream, waitFor } from './testing.js';

const toUpstream = hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('up'))])]));

function ok(stream: ServerHttp2Stream, path: unknown): void {
  stream.respond({ ':status': 200 });
  stream.end(String(path));
}

describe('HTTP/2 upstream', { timeout: 30_000 }, () => {
  test("streams beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a free one on the same session", async () => {
    // Each response waits until the next request could have arrived, so a limit ignored would show.
    const upstream = await startH2Upstream((stream, seen) => setTimeout(() => ok(stream, seen.headers[':path']), 5), { settings: { maxConcurrentStreams: 2 } });
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => h2Request(client, { ':path': `/${i}`, ':authority': 'up.test' })));
      rs.forEach((r, i) => {
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), `/${i}`);
      });
      assert.equal(upstream.seen.length, 12);
      assert.equal(upstream.maxConcurrent(), 2);
      assert.equal(upstream.sessions(), 1);
      assert.equal(runtime.stats.value('cluster.up.upstream_cx_total'), 1);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await upstream.close();
    }
  });

  test('after GOAWAY the next request opens a new session; the old one finishes its streams', async () => {
    const upstream = await startH2Upstream((stream, seen, session) => {
      ok(stream, seen.headers[':path']);
      if (seen.headers[':path'] === '/last-on-first') session.goaway(constants.NGHTTP2_NO_ERROR);
    });
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      assert.equal((await h2Request(client, { ':path': '/last-on-first', ':authority': 'up.test' })).status, 200);
      await waitFor(() => runtime.stats.value('cluster.up.upstream_cx_active') === 0, 'the first session to close after GOAWAY');
      const second = await h2Request(client, { ':path': '/second', ':authority': 'up.test' });
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), '/second');
      assert.equal(upstream.sessions(), 2);
      assert.equal(runtime.stats.value('cluster.up.upstream_cx_total'), 2);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await upstream.close();
    }
  });

  test('max_requests_per_connection: a session serves that many streams, then the next opens', async () => {
    const upstream = await startH2Upstream((stream, seen) => ok(stream, seen.headers[':path']));
    const runtime = h2Runtime([h2Cluster('up', upstream.port, { maxRequestsPerConnection: 2 })]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      for (let i = 0; i < 5; i++) assert.equal((await h2Request(client, { ':path': `/${i}`, ':authority': 'up.test' })).status, 200);
      assert.equal(upstream.sessions(), 3);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await upstream.close();
    }
  });

  test('a connection lost mid-response resets the stream and counts the destroyed connection', async () => {
    const upstream = await startH2Upstream(
      (stream, _seen, session) => {
        stream.respond({ ':status': 200 });
        stream.write('partial', () => session.destroy());
      },
      { eager: true },
    );
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const r = await h2Request(client, { ':path': '/lost', ':authority': 'up.test' });
      assert.equal(r.status, 200);
      assert.equal(r.complete, false);
      const s = runtime.stats;
      assert.equal(s.value('cluster.up.upstream_cx_destroy_remote_with_active_rq'), 1);
      assert.equal(s.value('cluster.up.upstream_rq_rx_reset'), 1);
      await waitFor(() => s.value('cluster.up.upstream_cx_active') === 0, 'the upstream connection to be released');
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await upstream.close();
    }
  });

  test('a failed connect fails every request waiting for that session with 503 UF', async () => {
    const runtime = h2Runtime([h2Cluster('up', await closedPort())]);
    const proxy = await startH2Proxy({ ...toUpstream, accessLog: true }, runtime);
    const client = await h2Client(proxy.port);
    try {
      const rs = await Promise.all([1, 2, 3].map((i) => h2Request(client, { ':path': `/${i}`, ':authority': 'up.test' })));
      for (const r of rs) {
        assert.equal(r.status, 503);
        assert.match(r.body.toString(), /reset reason: connection failure$/);
      }
      assert.deepEqual(
        runtime.logs.map((l) => l.response_flags),
        ['UF', 'UF', 'UF'],
      );
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
    }
  });

  test('a server that is not HTTP/2 fails the request once the connect timeout passes without its SETTINGS', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer((s) => s.on('error', () => undefined));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    const runtime = h2Runtime([h2Cluster('up', port, { connectTimeoutMs: 200 })]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const r = await h2Request(client, { ':path': '/silent', ':authority': 'up.test' });
      assert.equal(r.status, 503);
      assert.match(r.body.toString(), /reset reason: connection failure$/);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      silent.close();
    }
  });

  test('closing the codec resets streams in flight; later requests get a new session', async () => {
    const upstream = await startH2Upstream(
      (stream, seen) => {
        if (seen.headers[':path'] === '/hold') stream.respond({ ':status': 200 });
        else ok(stream, seen.headers[':path']);
      },
      { eager: true },
    );
    const runtime = h2Runtime([h2Cluster('up', upstream.port)]);
    const proxy = await startH2Proxy(toUpstream, runtime);
    const client = await h2Client(proxy.port);
    try {
      const held = client.request({ ':path': '/hold', ':authority': 'up.test' }, { endStream: true });
      held.on('error', () => undefined);
      held.on('data', () => undefined);
      let ended = false;
      held.on('end', () => (ended = !held.aborted && held.rstCode === constants.NGHTTP2_NO_ERROR));
      const closed = new Promise<void>((resolve) => held.on('close', resolve));
      await once(held, 'response');
      runtime.http2.close();
      await closed;
      assert.equal(ended, false);
      assert.equal(held.rstCode, constants.NGHTTP2_INTERNAL_ERROR);
      assert.equal(runtime.stats.value('cluster.up.upstream_cx_destroy_local_with_active_rq'), 1);
      assert.equal(runtime.stats.value('cluster.up.upstream_rq_rx_reset'), 0);
      const next = await h2Request(client, { ':path': '/next', ':authority': 'up.test' });
      assert.equal(next.status, 200);
      assert.equal(upstream.sessions(), 2);
    } finally {
      client.close();
      await proxy.close();
      runtime.close();
      await upstream.close();
    }
  });
});
