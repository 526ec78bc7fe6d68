/**
 * WebSocket upgrades through the proxy, with a tiny raw-socket WebSocket server and client
 * (RFC 6455 handshake and small unfragmented frames; enough to see bytes cross the tunnel).
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { forward, hcmConfig, rawUpstream, request, route, routeConfig, startProxy, testRuntime, virtualHost, type Upstream } from './testing/harness.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const acceptOf = (key: string): string => createHash('sha1').update(key + GUID).digest('base64');

/** One text frame with a payload under 126 bytes; clients mask, servers do not. */
function frame(text: string, mask: boolean): Buffer {
  const payload = Buffer.from(text);
  const head = Buffer.from([0x81, (mask ? 0x80 : 0) | payload.length]);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([1, 2, 3, 4]);
  return Buffer.concat([head, key, payload.map((b, i) => b ^ key[i % 4]!)]);
}

/** Splits complete frames off `buf`: their texts and the unused rest. */
function readFrames(buf: Buffer): { texts: string[]; rest: Buffer } {
  const texts: string[] = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const masked = (buf[off + 1]! & 0x80) !== 0;
    const len = buf[off + 1]! & 0x7f;
    const start = off + 2 + (masked ? 4 : 0);
    if (buf.length < start + len) break;
    const payload = Buffer.from(buf.subarray(start, start + len));
    if (masked) for (let i = 0; i < len; i++) payload[i]! ^= buf[off + 2 + (i % 4)]!;
    texts.push(payload.toString());
    off = start + len;
  }
  return { texts, rest: buf.subarray(off) };
}

/** A WebSocket echo server that greets first (its greeting leaves in the same write as the 101). */
async function echoServer(): Promise<Upstream & { closed: Promise<void> }> {
  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const server = await rawUpstream((socket) => {
    let buf: Buffer = Buffer.alloc(0);
    let open = false;
    socket.on('close', resolveClosed);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const key = /sec-websocket-key: *(\S+)/i.exec(head)?.[1] ?? '';
        socket.write(Buffer.concat([
          Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`),
          frame('welcome', false),
        ]));
        open = true;
        buf = buf.subarray(end + 4);
      }
      const { texts, rest } = readFrames(buf);
      buf = rest;
      for (const t of texts) socket.write(frame(`echo: ${t}`, false));
    });
  });
  return Object.assign(server, { closed });
}

test('a websocket upgrade gets 101 and a two-way tunnel; closing one side closes the other', async () => {
  const ws = await echoServer();
  const runtime = testRuntime([{ name: 'ws', endpoints: [{ address: '127.0.0.1', port: ws.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('ws'))])]), { websocket: true, accessLog: true }), runtime);
  try {
    const client = connect({ host: '127.0.0.1', port: proxy.port });
    await once(client, 'connect');
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    // The first frame goes right behind the request head, before the 101 arrives.
    client.write(Buffer.concat([
      Buffer.from(`GET /chat HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`),
      frame('early', true),
    ]));
    let buf: Buffer = Buffer.alloc(0);
    const texts: string[] = [];
    let head = '';
    const want = async (n: number): Promise<void> => {
      while (texts.length < n) {
        const [chunk] = (await once(client, 'data')) as [Buffer];
        buf = Buffer.concat([buf, chunk]);
        if (head === '') {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) continue;
          head = buf.toString('latin1', 0, end + 4);
          buf = buf.subarray(end + 4);
        }
        const r = readFrames(buf);
        texts.push(...r.texts);
        buf = r.rest;
      }
    };
    await want(2);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nupgrade: websocket\r\n/i);
    assert.match(head, /\r\nconnection: upgrade\r\n/i);
    assert.ok(head.includes(`Sec-WebSocket-Accept: ${acceptOf(key)}`));
    assert.deepEqual(texts, ['welcome', 'echo: early']);
    client.write(frame('hello', true));
    await want(3);
    assert.equal(texts[2], 'echo: hello');
    assert.equal(runtime.stats.value('http.test.downstream_cx_upgrades_active'), 1);

    client.destroy();
    await ws.closed;
    while (runtime.logs.length === 0) await new Promise((r) => setImmediate(r));
    assert.equal(runtime.logs[0]?.response_code, 101);
    assert.equal(runtime.stats.value('http.test.downstream_cx_upgrades_total'), 1);
    assert.equal(runtime.stats.value('http.test.downstream_cx_upgrades_active'), 0);
    assert.equal(runtime.clusters.get('ws')!.slotsHeld, 0);
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await ws.close();
  }
});

test('a websocket upgrade where the connection manager does not allow it gets 403', async () => {
  const ws = await echoServer();
  const runtime = testRuntime([{ name: 'ws', endpoints: [{ address: '127.0.0.1', port: ws.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('ws'))])]), { websocket: false }), runtime);
  try {
    const res = await request(proxy.port, { headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': 'x', 'Sec-WebSocket-Version': '13' } });
    assert.equal(res.status, 403);
    assert.equal(runtime.stats.value('http.test.downstream_rq_ws_on_non_ws_route'), 1);
    assert.equal(ws.connections, 0);
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await ws.close();
  }
});

test('an upgrade the upstream declines is answered normally on the same client connection', async () => {
  const plain: Socket[] = [];
  const server = await rawUpstream((s) => {
    plain.push(s);
    s.once('data', () => s.write('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 2\r\n\r\nno'));
  });
  const runtime = testRuntime([{ name: 'ws', endpoints: [{ address: '127.0.0.1', port: server.port }] }]);
  const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('all', ['*'], [route(forward('ws'))])]), { websocket: true }), runtime);
  try {
    const res = await request(proxy.port, { headers: { Upgrade: 'websocket', Connection: 'Upgrade' } });
    assert.equal(res.status, 426);
    assert.equal(res.body, 'no');
    // The upgrade went on its own connection, which is not pooled: it closes after the response.
    if (!plain[0]!.destroyed) await once(plain[0]!, 'close');
  } finally {
    await proxy.close();
    runtime.clusters.close();
    await server.close();
  }
});
