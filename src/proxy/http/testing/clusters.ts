/**
 * Test-only: a small real ClusterManager for the HTTP tests. It connects plain TCP sockets to
 * fixed endpoints (or the original destination), keeps a LIFO idle pool per host, honours
 * max_requests and max_retries, and records what the router told it (outcomes, connections
 * opened) so tests can assert on them. It counts the cluster stats the real manager counts
 * itself (circuit-breaker overflows, connect failures); the router counts the rest.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type {
  Cluster, ClusterDescription, ClusterManager, ClusterStats, Destination, UpstreamConnection, UpstreamError, UpstreamHost, UpstreamOutcome,
} from '../../clusters/types.js';
import type { ClusterConfig, ProxyConfig } from '../../config/index.js';
import type { Counter, Stats } from '../../stats/types.js';

export interface TestClusterSpec {
  readonly name: string;
  /** Fixed endpoints; none with `originalDst` (the connection's destination is used). */
  readonly endpoints?: readonly Destination[];
  readonly originalDst?: boolean;
  readonly maxRequests?: number;
  readonly maxRetries?: number;
  readonly connectTimeoutMs?: number;
}

function hostOf(d: Destination): UpstreamHost {
  return { address: d.address, port: d.port, id: `${d.address}:${d.port}` };
}

/** The ClusterStats fields under `cluster.<name>.`. */
function clusterStats(stats: Stats, name: string): ClusterStats {
  const p = `cluster.${name}.`;
  const c = (s: string): Counter => stats.counter(p + s);
  const completed = c('upstream_rq_completed');
  return {
    upstreamRqTotal: c('upstream_rq_total'),
    upstreamRqCompleted: completed,
    upstreamRqActive: stats.gauge(`${p}upstream_rq_active`),
    upstreamRqPendingActive: stats.gauge(`${p}upstream_rq_pending_active`),
    upstreamRqPendingOverflow: c('upstream_rq_pending_overflow'),
    upstreamRqPendingFailureEject: c('upstream_rq_pending_failure_eject'),
    upstreamRqTimeout: c('upstream_rq_timeout'),
    upstreamRqPerTryTimeout: c('upstream_rq_per_try_timeout'),
    upstreamRqRxReset: c('upstream_rq_rx_reset'),
    upstreamRqTxReset: c('upstream_rq_tx_reset'),
    upstreamRqRetry: c('upstream_rq_retry'),
    upstreamRqRetrySuccess: c('upstream_rq_retry_success'),
    upstreamRqRetryOverflow: c('upstream_rq_retry_overflow'),
    upstreamRqRetryLimitExceeded: c('upstream_rq_retry_limit_exceeded'),
    upstreamRqRetryBackoffExponential: c('upstream_rq_retry_backoff_exponential'),
    upstreamRqTime: stats.histogram(`${p}upstream_rq_time`, 'ms'),
    upstreamCxTotal: c('upstream_cx_total'),
    upstreamCxActive: stats.gauge(`${p}upstream_cx_active`),
    upstreamCxConnectFail: c('upstream_cx_connect_fail'),
    upstreamCxConnectTimeout: c('upstream_cx_connect_timeout'),
    upstreamCxOverflow: c('upstream_cx_overflow'),
    upstreamCxTxBytesTotal: c('upstream_cx_tx_bytes_total'),
    upstreamCxRxBytesTotal: c('upstream_cx_rx_bytes_total'),
    upstreamCxDestroyLocalWithActiveRq: c('upstream_cx_destroy_local_with_active_rq'),
    upstreamCxDestroyRemoteWithActiveRq: c('upstream_cx_destroy_remote_with_active_rq'),
    recordResponse(status: number): void {
      c(`upstream_rq_${status}`).inc();
      c(`upstream_rq_${Math.floor(status / 100)}xx`).inc();
      completed.inc();
    },
  };
}

class TestConnection implements UpstreamConnection {
  requests = 0;

  constructor(
    readonly socket: Socket,
    readonly host: UpstreamHost,
    private readonly pooled: boolean,
    private readonly cluster: TestCluster,
  ) {}

  startRequest(): void {
    this.requests++;
  }

  release(): void {
    if (!this.pooled || this.socket.destroyed) return this.close();
    this.cluster.park(this);
  }

  close(): void {
    this.cluster.unpark(this);
    this.socket.destroy();
  }
}

export class TestCluster implements Cluster {
  readonly config: ClusterConfig;
  readonly stats: ClusterStats;
  /** Connections opened, per host id. */
  readonly opened = new Map<string, number>();
  /** Every outcome the router reported, in order. */
  readonly outcomes: Array<{ host: string; outcome: UpstreamOutcome }> = [];
  private readonly idle = new Map<string, TestConnection[]>();
  private readonly live = new Set<Socket>();
  private readonly hosts: readonly UpstreamHost[];
  private next = 0;
  private requests = 0;
  private retries = 0;

  constructor(
    stats: Stats,
    private readonly spec: TestClusterSpec,
  ) {
    this.stats = clusterStats(stats, spec.name);
    this.hosts = (spec.endpoints ?? []).map(hostOf);
    this.config = {
      name: spec.name,
      discovery: spec.originalDst ? { kind: 'originalDst' } : { kind: 'static', endpoints: { clusterName: spec.name, localities: [] } },
      lbPolicy: 'roundRobin',
      connectTimeoutMs: spec.connectTimeoutMs ?? 1000,
      tls: undefined,
      circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: spec.maxRequests ?? 1024, maxRetries: spec.maxRetries ?? 3 },
      upstreamProtocol: 'http1',
      maxRequestsPerConnection: undefined,
    };
  }

  get name(): string {
    return this.spec.name;
  }

  /** Connections opened to all hosts. */
  get connectionsOpened(): number {
    let n = 0;
    for (const v of this.opened.values()) n += v;
    return n;
  }

  chooseHost(destination: Destination | undefined, exclude?: ReadonlySet<string>): UpstreamHost | undefined {
    if (this.spec.originalDst) return destination === undefined ? undefined : hostOf(destination);
    const n = this.hosts.length;
    for (let k = 0; k < n; k++) {
      const h = this.hosts[(this.next + k) % n]!;
      if (exclude?.has(h.id) && k < n - 1) continue;
      this.next = (this.next + k + 1) % n;
      return h;
    }
    return undefined;
  }

  connect(host: UpstreamHost, options: { readonly pooled: boolean }, callback: (error: UpstreamError | undefined, connection: UpstreamConnection | undefined) => void): () => void {
    if (options.pooled) {
      const idle = this.idle.get(host.id);
      const conn = idle?.pop();
      if (conn !== undefined) {
        // Called back at once, as a pool with an idle connection may.
        callback(undefined, conn);
        return () => undefined;
      }
    }
    let done = false;
    this.opened.set(host.id, (this.opened.get(host.id) ?? 0) + 1);
    this.stats.upstreamCxTotal.inc();
    const socket = netConnect({ host: host.address, port: host.port });
    this.live.add(socket);
    socket.setNoDelay(true);
    const fail = (kind: UpstreamError['kind'], detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      this.stats.upstreamCxConnectFail.inc();
      callback({ kind, message: `cluster ${this.name}: ${detail} ${host.id}`, host }, undefined);
    };
    const timer = setTimeout(() => fail('connectTimeout', 'connect timeout'), this.config.connectTimeoutMs);
    socket.on('error', (err) => fail('connectFailure', `connect ${err.message}`));
    socket.on('close', () => {
      this.live.delete(socket);
      this.unparkSocket(socket, host);
    });
    socket.once('connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(undefined, new TestConnection(socket, host, options.pooled, this));
    });
    return () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
    };
  }

  park(conn: TestConnection): void {
    const list = this.idle.get(conn.host.id) ?? [];
    list.push(conn);
    this.idle.set(conn.host.id, list);
  }

  unpark(conn: TestConnection): void {
    const list = this.idle.get(conn.host.id);
    const i = list?.indexOf(conn) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  private unparkSocket(socket: Socket, host: UpstreamHost): void {
    const list = this.idle.get(host.id);
    const i = list?.findIndex((c) => c.socket === socket) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  tryStartRequest(): boolean {
    if (this.requests >= this.config.circuitBreakers.maxRequests) {
      this.stats.upstreamRqPendingOverflow.inc();
      return false;
    }
    this.requests++;
    return true;
  }

  endRequest(): void {
    this.requests--;
  }

  tryStartRetry(): boolean {
    if (this.retries >= this.config.circuitBreakers.maxRetries) {
      this.stats.upstreamRqRetryOverflow.inc();
      return false;
    }
    this.retries++;
    return true;
  }

  endRetry(): void {
    this.retries--;
  }

  /** Requests and retries holding circuit-breaker slots now (0 when the router released everything). */
  get slotsHeld(): number {
    return this.requests + this.retries;
  }

  hostRequestStarted(): void {}

  hostRequestEnded(host: UpstreamHost, outcome: UpstreamOutcome): void {
    this.outcomes.push({ host: host.id, outcome });
  }

  close(): void {
    for (const s of this.live) s.destroy();
    this.idle.clear();
  }
}

export class TestClusterManager implements ClusterManager {
  private readonly clusters = new Map<string, TestCluster>();

  constructor(stats: Stats, specs: readonly TestClusterSpec[]) {
    for (const spec of specs) this.clusters.set(spec.name, new TestCluster(stats, spec));
  }

  get(name: string): TestCluster | undefined {
    return this.clusters.get(name);
  }

  update(_config: ProxyConfig): void {}

  describe(): readonly ClusterDescription[] {
    return [];
  }

  close(): void {
    for (const c of this.clusters.values()) c.close();
  }
}
