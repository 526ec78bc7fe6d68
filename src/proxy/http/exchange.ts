/**
 * The protocol-neutral shapes of one HTTP exchange: what a downstream codec (HTTP/1.1 here,
 * HTTP/2 later) hands the router, what the router hands an upstream codec, and the callbacks
 * between them. Nothing here knows sockets or wire formats.
 *
 * Header fields stay where the codec parsed them: `HeaderFields` reads them lazily, and the
 * router never rewrites a block but describes its changes as `HeaderEdits` (fields dropped by
 * index, fields appended). So an HTTP/1.1 encoder fed by an HTTP/1.1 decoder copies the kept
 * field lines verbatim, while an HTTP/2 encoder reads names and values through the same interface.
 */
import type { Socket } from 'node:net';
import type { Cluster, UpstreamHost } from '../clusters/types.js';

/**
 * The header fields the proxy acts on, so the router classifies each field once by number
 * instead of comparing strings (`other` for everything else).
 */
export const FieldKind = {
  other: 0,
  host: 1,
  connection: 2,
  keepAlive: 3,
  proxyConnection: 4,
  te: 5,
  transferEncoding: 6,
  upgrade: 7,
  contentLength: 8,
  expect: 9,
  http2Settings: 10,
  xRequestId: 11,
  xForwardedProto: 12,
  xForwardedFor: 13,
  userAgent: 14,
  osmStatsNamespace: 15,
  osmStatsKind: 16,
  osmStatsName: 17,
  osmStatsPod: 18,
  /** Envoy's request-control headers and the client-cert header, which Envoy strips from requests it does not trust. */
  envoyControl: 19,
  server: 20,
  xEnvoyUpstreamServiceTime: 21,
  grpcStatus: 22,
  xEnvoyRateLimited: 23,
  xEnvoyOriginalPath: 24,
  date: 25,
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/**
 * Lower-case names of the known fields. `envoyControl` lists what Envoy's connection manager
 * removes from requests that are not from a trusted internal hop (`cleanInternalHeaders`) and
 * `x-forwarded-client-cert` (forward_client_cert_details defaults to SANITIZE).
 */
export const KNOWN_FIELDS: ReadonlyMap<string, FieldKind> = new Map<string, FieldKind>([
  ['host', FieldKind.host],
  ['connection', FieldKind.connection],
  ['keep-alive', FieldKind.keepAlive],
  ['proxy-connection', FieldKind.proxyConnection],
  ['te', FieldKind.te],
  ['transfer-encoding', FieldKind.transferEncoding],
  ['upgrade', FieldKind.upgrade],
  ['content-length', FieldKind.contentLength],
  ['expect', FieldKind.expect],
  ['http2-settings', FieldKind.http2Settings],
  ['x-request-id', FieldKind.xRequestId],
  ['x-forwarded-proto', FieldKind.xForwardedProto],
  ['x-forwarded-for', FieldKind.xForwardedFor],
  ['user-agent', FieldKind.userAgent],
  ['osm-stats-namespace', FieldKind.osmStatsNamespace],
  ['osm-stats-kind', FieldKind.osmStatsKind],
  ['osm-stats-name', FieldKind.osmStatsName],
  ['osm-stats-pod', FieldKind.osmStatsPod],
  ['server', FieldKind.server],
  ['x-envoy-upstream-service-time', FieldKind.xEnvoyUpstreamServiceTime],
  ['grpc-status', FieldKind.grpcStatus],
  ['x-envoy-ratelimited', FieldKind.xEnvoyRateLimited],
  ['x-envoy-original-path', FieldKind.xEnvoyOriginalPath],
  ['date', FieldKind.date],
  ...[
    'x-envoy-retriable-status-codes', 'x-envoy-retriable-header-names', 'x-envoy-retry-on', 'x-envoy-retry-grpc-on',
    'x-envoy-max-retries', 'x-envoy-upstream-alt-stat-name', 'x-envoy-upstream-rq-timeout-ms',
    'x-envoy-upstream-rq-per-try-timeout-ms', 'x-envoy-upstream-rq-timeout-alt-response', 'x-envoy-expected-rq-timeout-ms',
    'x-envoy-force-trace', 'x-envoy-ip-tags', 'x-envoy-original-url', 'x-envoy-hedge-on-per-try-timeout', 'x-envoy-internal',
    'x-forwarded-client-cert',
  ].map((name): [string, FieldKind] => [name, FieldKind.envoyControl]),
]);

/** The kind of a lower-case field name. */
export function fieldKindOf(lowerName: string): FieldKind {
  return KNOWN_FIELDS.get(lowerName) ?? FieldKind.other;
}

/** A message's header (or trailer) fields in arrival order. Pseudo-headers are not fields. */
export interface HeaderFields {
  readonly count: number;
  /** The lower-case name of field `i`. */
  name(i: number): string;
  /** The value of field `i`, without surrounding whitespace. */
  value(i: number): string;
  kind(i: number): FieldKind;
}

/** Header fields held as name/value pairs: local replies, tests, and codecs that decode to strings. */
export class PairFields implements HeaderFields {
  /** `pairs` alternates lower-case names and values. */
  constructor(private readonly pairs: readonly string[]) {}

  get count(): number {
    return this.pairs.length >> 1;
  }

  name(i: number): string {
    return this.pairs[2 * i]!;
  }

  value(i: number): string {
    return this.pairs[2 * i + 1]!;
  }

  kind(i: number): FieldKind {
    return fieldKindOf(this.pairs[2 * i]!);
  }
}

/** The first value of a kind of field, or undefined. */
export function firstOfKind(fields: HeaderFields, kind: FieldKind): string | undefined {
  for (let i = 0; i < fields.count; i++) if (fields.kind(i) === kind) return fields.value(i);
  return undefined;
}

/** How a header block changes on its way out: fields dropped by index, fields appended after the kept ones. */
export class HeaderEdits {
  /** 1 at the index of each dropped field; allocated on the first drop. */
  private dropped: Uint8Array | undefined = undefined;
  /** Appended fields as lower-case name, value, name, value... */
  readonly added: string[] = [];

  /** Drops field `i` of a block of `count` fields. */
  drop(i: number, count: number): void {
    (this.dropped ??= new Uint8Array(count))[i] = 1;
  }

  isDropped(i: number): boolean {
    return this.dropped !== undefined && this.dropped[i] === 1;
  }

  add(name: string, value: string): void {
    this.added.push(name, value);
  }
}

export type HttpProtocol = 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';

/** A request head as the downstream codec decoded it. */
export interface ExchangeRequest {
  readonly method: string;
  readonly scheme: 'http' | 'https';
  /** From Host or the request target (HTTP/1.1), `:authority` (HTTP/2); empty when the client sent none. */
  readonly authority: string;
  /** The request target as received, query included. */
  readonly path: string;
  readonly protocol: HttpProtocol;
  /** Regular fields only (Host and `:authority` are in `authority`). */
  readonly headers: HeaderFields;
  /** The declared Content-Length, or -1 when none was declared. */
  readonly contentLength: number;
  /** No body follows the head. */
  readonly endStream: boolean;
  /** The lower-case protocol of a real upgrade request (`websocket`); undefined otherwise (h2c upgrades are ignored). */
  readonly upgrade: string | undefined;
}

/** A response head as an upstream codec decoded it, or as the router made it for a local reply. */
export interface ExchangeResponse {
  readonly status: number;
  /** The reason phrase as received over HTTP/1.x, kept when forwarding to HTTP/1.1. */
  readonly reason: string | undefined;
  readonly headers: HeaderFields;
  /** The declared Content-Length, or -1 when none was declared (for HEAD and 304 it describes the absent body). */
  readonly contentLength: number;
  /** No body follows the head. */
  readonly endStream: boolean;
}

/** The request the router forwards: the downstream head, its (maybe rewritten) path and the header edits. */
export interface UpstreamRequestHead {
  readonly request: ExchangeRequest;
  readonly path: string;
  readonly edits: HeaderEdits;
}

/** What the router sees of the downstream side of one exchange; implemented by each downstream codec. */
export interface DownstreamStream {
  /** Sends the response head with `edits` applied (undefined: as is). */
  sendHead(head: ExchangeResponse, edits: HeaderEdits | undefined): void;
  /** Sends body bytes; false when the client is not keeping up (`StreamHandler.downstreamDrained` follows). */
  sendData(chunk: Buffer): boolean;
  /** Ends the response, with trailers where the protocol can carry them. */
  sendEnd(trailers: HeaderFields | undefined): void;
  /** Abandons the response mid-way: HTTP/1.1 closes the connection, HTTP/2 resets the stream. */
  reset(): void;
  /** Stops and restarts delivery of request body data (upstream back-pressure). */
  pauseRequest(): void;
  resumeRequest(): void;
  /**
   * After a 101 response: carries raw bytes both ways between the client and `peer` (with
   * `pending` bytes from the peer first) until either side closes, then calls `closed`.
   */
  tunnel(peer: Socket, pending: Buffer | undefined, closed: () => void): void;
}

/** What a downstream codec tells the router about one exchange after its head. */
export interface StreamHandler {
  requestData(chunk: Buffer): void;
  requestEnd(trailers: HeaderFields | undefined): void;
  /** The client went away (or the connection failed) before the exchange ended. */
  downstreamReset(): void;
  /** The client can take more response data again. */
  downstreamDrained(): void;
}

/** Why an upstream attempt failed before it produced a whole response (Envoy's stream reset reasons). */
export type UpstreamResetReason = 'connectFailure' | 'overflow' | 'connectionTermination' | 'protocolError' | 'noHealthyUpstream';

/** What an upstream codec tells the router about one attempt. */
export interface UpstreamEvents {
  /** A connection is ready and the head is on its way: body data may be sent now. */
  upstreamReady(): void;
  /** The final response head (informational 1xx heads other than 101 are not passed). */
  upstreamHead(head: ExchangeResponse): void;
  upstreamData(chunk: Buffer): void;
  upstreamEnd(trailers: HeaderFields | undefined): void;
  /** The attempt failed before it produced a whole response. */
  upstreamReset(reason: UpstreamResetReason): void;
  /** The upstream can take more request body data again. */
  upstreamDrained(): void;
}

/** One try of a request against one upstream host. */
export interface UpstreamAttempt {
  /** Gets a connection and sends the head; events may be delivered before it returns. */
  start(): void;
  /** Sends request body bytes; false when the upstream is not keeping up (`upstreamDrained` follows). */
  sendData(chunk: Buffer): boolean;
  sendEnd(trailers: HeaderFields | undefined): void;
  pauseResponse(): void;
  resumeResponse(): void;
  /** Abandons the attempt (timeout, retry, client gone): its connection is closed, never reused. No event follows. */
  cancel(): void;
  /** After a 101: the upstream socket and bytes read past the response head; `close` releases the connection. */
  takeUpgraded(): { readonly socket: Socket; readonly pending: Buffer | undefined; close(): void };
}

/** Makes attempts over one upstream protocol; nothing happens until the attempt's `start`. */
export interface UpstreamCodec {
  create(cluster: Cluster, host: UpstreamHost, head: UpstreamRequestHead, events: UpstreamEvents): UpstreamAttempt;
}
