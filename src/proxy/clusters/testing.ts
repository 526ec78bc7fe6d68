/**
 * Test-only: what the cluster tests share. A mesh CA issuing real workload certificates,
 * upstream HTTP/1.1 servers on loopback (plain or mutual TLS) that count connections and
 * handshakes, a one-request HTTP/1.1 client for an `UpstreamConnection`, config builders and a
 * cluster manager wired to a manual clock and the real stats store.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ManualClock } from '../../ads/testing/manual-clock.js';
import { identityOf } from '../../catalog/index.js';
import { CertificateManager, MeshCA, systemClock, type IssuedCertificate } from '../../certs/index.js';
import { createLogger, type LogFields } from '../../lib/logging.js';
import type { ClusterConfig, EndpointsConfig, ProxyConfig, SecretConfig, UpstreamTlsConfig } from '../config/index.js';
import { bodyDecoderFor, INCOMPLETE, parseResponseHead, responseBodyFraming } from '../http1/index.js';
import { StatsStore } from '../stats/index.js';
import { TlsContextCache } from '../tls/index.js';
import { createClusterManager, type ClusterManagerOptions } from './manager.js';
import type { ClusterManager, UpstreamConnection } from './types.js';

/** A mesh CA whose workload certificates carry `<sa>.<ns>.cluster.local` (DNS) and a SPIFFE URI. */
export interface TestMesh {
  readonly rootPem: string;
  workload(ns: string, sa: string): Promise<IssuedCertificate>;
  /** A fresh certificate for the identity (a rotation). */
  rotate(ns: string, sa: string): Promise<IssuedCertificate>;
  close(): void;
}

/** Real time: TLS checks validity against the wall clock. */
export async function createTestMesh(): Promise<TestMesh> {
  const ca = await MeshCA.create({ nowMs: systemClock.now() });
  const manager = new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock });
  return {
    rootPem: manager.rootCertificatePem(),
    workload: (ns, sa) => manager.issueWorkload(identityOf(ns, sa)),
    rotate: (ns, sa) => {
      manager.releaseWorkload(identityOf(ns, sa));
      return manager.issueWorkload(identityOf(ns, sa));
    },
    close: () => manager.close(),
  };
}

/** What an upstream saw. */
export interface UpstreamRecord {
  connections: number;
  handshakes: number;
  openSockets: Set<Socket>;
  /** Client certificate serial numbers, one per TLS connection. */
  clientSerials: string[];
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
}

export interface TestUpstream {
  readonly address: string;
  readonly port: number;
  readonly seen: UpstreamRecord;
  /** What it answers from now on (default 200 "ok"). */
  respond(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 server on `address` (any 127/8 address), plain or requiring a client certificate
 * from `tls.ca` as the inbound sidecar does.
 */
export async function startUpstream(options: { address?: string; tls?: { cert: IssuedCertificate; ca: string } } = {}): Promise<TestUpstream> {
  const address = options.address ?? '127.0.0.1';
  const seen: UpstreamRecord = { connections: 0, handshakes: 0, openSockets: new Set(), clientSerials: [], requests: [] };
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    seen.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  };
  const t = options.tls;
  const server = t
    ? // ALPN `osm`, as the inbound sidecar's filter chain matches it.
      createHttpsServer({ cert: t.cert.certChainPem, key: t.cert.privateKeyPem, ca: t.ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['osm', 'http/1.1'] }, onRequest)
    : createHttpServer(onRequest);
  server.on('connection', (socket: Socket) => {
    seen.connections++;
    seen.openSockets.add(socket);
    socket.once('close', () => seen.openSockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    seen.handshakes++;
    seen.clientSerials.push(socket.getPeerX509Certificate()?.serialNumber ?? '');
  });
  server.listen(0, address);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    address,
    port,
    seen,
    respond: (h) => (handler = h),
    close: async () => {
      for (const s of seen.openSockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A TCP server that accepts and then says nothing (a TLS handshake that never completes). */
export async function startSilentServer(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A loopback port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Sends one GET on `conn` and reads the whole response; the connection stays the caller's. */
export function get(conn: UpstreamConnection, path = '/'): Promise<{ status: number; body: string; keepAlive: boolean }> {
  const socket = conn.socket;
  conn.startRequest();
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const chunks: Buffer[] = [];
    let head: { status: number; keepAlive: boolean } | undefined;
    let body: ReturnType<typeof bodyDecoderFor>;
    const done = (error?: Error) => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (error) reject(error);
      else resolve({ status: head?.status ?? 0, body: Buffer.concat(chunks).toString(), keepAlive: head?.keepAlive ?? false });
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const h = parseResponseHead(buf, 0);
        if (h.kind === INCOMPLETE.kind) return;
        if (h.kind === 'error') return done(new Error(h.message));
        head = { status: h.status, keepAlive: h.keepAlive };
        buf = buf.subarray(h.headBytes);
        body = bodyDecoderFor(responseBodyFraming(h, 'GET'), h);
        if (!body) return done();
      }
      const used = body!.feed(buf, 0, { data: (d) => chunks.push(Buffer.from(d)), end: () => {} });
      if (typeof used !== 'number') return done(new Error(used.message));
      buf = buf.subarray(used);
      if (body!.done) done();
    };
    const onClose = () => done(new Error('upstream closed the connection before the response ended'));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(`GET ${path} HTTP/1.1\r\nhost: upstream\r\n\r\n`);
  });
}

/** `cluster.connect` as a promise of either the connection or the error. */
export function connect(manager: ClusterManager, clusterName: string, options: { pooled?: boolean; host?: string } = {}) {
  const cluster = manager.get(clusterName);
  if (!cluster) throw new Error(`no cluster ${clusterName}`);
  const host = cluster.chooseHost(undefined);
  if (!host) throw new Error(`cluster ${clusterName}: no host`);
  return new Promise<{ error: Parameters<Parameters<typeof cluster.connect>[2]>[0]; connection: UpstreamConnection | undefined }>((resolve) => {
    cluster.connect(host, { pooled: options.pooled ?? true }, (error, connection) => resolve({ error, connection }));
  });
}

/** Waits until `check` holds, polling real time up to a deadline; fails naming `what`. */
export async function waitFor(check: () => boolean, what: string, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A static cluster's endpoints at priority 0. */
export function endpoints(clusterName: string, hosts: ReadonlyArray<{ address: string; port: number; weight?: number; priority?: number }>): EndpointsConfig {
  const priorities = [...new Set(hosts.map((h) => h.priority ?? 0))].sort();
  return {
    clusterName,
    localities: priorities.map((priority) => ({
      zone: '',
      region: '',
      subZone: '',
      priority,
      weight: undefined,
      endpoints: hosts.filter((h) => (h.priority ?? 0) === priority).map((h) => ({ address: h.address, port: h.port, weight: h.weight ?? 1, health: 'unknown' as const })),
    })),
  };
}

/** A static cluster with Envoy's defaults, `overrides` applied. */
export function clusterConfig(name: string, eps: EndpointsConfig, overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name,
    discovery: { kind: 'static', endpoints: eps },
    lbPolicy: 'roundRobin',
    connectTimeoutMs: 5000,
    tls: undefined,
    circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    upstreamProtocol: 'http1',
    maxRequestsPerConnection: undefined,
    ...overrides,
  };
}

/** OSM's upstream TLS: client certificate, validation with SAN matchers, SNI and ALPN `osm`. */
export function meshTls(certificateSecret: string, validationSecret: string): UpstreamTlsConfig {
  return { certificateSecret, validationSecret, sni: 'bookstore.bookstore.svc.cluster.local', alpn: ['osm'], params: { minVersion: 'TLSv1_2', maxVersion: 'TLSv1_3', cipherSuites: [], ecdhCurves: [] } };
}

export function certificateSecretOf(name: string, cert: IssuedCertificate): SecretConfig {
  return { name, kind: 'certificate', certificateChainPem: cert.certChainPem, privateKeyPem: cert.privateKeyPem };
}

/** A validation context trusting `ca` and accepting servers whose SPIFFE URI or DNS SAN is exactly `exactSans`. */
export function validationSecretOf(name: string, ca: string, exactSans: readonly string[]): SecretConfig {
  return {
    name,
    kind: 'validation',
    trustedCaPem: ca,
    sanMatchers: exactSans.map((v) => ({ type: v.startsWith('spiffe://') ? ('uri' as const) : ('dns' as const), match: { kind: 'exact' as const, value: v, ignoreCase: false } })),
  };
}

/** A ProxyConfig holding only clusters (and their endpoints and secrets). */
export function proxyConfig(clusters: readonly ClusterConfig[], secrets: readonly SecretConfig[] = []): ProxyConfig {
  return {
    listeners: new Map(),
    routeConfigs: new Map(),
    clusters: new Map(clusters.map((c) => [c.name, c])),
    endpoints: new Map(clusters.flatMap((c) => (c.discovery.kind === 'static' ? [[c.name, c.discovery.endpoints] as const] : []))),
    secrets: new Map(secrets.map((s) => [s.name, s])),
  };
}

/** A cluster manager on a manual clock and a real stats store; log lines are kept for assertions. */
export function testManager(overrides: Partial<ClusterManagerOptions> = {}) {
  const clock = new ManualClock(0);
  const stats = new StatsStore();
  const logs: LogFields[] = [];
  const logger = createLogger('clusters-test', { level: 'debug', sink: { write: (line) => logs.push(JSON.parse(line) as LogFields), now: () => new Date(0) } });
  const manager = createClusterManager({ stats, tls: new TlsContextCache(), logger, clock, ...overrides });
  const counter = (cluster: string, stat: string) => stats.counter(`cluster.${cluster}.${stat}`).value;
  const gauge = (cluster: string, stat: string) => stats.gauge(`cluster.${cluster}.${stat}`).value;
  return { manager, clock, stats, logs, counter, gauge };
}
