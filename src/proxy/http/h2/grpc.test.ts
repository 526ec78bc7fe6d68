/**
 * gRPC through a pair of sidecars over loopback, as in the mesh: a grpc-js client speaks h2c to
 * the outbound proxy, which forwards over HTTP/2 inside mutual TLS (ALPN `osm`, the real cluster
 * manager with mesh certificates) to the inbound proxy, which forwards h2c to a grpc-js server.
 * All four streaming kinds with metadata and trailers, a non-OK status, messages over 1 MB,
 * and a client cancelling a stream. Then the gRPC local-reply pieces as tables.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { certificateSecretOf, createTestMesh, meshTls, validationSecretOf, type TestMesh } from '../../clusters/testing.js';
import { PairFields } from '../exchange.js';
import { forward, hcmConfig, route, routeConfig, virtualHost } from '../testing/harness.js';
import { encodeGrpcMessage, grpcLocalReply, grpcStatusOf, isGrpcRequest } from './grpc.js';
import { echoClient, h2Cluster, h2Runtime, rawBytes, startEchoServer, startH2Proxy, waitFor, type EchoServer, type H2Runtime, type RunningServer } from './testing.js';

const BOOKSTORE_SPIFFE = 'spiffe://cluster.local/ns/bookstore/sa/bookstore';
const OUTBOUND_CLUSTER = 'bookstore/bookstore|14001';
const LOCAL_CLUSTER = 'bookstore/bookstore|14001|local';

function unary(client: Client, message: Buffer, metadata = new Metadata()): Promise<{ error: ServiceError | null; response: Buffer | undefined; initial: Metadata | undefined; trailers: Metadata | undefined }> {
  return new Promise((resolve) => {
    let initial: Metadata | undefined;
    let trailers: Metadata | undefined;
    const call = client.makeUnaryRequest('/test.Echo/Unary', rawBytes, rawBytes, message, metadata, {}, (error, response) => {
      setImmediate(() => resolve({ error, response, initial, trailers }));
    });
    call.on('metadata', (m: Metadata) => (initial = m));
    call.on('status', (s: { metadata: Metadata }) => (trailers = s.metadata));
  });
}

describe('gRPC through a sidecar pair', { timeout: 60_000 }, () => {
  let mesh: TestMesh;
  let echo: EchoServer;
  let inbound: RunningServer;
  let outbound: RunningServer;
  let inRuntime: H2Runtime;
  let outRuntime: H2Runtime;
  let client: Client;

  before(async () => {
    mesh = await createTestMesh();
    const serverCert = await mesh.workload('bookstore', 'bookstore');
    const clientCert = await mesh.workload('bookbuyer', 'bookbuyer');
    echo = await startEchoServer();
    inRuntime = h2Runtime([h2Cluster(LOCAL_CLUSTER, echo.port)]);
    inbound = await startH2Proxy(hcmConfig(routeConfig([virtualHost('inbound', ['*'], [route(forward(LOCAL_CLUSTER))])]), { statPrefix: 'inbound' }), inRuntime, {
      direction: 'inbound',
      tls: { cert: serverCert, ca: mesh.rootPem, alpn: ['osm'] },
    });
    outRuntime = h2Runtime(
      [h2Cluster(OUTBOUND_CLUSTER, inbound.port, { tls: meshTls('service-cert:bookbuyer/bookbuyer', 'root-cert-for-mtls-outbound:bookstore/bookstore') })],
      [certificateSecretOf('service-cert:bookbuyer/bookbuyer', clientCert), validationSecretOf('root-cert-for-mtls-outbound:bookstore/bookstore', mesh.rootPem, [BOOKSTORE_SPIFFE])],
    );
    outbound = await startH2Proxy(hcmConfig(routeConfig([virtualHost('outbound', ['*'], [route(forward(OUTBOUND_CLUSTER))])]), { statPrefix: 'outbound' }), outRuntime, { direction: 'outbound' });
    client = echoClient(outbound.port);
  });

  after(async () => {
    client.close();
    await outbound.close();
    await inbound.close();
    outRuntime.close();
    inRuntime.close();
    await echo.close();
    mesh.close();
  });

  test('unary: message, metadata both ways, trailers; over one mesh TLS session', async () => {
    const md = new Metadata();
    md.set('x-echo', 'from-client');
    md.set('x-data-bin', Buffer.from([0, 1, 2, 255]));
    const r = await unary(client, Buffer.from('hello'), md);
    assert.equal(r.error, null);
    assert.equal(r.response?.toString(), 'hello');
    assert.deepEqual(r.initial?.get('x-echo'), ['from-client']);
    assert.deepEqual(r.trailers?.get('x-trailer'), ['done']);
    const seen = echo.metadata.at(-1)!;
    assert.deepEqual(seen.get('x-data-bin'), [Buffer.from([0, 1, 2, 255])]);
    assert.deepEqual(seen.get('osm-stats-name'), [], 'the inbound sidecar removes the osm-stats headers');
    assert.equal(seen.get('x-forwarded-proto')[0], 'http');
    assert.equal(outRuntime.stats.value(`cluster.${OUTBOUND_CLUSTER}.ssl.handshake`), 1);
    assert.equal(outRuntime.stats.value(`cluster.${OUTBOUND_CLUSTER}.upstream_cx_total`), 1);
    assert.equal(outRuntime.stats.value('http.outbound.downstream_cx_http2_total'), 1);
    assert.equal(inRuntime.stats.value('http.inbound.downstream_cx_http2_total'), 1);
  });

  test('a non-OK status and its details and trailers come back through both sidecars', async () => {
    const r = await unary(client, Buffer.from('fail:no such book'));
    assert.equal(r.error?.code, status.NOT_FOUND);
    assert.equal(r.error?.details, 'no such book');
    assert.deepEqual(r.error?.metadata.get('x-trailer'), ['done']);
  });

  test('server streaming: every message, then the trailers', async () => {
    const call = client.makeServerStreamRequest('/test.Echo/ServerStream', rawBytes, rawBytes, Buffer.from('5:chapter'), new Metadata());
    const messages: string[] = [];
    call.on('data', (b: Buffer) => messages.push(b.toString()));
    const end = await new Promise<{ code: number; metadata: Metadata }>((resolve) => call.on('status', resolve));
    assert.equal(end.code, status.OK);
    assert.deepEqual(messages, Array(5).fill('chapter'));
    assert.deepEqual(end.metadata.get('x-trailer'), ['done']);
  });

  test('client streaming: the server sees every message, in order', async () => {
    const result = new Promise<Buffer>((resolve, reject) => {
      const call = client.makeClientStreamRequest('/test.Echo/ClientStream', rawBytes, rawBytes, new Metadata(), (e, r) => (e ? reject(e) : resolve(r!)));
      for (const part of ['one,', 'two,', 'three']) call.write(Buffer.from(part));
      call.end();
    });
    assert.equal((await result).toString(), 'one,two,three');
  });

  test('bidi: each reply arrives before the next message is sent', async () => {
    const call = client.makeBidiStreamRequest('/test.Echo/Bidi', rawBytes, rawBytes, new Metadata());
    const replies: Buffer[] = [];
    let wake: (() => void) | undefined;
    call.on('data', (b: Buffer) => {
      replies.push(b);
      wake?.();
    });
    const status$ = new Promise<{ code: number; metadata: Metadata }>((resolve) => call.on('status', resolve));
    for (let i = 0; i < 5; i++) {
      call.write(Buffer.from(`ping ${i}`));
      await new Promise<void>((resolve) => (wake = resolve));
      assert.equal(replies[i]!.toString(), `ping ${i}`);
    }
    call.end();
    const end = await status$;
    assert.equal(end.code, status.OK);
    assert.deepEqual(end.metadata.get('x-trailer'), ['done']);
  });

  test('messages over 1 MB cross both hops under flow control (unary and bidi)', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024 + 17, 0x61);
    big.write('first', 0);
    big.write('last', big.length - 4);
    const r = await unary(client, big);
    assert.equal(r.error, null);
    assert.ok(r.response?.equals(big));

    const call = client.makeBidiStreamRequest('/test.Echo/Bidi', rawBytes, rawBytes, new Metadata());
    const got: Buffer[] = [];
    call.on('data', (b: Buffer) => got.push(b));
    const done = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => resolve(s.code)));
    const parts = [0x41, 0x42, 0x43].map((c) => Buffer.alloc(1536 * 1024, c));
    for (const p of parts) call.write(p);
    call.end();
    assert.equal(await done, status.OK);
    assert.equal(got.length, 3);
    got.forEach((b, i) => assert.ok(b.equals(parts[i]!)));
  });

  test('a client cancelling a stream cancels it at the server; the sidecars count the resets', async () => {
    const call = client.makeServerStreamRequest('/test.Echo/ServerStream', rawBytes, rawBytes, Buffer.from('hold'), new Metadata());
    call.on('error', () => undefined);
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    const before = echo.cancelled();
    call.cancel();
    await waitFor(() => echo.cancelled() === before + 1, 'the server to see the cancellation');
    await waitFor(() => outRuntime.stats.value('http.outbound.downstream_rq_rx_reset') === 1, 'the outbound reset');
    assert.equal(outRuntime.stats.value(`cluster.${OUTBOUND_CLUSTER}.upstream_rq_tx_reset`), 1);
    await waitFor(() => inRuntime.stats.value('http.inbound.downstream_rq_rx_reset') === 1, 'the inbound reset');
    assert.equal(inRuntime.stats.value(`cluster.${LOCAL_CLUSTER}.upstream_rq_tx_reset`), 1);
    const r = await unary(client, Buffer.from('still there'));
    assert.equal(r.response?.toString(), 'still there');
    assert.equal(outRuntime.stats.value(`cluster.${OUTBOUND_CLUSTER}.upstream_cx_total`), 1);
  });
});

describe('gRPC local replies', () => {
  const statuses = [
    { http: 400, grpc: 13 },
    { http: 401, grpc: 16 },
    { http: 403, grpc: 7 },
    { http: 404, grpc: 12 },
    { http: 429, grpc: 14 },
    { http: 502, grpc: 14 },
    { http: 503, grpc: 14 },
    { http: 504, grpc: 14 },
    { http: 500, grpc: 2 },
    { http: 418, grpc: 2 },
  ];
  for (const c of statuses) test(`HTTP ${c.http} is gRPC status ${c.grpc}`, () => assert.equal(grpcStatusOf(c.http), c.grpc));

  const contentTypes = [
    { value: 'application/grpc', want: true },
    { value: 'application/grpc+proto', want: true },
    { value: 'Application/GRPC;charset=utf-8', want: true },
    { value: 'application/grpc-web', want: false },
    { value: 'application/json', want: false },
  ];
  for (const c of contentTypes) test(`content-type ${c.value} is ${c.want ? '' : 'not '}gRPC`, () => assert.equal(isGrpcRequest(new PairFields(['content-type', c.value])), c.want));
  test('a request without content-type is not gRPC', () => assert.equal(isGrpcRequest(new PairFields(['te', 'trailers'])), false));

  test('grpc-message is percent-encoded UTF-8', () => {
    assert.equal(encodeGrpcMessage('no healthy upstream'), 'no healthy upstream');
    assert.equal(encodeGrpcMessage('50% done\n'), '50%25 done%0A');
    assert.equal(encodeGrpcMessage('café'), 'caf%C3%A9');
  });

  test('the reply is a trailers-only 200 with grpc-status and grpc-message', () => {
    const head = grpcLocalReply(503, 'no healthy upstream', ['server', 'envoy']);
    assert.equal(head.status, 200);
    assert.equal(head.endStream, true);
    const pairs: string[] = [];
    for (let i = 0; i < head.headers.count; i++) pairs.push(head.headers.name(i), head.headers.value(i));
    assert.deepEqual(pairs, ['content-type', 'application/grpc', 'grpc-status', '14', 'grpc-message', 'no healthy upstream', 'server', 'envoy']);
    assert.equal(grpcLocalReply(403, '', []).headers.count, 2);
  });
});
