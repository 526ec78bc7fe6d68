/**
 * Strict HTTP/1.1 message head parsing (RFC 9112 sections 2 to 7) for requests and responses.
 *
 * Stateless: each call parses buf[offset...] from the start and returns the head, an error, or
 * `INCOMPLETE` (the caller keeps the bytes and calls again when more arrive). A head is at most
 * `maxHeadBytes`, so re-parsing after a partial read is bounded; in practice a head arrives whole.
 * Header fields are not copied: `fields` holds four offsets per field into `buf`, read with
 * `fieldName`/`fieldValue`, so the caller can forward buf[start, offset + headBytes) verbatim.
 */
import { CR, equalsLower, HOST_CHAR, HTAB, LF, SP, TARGET_CHAR, TCHAR } from './chars.js';
import { http1Error, type Http1Error } from './errors.js';
import { forEachToken, NEED_MORE, parseFieldLines } from './fields.js';

/** Size limits for a head; the caller answers 431 when one is exceeded. */
export interface HeadLimits {
  /** Bytes from `offset` to the end of the empty line, including leading empty lines. */
  readonly maxHeadBytes: number;
  /** Header field lines. */
  readonly maxHeaders: number;
}

/** 16 KiB as Node's `maxHeaderSize`; 100 fields rather than Node's 2000 `maxHeadersCount`, since each field costs a sidecar work. */
export const DEFAULT_HEAD_LIMITS: HeadLimits = Object.freeze({ maxHeadBytes: 16 * 1024, maxHeaders: 100 });

/** The result when the buffer ends before the head does; a singleton, so waiting allocates nothing. */
export const INCOMPLETE: { readonly kind: 'incomplete' } = Object.freeze({ kind: 'incomplete' });

/** Connection option bits (RFC 9110 section 7.6.1) the proxy acts on. */
export const CONNECTION_CLOSE = 1;
/** `keep-alive` was listed in Connection. */
export const CONNECTION_KEEP_ALIVE = 2;
/** `upgrade` was listed in Connection. */
export const CONNECTION_UPGRADE = 4;

/** What requests and responses share: framing, connection handling and the field offsets. */
export interface MessageHead {
  /** Where the start-line begins (after any empty lines skipped before a request-line). */
  readonly start: number;
  /** Bytes from the `offset` passed in through the empty line ending the head. */
  readonly headBytes: number;
  readonly versionMinor: 0 | 1;
  /** Four absolute offsets into the parsed buffer per field: name start, name end, value start, value end. */
  readonly fields: number[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Transfer-Encoding is present and ends in `chunked` (any other Transfer-Encoding was rejected). */
  readonly chunked: boolean;
  /** CONNECTION_* bits. */
  readonly connection: number;
  /** Whether the connection persists after this message (RFC 9112 section 9.3). */
  readonly keepAlive: boolean;
  readonly upgrade: string | undefined;
  readonly te: string | undefined;
  readonly expect: string | undefined;
}

/** Which of the four request-target forms (RFC 9112 section 3.2) was used. */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/** A parsed request head. */
export interface RequestHead extends MessageHead {
  readonly kind: 'request';
  readonly method: string;
  readonly target: string;
  readonly targetForm: TargetForm;
  /** The Host field value, if present. */
  readonly host: string | undefined;
  /** The authority to route on: from an absolute-form or authority-form target, else Host (RFC 9112 3.2.2). */
  readonly authority: string | undefined;
}

/** A parsed response head. */
export interface ResponseHead extends MessageHead {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

/** Parsing gives a head, an error, or INCOMPLETE. */
export type HeadResult<H> = H | Http1Error | typeof INCOMPLETE;

/** The name of field `i` as it was sent (case preserved). */
export function fieldName(buf: Buffer, head: MessageHead, i: number): string {
  return buf.toString('latin1', head.fields[4 * i], head.fields[4 * i + 1]);
}

/** The value of field `i` without surrounding whitespace, decoded as latin1 (bytes preserved). */
export function fieldValue(buf: Buffer, head: MessageHead, i: number): string {
  return buf.toString('latin1', head.fields[4 * i + 2], head.fields[4 * i + 3]);
}

// Methods the request path compares against; interned so common requests allocate no method string.
const COMMON_METHODS = ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'];

function methodString(buf: Buffer, s: number, e: number): string {
  for (const m of COMMON_METHODS) {
    if (m.length !== e - s) continue;
    let i = 0;
    while (i < m.length && buf[s + i] === m.charCodeAt(i)) i++;
    if (i === m.length) return m;
  }
  return buf.toString('latin1', s, e);
}

/** Parses a request head at buf[offset...]; see the module comment for the contract. */
export function parseRequestHead(buf: Buffer, offset: number, limits: HeadLimits = DEFAULT_HEAD_LIMITS): HeadResult<RequestHead> {
  const end = Math.min(buf.length, offset + limits.maxHeadBytes);
  const limitReached = buf.length - offset >= limits.maxHeadBytes;
  const short = (): HeadResult<RequestHead> => (limitReached ? http1Error('HTTP1_HEAD_TOO_LARGE', end) : INCOMPLETE);
  let pos = offset;
  // RFC 9112 section 2.2: a server SHOULD ignore empty lines received before the request-line.
  while (pos < end && buf[pos] === CR) {
    if (pos + 1 >= end) return short();
    if (buf[pos + 1] !== LF) return http1Error('HTTP1_BARE_CR', pos + 1);
    pos += 2;
  }
  const start = pos;
  while (pos < end && TCHAR[buf[pos]!] === 1) pos++;
  if (pos >= end) return short();
  if (buf[pos] !== SP || pos === start) {
    const c = buf[pos];
    return http1Error(c === LF || c === CR || c === SP || c === HTAB ? 'HTTP1_INVALID_REQUEST_LINE' : 'HTTP1_INVALID_METHOD', pos);
  }
  const method = methodString(buf, start, pos);
  const targetStart = ++pos;
  while (pos < end && TARGET_CHAR[buf[pos]!] === 1) pos++;
  if (pos >= end) return short();
  if (buf[pos] !== SP || pos === targetStart) {
    const c = buf[pos];
    return http1Error(c === LF || c === CR || c === SP ? 'HTTP1_INVALID_REQUEST_LINE' : 'HTTP1_INVALID_TARGET', pos);
  }
  const targetEnd = pos++;
  const version = parseVersion(buf, pos, end, true);
  if (version === NEED_MORE) return short();
  if (typeof version !== 'number') return version;
  pos += 10;
  const fields: number[] = [];
  const after = parseFieldLines(buf, pos, end, limitReached, limits.maxHeaders, 'HTTP1_HEAD_TOO_LARGE', fields);
  if (after === NEED_MORE) return INCOMPLETE;
  if (typeof after !== 'number') return after;

  const target = buf.toString('latin1', targetStart, targetEnd);
  const common = interpretFields(buf, fields, version as 0 | 1, true);
  if (common.kind === 'error') return common;
  let targetForm: TargetForm;
  let authority = common.host;
  if (buf[targetStart] === 0x2f) {
    if (method === 'CONNECT') return http1Error('HTTP1_INVALID_TARGET', targetStart, 'CONNECT needs authority-form');
    targetForm = 'origin';
  } else if (method === 'CONNECT') {
    if (!isAuthority(buf, targetStart, targetEnd, true)) return http1Error('HTTP1_INVALID_TARGET', targetStart, 'authority-form');
    targetForm = 'authority';
    authority = target;
  } else if (target === '*') {
    if (method !== 'OPTIONS') return http1Error('HTTP1_INVALID_TARGET', targetStart, 'asterisk-form is for OPTIONS only');
    targetForm = 'asterisk';
  } else {
    const a = absoluteAuthority(buf, targetStart, targetEnd);
    if (a === undefined) return http1Error('HTTP1_INVALID_TARGET', targetStart, 'not origin-form or http(s) absolute-form');
    targetForm = 'absolute';
    authority = buf.toString('latin1', a[0], a[1]);
  }
  if (version === 1 && common.host === undefined) return http1Error('HTTP1_MISSING_HOST', start);
  return {
    kind: 'request', start, headBytes: after - offset, versionMinor: version as 0 | 1, fields,
    contentLength: common.contentLength, chunked: common.chunked, connection: common.connection,
    keepAlive: keepAliveOf(version, common.connection), upgrade: common.upgrade, te: common.te, expect: common.expect,
    method, target, targetForm, host: common.host, authority,
  };
}

/** Parses a response head at buf[offset...]; see the module comment for the contract. */
export function parseResponseHead(buf: Buffer, offset: number, limits: HeadLimits = DEFAULT_HEAD_LIMITS): HeadResult<ResponseHead> {
  const end = Math.min(buf.length, offset + limits.maxHeadBytes);
  const limitReached = buf.length - offset >= limits.maxHeadBytes;
  const short = (): HeadResult<ResponseHead> => (limitReached ? http1Error('HTTP1_HEAD_TOO_LARGE', end) : INCOMPLETE);
  let pos = offset;
  const version = parseVersion(buf, pos, end, false);
  if (version === NEED_MORE) return short();
  if (typeof version !== 'number') return version;
  pos += 8;
  if (pos + 4 > end) return short();
  const d0 = buf[pos + 1]! - 0x30;
  const d1 = buf[pos + 2]! - 0x30;
  const d2 = buf[pos + 3]! - 0x30;
  if (buf[pos] !== SP || d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return http1Error('HTTP1_INVALID_STATUS_LINE', pos);
  const status = d0 * 100 + d1 * 10 + d2;
  pos += 4;
  if (pos >= end) return short();
  let reasonStart = pos;
  if (buf[pos] === SP) {
    reasonStart = ++pos;
    // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
    while (pos < end && (buf[pos] === HTAB || buf[pos]! >= 0x20) && buf[pos] !== 0x7f) pos++;
  }
  if (pos >= end) return short();
  if (buf[pos] === LF) return http1Error('HTTP1_BARE_LF', pos);
  if (buf[pos] !== CR) return http1Error('HTTP1_INVALID_STATUS_LINE', pos);
  if (pos + 1 >= end) return short();
  if (buf[pos + 1] !== LF) return http1Error('HTTP1_BARE_CR', pos + 1);
  const reason = buf.toString('latin1', reasonStart, pos);
  const fields: number[] = [];
  const after = parseFieldLines(buf, pos + 2, end, limitReached, limits.maxHeaders, 'HTTP1_HEAD_TOO_LARGE', fields);
  if (after === NEED_MORE) return INCOMPLETE;
  if (typeof after !== 'number') return after;
  const common = interpretFields(buf, fields, version as 0 | 1, false);
  if (common.kind === 'error') return common;
  return {
    kind: 'response', start: offset, headBytes: after - offset, versionMinor: version as 0 | 1, fields,
    contentLength: common.contentLength, chunked: common.chunked, connection: common.connection,
    keepAlive: keepAliveOf(version, common.connection), upgrade: common.upgrade, te: common.te, expect: common.expect,
    status, reason,
  };
}

const HTTP_SLASH = [0x48, 0x54, 0x54, 0x50, 0x2f];

/**
 * Checks `HTTP/1.x` at pos (followed by CRLF for a request-line); returns the minor version,
 * NEED_MORE, or an error. Bytes already present are checked before asking for more, so garbage is
 * refused at once instead of waiting for a timeout.
 */
function parseVersion(buf: Buffer, pos: number, end: number, crlf: boolean): number | Http1Error {
  const need = crlf ? 10 : 8;
  const avail = Math.min(end - pos, need);
  for (let i = 0; i < Math.min(avail, 5); i++) {
    if (buf[pos + i] !== HTTP_SLASH[i]) return http1Error('HTTP1_INVALID_VERSION', pos + i);
  }
  const major = buf[pos + 5]! - 0x30;
  const minor = buf[pos + 7]! - 0x30;
  if (avail >= 6 && !(major >= 0 && major <= 9)) return http1Error('HTTP1_INVALID_VERSION', pos + 5);
  if (avail >= 7 && buf[pos + 6] !== 0x2e) return http1Error('HTTP1_INVALID_VERSION', pos + 6);
  if (avail >= 8 && !(minor >= 0 && minor <= 9)) return http1Error('HTTP1_INVALID_VERSION', pos + 7);
  if (avail >= 9 && crlf) {
    const c = buf[pos + 8];
    if (c === LF) return http1Error('HTTP1_BARE_LF', pos + 8);
    if (c !== CR) return http1Error('HTTP1_INVALID_REQUEST_LINE', pos + 8);
  }
  if (avail >= 10 && buf[pos + 9] !== LF) return http1Error('HTTP1_BARE_CR', pos + 9);
  if (avail < need) return NEED_MORE;
  if (major !== 1 || minor > 1) return http1Error('HTTP1_VERSION_NOT_SUPPORTED', pos);
  return minor;
}

function keepAliveOf(minor: number, connection: number): boolean {
  if (connection & CONNECTION_CLOSE) return false;
  return minor === 1 || (connection & CONNECTION_KEEP_ALIVE) !== 0;
}

interface CommonFields {
  readonly kind: 'fields';
  host: string | undefined;
  contentLength: number;
  chunked: boolean;
  connection: number;
  upgrade: string | undefined;
  te: string | undefined;
  expect: string | undefined;
}

const KNOWN_CODINGS = ['gzip', 'deflate', 'compress', 'x-gzip', 'x-compress'];

/** Reads the fields a proxy acts on and applies the framing rules of RFC 9112 section 6. */
function interpretFields(buf: Buffer, fields: number[], minor: 0 | 1, isRequest: boolean): CommonFields | Http1Error {
  const out: CommonFields = { kind: 'fields', host: undefined, contentLength: -1, chunked: false, connection: 0, upgrade: undefined, te: undefined, expect: undefined };
  let hasTe = false;
  let teBad = false;
  const join = (prev: string | undefined, s: number, e: number): string =>
    prev === undefined ? buf.toString('latin1', s, e) : `${prev}, ${buf.toString('latin1', s, e)}`;
  for (let i = 0; i < fields.length; i += 4) {
    const ns = fields[i]!;
    const ne = fields[i + 1]!;
    const vs = fields[i + 2]!;
    const ve = fields[i + 3]!;
    switch (ne - ns) {
      case 4:
        if (isRequest && equalsLower(buf, ns, ne, 'host')) {
          if (out.host !== undefined) return http1Error('HTTP1_DUPLICATE_HOST', ns);
          // An empty Host is allowed when the target has no authority (RFC 9110 section 7.2).
          if (ve > vs && !isAuthority(buf, vs, ve, false)) return http1Error('HTTP1_INVALID_HOST', vs);
          out.host = buf.toString('latin1', vs, ve);
        }
        break;
      case 14:
        if (equalsLower(buf, ns, ne, 'content-length')) {
          // Identical duplicates are allowed by RFC 9112 6.3 but refused here, as llhttp does: a
          // proxy gains nothing from them and they are a classic desync probe.
          if (out.contentLength !== -1) return http1Error('HTTP1_DUPLICATE_CONTENT_LENGTH', ns);
          if (ve === vs) return http1Error('HTTP1_INVALID_CONTENT_LENGTH', vs, 'empty');
          let n = 0;
          for (let p = vs; p < ve; p++) {
            const d = buf[p]! - 0x30;
            if (d < 0 || d > 9) return http1Error('HTTP1_INVALID_CONTENT_LENGTH', p);
            n = n * 10 + d;
            if (n > Number.MAX_SAFE_INTEGER) return http1Error('HTTP1_INVALID_CONTENT_LENGTH', p, 'too large');
          }
          out.contentLength = n;
        }
        break;
      case 17:
        if (equalsLower(buf, ns, ne, 'transfer-encoding')) {
          hasTe = true;
          // Every coding must be known, `chunked` must come last and only once; anything else is
          // refused rather than guessed at (RFC 9112 6.3 rules 4 and 5; TE.TE obfuscation).
          const ok = forEachToken(buf, vs, ve, (s, e) => {
            if (out.chunked) return false;
            if (equalsLower(buf, s, e, 'chunked')) out.chunked = true;
            else if (!KNOWN_CODINGS.some((k) => equalsLower(buf, s, e, k))) return false;
            return true;
          });
          if (!ok) teBad = true;
        }
        break;
      case 10:
        if (equalsLower(buf, ns, ne, 'connection')) {
          const ok = forEachToken(buf, vs, ve, (s, e) => {
            if (equalsLower(buf, s, e, 'close')) out.connection |= CONNECTION_CLOSE;
            else if (equalsLower(buf, s, e, 'keep-alive')) out.connection |= CONNECTION_KEEP_ALIVE;
            else if (equalsLower(buf, s, e, 'upgrade')) out.connection |= CONNECTION_UPGRADE;
            return true;
          });
          if (!ok) return http1Error('HTTP1_INVALID_HEADER_VALUE', vs, 'Connection is not a token list');
        }
        break;
      case 7:
        if (equalsLower(buf, ns, ne, 'upgrade')) out.upgrade = join(out.upgrade, vs, ve);
        break;
      case 2:
        if (equalsLower(buf, ns, ne, 'te')) out.te = join(out.te, vs, ve);
        break;
      case 6:
        if (equalsLower(buf, ns, ne, 'expect')) out.expect = join(out.expect, vs, ve);
        break;
    }
  }
  if (hasTe) {
    if (minor === 0) return http1Error('HTTP1_TE_IN_HTTP10', 0);
    if (out.contentLength !== -1) return http1Error('HTTP1_CONTENT_LENGTH_AND_TE', 0);
    if (teBad || !out.chunked) return http1Error('HTTP1_UNSUPPORTED_TE', 0);
  }
  return out;
}

/** host [":" port] with host chars only and digits after the last ':' outside brackets; CONNECT needs the port. */
function isAuthority(buf: Buffer, s: number, e: number, needPort: boolean): boolean {
  if (s >= e) return false;
  let colon = -1;
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (HOST_CHAR[c] !== 1) return false;
    if (c === 0x3a) colon = p;
    else if (c === 0x5d) colon = -1; // ']' ends an IPv6 literal; colons inside it are not the port
  }
  if (colon === -1) return !needPort;
  if (colon === s || colon === e - 1) return false;
  for (let p = colon + 1; p < e; p++) if (buf[p]! < 0x30 || buf[p]! > 0x39) return false;
  return true;
}

/** For `http://authority/...` or `https://...` (any case), the authority's [start, end); else undefined. */
function absoluteAuthority(buf: Buffer, s: number, e: number): [number, number] | undefined {
  let p = s;
  if (equalsLower(buf, s, Math.min(e, s + 7), 'http://')) p = s + 7;
  else if (equalsLower(buf, s, Math.min(e, s + 8), 'https://')) p = s + 8;
  else return undefined;
  const a = p;
  while (p < e && buf[p] !== 0x2f && buf[p] !== 0x3f) p++;
  // userinfo ('@') is refused (RFC 9110 4.2.4), as are '#' fragments anywhere in the authority.
  if (p === a || !isAuthority(buf, a, p, false)) return undefined;
  return [a, p];
}
