/**
 * gRPC through the proxy. Requests, responses and trailers pass as any HTTP/2 exchange does;
 * what is gRPC-specific is a reply the proxy makes itself. A gRPC client reads the outcome from
 * `grpc-status`, not from the HTTP status, so Envoy (`Http::Utility::sendLocalReply` when the
 * request is gRPC) answers with HTTP 200, `content-type: application/grpc`, a `grpc-status`
 * mapped from the HTTP status by the gRPC spec's table (doc/http-grpc-status-mapping.md, Envoy's
 * `Grpc::Utility::httpToGrpcStatus`) and the body text as `grpc-message`, all in one HEADERS
 * frame that ends the stream (a trailers-only response).
 */
import { PairFields, type ExchangeResponse, type HeaderFields } from '../exchange.js';

/** gRPC status codes the table produces. */
export const GrpcStatus = {
  ok: 0,
  unknown: 2,
  internal: 13,
  unimplemented: 12,
  unavailable: 14,
  permissionDenied: 7,
  unauthenticated: 16,
} as const;

/** Whether the request is gRPC: `content-type` is `application/grpc`, optionally followed by `+format` or `;params`. */
export function isGrpcRequest(headers: HeaderFields): boolean {
  for (let i = 0; i < headers.count; i++) {
    if (headers.name(i) !== 'content-type') continue;
    const v = headers.value(i);
    if (v.length < 16 || v.slice(0, 16).toLowerCase() !== 'application/grpc') return false;
    return v.length === 16 || v[16] === '+' || v[16] === ';';
  }
  return false;
}

/** The gRPC status for an HTTP status, by the gRPC spec's HTTP to gRPC table. */
export function grpcStatusOf(httpStatus: number): number {
  switch (httpStatus) {
    case 200:
      return GrpcStatus.ok;
    case 400:
      return GrpcStatus.internal;
    case 401:
      return GrpcStatus.unauthenticated;
    case 403:
      return GrpcStatus.permissionDenied;
    case 404:
      return GrpcStatus.unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.unavailable;
    default:
      return GrpcStatus.unknown;
  }
}

/**
 * `grpc-message` encoding (gRPC over HTTP/2, "Responses"): UTF-8, then every byte outside
 * printable ASCII, and `%` itself, as `%XX`.
 */
export function encodeGrpcMessage(text: string): string {
  let plain = true;
  for (let i = 0; i < text.length && plain; i++) {
    const c = text.charCodeAt(i);
    plain = c >= 0x20 && c <= 0x7e && c !== 0x25;
  }
  if (plain) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The trailers-only response standing for a local reply with `httpStatus` and `body` to a gRPC
 * request; `fields` (name, value, ...) are added after the gRPC ones (date, server, and any the
 * filter that answered adds).
 */
export function grpcLocalReply(httpStatus: number, body: string, fields: readonly string[]): ExchangeResponse {
  const pairs = ['content-type', 'application/grpc', 'grpc-status', String(grpcStatusOf(httpStatus))];
  if (body !== '') pairs.push('grpc-message', encodeGrpcMessage(body));
  for (const f of fields) pairs.push(f);
  return { status: 200, reason: undefined, headers: new PairFields(pairs), contentLength: -1, endStream: true };
}
