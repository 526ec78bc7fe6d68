/**
 * Streaming protocols through a sidecar pair: gRPC (HTTP/2 end to end, all four call kinds,
 * metadata and trailers, a non-OK status) and a WebSocket echo over an HTTP/1.1 upgrade.
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { credentials, makeGenericClientConstructor, Metadata, Server, ServerCredentials, status, type ServiceDefinition, type ServiceError, type ClientDuplexStream, type ClientReadableStream } from '@grpc/grpc-js';
import { startLoopbackMesh, type LoopbackMesh } from '../../../src/testing/loopback-mesh.js';
import { addressPlan } from './mesh.js';

const { ip: IP, app: APP } = addressPlan(70);
const UUID = { client: '70000000-0000-4000-8000-000000000001', echo: '70000000-0000-4000-8000-000000000002' };
const GRPC = { bindPort: 15051, destination: '10.96.7.1:50051' };
const WS = { bindPort: 18090, destination: '10.96.7.2:8090' };
const DENIED = { bindPort: 15052, destination: '10.96.7.3:50052' };

const yaml = `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec: {traffic: {enablePermissiveTrafficPolicyMode: false}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: client-1, namespace: shop, labels: {app: client, osm-proxy-uuid: "${UUID.client}"}}
spec: {serviceAccountName: client, containers: [{name: app, image: x}]}
status: {podIP: ${IP.client}}
---
apiVersion: v1
kind: Pod
metadata: {name: echo-1, namespace: shop, labels: {app: echo, osm-proxy-uuid: "${UUID.echo}"}}
spec: {serviceAccountName: echo, containers: [{name: app, image: x, ports: [{containerPort: 50051}, {containerPort: 8090}]}]}
status: {podIP: ${IP.v1}}
---
apiVersion: v1
kind: Service
metadata: {name: echo-grpc, namespace: shop}
spec: {selector: {app: echo}, clusterIP: 10.96.7.1, ports: [{name: grpc, port: 50051, appProtocol: grpc}]}
---
apiVersion: v1
kind: Service
metadata: {name: echo-ws, namespace: shop}
spec: {selector: {app: echo}, clusterIP: 10.96.7.2, ports: [{name: http, port: 8090}]}
---
apiVersion: v1
kind: Service
metadata: {name: vault-grpc, namespace: vault}
spec: {selector: {app: vault}, clusterIP: 10.96.7.3, ports: [{name: grpc, port: 50052, appProtocol: grpc}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: vault, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: vault-1, namespace: vault, labels: {app: vault}}
spec: {serviceAccountName: vault, containers: [{name: app, image: x, ports: [{containerPort: 50052}]}]}
status: {podIP: ${IP.v2}}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: everything, namespace: shop}
spec: {matches: [{name: all, pathRegex: ".*"}]}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-echo, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: echo, namespace: shop}
  rules: [{kind: HTTPRouteGroup, name: everything, matches: [all]}]
  sources: [{kind: ServiceAccount, name: client, namespace: shop}]
`;

const identity = (b: Buffer) => b;
const service: ServiceDefinition = {
  unary: { path: '/echo.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  serverStream: { path: '/echo.Echo/ServerStream', requestStream: false, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  clientStream: { path: '/echo.Echo/ClientStream', requestStream: true, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  bidi: { path: '/echo.Echo/Bidi', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

let dir: string;
let mesh: LoopbackMesh;
let grpcServer: Server;
let wsServer: HttpServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osm-protocols-'));
  grpcServer = new Server();
  grpcServer.addService(service, {
    unary: (call: { request: Buffer; metadata: Metadata }, cb: (e: Partial<ServiceError> | null, v?: Buffer, trailer?: Metadata) => void) => {
      const text = call.request.toString();
      if (text === 'fail') return cb({ code: status.FAILED_PRECONDITION, details: 'asked to fail' });
      const trailer = new Metadata();
      trailer.set('x-echo-trailer', 'done');
      cb(null, Buffer.from(`${text} (${String(call.metadata.get('x-caller')[0] ?? '')})`), trailer);
    },
    serverStream: (call: { request: Buffer; write(b: Buffer): void; end(): void }) => {
      for (let i = 0; i < 5; i++) call.write(Buffer.from(`${call.request.toString()}-${i}`));
      call.end();
    },
    clientStream: (call: { on(e: string, f: (b?: Buffer) => void): void }, cb: (e: null, v: Buffer) => void) => {
      const parts: string[] = [];
      call.on('data', (b) => parts.push(String(b)));
      call.on('end', () => cb(null, Buffer.from(parts.join('+'))));
    },
    bidi: (call: { on(e: string, f: (b?: Buffer) => void): void; write(b: Buffer): void; end(): void }) => {
      call.on('data', (b) => call.write(Buffer.from(`echo:${String(b)}`)));
      call.on('end', () => call.end());
    },
  });
  await new Promise<void>((resolve, reject) => grpcServer.bindAsync(`${APP.v1}:50051`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  wsServer = createHttpServer((_req, res) => res.end('not an upgrade'));
  wsServer.on('upgrade', (req, socket, head) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  wsServer.listen(8090, APP.v1);
  await once(wsServer, 'listening');
  mesh = await startLoopbackMesh({
    dir,
    manifests: yaml,
    sidecars: [
      { pod: 'shop/client-1', serviceAccount: 'client', uuid: UUID.client, podIp: IP.client, appHost: APP.client, outbound: [GRPC, WS, DENIED] },
      { pod: 'shop/echo-1', serviceAccount: 'echo', uuid: UUID.echo, podIp: IP.v1, appHost: APP.v1, inboundPorts: [50051, 8090] },
    ],
  });
});

after(async () => {
  await mesh?.stop();
  grpcServer?.forceShutdown();
  wsServer?.close();
  await rm(dir, { recursive: true, force: true });
});

type Callback = (e: ServiceError | null, v?: Buffer) => void;
interface EchoClient {
  unary(req: Buffer, md: Metadata, options: object, cb: Callback): { on(e: 'status', f: (s: { metadata: Metadata }) => void): void };
  serverStream(req: Buffer): ClientReadableStream<Buffer>;
  clientStream(cb: Callback): { write(b: Buffer): void; end(): void };
  bidi(): ClientDuplexStream<Buffer, Buffer>;
  close(): void;
}

function client(authority = 'echo-grpc.shop:50051', entryPort = GRPC.bindPort): EchoClient {
  const Ctor = makeGenericClientConstructor(service, 'Echo');
  return new Ctor(`${IP.client}:${entryPort}`, credentials.createInsecure(), { 'grpc.default_authority': authority }) as unknown as EchoClient;
}

test('gRPC unary with metadata and trailers, and a non-OK status, through the pair', { timeout: 20_000 }, async () => {
  const c = client();
  try {
    const trailers = new Promise<Metadata>((resolve) => {
      const md = new Metadata();
      md.set('x-caller', 'client-1');
      const call = c.unary(Buffer.from('hi'), md, {}, (e, v) => assert.equal(e ?? String(v), 'hi (client-1)'));
      call.on('status', (s) => resolve(s.metadata));
    });
    assert.deepEqual((await trailers).get('x-echo-trailer'), ['done']);
    const err = await new Promise<ServiceError | null>((resolve) => c.unary(Buffer.from('fail'), new Metadata(), {}, (e) => resolve(e)));
    assert.equal(err?.code, status.FAILED_PRECONDITION);
    assert.equal(err?.details, 'asked to fail');
  } finally {
    c.close();
  }
});

test('gRPC server, client and bidirectional streaming through the pair', { timeout: 20_000 }, async () => {
  const c = client();
  try {
    const got: string[] = [];
    const stream = c.serverStream(Buffer.from('n'));
    stream.on('data', (b: Buffer) => got.push(String(b)));
    await once(stream, 'end');
    assert.deepEqual(got, ['n-0', 'n-1', 'n-2', 'n-3', 'n-4']);

    const joined = await new Promise<string>((resolve, reject) => {
      const call = c.clientStream((e, v) => (e ? reject(e) : resolve(String(v))));
      for (const part of ['a', 'b', 'c']) call.write(Buffer.from(part));
      call.end();
    });
    assert.equal(joined, 'a+b+c');

    const bidi = c.bidi();
    const echoed: string[] = [];
    bidi.on('data', (b: Buffer) => echoed.push(String(b)));
    for (const m of ['x', 'y', 'z']) bidi.write(Buffer.from(m));
    bidi.end();
    await once(bidi, 'end');
    assert.deepEqual(echoed, ['echo:x', 'echo:y', 'echo:z']);
  } finally {
    c.close();
  }
});

test('a gRPC request the sidecar answers itself gets a gRPC status, not just an HTTP one', { timeout: 20_000 }, async () => {
  const c = client('vault-grpc.vault:50052', DENIED.bindPort);
  try {
    const err = await new Promise<ServiceError | null>((resolve) => c.unary(Buffer.from('hi'), new Metadata(), {}, (e) => resolve(e)));
    // The client sidecar's 403 for a service no TrafficTarget allows: PERMISSION_DENIED, with its text as grpc-message.
    assert.equal(err?.code, status.PERMISSION_DENIED);
    assert.match(err?.details ?? '', /no TrafficTarget/);
  } finally {
    c.close();
  }
});

test('a WebSocket upgrade is echoed through the pair', { timeout: 20_000 }, async () => {
  const socket = connect(WS.bindPort, IP.client);
  await once(socket, 'connect');
  socket.write('GET /chat HTTP/1.1\r\nhost: echo-ws.shop:8090\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  await until(() => received.includes('\r\n\r\n'));
  assert.match(received, /^HTTP\/1\.1 101 /);
  assert.match(received, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
  const afterHead = received.length;
  socket.write('frame-1');
  await until(() => received.length >= afterHead + 7);
  assert.equal(received.slice(afterHead), 'frame-1');
  socket.destroy();
});
