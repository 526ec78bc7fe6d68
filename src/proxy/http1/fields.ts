/**
 * Field-line parsing shared by the message head and the chunked trailer section (RFC 9112 section 5),
 * and the list syntax (RFC 9110 section 5.6.1) used by Transfer-Encoding and Connection.
 */
import { CR, equalsLower, FIELD_VCHAR, HTAB, LF, SP, TCHAR } from './chars.js';
import { http1Error, type Http1Error, type Http1ErrorCode } from './errors.js';

/** Returned (instead of an offset) when the buffer ends before the section does. */
export const NEED_MORE = -1;

/**
 * Parses field lines from `pos` up to and including the empty line, appending four absolute offsets
 * per field (name start, name end, value start, value end; the value without surrounding OWS) to
 * `out`. Scans no further than `end` (the caller's size limit); running into `end` means
 * `tooLarge` when `end` is the limit and NEED_MORE when it is the buffer's end.
 */
export function parseFieldLines(
  buf: Uint8Array,
  pos: number,
  end: number,
  limitReached: boolean,
  maxFields: number,
  tooLarge: Http1ErrorCode,
  out: number[],
): number | Http1Error {
  const short = (): number | Http1Error => (limitReached ? http1Error(tooLarge, end) : NEED_MORE);
  let count = 0;
  for (;;) {
    if (pos >= end) return short();
    let c = buf[pos]!;
    if (c === CR) {
      if (pos + 1 >= end) return short();
      if (buf[pos + 1] !== LF) return http1Error('HTTP1_BARE_CR', pos + 1);
      return pos + 2;
    }
    if (c === LF) return http1Error('HTTP1_BARE_LF', pos);
    // A line starting with whitespace is obs-fold (or whitespace before the first field): both rejected.
    if (c === SP || c === HTAB) return http1Error('HTTP1_OBS_FOLD', pos);
    const nameStart = pos;
    while (pos < end && TCHAR[buf[pos]!] === 1) pos++;
    if (pos >= end) return short();
    c = buf[pos]!;
    if (c !== 0x3a) {
      if ((c === SP || c === HTAB) && pos > nameStart) return http1Error('HTTP1_SPACE_BEFORE_COLON', pos);
      return http1Error('HTTP1_INVALID_HEADER_NAME', pos);
    }
    if (pos === nameStart) return http1Error('HTTP1_INVALID_HEADER_NAME', pos);
    const nameEnd = pos++;
    while (pos < end && (buf[pos] === SP || buf[pos] === HTAB)) pos++;
    const valueStart = pos;
    let valueEnd = pos;
    while (pos < end) {
      c = buf[pos]!;
      if (FIELD_VCHAR[c] === 1) valueEnd = ++pos;
      else if (c === SP || c === HTAB) pos++;
      else break;
    }
    if (pos >= end) return short();
    if (c === LF) return http1Error('HTTP1_BARE_LF', pos);
    if (c !== CR) return http1Error('HTTP1_INVALID_HEADER_VALUE', pos, `byte 0x${c.toString(16)}`);
    if (pos + 1 >= end) return short();
    if (buf[pos + 1] !== LF) return http1Error('HTTP1_BARE_CR', pos + 1);
    pos += 2;
    if (++count > maxFields) return http1Error('HTTP1_TOO_MANY_HEADERS', nameStart);
    out.push(nameStart, nameEnd, valueStart, valueEnd);
  }
}

/**
 * Calls `each(start, end)` for every non-empty element of a comma-separated token list in
 * buf[start, end); returns false when an element is not a single token (parameters, quoted strings
 * and stray bytes are all refused, since the lists we read have no use for them).
 */
export function forEachToken(buf: Uint8Array, start: number, end: number, each: (s: number, e: number) => boolean): boolean {
  let pos = start;
  while (pos < end) {
    while (pos < end && (buf[pos] === SP || buf[pos] === HTAB || buf[pos] === 0x2c)) pos++;
    if (pos >= end) break;
    const s = pos;
    while (pos < end && TCHAR[buf[pos]!] === 1) pos++;
    const e = pos;
    if (e === s) return false;
    while (pos < end && (buf[pos] === SP || buf[pos] === HTAB)) pos++;
    if (pos < end && buf[pos] !== 0x2c) return false;
    if (!each(s, e)) return false;
  }
  return true;
}

/** Whether the field at index `i` of an offsets list has the given lowercase name. */
export function fieldNameIs(buf: Uint8Array, fields: readonly number[], i: number, lower: string): boolean {
  return equalsLower(buf, fields[4 * i]!, fields[4 * i + 1]!, lower);
}
