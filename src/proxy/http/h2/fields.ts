/**
 * Header blocks between Node's HTTP/2 API and the exchange shapes. Node delivers a block as a
 * flat raw list (`name, value, name, value...`, pseudo-headers first, names lower-case) and
 * wants an object to send one; `RawFields` reads the regular part of a raw list in place, and
 * `encodeFields` builds the object to send from any `HeaderFields` plus the router's edits.
 *
 * Connection-specific fields are illegal in HTTP/2 (RFC 9113 8.2.2; Node throws on them), so
 * they are left out whichever protocol the block came from. Repeated fields become one value
 * joined with `, ` (RFC 9110 5.3), except `set-cookie`, which cannot be joined and is sent as
 * repeated fields, and `cookie`, joined with `; ` (RFC 9113 8.2.3).
 */
import type { OutgoingHttpHeaders } from 'node:http2';
import { FieldKind, fieldKindOf, type HeaderEdits, type HeaderFields } from '../exchange.js';

/** The regular fields of a raw header list from Node, read in place from the first non-pseudo name on. */
export class RawFields implements HeaderFields {
  readonly count: number;

  /** `start` is the index in `raw` of the first regular field's name. */
  constructor(
    private readonly raw: readonly string[],
    private readonly start: number,
  ) {
    this.count = (raw.length - start) >> 1;
  }

  name(i: number): string {
    return this.raw[this.start + 2 * i]!;
  }

  value(i: number): string {
    return this.raw[this.start + 2 * i + 1]!;
  }

  kind(i: number): FieldKind {
    return fieldKindOf(this.raw[this.start + 2 * i]!);
  }
}

/** The index of the first regular field in a raw list (pseudo-headers come first in HTTP/2). */
export function regularStart(raw: readonly string[]): number {
  let i = 0;
  while (i < raw.length && raw[i]!.charCodeAt(0) === 0x3a /* : */) i += 2;
  return i;
}

/**
 * Whether a field of this kind is left out: connection-specific ones (`te` is checked by value),
 * and Content-Length, which the encoder writes from the declared length.
 */
function isLeftOut(kind: FieldKind): boolean {
  return (
    kind === FieldKind.contentLength ||
    kind === FieldKind.connection ||
    kind === FieldKind.keepAlive ||
    kind === FieldKind.proxyConnection ||
    kind === FieldKind.transferEncoding ||
    kind === FieldKind.upgrade ||
    kind === FieldKind.http2Settings ||
    kind === FieldKind.host
  );
}

/** A header object without a prototype, so a field named `__proto__` is just a field. */
export function headerObject(): OutgoingHttpHeaders {
  return Object.create(null) as OutgoingHttpHeaders;
}

function append(out: OutgoingHttpHeaders, name: string, value: string): void {
  const prev = out[name];
  if (prev === undefined) {
    out[name] = value;
  } else if (name === 'set-cookie') {
    if (Array.isArray(prev)) prev.push(value);
    else out[name] = [String(prev), value];
  } else {
    out[name] = `${String(prev)}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
}

/**
 * Adds `fields` (minus those `edits` drops) and then the fields `edits` adds to `out`, leaving
 * out connection-specific ones. `te` goes only as `trailers`. Returns the value of a `host`
 * field that `edits` added (a host rewrite), which belongs in `:authority` instead.
 */
export function encodeFields(out: OutgoingHttpHeaders, fields: HeaderFields, edits: HeaderEdits | undefined): string | undefined {
  const n = fields.count;
  for (let i = 0; i < n; i++) {
    if (edits !== undefined && edits.isDropped(i)) continue;
    const kind = fields.kind(i);
    if (kind === FieldKind.other || (kind !== FieldKind.te && !isLeftOut(kind))) append(out, fields.name(i), fields.value(i));
    else if (kind === FieldKind.te && fields.value(i).toLowerCase() === 'trailers') out.te = 'trailers';
  }
  let host: string | undefined;
  if (edits !== undefined) {
    const added = edits.added;
    for (let k = 0; k < added.length; k += 2) {
      const name = added[k]!;
      const value = added[k + 1]!;
      const kind = fieldKindOf(name);
      if (kind === FieldKind.host) host = value;
      else if (kind === FieldKind.te) {
        if (value.toLowerCase() === 'trailers') out.te = 'trailers';
      } else if (!isLeftOut(kind)) append(out, name, value);
    }
  }
  return host;
}
