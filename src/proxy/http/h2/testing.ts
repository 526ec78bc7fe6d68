/**
 * Test-only: the HTTP/2 tests' scaffolding, beside the HTTP tests' harness (whose stats and
 * config builders it uses). The proxy on a plain or TLS loopback listener (TLS requiring a
 * client certificate from the mesh CA, with the given ALPN, as the inbound sidecar), a
 * ProxyRuntime over the real cluster manager (so HTTP/2 clusters and mesh TLS are the real
 * ones), an HTTP/2 upstream that records what it got, a one-exchange HTTP/2 client, and a gRPC
 * echo service defined by hand with raw-bytes messages.
 */
import { once } from 'node:events';
import {
  connect as http2Connect, constants, createServer as createHttp2Server, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders,
  type Http2Session, type ServerHttp2Session, type ServerHttp2Stream, type Settings,
} from 'node:http2';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import {
  credentials, Client, Metadata, Server as GrpcServer, ServerCredentials, status,
  type sendUnaryData, type ServerDuplexStream, type ServerReadableStream, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition,
} from '@grpc/grpc-js';
import type { IssuedCertificate } from '../../../certs/index.js';
import { createLogger } from '../../../lib/logging.js';
import { createClusterManager } from '../../clusters/index.js';
import type { ClusterManager } from '../../clusters/types.js';
import type { ClusterConfig, HttpConnectionManagerConfig, ProxyConfig, SecretConfig } from '../../config/index.js';
import type { AccessLogEntry, DownstreamContext, ProxyRuntime } from '../../listeners/types.js';
import { peerSans, TlsContextCache } from '../../tls/index.js';
import { DEFAULT_HTTP_OPTIONS, startHttpConnection, type HttpConnection } from '../connection-manager.js';
import type { HttpOptions } from '../manager.js';
import { MemoryStats, TEST_WORKLOAD } from '../testing/harness.js';
import { createHttp2Upstream, type Http2Upstream } from './upstream.js';

// --- runtime over the real cluster manager ------------------------------------------------------

export interface H2Runtime extends ProxyRuntime {
  readonly stats: MemoryStats;
  readonly logs: AccessLogEntry[];
  /** The HTTP/2 upstream codec this runtime's proxies use (closed by `close`). */
  readonly http2: Http2Upstream;
  close(): void;
}

/** A runtime whose clusters are the real ones, made from `clusters` and `secrets`. */
export function h2Runtime(clusters: readonly ClusterConfig[], secrets: readonly SecretConfig[] = []): H2Runtime {
  const stats = new MemoryStats();
  const logs: AccessLogEntry[] = [];
  const logger = createLogger('h2-test', { level: 'error', sink: { write: () => undefined, now: () => new Date(0) } });
  const manager: ClusterManager = createClusterManager({ stats, tls: new TlsContextCache(), logger });
  const config: ProxyConfig = {
    listeners: new Map(),
    routeConfigs: new Map(),
    clusters: new Map(clusters.map((c) => [c.name, c])),
    endpoints: new Map(clusters.flatMap((c) => (c.discovery.kind === 'static' ? [[c.name, c.discovery.endpoints] as const] : []))),
    secrets: new Map(secrets.map((s) => [s.name, s])),
  };
  manager.update(config);
  const http2 = createHttp2Upstream();
  return {
    config: () => config,
    clusters: manager,
    stats,
    workload: TEST_WORKLOAD,
    accessLog: (entry) => void logs.push(entry),
    now: () => performance.now(),
    logs,
    http2,
    close: () => {
      http2.close();
      manager.close();
    },
  };
}

/** A static cluster of one loopback endpoint, HTTP/2 upstream unless told otherwise. */
export function h2Cluster(name: string, port: number, overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name,
    discovery: {
      kind: 'static',
      endpoints: { clusterName: name, localities: [{ zone: '', region: '', subZone: '', priority: 0, weight: undefined, endpoints: [{ address: '127.0.0.1', port, weight: 1, health: 'unknown' }] }] },
    },
    lbPolicy: 'roundRobin',
    connectTimeoutMs: 5000,
    tls: undefined,
    circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    upstreamProtocol: 'http2',
    maxRequestsPerConnection: undefined,
    ...overrides,
  };
}

// --- the proxy ----------------------------------------------------------------------------------

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface H2ProxyOptions {
  readonly direction?: DownstreamContext['direction'];
  /** Terminates TLS, requiring a client certificate issued by `ca`, offering `alpn`. */
  readonly tls?: { readonly cert: IssuedCertificate; readonly ca: string; readonly alpn: readonly string[] };
  /** Gets what `startHttpConnection` returns for each connection (to drain it). */
  readonly onConnection?: (conn: HttpConnection) => void;
}

/** The proxy on 127.0.0.1: each connection goes to `startHttpConnection` with the runtime's HTTP/2 codec. */
export async function startH2Proxy(hcm: HttpConnectionManagerConfig, runtime: H2Runtime, opts: H2ProxyOptions = {}): Promise<RunningServer> {
  const options: HttpOptions = { ...DEFAULT_HTTP_OPTIONS, codecs: { ...DEFAULT_HTTP_OPTIONS.codecs, http2: runtime.http2 } };
  const sockets = new Set<Socket>();
  const serve = (socket: Socket, tls: TLSSocket | undefined): void => {
    const cert = tls?.getPeerX509Certificate();
    const ctx: DownstreamContext = {
      socket,
      prefetched: Buffer.alloc(0),
      peer: cert === undefined ? undefined : peerSans(cert),
      tls: tls !== undefined,
      destination: { address: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 },
      source: { address: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 },
      serverName: typeof tls?.servername === 'string' ? tls.servername : undefined,
      listenerName: 'test-listener',
      direction: opts.direction ?? 'outbound',
      filterChainName: 'test-chain',
    };
    socket.on('error', () => socket.destroy());
    const conn = startHttpConnection(ctx, hcm, runtime, options);
    opts.onConnection?.(conn);
  };
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const t = opts.tls;
  const secureContext = t === undefined ? undefined : createSecureContext({ cert: t.cert.certChainPem, key: t.cert.privateKeyPem, ca: t.ca });
  const server = createNetServer({ allowHalfOpen: false }, (socket) => {
    track(socket);
    if (t === undefined) return serve(socket, undefined);
    // As the listener terminates mesh TLS: a server TLSSocket over the accepted socket, no tls.Server.
    socket.on('error', () => socket.destroy());
    const tlsSocket = new TLSSocket(socket, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: true, ALPNProtocols: [...t.alpn] });
    tlsSocket.on('error', () => tlsSocket.destroy());
    tlsSocket.once('secure', () => serve(tlsSocket, tlsSocket));
  });
  return listen(server, () => {
    for (const s of sockets) s.destroy();
  });
}

async function listen(server: Server, destroyAll: () => void): Promise<RunningServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test server: no TCP address');
  return {
    port: address.port,
    close: async () => {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- an HTTP/2 upstream ---------------------------------------------------------------------------

export interface SeenStream {
  /** The request's raw header list, pseudo-headers first. */
  readonly raw: readonly string[];
  readonly headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  /** The stream's RST_STREAM code when it closed, once it has. */
  closedWith: number | undefined;
}

export interface H2Upstream extends RunningServer {
  readonly seen: SeenStream[];
  /** Sessions accepted so far. */
  readonly sessions: () => number;
  /** The most streams open at once on one session. */
  readonly maxConcurrent: () => number;
}

/**
 * An HTTP/2 (h2c) server: `handler` gets each stream once its request is complete (or at once
 * with `eager`), with what was received so far.
 */
export async function startH2Upstream(
  handler: (stream: ServerHttp2Stream, seen: SeenStream, session: Http2Session) => void,
  opts: { readonly settings?: Settings; readonly eager?: boolean } = {},
): Promise<H2Upstream> {
  const seen: SeenStream[] = [];
  let sessions = 0;
  let maxConcurrent = 0;
  const open = new Map<Http2Session, number>();
  const server = createHttp2Server({ settings: opts.settings ?? {} });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('session', (session: ServerHttp2Session) => {
    sessions++;
    session.on('error', () => undefined);
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
    const session = stream.session!;
    const n = (open.get(session) ?? 0) + 1;
    open.set(session, n);
    maxConcurrent = Math.max(maxConcurrent, n);
    const record: SeenStream = { raw, headers, body: Buffer.alloc(0), trailers: undefined, closedWith: undefined };
    seen.push(record);
    const parts: Buffer[] = [];
    stream.on('error', () => undefined);
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('trailers', (t: IncomingHttpHeaders) => (record.trailers = t));
    stream.on('close', () => {
      record.closedWith = stream.rstCode;
      open.set(session, (open.get(session) ?? 1) - 1);
    });
    if (opts.eager === true) handler(stream, record, session);
    stream.on('end', () => {
      record.body = Buffer.concat(parts);
      if (opts.eager !== true) handler(stream, record, session);
    });
  });
  const running = await listen(server as unknown as Server, () => {
    for (const s of sockets) s.destroy();
  });
  return { ...running, seen, sessions: () => sessions, maxConcurrent: () => maxConcurrent };
}

// --- an HTTP/2 client -----------------------------------------------------------------------------

export interface H2Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
  /** The stream's close code: 0 for a complete exchange. */
  readonly rstCode: number;
  /** Whether the response ended with END_STREAM (not cut by a reset). */
  readonly complete: boolean;
}

/** One exchange on `session`: the request with optional body and trailers, the whole response. */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string, trailers?: OutgoingHttpHeaders): Promise<H2Response> {
  return new Promise((resolve) => {
    const hasBody = body !== undefined || trailers !== undefined;
    const stream = session.request(headers, { endStream: !hasBody, waitForTrailers: trailers !== undefined });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    let responseTrailers: IncomingHttpHeaders | undefined;
    let complete = false;
    const parts: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('trailers', (t) => (responseTrailers = t));
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => (complete = !stream.aborted && stream.rstCode === constants.NGHTTP2_NO_ERROR));
    stream.on('error', () => undefined);
    if (trailers !== undefined) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    stream.on('close', () => resolve({ status, headers: responseHeaders, body: Buffer.concat(parts), trailers: responseTrailers, rstCode: stream.rstCode ?? 0, complete }));
    if (hasBody) stream.end(body);
  });
}

/** An h2c session to the proxy (prior knowledge). */
export async function h2Client(port: number): Promise<ClientHttp2Session> {
  const session = http2Connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  await once(session, 'connect');
  return session;
}

/** Waits until `check` holds, polling up to a deadline; fails naming `what`. */
export async function waitFor(check: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// --- a gRPC echo service ----------------------------------------------------------------------------

/** Messages are their bytes. */
export const rawBytes = (b: Buffer): Buffer => b;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return { path: `/test.Echo/${name}`, requestStream, responseStream, requestSerialize: rawBytes, requestDeserialize: rawBytes, responseSerialize: rawBytes, responseDeserialize: rawBytes };
}

/** `test.Echo`, with messages as raw bytes (no protobuf): one method per streaming kind. */
export const ECHO_SERVICE: ServiceDefinition = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
};

export interface EchoServer {
  readonly port: number;
  /** Server-streaming calls the client cancelled. */
  readonly cancelled: () => number;
  /** The metadata of every call, in arrival order. */
  readonly metadata: Metadata[];
  close(): Promise<void>;
}

/**
 * The echo server. Unary echoes the message; a message `fail:<details>` is answered with
 * NOT_FOUND and those details. ServerStream sends `<n>` copies of a message `<n>:<text>`, or with
 * `hold` one message and then waits for the client to cancel. ClientStream answers with all
 * messages joined; Bidi echoes each message as it comes. Each call echoes `x-echo` from the
 * client's metadata as initial metadata and ends with trailer `x-trailer: done`.
 */
export async function startEchoServer(): Promise<EchoServer> {
  let cancelled = 0;
  const metadata: Metadata[] = [];
  const initial = (m: Metadata): Metadata => {
    metadata.push(m);
    const out = new Metadata();
    for (const v of m.get('x-echo')) out.add('x-echo', v);
    return out;
  };
  const trailer = (): Metadata => {
    const t = new Metadata();
    t.set('x-trailer', 'done');
    return t;
  };
  const server = new GrpcServer();
  server.addService(ECHO_SERVICE, {
    Unary: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      call.sendMetadata(initial(call.metadata));
      const text = call.request.toString('latin1');
      if (text.startsWith('fail:')) callback({ code: status.NOT_FOUND, details: text.slice(5), metadata: trailer() });
      else callback(null, call.request, trailer());
    },
    ServerStream: (call: ServerWritableStream<Buffer, Buffer>) => {
      call.sendMetadata(initial(call.metadata));
      call.on('cancelled', () => cancelled++);
      const text = call.request.toString('latin1');
      if (text === 'hold') {
        call.write(Buffer.from('first'));
        return;
      }
      const colon = text.indexOf(':');
      const n = Number(text.slice(0, colon));
      const message = Buffer.from(text.slice(colon + 1));
      for (let i = 0; i < n; i++) call.write(message);
      call.end(trailer());
    },
    ClientStream: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      call.sendMetadata(initial(call.metadata));
      const parts: Buffer[] = [];
      call.on('data', (b: Buffer) => parts.push(b));
      call.on('end', () => callback(null, Buffer.concat(parts), trailer()));
    },
    Bidi: (call: ServerDuplexStream<Buffer, Buffer>) => {
      call.sendMetadata(initial(call.metadata));
      call.on('data', (b: Buffer) => call.write(b));
      call.on('end', () => call.end(trailer()));
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    port,
    cancelled: () => cancelled,
    metadata,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A gRPC client for `test.Echo` at `127.0.0.1:port`, over h2c. */
export function echoClient(port: number): Client {
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure());
}

