/**
 * Byte classes from RFC 9110 section 5.6 and RFC 3986, as 256-entry tables so the parsers test a
 * byte with one load instead of a chain of comparisons.
 */

function table(accept: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = accept(c) ? 1 : 0;
  return t;
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar: the bytes of a token (method, header name, coding name). */
export const TCHAR = table((c) => isAlnum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar: VCHAR or obs-text; SP and HTAB are handled by the callers because they are trimmed at the ends. */
export const FIELD_VCHAR = table((c) => (c >= 0x21 && c <= 0x7e) || c >= 0x80);

/** Bytes allowed in a request-target: visible ASCII only (no obs-text, no spaces, no controls). */
export const TARGET_CHAR = table((c) => c >= 0x21 && c <= 0x7e);

/** Bytes of a URI host with an optional port: reg-name, IP literal brackets, percent escapes. */
export const HOST_CHAR = table((c) => isAlnum(c) || "-._~!$&'()*+,;=%:[]".includes(String.fromCharCode(c)));

/** Hex digit values, or 255 for anything else. */
export const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0x30; c <= 0x39; c++) t[c] = c - 0x30;
  for (let c = 0x41; c <= 0x46; c++) t[c] = c - 0x41 + 10;
  for (let c = 0x61; c <= 0x66; c++) t[c] = c - 0x61 + 10;
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HTAB = 0x09;

/** Whether buf[start, end) equals `lower` ignoring ASCII case; `lower` must be lowercase letters, digits, '-', ':' or '/'. */
export function equalsLower(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    // `| 0x20` folds A-Z to a-z and leaves digits and '-' unchanged; no other token byte folds onto them.
    if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}
