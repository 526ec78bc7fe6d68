/**
 * The HTTP/1.1 downstream loop on one accepted socket (plain or TLS-terminated): strict head
 * parsing (400/431/501/505 then close), request bodies by Content-Length or chunked, keep-alive,
 * `Connection: close` and HTTP/1.0, pipelined requests answered in order (the next request is
 * read only once the current response is done; bytes that arrive meanwhile wait in a bounded
 * buffer), `Expect: 100-continue` answered by the proxy, responses framed by length, chunked or
 * (HTTP/1.0) by closing, 101 upgrades turned into a byte tunnel, and the connection stats.
 * Writes within one tick are corked into one.
 */
import type { Socket } from 'node:net';
import { bodyDecoderFor, CONNECTION_UPGRADE, parseRequestHead, requestBodyFraming, type BodyDecoder, type BodySink, type Http1Error, type RequestHead, type Trailers } from '../http1/index.js';
import type { ProxyConfig } from '../config/index.js';
import type { DownstreamContext } from '../listeners/types.js';
import type { DownstreamStream, ExchangeRequest, ExchangeResponse, HeaderEdits, HeaderFields, StreamHandler } from './exchange.js';
import { chunkHead, encodeHead, encodeTrailers, Http1Fields, reasonPhrase } from './http1-fields.js';
import { ResponseFlag } from './local-reply.js';
import type { ConnectionManager } from './manager.js';
import { rejectMalformed, startExchange } from './router.js';

/** Envoy's defaults: max_request_headers_kb 60 and max_headers_count 100. */
const HEAD_LIMITS = Object.freeze({ maxHeadBytes: 60 * 1024, maxHeaders: 100 });
/** Pipelined bytes buffered during a response before the socket stops reading. */
const MAX_PIPELINED_BYTES = 64 * 1024;
const PAUSED_BY_ROUTER = 1;
const PAUSED_BY_PIPELINE = 2;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** Serves HTTP/1.1 on the connection until it closes; the result drains it. */
export function serveHttp1(ctx: DownstreamContext, cm: ConnectionManager): { drain(): void } {
  const conn = new Http1ServerConnection(ctx, cm);
  conn.begin();
  return conn;
}

class Http1ServerConnection {
  private readonly socket: Socket;
  private readonly openedMs: number;
  private pending: Buffer | undefined;
  /** At or above 0 while an incomplete head waits: where to look for its next line ending. */
  private scanFrom = -1;
  private stream: Http1Stream | undefined;
  private decoder: BodyDecoder | undefined;
  private processing = false;
  private again = false;
  private pausedBy = 0;
  private corked = false;
  private needDrain = false;
  /** No further request is read; the connection closes once the current response is written. */
  private closing = false;
  private closedLocally = false;
  private tunnelClosed: (() => void) | undefined;
  /** The filter chain is gone from the config: the current response is the last (Envoy's drain). */
  private draining = false;
  /** The config this connection's filter chain was last found in. */
  private checkedConfig: ProxyConfig | undefined;

  constructor(
    private readonly ctx: DownstreamContext,
    private readonly cm: ConnectionManager,
  ) {
    this.socket = ctx.socket;
    this.openedMs = cm.runtime.now();
  }

  begin(): void {
    const { socket, cm } = this;
    // A client that left during the listener's work is gone: there is nothing to serve or count.
    if (socket.destroyed) return;
    const stats = cm.stats;
    stats.downstreamCxTotal.inc();
    stats.downstreamCxActive.add(1);
    stats.downstreamCxHttp1Total.inc();
    stats.downstreamCxHttp1Active.add(1);
    socket.setNoDelay(true);
    socket.setTimeout(cm.options.idleTimeoutMs);
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onClose).on('timeout', this.onTimeout).on('drain', this.onDrain).on('error', ignore);
    if (this.ctx.prefetched.length > 0) this.onData(this.ctx.prefetched);
    // The listener may have paused the socket while it inspected the first bytes.
    socket.resume();
  }

  // --- reading ---------------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer): void => {
    this.cm.stats.downstreamCxRxBytesTotal.inc(chunk.length);
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.process();
  };

  private process(): void {
    if (this.processing) {
      this.again = true;
      return;
    }
    this.processing = true;
    do {
      this.again = false;
      this.step();
    } while (this.again);
    this.processing = false;
    const s = this.stream;
    // A response that ended before its request did: the rest of the body is not read, the connection closes (as Envoy does).
    if (s !== undefined && s.responseDone && !s.requestDone && this.pending === undefined && !this.closing) this.closeAfterWrite();
  }

  private step(): void {
    for (;;) {
      const s = this.stream;
      if (s !== undefined && s.responseDone && s.requestDone) {
        this.finishStream();
        continue;
      }
      const buf = this.pending;
      if (buf === undefined || this.closing) return;
      if (this.decoder !== undefined) {
        if (this.pausedBy & PAUSED_BY_ROUTER) return;
        const n = this.decoder.feed(buf, 0, s!);
        if (typeof n !== 'number') return this.malformedBody();
        this.consume(n);
        if (this.decoder.done) this.decoder = undefined;
        else if (n === 0) return;
        continue;
      }
      if (s !== undefined) {
        if (buf.length > MAX_PIPELINED_BYTES) this.pause(PAUSED_BY_PIPELINE);
        return;
      }
      if (!this.readHead(buf)) return;
    }
  }

  private consume(n: number): void {
    const buf = this.pending!;
    this.pending = n >= buf.length ? undefined : buf.subarray(n);
  }

  /** Parses the next head; false when it is incomplete or malformed. Re-parsing waits for a new line ending, so a slow head costs linear time. */
  private readHead(buf: Buffer): boolean {
    if (this.scanFrom >= 0 && buf.length < HEAD_LIMITS.maxHeadBytes && buf.indexOf(0x0a, this.scanFrom) === -1) {
      this.scanFrom = buf.length;
      return false;
    }
    const r = parseRequestHead(buf, 0, HEAD_LIMITS);
    if (r.kind === 'incomplete') {
      this.scanFrom = buf.length;
      return false;
    }
    this.scanFrom = -1;
    if (r.kind === 'error') {
      this.malformed(r);
      return false;
    }
    this.consume(r.headBytes);
    this.startRequest(r, buf);
    return true;
  }

  private startRequest(head: RequestHead, buf: Buffer): void {
    const { cm, ctx } = this;
    const minor = head.versionMinor;
    const fields = new Http1Fields(buf, head.fields, head.start, head.headBytes - 2, minor === 1 && head.targetForm === 'origin');
    let upgrade: string | undefined;
    if (head.upgrade !== undefined && head.connection & CONNECTION_UPGRADE) {
      // An h2c upgrade is ignored (its fields are dropped): the request goes on as HTTP/1.1, as Envoy does.
      const u = head.upgrade.trim().toLowerCase();
      if (u !== 'h2c') upgrade = u;
    }
    const config = cm.runtime.config();
    if (config !== this.checkedConfig) {
      this.checkedConfig = config;
      if (!cm.servesChain(config, ctx)) this.draining = true;
    }
    const framing = requestBodyFraming(head);
    const request: ExchangeRequest = {
      method: head.method,
      scheme: ctx.tls ? 'https' : 'http',
      authority: head.authority ?? '',
      path: pathOf(head),
      protocol: minor === 1 ? 'HTTP/1.1' : 'HTTP/1.0',
      headers: fields,
      contentLength: head.chunked ? -1 : head.contentLength,
      endStream: framing === 'none',
      upgrade,
    };
    const stream = new Http1Stream(this, head.method === 'HEAD', head.keepAlive && !this.draining, minor);
    this.stream = stream;
    cm.stats.downstreamRqHttp1Total.inc();
    if (framing === 'none') {
      stream.requestDone = true;
    } else {
      this.decoder = bodyDecoderFor(framing, head);
      // proxy_100_continue is off in Envoy by default: the proxy says Continue itself and drops Expect.
      if (minor === 1 && head.expect?.toLowerCase() === '100-continue') this.write(CONTINUE);
    }
    stream.handler = startExchange(cm, ctx, request, stream);
  }

  private malformed(error: Http1Error): void {
    this.cm.stats.downstreamCxProtocolError.inc();
    this.pending = undefined;
    const stream = new Http1Stream(this, false, false, 1);
    stream.requestDone = true;
    this.stream = stream;
    rejectMalformed(this.cm, this.ctx, 'HTTP/1.1', stream, { status: error.status, body: reasonPhrase(error.status), details: `http1.${error.code.slice(6).toLowerCase()}`, flag: ResponseFlag.DPE });
  }

  /** A request body that breaks framing: the exchange is reset and the connection closed. */
  private malformedBody(): void {
    this.cm.stats.downstreamCxProtocolError.inc();
    this.pending = undefined;
    this.decoder = undefined;
    const s = this.stream!;
    if (!s.responseDone) {
      s.responseDone = true;
      s.aborted = true;
      s.handler.downstreamReset();
    }
    this.abort();
  }

  private finishStream(): void {
    const s = this.stream!;
    this.stream = undefined;
    if (!s.keepAlive) {
      this.closeAfterWrite();
      return;
    }
    // A pause the finished exchange asked for (upstream back-pressure) ends with it.
    if (this.pausedBy !== 0) {
      this.pausedBy = 0;
      this.socket.resume();
    }
  }

  /** From the stream: its response is written. */
  onResponseEnd(stream: Http1Stream): void {
    if (stream !== this.stream) return;
    if (this.processing) {
      this.again = true;
      return;
    }
    if (stream.requestDone) this.process();
    else this.closeAfterWrite();
  }

  // --- flow control and writing ----------------------------------------------------------------

  pause(bit: number): void {
    if (this.pausedBy === 0) this.socket.pause();
    this.pausedBy |= bit;
  }

  resume(bit: number): void {
    if ((this.pausedBy & bit) === 0) return;
    this.pausedBy &= ~bit;
    if (this.pausedBy === 0) this.socket.resume();
    // Body bytes may be waiting for the router.
    if (bit === PAUSED_BY_ROUTER && this.pending !== undefined) this.process();
  }

  isCurrent(stream: Http1Stream): boolean {
    return this.stream === stream && !this.socket.destroyed;
  }

  write(data: Buffer | string): boolean {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.cm.stats.downstreamCxTxBytesTotal.inc(data.length);
    const ok = this.socket.write(data);
    if (!ok) this.needDrain = true;
    return ok;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private readonly onDrain = (): void => {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.stream?.handler.downstreamDrained();
  };

  // --- closing ---------------------------------------------------------------------------------

  /** No request after the current one: an idle connection closes now, a busy one after its response. */
  drain(): void {
    this.draining = true;
    if (this.closing || this.socket.destroyed || this.tunnelClosed !== undefined) return;
    if (this.stream === undefined) this.closeAfterWrite();
    else this.stream.keepAlive = false;
  }

  private closeAfterWrite(local = true): void {
    this.closing = true;
    if (local) this.closedLocally = true;
    this.pending = undefined;
    this.socket.end(() => this.socket.destroy());
  }

  /** Closes at once, dropping what is unwritten (a response abandoned mid-way). */
  abort(): void {
    this.closing = true;
    this.closedLocally = true;
    this.socket.destroy();
  }

  private readonly onEnd = (): void => {
    if (this.tunnelClosed !== undefined) return;
    const s = this.stream;
    if (s !== undefined && !s.responseDone) {
      // Half-closed by the client mid-exchange: treated as a disconnect, as Envoy does.
      this.socket.destroy();
      return;
    }
    if (!this.closing) this.closeAfterWrite(false);
  };

  private readonly onTimeout = (): void => {
    // Requests have their own timeouts; an idle connection or tunnel is closed.
    if (this.stream !== undefined && this.tunnelClosed === undefined) return;
    this.cm.stats.downstreamCxIdleTimeout.inc();
    this.abort();
  };

  private readonly onClose = (): void => {
    const stats = this.cm.stats;
    stats.downstreamCxActive.add(-1);
    stats.downstreamCxHttp1Active.add(-1);
    stats.downstreamCxDestroy.inc();
    (this.closedLocally ? stats.downstreamCxDestroyLocal : stats.downstreamCxDestroyRemote).inc();
    stats.downstreamCxLengthMs.record(this.cm.runtime.now() - this.openedMs);
    const s = this.stream;
    this.stream = undefined;
    this.pending = undefined;
    if (this.tunnelClosed !== undefined) {
      this.tunnelClosed();
      return;
    }
    if (s === undefined || (s.responseDone && !s.aborted)) return;
    stats.downstreamCxDestroyActiveRq.inc();
    (this.closedLocally ? stats.downstreamCxDestroyLocalActiveRq : stats.downstreamCxDestroyRemoteActiveRq).inc();
    if (!s.responseDone) {
      s.responseDone = true;
      s.handler.downstreamReset();
    }
  };

  // --- upgrades --------------------------------------------------------------------------------

  /** After a 101: bytes flow both ways between the client and `peer` until either closes. */
  tunnel(peer: Socket, pendingFromPeer: Buffer | undefined, closed: () => void): void {
    const socket = this.socket;
    let ended = false;
    this.tunnelClosed = () => {
      if (ended) return;
      ended = true;
      peer.destroy();
      socket.destroy();
      closed();
    };
    socket.off('data', this.onData);
    this.pausedBy = 0;
    const fromClient = this.pending;
    this.pending = undefined;
    if (pendingFromPeer !== undefined) this.write(pendingFromPeer);
    if (fromClient !== undefined) peer.write(fromClient);
    peer.on('error', ignore).on('close', this.tunnelClosed);
    socket.pipe(peer);
    peer.pipe(socket);
    socket.resume();
    peer.resume();
  }
}

function ignore(): void {}

/** The path to forward: origin-form as is; absolute-form without scheme and authority (RFC 9112 3.2.2). */
function pathOf(head: RequestHead): string {
  const target = head.target;
  if (head.targetForm !== 'absolute') return target;
  let i = target.indexOf('//') + 2;
  while (i < target.length && target[i] !== '/' && target[i] !== '?') i++;
  if (i === target.length) return '/';
  return target[i] === '?' ? `/${target.slice(i)}` : target.slice(i);
}

/** One exchange on the connection: the request body sink and the response encoder. */
class Http1Stream implements DownstreamStream, BodySink {
  handler!: StreamHandler;
  requestDone = false;
  responseDone = false;
  /** The response was abandoned mid-way (the connection is being destroyed). */
  aborted = false;
  private headSent = false;
  private bodyless = false;
  private chunked = false;

  constructor(
    private readonly conn: Http1ServerConnection,
    private readonly isHead: boolean,
    /** Whether the connection stays open after this exchange. */
    public keepAlive: boolean,
    private readonly minor: 0 | 1,
  ) {}

  // --- request body, from the decoder ---

  data(slice: Buffer): void {
    this.handler.requestData(slice);
  }

  end(trailers?: Trailers): void {
    this.requestDone = true;
    this.handler.requestEnd(trailers === undefined ? undefined : new Http1Fields(trailers.buf, trailers.fields, 0, trailers.buf.length - 2, false));
  }

  // --- response, from the router ---

  sendHead(head: ExchangeResponse, edits: HeaderEdits | undefined): void {
    if (this.headSent || !this.conn.isCurrent(this)) return;
    this.headSent = true;
    const status = head.status;
    let framing: string;
    if (status === 101) {
      this.bodyless = true;
      framing = 'connection: upgrade\r\n';
    } else {
      this.bodyless = this.isHead || status < 200 || status === 204 || status === 304;
      if (this.bodyless) {
        // HEAD and 304 keep the length of the body they stand for; 1xx and 204 have none.
        framing = status >= 200 && status !== 204 && head.contentLength >= 0 ? `content-length: ${head.contentLength}\r\n` : '';
      } else if (head.contentLength >= 0) {
        framing = `content-length: ${head.contentLength}\r\n`;
      } else if (head.endStream) {
        framing = 'content-length: 0\r\n';
      } else if (this.minor === 1) {
        this.chunked = true;
        framing = 'transfer-encoding: chunked\r\n';
      } else {
        // An HTTP/1.0 client cannot take chunked: the body ends when the connection closes.
        this.keepAlive = false;
        framing = '';
      }
      if (!this.keepAlive) framing += 'connection: close\r\n';
      else if (this.minor === 0) framing += 'connection: keep-alive\r\n';
    }
    const fields = head.headers;
    const verbatim = fields instanceof Http1Fields && fields.verbatimStartLine;
    this.conn.write(encodeHead(verbatim ? undefined : `HTTP/1.1 ${status} ${head.reason ?? reasonPhrase(status)}\r\n`, '', fields, edits, `${framing}\r\n`));
  }

  sendData(chunk: Buffer): boolean {
    if (!this.headSent || this.bodyless || this.responseDone || chunk.length === 0 || !this.conn.isCurrent(this)) return true;
    if (!this.chunked) return this.conn.write(chunk);
    this.conn.write(chunkHead(chunk.length));
    this.conn.write(chunk);
    return this.conn.write('\r\n');
  }

  sendEnd(trailers: HeaderFields | undefined): void {
    if (this.responseDone || !this.conn.isCurrent(this)) return;
    this.responseDone = true;
    if (this.chunked) this.conn.write(`0\r\n${encodeTrailers(trailers)}`);
    this.conn.onResponseEnd(this);
  }

  reset(): void {
    if (!this.conn.isCurrent(this)) return;
    this.responseDone = true;
    this.aborted = true;
    this.conn.abort();
  }

  pauseRequest(): void {
    if (this.conn.isCurrent(this)) this.conn.pause(PAUSED_BY_ROUTER);
  }

  resumeRequest(): void {
    if (this.conn.isCurrent(this)) this.conn.resume(PAUSED_BY_ROUTER);
  }

  tunnel(peer: Socket, pending: Buffer | undefined, closed: () => void): void {
    if (this.conn.isCurrent(this)) this.conn.tunnel(peer, pending, closed);
    else {
      peer.destroy();
      closed();
    }
  }
}
