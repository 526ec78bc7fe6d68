/**
 * The HTTP/1.1 upstream codec: one request at a time on a connection from the cluster's pool
 * (a fresh, unpooled one for upgrades). The head is encoded with the router's edits, copying the
 * client's field lines verbatim; the body is written as it comes (chunked when its length is
 * unknown); the response is parsed with the strict codec and handed to the router as it
 * arrives. A connection goes back to the pool only after a complete response to a complete
 * request with keep-alive and no stray bytes; anything else closes it.
 */
import type { Socket } from 'node:net';
import type { Cluster, UpstreamConnection, UpstreamError, UpstreamFailureKind, UpstreamHost } from '../clusters/types.js';
import { bodyDecoderFor, CloseDelimitedBody, parseResponseHead, responseBodyFraming, type BodyDecoder, type BodySink, type Trailers } from '../http1/index.js';
import type { HeaderFields, UpstreamAttempt, UpstreamCodec, UpstreamEvents, UpstreamRequestHead, UpstreamResetReason } from './exchange.js';
import { chunkHead, encodeHead, encodeTrailers, Http1Fields } from './http1-fields.js';

/** Starts HTTP/1.1 attempts. */
export const http1Upstream: UpstreamCodec = {
  create: (cluster, host, head, events) => new Http1Attempt(cluster, host, head, events),
};

const RESET_REASON: Readonly<Record<UpstreamFailureKind, UpstreamResetReason>> = {
  overflow: 'overflow',
  noHealthyUpstream: 'noHealthyUpstream',
  connectTimeout: 'connectFailure',
  connectFailure: 'connectFailure',
  tlsFailure: 'connectFailure',
};

/** A pooled connection the server closed while it sat idle is swapped for another this many times. */
const MAX_STALE_CONNECTIONS = 3;

/** Encodes the request head: the client's start-line when it can stay as is, Host from the authority, kept and added fields, framing. */
export function encodeRequestHead(up: UpstreamRequestHead): Buffer {
  const r = up.request;
  const verbatim = r.headers instanceof Http1Fields && r.headers.verbatimStartLine && up.path === r.path;
  let suffix = r.contentLength >= 0 ? `content-length: ${r.contentLength}\r\n` : r.endStream ? '' : 'transfer-encoding: chunked\r\n';
  if (r.upgrade !== undefined) suffix += 'connection: upgrade\r\n';
  return encodeHead(verbatim ? undefined : `${r.method} ${up.path} HTTP/1.1\r\n`, `host: ${r.authority}\r\n`, r.headers, up.edits, `${suffix}\r\n`);
}

const drivers = new WeakMap<Socket, SocketDriver>();

/**
 * The listeners of one upstream socket, attached once for the socket's life in the pool; each
 * request's attempt takes its turn. Bytes on an idle socket break HTTP/1.1, so it is closed.
 */
class SocketDriver {
  attempt: Http1Attempt | undefined;
  private readonly onData = (chunk: Buffer): void => {
    if (this.attempt !== undefined) this.attempt.onData(chunk);
    else this.socket.destroy();
  };
  private readonly onEnd = (): void => this.attempt?.onClose();
  private readonly onClose = (): void => {
    drivers.delete(this.socket);
    this.attempt?.onClose();
  };
  private readonly onDrain = (): void => this.attempt?.onDrain();
  // 'close' follows every error; the attempt learns of the failure there.
  private readonly onError = (): void => undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onClose).on('drain', this.onDrain).on('error', this.onError);
    drivers.set(socket, this);
  }

  /** Hands the socket over (an upgrade tunnel takes it). */
  detach(): void {
    this.socket.off('data', this.onData).off('end', this.onEnd).off('close', this.onClose).off('drain', this.onDrain).off('error', this.onError);
    drivers.delete(this.socket);
  }
}

const CONNECTING = 0;
const AWAITING_HEAD = 1;
const READING_BODY = 2;
const UPGRADED = 3;
const FINISHED = 4;

class Http1Attempt implements UpstreamAttempt, BodySink {
  private state = CONNECTING;
  private conn: UpstreamConnection | undefined;
  private driver: SocketDriver | undefined;
  private cancelConnect: (() => void) | undefined;
  private staleConnections = 0;
  private readonly chunkedRequest: boolean;
  private requestEnded = false;
  private needDrain = false;
  /** Response bytes of an incomplete head. */
  private pending: Buffer | undefined;
  private decoder: BodyDecoder | undefined;
  private keepAlive = false;
  private trailers: HeaderFields | undefined;
  /** Bytes after a 101 head, for the tunnel. */
  private leftover: Buffer | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly host: UpstreamHost,
    private readonly head: UpstreamRequestHead,
    private readonly events: UpstreamEvents,
  ) {
    this.chunkedRequest = head.request.contentLength < 0 && !head.request.endStream;
  }

  start(): void {
    let called = false;
    const cancel = this.cluster.connect(this.host, { pooled: this.head.request.upgrade === undefined }, (error, conn) => {
      called = true;
      this.cancelConnect = undefined;
      this.onConnect(error, conn);
    });
    if (!called) this.cancelConnect = cancel;
  }

  private onConnect(error: UpstreamError | undefined, conn: UpstreamConnection | undefined): void {
    if (this.state !== CONNECTING) {
      conn?.release();
      return;
    }
    if (error !== undefined || conn === undefined) {
      this.state = FINISHED;
      this.events.upstreamReset(error === undefined ? 'connectFailure' : RESET_REASON[error.kind]);
      return;
    }
    const socket = conn.socket;
    if (socket.destroyed || !socket.writable) {
      conn.close();
      if (this.staleConnections++ < MAX_STALE_CONNECTIONS) this.start();
      else this.fail('connectionTermination', false);
      return;
    }
    this.conn = conn;
    conn.startRequest();
    const driver = drivers.get(socket) ?? new SocketDriver(socket);
    driver.attempt = this;
    this.driver = driver;
    this.state = AWAITING_HEAD;
    // The head and whatever body the router already holds leave in one write.
    socket.cork();
    socket.write(encodeRequestHead(this.head));
    this.events.upstreamReady();
    socket.uncork();
  }

  sendData(chunk: Buffer): boolean {
    if (this.requestEnded || chunk.length === 0 || (this.state !== AWAITING_HEAD && this.state !== READING_BODY)) return true;
    const socket = this.conn!.socket;
    let ok: boolean;
    if (this.chunkedRequest) {
      socket.cork();
      socket.write(chunkHead(chunk.length));
      socket.write(chunk);
      ok = socket.write('\r\n');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  sendEnd(trailers: HeaderFields | undefined): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (this.chunkedRequest && (this.state === AWAITING_HEAD || this.state === READING_BODY)) this.conn!.socket.write(`0\r\n${encodeTrailers(trailers)}`);
  }

  pauseResponse(): void {
    if (this.state === READING_BODY) this.conn!.socket.pause();
  }

  resumeResponse(): void {
    if (this.state === READING_BODY) this.conn!.socket.resume();
  }

  cancel(): void {
    const state = this.state;
    this.state = FINISHED;
    if (state === CONNECTING) {
      this.cancelConnect?.();
      this.cancelConnect = undefined;
      return;
    }
    if (state !== AWAITING_HEAD && state !== READING_BODY && state !== UPGRADED) return;
    if (this.driver !== undefined) this.driver.attempt = undefined;
    const stats = this.cluster.stats;
    if (state === AWAITING_HEAD) stats.upstreamRqTxReset.inc();
    stats.upstreamCxDestroyLocalWithActiveRq.inc();
    this.conn!.close();
  }

  takeUpgraded(): { readonly socket: Socket; readonly pending: Buffer | undefined; close(): void } {
    const conn = this.conn!;
    this.state = FINISHED;
    this.driver!.detach();
    return { socket: conn.socket, pending: this.leftover, close: () => conn.close() };
  }

  // --- from the socket driver ---------------------------------------------------------------

  onData(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== undefined) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    while (off < buf.length) {
      if (this.state === AWAITING_HEAD) {
        const r = parseResponseHead(buf, off);
        if (r.kind === 'incomplete') {
          this.pending = off === 0 ? buf : buf.subarray(off);
          return;
        }
        if (r.kind === 'error') return this.fail('protocolError', true);
        const end = off + r.headBytes;
        // Informational heads (100 Continue, 103 Early Hints) are not forwarded: the proxy answered Expect itself.
        if (r.status < 200 && r.status !== 101) {
          off = end;
          continue;
        }
        const fields = new Http1Fields(buf, r.fields, r.start, end - 2, r.versionMinor === 1);
        off = end;
        if (r.status === 101) {
          if (this.head.request.upgrade === undefined) return this.fail('protocolError', true);
          this.state = UPGRADED;
          this.leftover = off < buf.length ? buf.subarray(off) : undefined;
          this.events.upstreamHead({ status: 101, reason: r.reason, headers: fields, contentLength: -1, endStream: true });
          return;
        }
        const framing = responseBodyFraming(r, this.head.request.method);
        this.keepAlive = r.keepAlive && framing !== 'close';
        this.decoder = bodyDecoderFor(framing, r);
        this.state = READING_BODY;
        this.events.upstreamHead({ status: r.status, reason: r.reason, headers: fields, contentLength: r.contentLength, endStream: this.decoder === undefined });
        if (this.state !== READING_BODY) return;
        if (this.decoder === undefined) return this.finish(off < buf.length);
      } else if (this.state === READING_BODY) {
        const n = this.decoder!.feed(buf, off, this);
        if (typeof n !== 'number') return this.fail('protocolError', true);
        off += n;
        if (this.state !== READING_BODY) return;
        if (this.decoder!.done) return this.finish(off < buf.length);
      } else {
        return;
      }
    }
  }

  /** The socket ended or closed: the end of a close-delimited body, otherwise a failure. */
  onClose(): void {
    if (this.state === AWAITING_HEAD) return this.fail('connectionTermination', false);
    if (this.state !== READING_BODY) return;
    if (this.decoder instanceof CloseDelimitedBody) {
      this.decoder.close(this);
      this.finish(false);
      return;
    }
    this.fail('connectionTermination', false);
  }

  onDrain(): void {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.events.upstreamDrained();
  }

  // --- BodySink for the response body ---------------------------------------------------------

  data(slice: Buffer): void {
    if (this.state === READING_BODY) this.events.upstreamData(slice);
  }

  end(trailers?: Trailers): void {
    if (trailers !== undefined) this.trailers = new Http1Fields(trailers.buf, trailers.fields, 0, trailers.buf.length - 2, false);
  }

  // --- endings ---------------------------------------------------------------------------------

  /** A whole response: the connection goes back to the pool when HTTP/1.1 allows reusing it. */
  private finish(strayBytes: boolean): void {
    this.state = FINISHED;
    this.driver!.attempt = undefined;
    const conn = this.conn!;
    if (this.keepAlive && this.requestEnded && !strayBytes) conn.release();
    else conn.close();
    this.events.upstreamEnd(this.trailers);
  }

  /** The attempt failed on a live connection: closed by the peer (`local` false) or by us after a protocol error. */
  private fail(reason: UpstreamResetReason, local: boolean): void {
    this.state = FINISHED;
    if (this.driver !== undefined) this.driver.attempt = undefined;
    const stats = this.cluster.stats;
    if (local) {
      stats.upstreamCxDestroyLocalWithActiveRq.inc();
    } else {
      stats.upstreamCxDestroyRemoteWithActiveRq.inc();
      stats.upstreamRqRxReset.inc();
    }
    this.conn?.close();
    this.events.upstreamReset(reason);
  }
}
