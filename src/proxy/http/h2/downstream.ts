/**
 * The HTTP/2 downstream codec: a server session on an accepted socket (plain h2c with prior
 * knowledge, or TLS already terminated: ALPN `h2`, or the mesh's `osm` with HTTP/2 inside), each
 * stream handed to the router as one exchange, exactly as the HTTP/1.1 loop does.
 *
 * - The request head comes from the pseudo-headers (`:method`, `:scheme`, `:authority`, or Host
 *   when a client sent that instead, `:path`) and the regular fields, read in place; several
 *   `cookie` fields are joined into one (RFC 9113 8.2.3) so an HTTP/1.1 hop sees one.
 * - Responses always wait for trailers unless they have no body: whether the upstream sends
 *   trailers (gRPC) is only known at its end, and a response without them ends with an empty
 *   DATA frame. It also keeps `reset()` honest: a stream whose END_STREAM is still held back
 *   cannot look complete when it is reset.
 * - A response that ends while the client is still sending ends the stream (Node resets the
 *   rest of the request with NO_ERROR, as Envoy does).
 * - The connection's stats are the HTTP/1.1 loop's plus `downstream_cx_http2_*` and
 *   `downstream_rq_http2_total`. A drained connection, or one without streams for the idle
 *   timeout, gets GOAWAY and closes once its streams are done.
 */
import { constants, performServerHandshake, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream, type ServerStreamResponseOptions } from 'node:http2';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { DownstreamContext } from '../../listeners/types.js';
import type { Counter, Gauge } from '../../stats/types.js';
import { PairFields, type DownstreamStream, type ExchangeRequest, type ExchangeResponse, type HeaderEdits, type HeaderFields, type StreamHandler } from '../exchange.js';
import type { ConnectionManager } from '../manager.js';
import { startExchange } from '../router.js';
import { encodeFields, headerObject, RawFields, regularStart } from './fields.js';
import { DEFAULT_HTTP2_WINDOWS } from './settings.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR } = constants;

/** The client connection preface (RFC 9113 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Decides whether an `auto` connection speaks HTTP/2: ALPN `h2`, or the connection preface as
 * its first bytes. Calls `decided` once, with a context whose `prefetched` holds what was read.
 * A client that half-closes before the question is settled goes to HTTP/1.1, which answers it;
 * one that says nothing for `idleTimeoutMs` is closed.
 */
export function detectHttp2(ctx: DownstreamContext, idleTimeoutMs: number, decided: (ctx: DownstreamContext, http2: boolean) => void): void {
  const socket = ctx.socket;
  if (socket instanceof TLSSocket && socket.alpnProtocol === 'h2') return decided(ctx, true);
  let seen = ctx.prefetched;
  const verdict = prefaceVerdict(seen);
  if (verdict !== undefined) return decided(ctx, verdict);
  const finish = (http2: boolean): void => {
    socket.off('data', onData).off('end', onEnd).off('timeout', onTimeout).off('error', ignore);
    socket.setTimeout(0);
    socket.pause();
    decided(seen === ctx.prefetched ? ctx : { ...ctx, prefetched: seen }, http2);
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const v = prefaceVerdict(seen);
    if (v !== undefined) finish(v);
  };
  const onEnd = (): void => finish(false);
  const onTimeout = (): void => {
    socket.destroy();
  };
  socket.on('data', onData).on('end', onEnd).on('timeout', onTimeout).on('error', ignore);
  socket.setTimeout(idleTimeoutMs);
  socket.resume();
}

/** true: the preface; false: something else; undefined: too short to tell. */
function prefaceVerdict(bytes: Buffer): boolean | undefined {
  const n = Math.min(bytes.length, PREFACE.length);
  if (bytes.compare(PREFACE, 0, n, 0, n) !== 0) return false;
  return n === PREFACE.length ? true : undefined;
}

function ignore(): void {}

/** An HTTP/2 connection being served. */
export interface Http2Connection {
  /** Envoy's drain: GOAWAY, so no new stream; streams in flight finish, then the connection closes. */
  drain(): void;
}

/** Serves HTTP/2 on the connection until it closes. */
export function startHttp2Connection(ctx: DownstreamContext, cm: ConnectionManager): Http2Connection {
  const conn = new Http2ServerConnection(ctx, cm);
  conn.begin();
  return conn;
}

/** `http.<stat_prefix>.downstream_*_http2_*`, which the shared connection manager stats do not have. */
interface Http2Stats {
  readonly cxTotal: Counter;
  readonly cxActive: Gauge;
  readonly rqTotal: Counter;
}

const http2Stats = new WeakMap<ConnectionManager, Http2Stats>();

function http2StatsOf(cm: ConnectionManager): Http2Stats {
  let s = http2Stats.get(cm);
  if (s === undefined) {
    const p = `http.${cm.hcm.statPrefix}.`;
    const stats = cm.runtime.stats;
    s = { cxTotal: stats.counter(`${p}downstream_cx_http2_total`), cxActive: stats.gauge(`${p}downstream_cx_http2_active`), rqTotal: stats.counter(`${p}downstream_rq_http2_total`) };
    http2Stats.set(cm, s);
  }
  return s;
}

class Http2ServerConnection implements Http2Connection {
  private readonly socket: Socket;
  private readonly openedMs: number;
  private readonly h2: Http2Stats;
  private session: ServerHttp2Session | undefined;
  /** Exchanges whose response has not ended. */
  private readonly open = new Set<Http2DownstreamStream>();
  private closedLocally = false;
  private lostActive = false;

  constructor(
    private readonly ctx: DownstreamContext,
    private readonly cm: ConnectionManager,
  ) {
    this.socket = ctx.socket;
    this.openedMs = cm.runtime.now();
    this.h2 = http2StatsOf(cm);
  }

  begin(): void {
    const { socket, cm, ctx } = this;
    const stats = cm.stats;
    stats.downstreamCxTotal.inc();
    stats.downstreamCxActive.add(1);
    this.h2.cxTotal.inc();
    this.h2.cxActive.add(1);
    socket.setNoDelay(true);
    // A server TLSSocket made without a tls.Server (as the listener makes it) still says
    // `secureConnecting` after its handshake, as only tls.Server clears the flag; Node's HTTP/2
    // session would then wait for a 'secureConnect' that never comes.
    if (socket instanceof TLSSocket && ctx.tls) (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
    if (ctx.prefetched.length > 0) socket.unshift(ctx.prefetched);
    const session = performServerHandshake(socket, { settings: { initialWindowSize: DEFAULT_HTTP2_WINDOWS.streamWindowBytes } });
    this.session = session;
    session.setLocalWindowSize(DEFAULT_HTTP2_WINDOWS.sessionWindowBytes);
    session.on('stream', this.onStream);
    session.on('error', this.onError);
    session.once('close', this.onClose);
    session.setTimeout(cm.options.idleTimeoutMs, this.onTimeout);
  }

  private readonly onStream = (stream: ServerHttp2Stream, _headers: IncomingHttpHeaders, flags: number, raw: string[]): void => {
    const start = regularStart(raw);
    let method = '';
    let path = '';
    let scheme = '';
    let authority: string | undefined;
    for (let i = 0; i < start; i += 2) {
      const value = raw[i + 1]!;
      switch (raw[i]) {
        case ':method':
          method = value;
          break;
        case ':path':
          path = value;
          break;
        case ':scheme':
          scheme = value;
          break;
        case ':authority':
          authority = value;
          break;
      }
    }
    const fields = requestFields(raw, start);
    let contentLength = -1;
    for (let i = 0; i < fields.count; i++) {
      const name = fields.name(i);
      if (authority === undefined && name === 'host') authority = fields.value(i);
      else if (name === 'content-length' && /^\d+$/.test(fields.value(i))) contentLength = Number(fields.value(i));
    }
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const request: ExchangeRequest = {
      method,
      scheme: scheme === 'https' ? 'https' : 'http',
      authority: authority ?? '',
      path,
      protocol: 'HTTP/2',
      headers: fields,
      contentLength,
      endStream,
      upgrade: undefined,
    };
    this.h2.rqTotal.inc();
    const ds = new Http2DownstreamStream(this, stream, method === 'HEAD', endStream);
    this.open.add(ds);
    ds.listen();
    ds.handler = startExchange(this.cm, this.ctx, request, ds);
  };

  /** From a stream: its response ended or it was reset. */
  streamDone(ds: Http2DownstreamStream, reset: boolean): void {
    this.open.delete(ds);
    if (reset && (this.socket.destroyed || this.session?.destroyed === true)) this.lostActive = true;
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    // nghttp2 refused what the client sent (a bad preface, frame or header block).
    if (error.code?.startsWith('ERR_HTTP2_') === true) {
      this.cm.stats.downstreamCxProtocolError.inc();
      this.closedLocally = true;
    }
  };

  private readonly onTimeout = (): void => {
    if (this.open.size > 0 || this.closedLocally) return;
    this.cm.stats.downstreamCxIdleTimeout.inc();
    this.drain();
  };

  drain(): void {
    const session = this.session;
    if (this.closedLocally || session === undefined || session.closed || session.destroyed) return;
    this.closedLocally = true;
    session.close();
    // Once its streams are done Node ends the socket, then waits for the client to close its side, which a client may never do.
    const socket = this.socket;
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  }

  private readonly onClose = (): void => {
    const stats = this.cm.stats;
    const socket = this.socket;
    stats.downstreamCxActive.add(-1);
    this.h2.cxActive.add(-1);
    stats.downstreamCxDestroy.inc();
    (this.closedLocally ? stats.downstreamCxDestroyLocal : stats.downstreamCxDestroyRemote).inc();
    stats.downstreamCxLengthMs.record(this.cm.runtime.now() - this.openedMs);
    // The session reads and writes the socket's handle directly; its totals are the connection's.
    stats.downstreamCxRxBytesTotal.inc(socket.bytesRead);
    stats.downstreamCxTxBytesTotal.inc(socket.bytesWritten);
    if (this.lostActive || this.open.size > 0) {
      stats.downstreamCxDestroyActiveRq.inc();
      (this.closedLocally ? stats.downstreamCxDestroyLocalActiveRq : stats.downstreamCxDestroyRemoteActiveRq).inc();
    }
    // Streams still open are closed by the session first; anything left is told here.
    for (const ds of [...this.open]) ds.lost();
  };
}

/** The request's regular fields, in place unless several `cookie` fields must become one. */
function requestFields(raw: string[], start: number): HeaderFields {
  let cookies = 0;
  for (let i = start; i < raw.length; i += 2) if (raw[i] === 'cookie') cookies++;
  if (cookies < 2) return new RawFields(raw, start);
  const pairs: string[] = [];
  let cookieAt = -1;
  for (let i = start; i < raw.length; i += 2) {
    if (raw[i] !== 'cookie') pairs.push(raw[i]!, raw[i + 1]!);
    else if (cookieAt < 0) {
      cookieAt = pairs.length + 1;
      pairs.push('cookie', raw[i + 1]!);
    } else pairs[cookieAt] = `${pairs[cookieAt]!}; ${raw[i + 1]!}`;
  }
  return new PairFields(pairs);
}

/**
 * Node adds a Date field to responses without one unless told otherwise (`sendDate`, which its
 * types leave out): the proxy forwards what the upstream sent, and local replies carry their own.
 */
const RESPOND_BODYLESS = { endStream: true, sendDate: false } as ServerStreamResponseOptions;
const RESPOND_WITH_BODY = { endStream: false, waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;

/** One exchange on the session: the request body source and the response encoder. */
class Http2DownstreamStream implements DownstreamStream {
  handler!: StreamHandler;
  private headSent = false;
  /** The response has no body (END_STREAM went with its head). */
  private bodyless = false;
  /** The response ended or was reset, or the client went away: nothing more is sent. */
  private finished = false;
  /** `sendEnd` or `reset` was called: the stream's outcome is decided. */
  private ended = false;
  private needDrain = false;
  private responseTrailers: HeaderFields | undefined;
  private requestTrailers: HeaderFields | undefined;

  constructor(
    private readonly conn: Http2ServerConnection,
    private readonly stream: ServerHttp2Stream,
    private readonly isHead: boolean,
    private requestDone: boolean,
  ) {}

  listen(): void {
    this.stream
      .on('data', this.onData)
      .on('trailers', this.onTrailers)
      .on('end', this.onEnd)
      .on('close', this.onClose)
      .on('drain', this.onDrain)
      .on('wantTrailers', this.onWantTrailers)
      .on('error', ignore);
  }

  // --- request, from the client ---

  private readonly onData = (chunk: Buffer): void => {
    if (!this.requestDone) this.handler.requestData(chunk);
  };

  private readonly onTrailers = (_headers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.requestTrailers = new RawFields(raw, 0);
  };

  /** END_STREAM from the client, unless the stream was reset (then `close` reports it). */
  private readonly onEnd = (): void => {
    const stream = this.stream;
    if (this.requestDone || stream.aborted || stream.rstCode !== NGHTTP2_NO_ERROR) return;
    this.requestDone = true;
    this.handler.requestEnd(this.requestTrailers);
  };

  private readonly onClose = (): void => {
    if (this.finished) return;
    this.finished = true;
    this.conn.streamDone(this, true);
    this.handler.downstreamReset();
  };

  private readonly onDrain = (): void => {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.handler.downstreamDrained();
  };

  private readonly onWantTrailers = (): void => {
    const stream = this.stream;
    if (stream.closed || stream.destroyed) return;
    const out = headerObject();
    const t = this.responseTrailers;
    if (t !== undefined) encodeFields(out, t, undefined);
    // An empty block makes Node end the stream with an empty DATA frame instead.
    stream.sendTrailers(out);
  };

  /** The connection closed under a stream that never reported it. */
  lost(): void {
    this.onClose();
  }

  // --- response, from the router ---

  sendHead(head: ExchangeResponse, edits: HeaderEdits | undefined): void {
    if (this.headSent || this.finished) return;
    this.headSent = true;
    const status = head.status;
    if (status < 200) {
      // A 101 cannot happen (HTTP/2 requests carry no upgrade) and other 1xx heads are not passed on.
      this.reset();
      return;
    }
    this.bodyless = head.endStream || this.isHead || status === 204 || status === 205 || status === 304;
    const out = headerObject();
    out[':status'] = status;
    encodeFields(out, head.headers, edits);
    if (head.contentLength >= 0 && status !== 204) out['content-length'] = String(head.contentLength);
    try {
      this.stream.respond(out, this.bodyless ? RESPOND_BODYLESS : RESPOND_WITH_BODY);
    } catch {
      // The stream is gone, or Node refused a field value HTTP/2 cannot carry.
      this.reset();
    }
  }

  sendData(chunk: Buffer): boolean {
    if (!this.headSent || this.bodyless || this.finished || chunk.length === 0) return true;
    const ok = this.stream.write(chunk);
    if (!ok) this.needDrain = true;
    return ok;
  }

  sendEnd(trailers: HeaderFields | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.ended = true;
    this.conn.streamDone(this, false);
    if (this.bodyless || this.stream.destroyed) return;
    this.responseTrailers = trailers;
    this.stream.end();
  }

  reset(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.finished) {
      this.finished = true;
      this.conn.streamDone(this, false);
    }
    // END_STREAM is held back (waitForTrailers) or already sent with the head, so this reads as a reset, not an end.
    if (!this.stream.closed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  pauseRequest(): void {
    this.stream.pause();
  }

  resumeRequest(): void {
    this.stream.resume();
  }

  tunnel(peer: Socket, _pending: Buffer | undefined, closed: () => void): void {
    peer.destroy();
    this.reset();
    closed();
  }
}
