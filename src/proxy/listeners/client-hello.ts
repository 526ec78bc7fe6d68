/**
 * What the TLS inspector needs from a ClientHello: whether the connection speaks TLS at all,
 * the SNI server name and the ALPN protocols. Pure: it reads bytes the listener has buffered
 * and says when it needs more. A ClientHello split over several records is reassembled.
 */

export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'notTls' }
  | { readonly kind: 'tls'; readonly serverName: string | undefined; readonly alpn: readonly string[] };

const INCOMPLETE: ClientHelloResult = Object.freeze({ kind: 'incomplete' });
const NOT_TLS: ClientHelloResult = Object.freeze({ kind: 'notTls' });

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
/** Envoy's tls_inspector gives up past this many bytes; a larger ClientHello is treated as TLS without SNI/ALPN. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

/** Inspects the start of a connection. */
export function inspectClientHello(buf: Buffer): ClientHelloResult {
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] !== HANDSHAKE) return NOT_TLS;
  if (buf.length < 3) return INCOMPLETE;
  // Record version major must be 3 (SSL 3.0 .. TLS 1.3 all use 0x03xx at the record layer).
  if (buf[1] !== 0x03) return NOT_TLS;
  const handshake = reassemble(buf);
  if (handshake === undefined) return buf.length > MAX_CLIENT_HELLO_BYTES ? { kind: 'tls', serverName: undefined, alpn: [] } : INCOMPLETE;
  if (handshake === null) return NOT_TLS;
  return parseHello(handshake) ?? NOT_TLS;
}

/** The handshake bytes of the first message, across records; undefined if more bytes are needed, null if malformed. */
function reassemble(buf: Buffer): Buffer | undefined | null {
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let off = 0;
  while (off + 5 <= buf.length) {
    if (buf[off] !== HANDSHAKE) return null;
    const len = buf.readUInt16BE(off + 3);
    if (len === 0) return null;
    if (off + 5 + len > buf.length) return undefined;
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need < 0 && have >= 4) {
      const first = Buffer.concat(parts);
      if (first[0] !== CLIENT_HELLO) return null;
      need = 4 + first.readUIntBE(1, 3);
    }
    if (need >= 0 && have >= need) return Buffer.concat(parts).subarray(0, need);
  }
  return undefined;
}

function parseHello(h: Buffer): ClientHelloResult | undefined {
  // type(1) length(3) version(2) random(32)
  let p = 4 + 2 + 32;
  if (p + 1 > h.length) return undefined;
  p += 1 + h[p]!; // session id
  if (p + 2 > h.length) return undefined;
  p += 2 + h.readUInt16BE(p); // cipher suites
  if (p + 1 > h.length) return undefined;
  p += 1 + h[p]!; // compression methods
  if (p === h.length) return { kind: 'tls', serverName: undefined, alpn: [] };
  if (p + 2 > h.length) return undefined;
  const end = p + 2 + h.readUInt16BE(p);
  if (end > h.length) return undefined;
  p += 2;
  let serverName: string | undefined;
  const alpn: string[] = [];
  while (p + 4 <= end) {
    const type = h.readUInt16BE(p);
    const len = h.readUInt16BE(p + 2);
    const body = h.subarray(p + 4, p + 4 + len);
    if (body.length !== len) return undefined;
    if (type === EXT_SERVER_NAME) serverName = parseServerName(body);
    else if (type === EXT_ALPN && !parseAlpn(body, alpn)) return undefined;
    p += 4 + len;
  }
  return { kind: 'tls', serverName, alpn };
}

function parseServerName(body: Buffer): string | undefined {
  if (body.length < 2) return undefined;
  const end = Math.min(body.length, 2 + body.readUInt16BE(0));
  let p = 2;
  while (p + 3 <= end) {
    const type = body[p]!;
    const len = body.readUInt16BE(p + 1);
    if (type === 0 && p + 3 + len <= end) return body.toString('latin1', p + 3, p + 3 + len).toLowerCase();
    p += 3 + len;
  }
  return undefined;
}

function parseAlpn(body: Buffer, out: string[]): boolean {
  if (body.length < 2) return false;
  const end = 2 + body.readUInt16BE(0);
  if (end > body.length) return false;
  let p = 2;
  while (p < end) {
    const len = body[p]!;
    if (len === 0 || p + 1 + len > end) return false;
    out.push(body.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return true;
}
