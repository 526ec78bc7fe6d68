/**
 * HTTP/1.1 header blocks as the codec parsed them, and their encoding back into bytes.
 *
 * `Http1Fields` reads fields straight from the received buffer (the parser's offsets), so
 * nothing is copied or decoded unless the router asks. `encodeHead` writes a head with edits
 * applied, copying runs of kept field lines verbatim when the block came from HTTP/1.1: the
 * parser is strict (no obs-fold, no bare CR or LF), so those bytes are safe to forward.
 */
import { FieldKind, KNOWN_FIELDS, type HeaderEdits, type HeaderFields } from './exchange.js';

// Known names grouped by length, compared against the raw bytes without building strings.
const BY_LENGTH: Array<Array<readonly [Buffer, FieldKind]> | undefined> = [];
for (const [name, kind] of KNOWN_FIELDS) (BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), kind]);

/**
 * Whether buf[start...] spells the lower-case `name` in any case. ORing 0x20 folds only ASCII
 * letters onto lower case among token characters; '-' and digits only meet themselves (or
 * control bytes, which a parsed field name cannot hold).
 */
function sameName(buf: Buffer, start: number, name: Buffer): boolean {
  for (let k = 0; k < name.length; k++) if ((buf[start + k]! | 0x20) !== name[k]) return false;
  return true;
}

/** A header or trailer block in a received HTTP/1.1 buffer. */
export class Http1Fields implements HeaderFields {
  constructor(
    readonly buf: Buffer,
    /** Four offsets per field into `buf`: name start, name end, value start, value end. */
    readonly offsets: readonly number[],
    /** Where the block starts: its start-line for a head, its first field for trailers. */
    readonly lineStart: number,
    /** Offset of the CRLF of the empty line that ends the block. */
    readonly blockEnd: number,
    /** The start-line can be forwarded as is (HTTP/1.1; for requests also origin-form). */
    readonly verbatimStartLine: boolean,
  ) {}

  get count(): number {
    return this.offsets.length >> 2;
  }

  name(i: number): string {
    return this.buf.toString('latin1', this.offsets[4 * i], this.offsets[4 * i + 1]).toLowerCase();
  }

  value(i: number): string {
    return this.buf.toString('latin1', this.offsets[4 * i + 2], this.offsets[4 * i + 3]);
  }

  kind(i: number): FieldKind {
    const start = this.offsets[4 * i]!;
    const candidates = BY_LENGTH[this.offsets[4 * i + 1]! - start];
    if (candidates === undefined) return FieldKind.other;
    for (const [name, kind] of candidates) if (sameName(this.buf, start, name)) return kind;
    return FieldKind.other;
  }

  /** Where field line `i` starts. */
  lineOf(i: number): number {
    return this.offsets[4 * i]!;
  }

  /** Where the line after field `i` starts (its CRLF included in the field's line). */
  lineEndOf(i: number): number {
    return 4 * (i + 1) < this.offsets.length ? this.offsets[4 * (i + 1)]! : this.blockEnd;
  }

  /** Where the start-line ends (after its CRLF). */
  get startLineEnd(): number {
    return this.offsets.length > 0 ? this.offsets[0]! : this.blockEnd;
  }
}

/**
 * Encodes a head: the start-line (`startLine`, or the block's own when undefined), `prefix`
 * lines, the kept fields, the added fields, then `suffix` (which must end with the empty line).
 * All strings are written as latin1, one byte per character, as HTTP/1.1 fields are.
 */
export function encodeHead(startLine: string | undefined, prefix: string, fields: HeaderFields, edits: HeaderEdits | undefined, suffix: string): Buffer {
  const raw = fields instanceof Http1Fields ? fields : undefined;
  let added = '';
  if (edits !== undefined) for (let k = 0; k < edits.added.length; k += 2) added += `${edits.added[k]}: ${edits.added[k + 1]}\r\n`;
  let size = prefix.length + added.length + suffix.length;
  if (startLine !== undefined) size += startLine.length;
  else if (raw !== undefined) size += raw.startLineEnd - raw.lineStart;
  else throw new Error('encodeHead: a start-line is needed for fields that did not come from HTTP/1.1');
  let text = '';
  const n = fields.count;
  if (raw !== undefined) {
    for (let i = 0; i < n; i++) if (edits === undefined || !edits.isDropped(i)) size += raw.lineEndOf(i) - raw.lineOf(i);
  } else {
    for (let i = 0; i < n; i++) if (edits === undefined || !edits.isDropped(i)) text += `${fields.name(i)}: ${fields.value(i)}\r\n`;
    size += text.length;
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (startLine !== undefined) pos += out.write(startLine, pos, 'latin1');
  else pos += raw!.buf.copy(out, pos, raw!.lineStart, raw!.startLineEnd);
  pos += out.write(prefix, pos, 'latin1');
  if (raw !== undefined) {
    // Copy maximal runs of kept lines: a head without drops is one copy.
    let i = 0;
    while (i < n) {
      if (edits !== undefined && edits.isDropped(i)) {
        i++;
        continue;
      }
      const from = raw.lineOf(i);
      while (i + 1 < n && (edits === undefined || !edits.isDropped(i + 1))) i++;
      pos += raw.buf.copy(out, pos, from, raw.lineEndOf(i));
      i++;
    }
  } else {
    pos += out.write(text, pos, 'latin1');
  }
  pos += out.write(added, pos, 'latin1');
  out.write(suffix, pos, 'latin1');
  return out;
}

/** Encodes a trailer section (fields and the final empty line) for the end of a chunked body. */
export function encodeTrailers(fields: HeaderFields | undefined): string {
  if (fields === undefined) return '\r\n';
  let text = '';
  for (let i = 0; i < fields.count; i++) text += `${fields.name(i)}: ${fields.value(i)}\r\n`;
  return `${text}\r\n`;
}

const CHUNK_HEADS: string[] = [];

/** The size line before a chunk of `length` bytes. */
export function chunkHead(length: number): string {
  if (length < 256) return (CHUNK_HEADS[length] ??= `${length.toString(16)}\r\n`);
  return `${length.toString(16)}\r\n`;
}

/** Reason phrases for status-lines the proxy composes (the phrase is optional, RFC 9112 section 4). */
const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified', 307: 'Temporary Redirect',
  308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 417: 'Expectation Failed', 426: 'Upgrade Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
};

/** The reason phrase the proxy sends for `status` (empty when it knows none). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}
