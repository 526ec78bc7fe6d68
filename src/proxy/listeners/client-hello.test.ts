import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { inspectClientHello } from './client-hello.js';

/** The first bytes a real Node TLS client sends, captured by a plain TCP server. */
async function captureClientHello(options: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const client = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

test('a real ClientHello gives its SNI and ALPN list, and any prefix of it is incomplete', async () => {
  const hello = await captureClientHello({ servername: 'Bookstore.Bookstore.svc.cluster.local', ALPNProtocols: ['osm', 'h2'] });
  assert.deepEqual(inspectClientHello(hello), { kind: 'tls', serverName: 'bookstore.bookstore.svc.cluster.local', alpn: ['osm', 'h2'] });
  for (const cut of [1, 3, 5, 6, 40, hello.length - 1]) assert.deepEqual(inspectClientHello(hello.subarray(0, cut)), { kind: 'incomplete' }, `cut at ${cut}`);
});

test('a ClientHello without SNI or ALPN is TLS with neither', async () => {
  const hello = await captureClientHello({});
  assert.deepEqual(inspectClientHello(hello), { kind: 'tls', serverName: undefined, alpn: [] });
});

test('a ClientHello split over two records is reassembled', async () => {
  const hello = await captureClientHello({ servername: 'a.example', ALPNProtocols: ['osm'] });
  const body = hello.subarray(5);
  const half = 50;
  const record = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, b.length >> 8, b.length & 0xff]), b]);
  const split = Buffer.concat([record(body.subarray(0, half)), record(body.subarray(half))]);
  assert.deepEqual(inspectClientHello(split), { kind: 'tls', serverName: 'a.example', alpn: ['osm'] });
  assert.deepEqual(inspectClientHello(split.subarray(0, 5 + half + 3)), { kind: 'incomplete' });
});

test('plain text and other record types are not TLS', () => {
  assert.deepEqual(inspectClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { kind: 'notTls' });
  assert.deepEqual(inspectClientHello(Buffer.from([0x16, 0x02, 0x00])), { kind: 'notTls' });
  assert.deepEqual(inspectClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])), { kind: 'notTls' });
  assert.deepEqual(inspectClientHello(Buffer.alloc(0)), { kind: 'incomplete' });
});
