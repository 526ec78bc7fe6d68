/**
 * The HTTP/2 upstream codec: each attempt is one stream on the host's shared session
 * (`sessions.ts`). The body is only asked for (`upstreamReady`) once the stream is open, so
 * nothing is buffered twice. Request and response trailers pass as HEADERS frames; a stream
 * reset or a lost connection becomes `upstreamReset` (protocol errors as `protocolError`, the
 * rest as `connectionTermination`). A response that ends before the request did ends the stream.
 *
 * Upgrade requests (websocket) go over HTTP/1.1: Node has no extended CONNECT.
 */
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../clusters/index.js';
import type { Cluster, UpstreamHost } from '../../clusters/types.js';
import type { HeaderFields, UpstreamAttempt, UpstreamCodec, UpstreamEvents, UpstreamRequestHead, UpstreamResetReason } from '../exchange.js';
import { http1Upstream } from '../http1-upstream.js';
import { encodeFields, headerObject, RawFields, regularStart } from './fields.js';
import { SessionPool, type SessionOptions, type StreamWaiter, type UpstreamSession } from './sessions.js';
import { DEFAULT_HTTP2_WINDOWS } from './settings.js';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_PROTOCOL_ERROR, NGHTTP2_FLOW_CONTROL_ERROR, NGHTTP2_FRAME_SIZE_ERROR, NGHTTP2_COMPRESSION_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

/** Session idle timeout (the cluster's idle timeout for pooled connections by default) and flow-control windows. */
export type Http2UpstreamOptions = SessionOptions;

/** The HTTP/2 upstream codec, with a way to close its sessions. */
export interface Http2Upstream extends UpstreamCodec {
  /** Destroys every session (their streams are reset); later attempts open new ones. */
  close(): void;
}

export function createHttp2Upstream(options: Partial<Http2UpstreamOptions> = {}): Http2Upstream {
  const pool = new SessionPool({ idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS, ...DEFAULT_HTTP2_WINDOWS, ...options });
  return {
    create: (cluster, host, head, events) => (head.request.upgrade !== undefined ? http1Upstream.create(cluster, host, head, events) : new Http2Attempt(pool, cluster, host, head, events)),
    close: () => pool.close(),
  };
}

/** The codec the sidecar uses for clusters whose upstream protocol is HTTP/2. */
export const http2Upstream: Http2Upstream = createHttp2Upstream();

/** Stream error codes that mean a malformed exchange rather than a stream given up. */
function isProtocolError(code: number): boolean {
  return code === NGHTTP2_PROTOCOL_ERROR || code === NGHTTP2_FLOW_CONTROL_ERROR || code === NGHTTP2_FRAME_SIZE_ERROR || code === NGHTTP2_COMPRESSION_ERROR;
}

/** The declared length of a response, or -1. */
function contentLengthOf(headers: IncomingHttpHeaders): number {
  const v = headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : -1;
}

function ignore(): void {}

const CREATED = 0;
const QUEUED = 1;
const STREAMING = 2;
const FINISHED = 3;

class Http2Attempt implements UpstreamAttempt, StreamWaiter {
  private state = CREATED;
  queuedOn: UpstreamSession | undefined;
  moves = 0;
  private session: UpstreamSession | undefined;
  private stream: ClientHttp2Stream | undefined;
  private headSeen = false;
  private requestEnded: boolean;
  private requestTrailers: HeaderFields | undefined;
  private responseTrailers: HeaderFields | undefined;
  private needDrain = false;

  constructor(
    private readonly pool: SessionPool,
    readonly cluster: Cluster,
    readonly host: UpstreamHost,
    readonly head: UpstreamRequestHead,
    private readonly events: UpstreamEvents,
  ) {
    this.requestEnded = head.request.endStream;
  }

  start(): void {
    if (this.state !== CREATED) return;
    this.state = QUEUED;
    this.pool.dispatch(this);
  }

  /** From the session: the stream is open (its head is on its way). */
  attach(session: UpstreamSession, stream: ClientHttp2Stream): void {
    this.queuedOn = undefined;
    this.session = session;
    this.stream = stream;
    this.state = STREAMING;
    stream
      .on('response', this.onResponse)
      .on('data', this.onData)
      .on('trailers', this.onTrailers)
      .on('end', this.onEnd)
      .on('close', this.onClose)
      .on('drain', this.onDrain)
      .on('wantTrailers', this.onWantTrailers)
      .on('error', ignore);
    this.events.upstreamReady();
  }

  /** From the session: no stream could be had. */
  failBeforeStream(reason: UpstreamResetReason): void {
    if (this.state !== QUEUED) return;
    this.state = FINISHED;
    this.events.upstreamReset(reason);
  }

  sendData(chunk: Buffer): boolean {
    if (this.state !== STREAMING || this.requestEnded || chunk.length === 0) return true;
    const ok = this.stream!.write(chunk);
    if (!ok) this.needDrain = true;
    return ok;
  }

  sendEnd(trailers: HeaderFields | undefined): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (this.state !== STREAMING) return;
    this.requestTrailers = trailers;
    this.stream!.end();
  }

  pauseResponse(): void {
    if (this.state === STREAMING) this.stream!.pause();
  }

  resumeResponse(): void {
    if (this.state === STREAMING) this.stream!.resume();
  }

  cancel(): void {
    const state = this.state;
    this.state = FINISHED;
    if (state === QUEUED) {
      this.queuedOn?.dequeue(this);
      return;
    }
    if (state !== STREAMING) return;
    this.cluster.stats.upstreamRqTxReset.inc();
    // The request side ends with trailers pending (waitForTrailers), so closing cannot send END_STREAM before RST_STREAM.
    this.stream!.close(NGHTTP2_CANCEL);
  }

  takeUpgraded(): { readonly socket: Socket; readonly pending: Buffer | undefined; close(): void } {
    throw new Error(`cluster ${this.cluster.name}: host ${this.host.id}: an HTTP/2 stream cannot become a tunnel`);
  }

  // --- stream events ---------------------------------------------------------------------------

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number, raw: string[]): void => {
    if (this.state !== STREAMING) return;
    this.headSeen = true;
    this.events.upstreamHead({
      status: Number(headers[':status']),
      reason: undefined,
      headers: new RawFields(raw, regularStart(raw)),
      contentLength: contentLengthOf(headers),
      endStream: (flags & NGHTTP2_FLAG_END_STREAM) !== 0,
    });
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === STREAMING) this.events.upstreamData(chunk);
  };

  private readonly onTrailers = (_headers: IncomingHttpHeaders, _flags: number, raw: string[]): void => {
    this.responseTrailers = new RawFields(raw, 0);
  };

  /** The readable side ended: END_STREAM from the server, unless the stream was reset (then `close` reports it). */
  private readonly onEnd = (): void => {
    const stream = this.stream!;
    if (this.state !== STREAMING || stream.aborted || stream.rstCode !== NGHTTP2_NO_ERROR || !this.headSeen || this.session!.destroyedLocally) return;
    this.state = FINISHED;
    // A response may end before its request (a gRPC error mid-upload): the rest of the request is not sent.
    if (!this.requestEnded && !stream.closed) stream.close(NGHTTP2_NO_ERROR);
    this.events.upstreamEnd(this.responseTrailers);
  };

  private readonly onClose = (): void => {
    const session = this.session!;
    session.streamClosed(this);
    if (this.state !== STREAMING) return;
    this.state = FINISHED;
    const stats = this.cluster.stats;
    let reason: UpstreamResetReason = 'connectionTermination';
    if (session.sessionGone) {
      if (session.connectionLost()) stats.upstreamRqRxReset.inc();
    } else {
      if (isProtocolError(this.stream!.rstCode ?? NGHTTP2_NO_ERROR)) reason = 'protocolError';
      stats.upstreamRqRxReset.inc();
    }
    this.events.upstreamReset(reason);
  };

  private readonly onDrain = (): void => {
    if (!this.needDrain) return;
    this.needDrain = false;
    this.events.upstreamDrained();
  };

  private readonly onWantTrailers = (): void => {
    const stream = this.stream!;
    if (this.state !== STREAMING || stream.closed) return;
    const t = this.requestTrailers;
    const out = headerObject();
    if (t !== undefined) encodeFields(out, t, undefined);
    // An empty block makes Node end the stream with an empty DATA frame instead.
    stream.sendTrailers(out);
  };
}
