/**
 * Incremental body framing (RFC 9112 sections 6 and 7): how long a body is and where it ends.
 *
 * Each decoder takes buffers as they arrive: `feed(buf, offset, sink)` hands decoded data slices
 * (views into `buf`, never copies) to `sink.data`, calls `sink.end` once at the end of the body, and
 * returns how many bytes of buf[offset...] belonged to the body, or an `Http1Error`. Bytes after
 * the body belong to the next message. A proxy that forwards the body unchanged can forward
 * buf[offset, offset + consumed) verbatim and ignore the data slices.
 */
import { CR, HEX_VALUE, HTAB, LF } from './chars.js';
import { http1Error, type Http1Error } from './errors.js';
import { NEED_MORE, parseFieldLines } from './fields.js';
import type { HeadLimits, MessageHead, RequestHead, ResponseHead } from './head.js';

/** Receives decoded body data and the end of the body. */
export interface BodySink {
  data(slice: Buffer): void;
  /** For chunked bodies, `trailers` holds the trailer section bytes and their field offsets. */
  end(trailers?: Trailers): void;
}

/** A parsed trailer section: `fields` has four offsets per field into `buf`, as in a head. */
export interface Trailers {
  readonly buf: Buffer;
  readonly fields: number[];
}

/** The common shape of the three decoders. */
export interface BodyDecoder {
  feed(buf: Buffer, offset: number, sink: BodySink): number | Http1Error;
  readonly done: boolean;
}

/** A body of exactly `length` bytes (Content-Length). */
export class ContentLengthBody implements BodyDecoder {
  private remaining: number;
  private ended = false;

  constructor(length: number) {
    this.remaining = length;
  }

  /** Whether the whole body has been seen. */
  get done(): boolean {
    return this.ended;
  }

  /** Consumes up to the remaining length; see the module comment. */
  feed(buf: Buffer, offset: number, sink: BodySink): number {
    if (this.ended) return 0;
    const n = Math.min(this.remaining, buf.length - offset);
    if (n > 0) sink.data(buf.subarray(offset, offset + n));
    this.remaining -= n;
    if (this.remaining === 0) {
      this.ended = true;
      sink.end();
    }
    return n;
  }
}

/** A response body delimited by the connection closing (RFC 9112 6.3 rule 8): everything is data until `close()`. */
export class CloseDelimitedBody implements BodyDecoder {
  private ended = false;

  /** Whether `close` has been called. */
  get done(): boolean {
    return this.ended;
  }

  /** Consumes every byte given. */
  feed(buf: Buffer, offset: number, sink: BodySink): number {
    if (this.ended) return 0;
    if (buf.length > offset) sink.data(buf.subarray(offset));
    return buf.length - offset;
  }

  /** Marks the end of the body when the peer closes the connection. */
  close(sink: BodySink): void {
    if (this.ended) return;
    this.ended = true;
    sink.end();
  }
}

/** Limits for chunked bodies. */
export interface ChunkedLimits {
  /** Largest chunk-size accepted; at most Number.MAX_SAFE_INTEGER. */
  readonly maxChunkBytes: number;
  /** Longest chunk extension (bytes after the size, before CRLF) on one chunk line. */
  readonly maxChunkExtBytes: number;
  /** Limits for the trailer section, as for a head. */
  readonly trailers: HeadLimits;
}

/** Generous defaults: chunks up to 2^53-1, 1 KiB of extensions, trailers as heads. */
export const DEFAULT_CHUNKED_LIMITS: ChunkedLimits = Object.freeze({
  maxChunkBytes: Number.MAX_SAFE_INTEGER,
  maxChunkExtBytes: 1024,
  trailers: Object.freeze({ maxHeadBytes: 16 * 1024, maxHeaders: 100 }),
});

const enum State {
  Size,
  Ext,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

/** A chunked body (RFC 9112 section 7.1), decoded byte by byte across any split of the input. */
export class ChunkedBody implements BodyDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private extBytes = 0;
  private trailerParts: Buffer[] = [];
  private trailerBytes = 0;
  private failed: Http1Error | undefined;

  constructor(private readonly limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS) {}

  /** Whether the last chunk and the trailer section have been seen. */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** Consumes chunk framing and data; see the module comment. After an error, every call returns the same error. */
  feed(buf: Buffer, offset: number, sink: BodySink): number | Http1Error {
    if (this.failed !== undefined) return this.failed;
    const r = this.step(buf, offset, sink);
    if (typeof r !== 'number') this.failed = r;
    return r;
  }

  private step(buf: Buffer, offset: number, sink: BodySink): number | Http1Error {
    let pos = offset;
    const len = buf.length;
    while (pos < len) {
      switch (this.state) {
        case State.Size: {
          const c = buf[pos]!;
          const v = HEX_VALUE[c]!;
          if (v !== 255) {
            // 16 hex digits are enough for any size we accept; more is padding or an overflow attempt.
            if (++this.digits > 16) return http1Error('HTTP1_INVALID_CHUNK_SIZE', pos, 'too many digits');
            this.size = this.size * 16 + v;
            if (this.size > this.limits.maxChunkBytes || this.size > Number.MAX_SAFE_INTEGER) {
              return http1Error('HTTP1_CHUNK_TOO_LARGE', pos);
            }
            pos++;
            break;
          }
          if (this.digits === 0) return http1Error('HTTP1_INVALID_CHUNK_SIZE', pos, `byte 0x${c.toString(16)}`);
          if (c === 0x3b) {
            this.state = State.Ext;
            this.extBytes = 1;
            pos++;
          } else if (c === CR) {
            this.state = State.SizeLf;
            pos++;
          } else if (c === LF) {
            return http1Error('HTTP1_BARE_LF', pos);
          } else {
            // Includes whitespace before ';' (BWS): refused, as llhttp does without lenient flags.
            return http1Error('HTTP1_INVALID_CHUNK_SIZE', pos, `byte 0x${c.toString(16)}`);
          }
          break;
        }
        case State.Ext: {
          // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ); we check for controls and
          // length only, since extensions are forwarded or dropped, never interpreted.
          const c = buf[pos]!;
          if (c === CR) {
            this.state = State.SizeLf;
          } else if (c === LF) {
            return http1Error('HTTP1_BARE_LF', pos);
          } else if ((c < 0x20 && c !== HTAB) || c === 0x7f) {
            return http1Error('HTTP1_INVALID_CHUNK_EXT', pos, `byte 0x${c.toString(16)}`);
          } else if (++this.extBytes > this.limits.maxChunkExtBytes) {
            return http1Error('HTTP1_INVALID_CHUNK_EXT', pos, 'longer than maxChunkExtBytes');
          }
          pos++;
          break;
        }
        case State.SizeLf:
          if (buf[pos] !== LF) return http1Error('HTTP1_BARE_CR', pos);
          pos++;
          this.digits = 0;
          if (this.size === 0) {
            this.state = State.Trailers;
          } else {
            this.state = State.Data;
          }
          break;
        case State.Data: {
          const n = Math.min(this.size, len - pos);
          sink.data(buf.subarray(pos, pos + n));
          this.size -= n;
          pos += n;
          if (this.size === 0) this.state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (buf[pos] !== CR) return http1Error('HTTP1_MISSING_CHUNK_CRLF', pos);
          this.state = State.DataLf;
          pos++;
          break;
        case State.DataLf:
          if (buf[pos] !== LF) return http1Error('HTTP1_MISSING_CHUNK_CRLF', pos);
          this.state = State.Size;
          pos++;
          break;
        case State.Trailers:
          return this.trailers(buf, offset, pos, sink);
        case State.Done:
          return pos - offset;
      }
    }
    return pos - offset;
  }

  /**
   * Collects the trailer section (usually just CRLF) until its empty line, then parses it with the
   * head's field rules. Bytes are kept only while the section is incomplete, up to the size limit.
   */
  private trailers(buf: Buffer, offset: number, pos: number, sink: BodySink): number | Http1Error {
    const limits = this.limits.trailers;
    const prior = this.trailerBytes;
    const section = prior === 0 ? buf.subarray(pos) : Buffer.concat([...this.trailerParts, buf.subarray(pos)]);
    const end = Math.min(section.length, limits.maxHeadBytes);
    const fields: number[] = [];
    const r = parseFieldLines(section, 0, end, section.length >= limits.maxHeadBytes, limits.maxHeaders, 'HTTP1_TRAILERS_TOO_LARGE', fields);
    if (typeof r !== 'number') return { ...r, offset: r.offset - prior + pos };
    if (r === NEED_MORE) {
      this.trailerParts.push(Buffer.from(buf.subarray(pos)));
      this.trailerBytes += buf.length - pos;
      return buf.length - offset;
    }
    this.state = State.Done;
    this.trailerParts = [];
    sink.end(fields.length === 0 ? undefined : { buf: Buffer.from(section.subarray(0, r)), fields });
    return pos + (r - prior) - offset;
  }
}

/** How a message's body is delimited (RFC 9112 section 6.3). */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** A request has a body only with Transfer-Encoding chunked or a non-zero Content-Length. */
export function requestBodyFraming(head: RequestHead): BodyFraming {
  if (head.chunked) return 'chunked';
  return head.contentLength > 0 ? 'length' : 'none';
}

/**
 * A response to HEAD, a 1xx, 204 or 304, or a 2xx to CONNECT has no body; otherwise chunked,
 * Content-Length, or (with neither) everything until the connection closes.
 */
export function responseBodyFraming(head: ResponseHead, requestMethod: string): BodyFraming {
  const s = head.status;
  if (requestMethod === 'HEAD' || s < 200 || s === 204 || s === 304) return 'none';
  if (requestMethod === 'CONNECT' && s < 300) return 'none';
  if (head.chunked) return 'chunked';
  if (head.contentLength === 0) return 'none';
  return head.contentLength > 0 ? 'length' : 'close';
}

/** Makes the decoder for a framing, or undefined when there is no body. */
export function bodyDecoderFor(framing: BodyFraming, head: MessageHead, limits: ChunkedLimits = DEFAULT_CHUNKED_LIMITS): BodyDecoder | undefined {
  switch (framing) {
    case 'none':
      return undefined;
    case 'length':
      return new ContentLengthBody(head.contentLength);
    case 'chunked':
      return new ChunkedBody(limits);
    case 'close':
      return new CloseDelimitedBody();
  }
}
