/**
 * The value formats protoc-gen-validate names (hostnames, HTTP header names and values, UUIDs)
 * and the small helpers its length and bytes rules need, as pure predicates; validate-checks.ts
 * turns rules into checks with them. Each follows PGV's Go templates
 * (envoyproxy/protoc-gen-validate:templates/goshared), which is what Envoy enforces.
 */

/** Characters as PGV counts them: Unicode code points (Go runes), not UTF-16 units. */
export function runeCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** PGV's `uuid`: the 8-4-4-4-12 hex form, any case. */
export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** PGV's `_validateHostname`: at most 253 characters, dot-separated labels of 1-63 [a-z0-9-], no edge hyphens. */
export function isHostname(host: string): boolean {
  if (host.length > 253) return false;
  const name = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  for (const label of name.split('.')) {
    if (label.length === 0 || label.length > 63 || label.startsWith('-') || label.endsWith('-')) return false;
    if (!/^[a-z0-9-]+$/.test(label)) return false;
  }
  return true;
}

// RFC 7230 token characters as PGV's HTTP_HEADER_NAME regex spells them,
// `^:?[0-9a-zA-Z!#$%&'*+-.^_|~\x60]+$`: the `+-.` there is a range, so ',' is allowed too.
const HEADER_NAME_CHARS = new Set("!#$%&'*+,-.^_|~`0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

/** PGV's strict HTTP_HEADER_NAME: a token, optionally after the ':' of an HTTP/2 pseudo-header. */
export function isHeaderNameStrict(s: string): boolean {
  const body = s.startsWith(':') ? s.slice(1) : s;
  if (body.length === 0) return false;
  for (const ch of body) if (!HEADER_NAME_CHARS.has(ch)) return false;
  return true;
}

/** PGV's HTTP_HEADER_VALUE: no control characters except horizontal tab. */
export function isHeaderValueStrict(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x08 || (c >= 0x0a && c <= 0x1f) || c === 0x7f) return false;
  }
  return true;
}

/** PGV's non-strict header check (`strict: false`): no NUL, LF or CR. */
export function isHeaderStringLoose(s: string): boolean {
  return !/[\0\n\r]/.test(s);
}

/** Same length, same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Where `needle` first occurs in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** `0x` and lowercase hex, for messages about bytes rules. */
export function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b).toString('hex')}`;
}

/** `1.5s`, `0s`, `-0.000000001s`: Envoy's (proto3 JSON) spelling of a duration. */
export function formatDuration(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  const seconds = abs / 1_000_000_000n;
  const fraction = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${seconds}${fraction ? `.${fraction}` : ''}s`;
}

/** A Timestamp (as nanoseconds since the epoch) in RFC 3339, millisecond precision. */
export function formatTimestamp(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000n)).toISOString();
}
