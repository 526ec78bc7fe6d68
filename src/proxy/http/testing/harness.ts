/**
 * Test-only: what the HTTP tests share. An in-memory Stats, config builders for routes and
 * connection managers, a ProxyRuntime over a TestClusterManager, the proxy itself on a loopback
 * port (a plain net server handing each socket to `startHttpConnection`), upstream servers, and
 * a raw HTTP/1.1 client that parses responses with the strict codec (so keep-alive and
 * pipelining are visible byte for byte).
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type {
  ClusterTarget, HeaderMatch, HttpConnectionManagerConfig, HttpFilterConfig, ListenerConfig, PerFilterConfig, ProxyConfig, RetryPolicyConfig, RouteActionConfig,
  RouteConfig, RouteEntry, VirtualHostConfig,
} from '../../config/index.js';
import { bodyDecoderFor, CloseDelimitedBody, parseResponseHead, responseBodyFraming, type BodyDecoder } from '../../http1/index.js';
import type { AccessLogEntry, DownstreamContext, ProxyRuntime, WorkloadIdentity } from '../../listeners/types.js';
import type { Counter, Gauge, Histogram, OsmRequestLabels, Stats } from '../../stats/types.js';
import type { PeerSans } from '../../tls/index.js';
import { DEFAULT_HTTP_OPTIONS, startHttpConnection, type HttpConnection } from '../connection-manager.js';
import type { HttpOptions } from '../manager.js';
import { TestClusterManager, type TestClusterSpec } from './clusters.js';

// --- stats -------------------------------------------------------------------------------------

/** Stats kept in maps, read back by name. */
export class MemoryStats implements Stats {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  readonly histograms = new Map<string, number[]>();
  readonly osmRequests: Array<{ labels: OsmRequestLabels; responseCode: number; durationMs: number }> = [];

  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (c === undefined) {
      const cell = { value: 0, inc: (by = 1) => void (cell.value += by) };
      this.counters.set(name, (c = cell));
    }
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (g === undefined) {
      const cell = { value: 0, add: (d: number) => void (cell.value += d), set: (v: number) => void (cell.value = v) };
      this.gauges.set(name, (g = cell));
    }
    return g;
  }

  histogram(name: string): Histogram {
    let values = this.histograms.get(name);
    if (values === undefined) this.histograms.set(name, (values = []));
    const list = values;
    return { record: (v: number) => void list.push(v) };
  }

  osmRequest(labels: OsmRequestLabels, responseCode: number, durationMs: number): void {
    this.osmRequests.push({ labels, responseCode, durationMs });
  }

  /** A counter's or gauge's value; 0 when it was never created. */
  value(name: string): number {
    return this.counters.get(name)?.value ?? this.gauges.get(name)?.value ?? 0;
  }
}

// --- config builders ---------------------------------------------------------------------------

export interface ForwardOptions {
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicyConfig>;
  readonly prefixRewrite?: string;
}

/** A route action to one cluster, or to weighted clusters. */
export function forward(target: string | ReadonlyArray<{ name: string; weight: number; perFilter?: PerFilterConfig }>, opts: ForwardOptions = {}): RouteActionConfig {
  let t: ClusterTarget;
  if (typeof target === 'string') {
    t = { kind: 'cluster', cluster: target };
  } else {
    const clusters = target.map((c) => ({ name: c.name, weight: c.weight, perFilter: c.perFilter ?? {} }));
    t = { kind: 'weighted', clusters, totalWeight: clusters.reduce((s, c) => s + c.weight, 0) };
  }
  const retry = opts.retry === undefined ? undefined : { retryOn: [], numRetries: 1, perTryTimeoutMs: undefined, backOffBaseMs: undefined, ...opts.retry };
  return { kind: 'forward', target: t, timeoutMs: opts.timeoutMs ?? 0, retry, prefixRewrite: opts.prefixRewrite };
}

export interface RouteOptions {
  readonly name?: string;
  readonly prefix?: string;
  readonly path?: string;
  readonly headers?: readonly HeaderMatch[];
  readonly perFilter?: PerFilterConfig;
}

export function route(action: RouteActionConfig, opts: RouteOptions = {}): RouteEntry {
  return {
    name: opts.name ?? '',
    path: opts.path !== undefined ? { kind: 'path', value: opts.path, caseSensitive: true } : { kind: 'prefix', value: opts.prefix ?? '/', caseSensitive: true },
    headers: opts.headers ?? [],
    action,
    perFilter: opts.perFilter ?? {},
  };
}

export function virtualHost(name: string, domains: readonly string[], routes: readonly RouteEntry[], perFilter: PerFilterConfig = {}): VirtualHostConfig {
  return { name, domains, routes, perFilter };
}

export function routeConfig(virtualHosts: readonly VirtualHostConfig[]): RouteConfig {
  return { name: 'test-routes', virtualHosts };
}

/** An exact header matcher. */
export function headerIs(name: string, value: string): HeaderMatch {
  return { name, kind: 'string', match: { kind: 'exact', value, ignoreCase: false }, invert: false };
}

export interface HcmOptions {
  /** Filters before the router. */
  readonly filters?: readonly HttpFilterConfig[];
  readonly websocket?: boolean;
  readonly accessLog?: boolean;
  readonly statPrefix?: string;
}

export function hcmConfig(routes: RouteConfig, opts: HcmOptions = {}): HttpConnectionManagerConfig {
  return {
    codec: 'auto',
    routes: { kind: 'inline', config: routes },
    httpFilters: [...(opts.filters ?? []), { kind: 'router', name: 'http_router' }],
    websocket: opts.websocket ?? false,
    statPrefix: opts.statPrefix ?? 'test',
    accessLog: opts.accessLog ?? false,
  };
}

/** A config whose only listener has the filter chain `startProxy` names (so the connection manager finds its chain). */
export function listenerConfig(chains: readonly string[] = ['test-chain']): ProxyConfig {
  const listener: ListenerConfig = {
    name: 'test-listener',
    bindAddress: '127.0.0.1',
    port: 0,
    direction: 'unspecified',
    originalDestination: false,
    tlsInspector: false,
    filterChains: chains.map((name) => ({
      name,
      match: { destinationPort: undefined, prefixRanges: [], serverNames: [], transportProtocol: undefined, applicationProtocols: [] },
      tls: undefined,
      filters: [],
    })),
    defaultFilterChain: undefined,
  };
  return { listeners: new Map([[listener.name, listener]]), routeConfigs: new Map(), clusters: new Map(), endpoints: new Map(), secrets: new Map() };
}

// --- runtime and proxy -------------------------------------------------------------------------

export const TEST_WORKLOAD: WorkloadIdentity = { namespace: 'bookbuyer', kind: 'Deployment', name: 'bookbuyer', pod: 'bookbuyer-5f6d-abcde' };

export interface TestRuntime extends ProxyRuntime {
  /** Replaces the config in force (as an xDS update would). */
  setConfig(config: ProxyConfig): void;
  readonly stats: MemoryStats;
  readonly clusters: TestClusterManager;
  readonly logs: AccessLogEntry[];
}

export function testRuntime(clusters: readonly TestClusterSpec[], workload: WorkloadIdentity = TEST_WORKLOAD): TestRuntime {
  const stats = new MemoryStats();
  const logs: AccessLogEntry[] = [];
  let config = listenerConfig();
  return {
    config: () => config,
    setConfig: (next) => void (config = next),
    clusters: new TestClusterManager(stats, clusters),
    stats,
    workload,
    accessLog: (entry) => void logs.push(entry),
    now: () => performance.now(),
    logs,
  };
}

export interface ProxyOptions {
  readonly direction?: DownstreamContext['direction'];
  readonly peer?: PeerSans;
  readonly serverName?: string;
  readonly options?: Partial<HttpOptions>;
}

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface RunningProxy extends RunningServer {
  /** Drains every connection the proxy accepted (what a listener does on shutdown). */
  drain(): void;
}

/** The proxy on 127.0.0.1: each accepted socket goes to `startHttpConnection` with the given context. */
export async function startProxy(hcm: HttpConnectionManagerConfig, runtime: ProxyRuntime, opts: ProxyOptions = {}): Promise<RunningProxy> {
  const options: HttpOptions = { ...DEFAULT_HTTP_OPTIONS, ...opts.options };
  const sockets = new Set<Socket>();
  const connections: HttpConnection[] = [];
  const server = createServer({ allowHalfOpen: false }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const ctx: DownstreamContext = {
      socket,
      prefetched: Buffer.alloc(0),
      peer: opts.peer,
      tls: false,
      destination: { address: socket.localAddress ?? '127.0.0.1', port: socket.localPort ?? 0 },
      source: { address: socket.remoteAddress ?? '127.0.0.1', port: socket.remotePort ?? 0 },
      serverName: opts.serverName,
      listenerName: 'test-listener',
      direction: opts.direction ?? 'outbound',
      filterChainName: 'test-chain',
    };
    connections.push(startHttpConnection(ctx, hcm, runtime, options));
  });
  return { ...(await listen(server, sockets)), drain: () => connections.forEach((c) => c.drain()) };
}

async function listen(server: Server | HttpServer, sockets: Set<Socket>): Promise<RunningServer> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('test server: no TCP address');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Upstream extends RunningServer {
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Requests seen, with their lower-case header names and the body. */
  readonly requests: ReadonlyArray<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
}

/** An upstream app on node:http (test-only: the proxy under test never uses node:http). */
export async function httpUpstream(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }> = [];
  let connections = 0;
  const server = createHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const running = await listen(server, sockets);
  return {
    ...running,
    get connections() {
      return connections;
    },
    requests,
  };
}

/** An upstream that speaks raw bytes: `onConnection` gets each socket. */
export async function rawUpstream(onConnection: (socket: Socket) => void): Promise<Upstream> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
    // Keep reading even when the test ignores the bytes, so the peer's close is seen.
    socket.resume();
  });
  const running = await listen(server, sockets);
  return {
    ...running,
    get connections() {
      return connections;
    },
    requests: [],
  };
}

// --- client ------------------------------------------------------------------------------------

export interface TestResponse {
  readonly status: number;
  /** Lower-case names; repeated fields joined with ', '. */
  readonly headers: ReadonlyMap<string, string>;
  /** The head as received. */
  readonly head: string;
  readonly body: string;
}

/** A raw HTTP/1.1 client connection that reads responses one by one with the strict parser. */
export class TestClient {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.ended = true;
        this.waiter?.();
        resolve();
      });
    });
  }

  /** A client over an already connected socket (a TLS one, say). */
  static over(socket: Socket): TestClient {
    return new TestClient(socket);
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new TestClient(socket);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next response; `method` decides whether it has a body (HEAD). Rejects if the connection closes first. */
  async response(method = 'GET'): Promise<TestResponse> {
    let decoder: BodyDecoder | undefined;
    let headText = '';
    let status = 0;
    let headers = new Map<string, string>();
    let body = '';
    let done = false;
    for (;;) {
      if (status === 0) {
        const r = parseResponseHead(this.buf, 0);
        if (r.kind === 'error') throw new Error(`test client: bad response head: ${r.code}`);
        if (r.kind === 'response') {
          headText = this.buf.toString('latin1', 0, r.headBytes);
          status = r.status;
          headers = new Map();
          for (let i = 0; i < r.fields.length; i += 4) {
            const name = this.buf.toString('latin1', r.fields[i], r.fields[i + 1]).toLowerCase();
            const value = this.buf.toString('latin1', r.fields[i + 2], r.fields[i + 3]);
            headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
          }
          this.buf = this.buf.subarray(r.headBytes);
          decoder = bodyDecoderFor(responseBodyFraming(r, method), r);
          if (decoder === undefined) done = true;
        }
      }
      if (status !== 0 && decoder !== undefined && !done) {
        const n = decoder.feed(this.buf, 0, { data: (b) => void (body += b.toString('latin1')), end: () => void (done = true) });
        if (typeof n !== 'number') throw new Error(`test client: bad response body: ${n.code}`);
        this.buf = this.buf.subarray(n);
        if (!done && this.ended && decoder instanceof CloseDelimitedBody) {
          decoder.close({ data: () => undefined, end: () => void (done = true) });
        }
      }
      if (done) return { status, headers, head: headText, body };
      if (this.ended) throw new Error(`test client: connection closed before the response was complete (status ${status || 'none'})`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Sends one request on a new connection and returns its response. */
export async function request(port: number, opts: { method?: string; path?: string; host?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TestResponse> {
  const client = await TestClient.connect(port);
  try {
    const method = opts.method ?? 'GET';
    let head = `${method} ${opts.path ?? '/'} HTTP/1.1\r\nHost: ${opts.host ?? 'svc.test'}\r\n`;
    for (const [k, v] of Object.entries(opts.headers ?? {})) head += `${k}: ${v}\r\n`;
    if (opts.body !== undefined) head += `Content-Length: ${Buffer.byteLength(opts.body)}\r\n`;
    client.send(`${head}\r\n${opts.body ?? ''}`);
    return await client.response(method);
  } finally {
    client.close();
  }
}
