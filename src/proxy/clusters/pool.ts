/**
 * Upstream connections of one cluster object, per host, as Envoy's connection pools keep them:
 *
 * - Pooled (HTTP/1.1): a LIFO stack of idle keep-alive connections per host; a request takes
 *   the most recently used one, else waits as a pending request while a connection is made
 *   for it. A connection that closes, half-closes or sends bytes while idle leaves the pool;
 *   one idle for `idleTimeoutMs` is closed; one that served `maxRequestsPerConnection` requests
 *   is closed on release.
 * - Dedicated (`pooled: false`, tcp_proxy): a new connection per request, never reused.
 * - Circuit breakers: at max_connections a request waits for a connection to be released or
 *   closed (`upstream_cx_overflow`); beyond max_pending_requests it fails with `overflow`
 *   (`upstream_rq_pending_overflow`). As in Envoy, a host with no connection at all still
 *   gets one over the limit, so its requests cannot starve behind other hosts' connections.
 * - A failed connect fails every request waiting on that host's pool
 *   (`upstream_rq_pending_failure_eject`), as Envoy purges pending streams.
 *
 * Callbacks are never called from inside `acquire` or `release`; they run in a microtask.
 * The caller attaches its socket listeners synchronously in the callback: a reused socket is
 * already flowing, and its idle listener is gone by then.
 */
import type { Socket } from 'node:net';
import type { CircuitBreakers } from './circuit-breakers.js';
import type { ClusterClock } from './clock.js';
import type { Host } from './host.js';
import type { ClusterStatsSet } from './stats.js';
import { openConnection, type OpenResult, type TransportSettings } from './transport.js';
import type { UpstreamConnection, UpstreamError } from './types.js';

type Callback = (error: UpstreamError | undefined, connection: UpstreamConnection | undefined) => void;

/** Pool settings of one cluster object. */
export interface PoolSettings {
  readonly transport: TransportSettings;
  readonly maxRequestsPerConnection: number | undefined;
  readonly idleTimeoutMs: number;
}

/** What the pools tell the cluster: connect outcomes (outlier detection) and a host's pool emptying. */
export interface PoolEvents {
  connectResult(host: Host, result: OpenResult): void;
  poolEmpty(host: Host): void;
}

/** A request for a connection, from `acquire` until its callback has run or it was cancelled. */
class Waiter {
  /** Queued (pending) until it gets a connection or an error. */
  queued = false;
  done = false;
  cancelled = false;
  /** For a dedicated connection being made for this waiter: aborts it. */
  abortConnect: (() => void) | undefined;

  constructor(
    readonly host: Host,
    readonly pooled: boolean,
    readonly callback: Callback,
  ) {}
}

/** One host's connections and waiters. */
class HostPool {
  /** Idle connections, most recently used last. */
  readonly idle: Connection[] = [];
  /** Waiters in arrival order (pooled and dedicated). */
  readonly waiters: Waiter[] = [];
  /** Connections open or being made. */
  connections = 0;
  /** Pooled connections being made: each will serve the first pooled waiter when ready. */
  pooledConnecting = 0;
  pooledWaiting = 0;

  constructor(readonly host: Host) {}

  get isEmpty(): boolean {
    return this.connections === 0 && this.waiters.length === 0;
  }
}

/** A connection handed out by `acquire`. */
class Connection implements UpstreamConnection {
  requests = 0;
  state: 'busy' | 'idle' | 'closed' = 'busy';
  idleSinceMs = 0;
  /** The server half-closed: never reused. */
  remoteEnded = false;
  readonly onIdleData: () => void;

  constructor(
    readonly socket: Socket,
    readonly host: Host,
    readonly pooled: boolean,
    private readonly pools: ConnectionPools,
  ) {
    // Bytes from an idle upstream (a late response, a 408) mean it is out of step: drop it, as Envoy does.
    this.onIdleData = () => this.close();
  }

  startRequest(): void {
    this.requests++;
  }

  release(): void {
    this.pools.release(this);
  }

  close(): void {
    if (this.state === 'closed') return;
    this.socket.destroy();
  }
}

/** The connection pools of one cluster object. */
export class ConnectionPools {
  readonly #pools = new Map<Host, HostPool>();
  /** Waiters that found max_connections reached, in arrival order; served as connections close. */
  #blocked: Waiter[] = [];
  readonly #withIdle = new Set<HostPool>();
  readonly #connecting = new Set<() => void>();
  #cancelSweep: (() => void) | undefined;
  #draining = false;
  #closed = false;

  constructor(
    private readonly settings: PoolSettings,
    private readonly breakers: CircuitBreakers,
    private readonly stats: ClusterStatsSet,
    private readonly clock: ClusterClock,
    private readonly events: PoolEvents,
  ) {}

  /** Connections open or being made to `host`. */
  connectionsTo(host: Host): number {
    return this.#pools.get(host)?.connections ?? 0;
  }

  /** See `Cluster.connect`. */
  acquire(host: Host, pooled: boolean, callback: Callback): () => void {
    const w = new Waiter(host, pooled, callback);
    if (this.#closed) {
      this.#fail(w, { kind: 'connectFailure', message: `cluster ${this.settings.transport.clusterName} is closed`, host });
      return () => this.#cancel(w);
    }
    const pool = this.#poolOf(host);
    if (pooled) {
      const idle = this.#takeIdle(pool);
      if (idle) {
        this.#deliver(w, idle);
        return () => this.#cancel(w);
      }
    }
    if (!this.breakers.canQueue()) {
      this.stats.upstreamRqPendingOverflow.inc();
      const max = this.breakers.limits.maxPendingRequests;
      this.#fail(w, { kind: 'overflow', message: `cluster ${this.settings.transport.clusterName}: ${this.breakers.pending} requests already wait for a connection (max_pending_requests ${max})`, host });
      return () => this.#cancel(w);
    }
    w.queued = true;
    pool.waiters.push(w);
    if (pooled) pool.pooledWaiting++;
    this.breakers.pendingAdded();
    this.stats.upstreamRqPendingTotal.inc();
    this.#connectFor(pool, w);
    return () => this.#cancel(w);
  }

  /** Back to the pool, or closed when it cannot be reused. */
  release(conn: Connection): void {
    if (conn.state !== 'busy') return;
    const max = this.settings.maxRequestsPerConnection;
    if (max !== undefined && conn.requests >= max) {
      this.stats.upstreamCxMaxRequests.inc();
      conn.close();
      return;
    }
    const s = conn.socket;
    if (!conn.pooled || this.#draining || conn.host.removed || conn.remoteEnded || s.destroyed || !s.writable || s.readableLength > 0) {
      conn.close();
      return;
    }
    const pool = this.#poolOf(conn.host);
    const w = this.#firstPooledWaiter(pool);
    if (w) {
      this.#dequeue(pool, w);
      this.#deliver(w, conn);
      return;
    }
    conn.state = 'idle';
    conn.idleSinceMs = this.clock.nowMs();
    s.on('data', conn.onIdleData);
    // A socket paused for back-pressure must flow again, or a close from the server goes unseen.
    s.resume();
    pool.idle.push(conn);
    this.#withIdle.add(pool);
    this.#armSweep();
  }

  /** A host left the cluster: its idle connections close now, busy ones when released. */
  hostRemoved(host: Host): void {
    const pool = this.#pools.get(host);
    if (!pool) return;
    for (const c of [...pool.idle]) c.close();
    if (pool.isEmpty) this.#forget(pool);
  }

  /** The cluster was replaced or removed: idle connections close, busy ones close when released. */
  drain(): void {
    this.#draining = true;
    for (const pool of [...this.#withIdle]) for (const c of [...pool.idle]) c.close();
  }

  /** Shutdown: drains, aborts connects in progress and fails waiting requests. Busy connections are left to their users. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.drain();
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
    for (const abort of [...this.#connecting]) abort();
    for (const pool of [...this.#pools.values()]) {
      for (const w of [...pool.waiters]) {
        this.#dequeue(pool, w);
        this.#fail(w, { kind: 'connectFailure', message: `cluster ${this.settings.transport.clusterName} is closed`, host: pool.host });
      }
    }
  }

  #poolOf(host: Host): HostPool {
    let pool = this.#pools.get(host);
    if (!pool) this.#pools.set(host, (pool = new HostPool(host)));
    return pool;
  }

  #takeIdle(pool: HostPool): Connection | undefined {
    for (let c = pool.idle.pop(); c; c = pool.idle.pop()) {
      c.socket.removeListener('data', c.onIdleData);
      if (c.socket.destroyed || c.remoteEnded) continue;
      if (pool.idle.length === 0) this.#withIdle.delete(pool);
      c.state = 'busy';
      return c;
    }
    this.#withIdle.delete(pool);
    return undefined;
  }

  #firstPooledWaiter(pool: HostPool): Waiter | undefined {
    if (pool.pooledWaiting === 0) return undefined;
    return pool.waiters.find((w) => w.pooled);
  }

  /** Starts a connection for `w` unless one under way will serve it or the limit says wait. */
  #connectFor(pool: HostPool, w: Waiter): void {
    if (w.pooled && pool.pooledConnecting >= pool.pooledWaiting) return;
    if (!this.breakers.canConnect()) {
      this.stats.upstreamCxOverflow.inc();
      if (pool.connections > 0) {
        this.#blocked.push(w);
        return;
      }
    }
    this.#open(pool, w.pooled ? undefined : w);
  }

  /** Opens a connection: pooled (for whichever pooled waiter is first when it is ready) or dedicated to `owner`. */
  #open(pool: HostPool, owner: Waiter | undefined): void {
    const host = pool.host;
    pool.connections++;
    this.breakers.connectionOpened();
    this.stats.upstreamCxTotal.inc();
    this.stats.upstreamCxActive.add(1);
    if (!owner) pool.pooledConnecting++;
    const uncount = () => {
      pool.connections--;
      this.breakers.connectionClosed();
      this.stats.upstreamCxActive.add(-1);
    };
    const abort = openConnection(host, this.settings.transport, this.clock, this.stats, (result) => {
      this.#connecting.delete(cancel);
      if (owner) owner.abortConnect = undefined;
      else pool.pooledConnecting--;
      this.events.connectResult(host, result);
      if (!result.ok) {
        this.stats.upstreamCxConnectFail.inc();
        uncount();
        const error: UpstreamError = { kind: result.kind, message: result.message, host };
        for (const w of owner ? [owner] : pool.waiters.filter((x) => x.pooled)) {
          if (w.done) continue;
          this.#dequeue(pool, w);
          this.stats.upstreamRqPendingFailureEject.inc();
          this.#fail(w, error);
        }
        this.#slotFreed();
        if (pool.isEmpty) this.#forget(pool);
        return;
      }
      const conn = this.#adopt(result.socket, pool, owner === undefined);
      const w = owner ?? this.#firstPooledWaiter(pool);
      if (w && !w.done) {
        this.#dequeue(pool, w);
        this.#deliver(w, conn);
      } else if (owner) {
        conn.close();
      } else {
        // Its waiter got a released connection meanwhile: keep it for the next request.
        this.release(conn);
      }
    });
    /** Gives up the connect: the socket is destroyed and the slot freed; no waiter is told. */
    const cancel = () => {
      this.#connecting.delete(cancel);
      if (owner) owner.abortConnect = undefined;
      else pool.pooledConnecting--;
      abort();
      uncount();
      this.#slotFreed();
    };
    this.#connecting.add(cancel);
    if (owner) owner.abortConnect = cancel;
  }

  /** Wraps a connected socket; its close is accounted here whoever closes it. */
  #adopt(socket: Socket, pool: HostPool, pooled: boolean): Connection {
    const conn = new Connection(socket, pool.host, pooled, this);
    socket.on('error', () => {
      // The user's own listener reports it; here the close that follows is what counts.
    });
    socket.once('end', () => (conn.remoteEnded = true));
    socket.once('close', () => this.#onClose(conn, pool));
    return conn;
  }

  #onClose(conn: Connection, pool: HostPool): void {
    if (conn.state === 'idle') {
      const i = pool.idle.indexOf(conn);
      if (i >= 0) pool.idle.splice(i, 1);
      if (pool.idle.length === 0) this.#withIdle.delete(pool);
    }
    conn.state = 'closed';
    pool.connections--;
    this.breakers.connectionClosed();
    this.stats.upstreamCxActive.add(-1);
    // Counted once per connection rather than per chunk: the socket keeps the totals.
    this.stats.upstreamCxTxBytesTotal.inc(conn.socket.bytesWritten);
    this.stats.upstreamCxRxBytesTotal.inc(conn.socket.bytesRead);
    this.#slotFreed();
    if (pool.isEmpty) this.#forget(pool);
  }

  /** A connection slot freed: the longest-blocked waiter that still needs one gets it. */
  #slotFreed(): void {
    while (this.#blocked.length > 0 && this.breakers.canConnect() && !this.#closed) {
      const w = this.#blocked.shift()!;
      if (w.done) continue;
      const pool = this.#poolOf(w.host);
      if (w.pooled && pool.pooledConnecting >= pool.pooledWaiting) continue;
      this.#open(pool, w.pooled ? undefined : w);
    }
    if (this.#blocked.length > 64 && this.#blocked.every((w) => w.done)) this.#blocked = [];
  }

  #dequeue(pool: HostPool, w: Waiter): void {
    if (!w.queued) return;
    w.queued = false;
    const i = pool.waiters.indexOf(w);
    if (i >= 0) pool.waiters.splice(i, 1);
    if (w.pooled) pool.pooledWaiting--;
    this.breakers.pendingRemoved();
  }

  #deliver(w: Waiter, conn: Connection): void {
    w.done = true;
    queueMicrotask(() => {
      if (!w.cancelled) w.callback(undefined, conn);
      else if (conn.pooled) this.release(conn);
      else conn.close();
    });
  }

  #fail(w: Waiter, error: UpstreamError): void {
    w.done = true;
    queueMicrotask(() => {
      if (!w.cancelled) w.callback(error, undefined);
    });
  }

  #cancel(w: Waiter): void {
    if (w.cancelled) return;
    w.cancelled = true;
    if (w.done) return;
    w.done = true;
    const pool = this.#pools.get(w.host);
    if (pool) this.#dequeue(pool, w);
    w.abortConnect?.();
    if (pool?.isEmpty) this.#forget(pool);
  }

  #forget(pool: HostPool): void {
    if (this.#pools.get(pool.host) !== pool) return;
    this.#pools.delete(pool.host);
    this.events.poolEmpty(pool.host);
  }

  #armSweep(): void {
    if (this.#cancelSweep || this.#withIdle.size === 0 || this.#closed) return;
    let oldest = Infinity;
    for (const pool of this.#withIdle) oldest = Math.min(oldest, pool.idle[0]?.idleSinceMs ?? Infinity);
    const delay = Math.max(0, oldest + this.settings.idleTimeoutMs - this.clock.nowMs());
    this.#cancelSweep = this.clock.setTimer(() => {
      this.#cancelSweep = undefined;
      this.#sweep();
    }, delay);
  }

  /** Closes connections idle for the idle timeout; LIFO order keeps the oldest at the bottom of each stack. */
  #sweep(): void {
    const deadline = this.clock.nowMs() - this.settings.idleTimeoutMs;
    for (const pool of [...this.#withIdle]) {
      while (pool.idle.length > 0 && pool.idle[0]!.idleSinceMs <= deadline) {
        this.stats.upstreamCxIdleTimeout.inc();
        pool.idle[0]!.close();
        // close() is async for the pool (it waits for 'close'); take it off the stack now.
        const c = pool.idle.shift()!;
        c.socket.removeListener('data', c.onIdleData);
        c.state = 'closed';
      }
      if (pool.idle.length === 0) this.#withIdle.delete(pool);
    }
    this.#armSweep();
  }
}
