/**
 * The HTTP/2 sessions of the upstream codec: one per cluster object and host, multiplexing every
 * attempt to that host, over a dedicated connection from the cluster (`pooled: false`; TLS and
 * the server's SANs are the cluster's business). As Envoy's HTTP/2 pool:
 *
 * - Attempts wait in the session's queue while it connects, until the server's SETTINGS
 *   arrive (within the connect timeout, or the attempts fail as a connect failure), and while
 *   its SETTINGS_MAX_CONCURRENT_STREAMS are in use.
 * - A session that received GOAWAY, served `max_requests_per_connection` streams or closed
 *   takes no new stream: the next attempt gets a new session, its queue moves there (an
 *   attempt moves at most `MAX_MOVES` times), and it closes once its last stream ends. A
 *   failed connect fails the attempts waiting for it.
 * - A session without streams is unreferenced (it never keeps the process alive) and closes
 *   after the idle timeout.
 */
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Cluster, UpstreamConnection, UpstreamError, UpstreamFailureKind, UpstreamHost } from '../../clusters/types.js';
import type { UpstreamRequestHead, UpstreamResetReason } from '../exchange.js';
import { encodeFields, headerObject } from './fields.js';

export interface SessionOptions {
  /** A session without streams for this long is closed. */
  readonly idleTimeoutMs: number;
  /** What each stream may receive before the proxy reads it (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly streamWindowBytes: number;
  /** What the whole session may receive before the proxy reads it. */
  readonly sessionWindowBytes: number;
}

/** What a session needs of an attempt waiting for a stream. */
export interface StreamWaiter {
  readonly cluster: Cluster;
  readonly host: UpstreamHost;
  readonly head: UpstreamRequestHead;
  /** The session whose queue holds it. */
  queuedOn: UpstreamSession | undefined;
  /** Sessions that went away before giving it a stream. */
  moves: number;
  /** Its stream is open (the head is on its way). */
  attach(session: UpstreamSession, stream: ClientHttp2Stream): void;
  /** No stream could be had. */
  failBeforeStream(reason: UpstreamResetReason): void;
}

const RESET_REASON: Readonly<Record<UpstreamFailureKind, UpstreamResetReason>> = {
  overflow: 'overflow',
  noHealthyUpstream: 'noHealthyUpstream',
  connectTimeout: 'connectFailure',
  connectFailure: 'connectFailure',
  tlsFailure: 'connectFailure',
};

/** When the server's SETTINGS name no limit. */
const UNLIMITED_STREAMS = 2 ** 31 - 1;

/** An attempt moved from session to session (each went away before giving it a stream) this often fails instead. */
const MAX_MOVES = 3;

/** The current session of each cluster object and host, and every session still open. */
export class SessionPool {
  /** A replaced cluster object keeps its own sessions until they close. */
  private readonly sessions = new WeakMap<Cluster, Map<string, UpstreamSession>>();
  private readonly live = new Set<UpstreamSession>();

  constructor(readonly options: SessionOptions) {}

  /** Destroys every session (their streams are reset). */
  close(): void {
    for (const s of [...this.live]) s.destroy();
  }

  /** Puts an attempt on the host's current session, opening one when there is none that takes new streams. */
  dispatch(waiter: StreamWaiter): void {
    const { cluster, host } = waiter;
    let hosts = this.sessions.get(cluster);
    if (hosts === undefined) this.sessions.set(cluster, (hosts = new Map()));
    const current = hosts.get(host.id);
    if (current !== undefined) {
      current.submit(waiter);
      return;
    }
    const session = new UpstreamSession(this, cluster, host);
    hosts.set(host.id, session);
    this.live.add(session);
    session.submit(waiter);
    session.connect();
  }

  /** A session takes no new streams: later attempts get another. */
  retire(session: UpstreamSession): void {
    const hosts = this.sessions.get(session.cluster);
    if (hosts !== undefined && hosts.get(session.host.id) === session) hosts.delete(session.host.id);
  }

  forget(session: UpstreamSession): void {
    this.retire(session);
    this.live.delete(session);
  }

  /** Moves a waiter whose session went away to the host's next one, a few times at most. */
  redispatch(waiter: StreamWaiter): void {
    if (waiter.moves++ < MAX_MOVES) this.dispatch(waiter);
    else waiter.failBeforeStream('connectionTermination');
  }
}

/** One HTTP/2 connection to a host and the attempts on it or waiting for it. */
export class UpstreamSession {
  private session: ClientHttp2Session | undefined;
  private conn: UpstreamConnection | undefined;
  private cancelConnect: (() => void) | undefined;
  private readonly queue: StreamWaiter[] = [];
  private readonly streams = new Set<StreamWaiter>();
  /**
   * The server's SETTINGS arrived. Streams wait for them: a server with a low
   * SETTINGS_MAX_CONCURRENT_STREAMS refuses streams opened beyond it before the client knew.
   */
  private settled = false;
  /** Takes new streams; false after GOAWAY, max requests or close. */
  private accepting = true;
  private closed = false;
  /** The pool's `close` destroyed it: its streams then close with NO_ERROR without having ended, so `end` means nothing. */
  destroyedLocally = false;
  private lossCounted = false;

  constructor(
    private readonly pool: SessionPool,
    readonly cluster: Cluster,
    readonly host: UpstreamHost,
  ) {}

  connect(): void {
    let called = false;
    const cancel = this.cluster.connect(this.host, { pooled: false }, (error, conn) => {
      called = true;
      this.cancelConnect = undefined;
      this.onConnect(error, conn);
    });
    if (!called) this.cancelConnect = cancel;
  }

  private onConnect(error: UpstreamError | undefined, conn: UpstreamConnection | undefined): void {
    if (this.closed) {
      conn?.close();
      return;
    }
    if (error !== undefined || conn === undefined) {
      this.closed = true;
      this.pool.forget(this);
      const reason = error === undefined ? 'connectFailure' : RESET_REASON[error.kind];
      for (const a of this.queue.splice(0)) a.failBeforeStream(reason);
      return;
    }
    this.conn = conn;
    const { options } = this.pool;
    const socket: Socket = conn.socket;
    const session = http2Connect(`http://${this.host.id}`, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: options.streamWindowBytes },
    });
    this.session = session;
    session.on('error', ignore);
    session.on('goaway', () => this.stopAccepting());
    // A server that never sends its SETTINGS is no HTTP/2 server: it gets the connect timeout.
    const settingsTimer = setTimeout(() => session.destroy(), this.cluster.config.connectTimeoutMs);
    settingsTimer.unref();
    session.on('remoteSettings', () => {
      if (!this.settled) {
        this.settled = true;
        clearTimeout(settingsTimer);
      }
      this.pump();
      // Every attempt that waited for it may have gone: an idle session must not keep the process alive.
      if (this.streams.size === 0) session.unref();
    });
    session.once('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(options.sessionWindowBytes);
    });
    session.once('close', () => {
      clearTimeout(settingsTimer);
      this.onClose();
    });
    session.setTimeout(options.idleTimeoutMs, () => {
      if (this.streams.size === 0 && this.queue.length === 0) this.shutDown();
    });
  }

  submit(attempt: StreamWaiter): void {
    attempt.queuedOn = this;
    this.queue.push(attempt);
    if (this.session !== undefined) this.pump();
  }

  /** An attempt gave up before it got a stream. */
  dequeue(attempt: StreamWaiter): void {
    const i = this.queue.indexOf(attempt);
    if (i >= 0) this.queue.splice(i, 1);
  }

  /** Opens streams for waiting attempts while the server's limit allows. */
  private pump(): void {
    const session = this.session;
    if (session === undefined || !this.settled) return;
    while (this.queue.length > 0 && this.accepting && !session.closed && !session.destroyed) {
      const limit = session.remoteSettings.maxConcurrentStreams ?? UNLIMITED_STREAMS;
      if (this.streams.size >= limit) return;
      const attempt = this.queue.shift()!;
      let stream: ClientHttp2Stream;
      const endStream = attempt.head.request.endStream;
      try {
        stream = session.request(requestHeaders(attempt.head), { endStream, waitForTrailers: !endStream });
      } catch (e) {
        if (session.closed || session.destroyed || (e as NodeJS.ErrnoException).code === 'ERR_HTTP2_OUT_OF_STREAMS') {
          // The session went away under us: the attempt never left, so it waits for the next one.
          this.queue.unshift(attempt);
          this.stopAccepting();
          return;
        }
        // Node refused the header block (a value HTTP/2 cannot carry).
        attempt.failBeforeStream('protocolError');
        continue;
      }
      const conn = this.conn!;
      conn.startRequest();
      this.streams.add(attempt);
      if (this.streams.size === 1) session.ref();
      const max = this.cluster.config.maxRequestsPerConnection;
      if (max !== undefined && conn.requests >= max) this.stopAccepting();
      attempt.attach(this, stream);
    }
  }

  /** From an attempt: its stream closed. */
  streamClosed(attempt: StreamWaiter): void {
    if (!this.streams.delete(attempt)) return;
    if (this.streams.size === 0) {
      if (!this.accepting) this.shutDown();
      else this.session?.unref();
    }
    this.pump();
  }

  /**
   * From an attempt whose stream ended because the connection did: whether the connection was
   * lost rather than closed by us. `upstream_cx_destroy_*_with_active_rq` is counted once.
   */
  connectionLost(): boolean {
    if (!this.lossCounted) {
      this.lossCounted = true;
      const stats = this.cluster.stats;
      (this.destroyedLocally ? stats.upstreamCxDestroyLocalWithActiveRq : stats.upstreamCxDestroyRemoteWithActiveRq).inc();
    }
    return !this.destroyedLocally;
  }

  get sessionGone(): boolean {
    return this.session === undefined || this.session.destroyed;
  }

  /** No new streams here; waiting attempts move to the host's next session. */
  private stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.pool.retire(this);
    this.moveQueue();
    if (this.streams.size === 0) this.shutDown();
  }

  /** Closes the session once no stream is left on it: GOAWAY, then the connection. */
  private shutDown(): void {
    this.accepting = false;
    this.pool.retire(this);
    this.session?.close();
    const conn = this.conn;
    if (conn === undefined) return;
    // Node ends the socket and then waits for the server to close its side, which a server may never do.
    if (conn.socket.writableFinished) conn.close();
    else conn.socket.once('finish', () => conn.close());
  }

  destroy(): void {
    this.destroyedLocally = true;
    this.accepting = false;
    if (this.cancelConnect !== undefined) {
      this.cancelConnect();
      this.cancelConnect = undefined;
      this.closed = true;
      this.pool.forget(this);
      for (const a of this.queue.splice(0)) a.failBeforeStream('connectionTermination');
      return;
    }
    this.session?.destroy();
  }

  private onClose(): void {
    this.closed = true;
    this.accepting = false;
    this.pool.forget(this);
    this.conn?.close();
    if (this.settled) {
      this.moveQueue();
      return;
    }
    const reason = this.destroyedLocally ? 'connectionTermination' : 'connectFailure';
    for (const a of this.queue.splice(0)) a.failBeforeStream(reason);
  }

  /** Attempts that never got a stream here are not lost: they wait for the host's next session. */
  private moveQueue(): void {
    for (const a of this.queue.splice(0)) this.pool.redispatch(a);
  }
}

function ignore(): void {}

/** The request header block: pseudo-headers, then the kept and added fields (a `host` added by the router becomes `:authority`). */
function requestHeaders(head: UpstreamRequestHead): OutgoingHttpHeaders {
  const r = head.request;
  const out = headerObject();
  out[':method'] = r.method;
  out[':scheme'] = r.scheme;
  out[':path'] = head.path;
  const host = encodeFields(out, r.headers, head.edits);
  const authority = host ?? r.authority;
  if (authority !== '') out[':authority'] = authority;
  if (r.contentLength >= 0) out['content-length'] = String(r.contentLength);
  return out;
}
