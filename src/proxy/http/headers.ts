/**
 * What the connection manager and router change in the headers they forward, as Envoy does for a
 * sidecar (use_remote_address false, the default, and the mesh's config):
 *
 * - Hop-by-hop fields are removed both ways (Connection, Keep-Alive, Proxy-Connection,
 *   Transfer-Encoding, Upgrade unless the exchange is an upgrade, TE unless `trailers`);
 *   framing (Content-Length / chunked) and Host are written by the encoder.
 * - `Expect: 100-continue` is answered by the proxy and not forwarded (proxy_100_continue false).
 * - X-Forwarded-For passes unchanged: Envoy appends to it only with use_remote_address.
 * - X-Forwarded-Proto is set to the downstream scheme when absent, kept when present.
 * - X-Request-Id is kept when present, otherwise a UUID v4 is generated.
 * - Envoy's request-control headers (`x-envoy-retry-on`, `x-envoy-upstream-rq-timeout-ms`, ...)
 *   and `x-forwarded-client-cert` are removed, as Envoy does for requests it does not treat as
 *   internal. The sidecar never acts on them.
 * - `osm-stats-*` (OSM's request-metrics source labels): the outbound side sets them from its
 *   own workload; the inbound side reads them for `osm_request_*` and removes them before the app.
 * - Responses get `x-envoy-upstream-service-time` and `server: envoy` (Envoy's default
 *   server_header_transformation OVERWRITE).
 */
import { randomUUID } from 'node:crypto';
import type { WorkloadIdentity } from '../listeners/types.js';
import { FieldKind, HeaderEdits, type ExchangeRequest, type ExchangeResponse } from './exchange.js';

/** What the request header pass found, besides the edits. */
export interface RequestFacts {
  readonly edits: HeaderEdits;
  readonly requestId: string;
  /** Only read when access logging is on. */
  readonly userAgent: string | undefined;
  readonly forwardedFor: string | undefined;
  readonly originalPath: string | undefined;
  /** Inbound only: the `osm-stats-*` values the client side sent (namespace, kind, name, pod). */
  readonly osmSource: readonly [string, string, string, string] | undefined;
}

/** The `osm-stats-*` fields the outbound side adds, from the workload (ReplicaSets already reported as Deployments). */
export function osmStatsFields(workload: WorkloadIdentity): readonly string[] {
  return ['osm-stats-namespace', workload.namespace, 'osm-stats-kind', workload.kind, 'osm-stats-name', workload.name, 'osm-stats-pod', workload.pod];
}

/** One pass over the request fields: what to drop, what to add, and the values the proxy needs. */
export function prepareRequestHeaders(
  request: ExchangeRequest,
  direction: 'inbound' | 'outbound' | 'unspecified',
  outboundOsmFields: readonly string[],
  readLogFields: boolean,
): RequestFacts {
  const f = request.headers;
  const n = f.count;
  const edits = new HeaderEdits();
  let requestId: string | undefined;
  let hasForwardedProto = false;
  let userAgent: string | undefined;
  let forwardedFor: string | undefined;
  let originalPath: string | undefined;
  let osm: [string, string, string, string] | undefined;
  for (let i = 0; i < n; i++) {
    switch (f.kind(i)) {
      case FieldKind.other:
        break;
      case FieldKind.host:
      case FieldKind.connection:
      case FieldKind.keepAlive:
      case FieldKind.proxyConnection:
      case FieldKind.transferEncoding:
      case FieldKind.contentLength:
      case FieldKind.expect:
      case FieldKind.http2Settings:
      case FieldKind.envoyControl:
        edits.drop(i, n);
        break;
      case FieldKind.te:
        if (f.value(i).toLowerCase() !== 'trailers') edits.drop(i, n);
        break;
      case FieldKind.upgrade:
        if (request.upgrade === undefined) edits.drop(i, n);
        break;
      case FieldKind.xRequestId:
        requestId ??= f.value(i);
        break;
      case FieldKind.xForwardedProto:
        hasForwardedProto = true;
        break;
      case FieldKind.xForwardedFor:
        if (readLogFields) forwardedFor ??= f.value(i);
        break;
      case FieldKind.userAgent:
        if (readLogFields) userAgent ??= f.value(i);
        break;
      case FieldKind.xEnvoyOriginalPath:
        if (readLogFields) originalPath ??= f.value(i);
        break;
      case FieldKind.osmStatsNamespace:
      case FieldKind.osmStatsKind:
      case FieldKind.osmStatsName:
      case FieldKind.osmStatsPod:
        if (direction === 'unspecified') break;
        if (direction === 'inbound') {
          osm ??= ['unknown', 'unknown', 'unknown', 'unknown'];
          osm[f.kind(i) - FieldKind.osmStatsNamespace] = f.value(i);
        }
        edits.drop(i, n);
        break;
    }
  }
  if (requestId === undefined) {
    requestId = randomUUID();
    edits.add('x-request-id', requestId);
  }
  if (!hasForwardedProto) edits.add('x-forwarded-proto', request.scheme);
  if (direction === 'outbound') for (let k = 0; k < outboundOsmFields.length; k += 2) edits.add(outboundOsmFields[k]!, outboundOsmFields[k + 1]!);
  return { edits, requestId, userAgent, forwardedFor, originalPath, osmSource: direction === 'inbound' ? osm ?? UNKNOWN_SOURCE : undefined };
}

const UNKNOWN_SOURCE: readonly [string, string, string, string] = Object.freeze(['unknown', 'unknown', 'unknown', 'unknown'] as const);

/** The edits for a forwarded response: hop-by-hop and framing removed, service time and server set. */
export function prepareResponseHeaders(head: ExchangeResponse, upgraded: boolean, serviceTimeMs: string): HeaderEdits {
  const f = head.headers;
  const n = f.count;
  const edits = new HeaderEdits();
  for (let i = 0; i < n; i++) {
    switch (f.kind(i)) {
      case FieldKind.connection:
      case FieldKind.keepAlive:
      case FieldKind.proxyConnection:
      case FieldKind.transferEncoding:
      case FieldKind.contentLength:
      case FieldKind.server:
      case FieldKind.xEnvoyUpstreamServiceTime:
        edits.drop(i, n);
        break;
      case FieldKind.upgrade:
        if (!upgraded) edits.drop(i, n);
        break;
    }
  }
  edits.add('x-envoy-upstream-service-time', serviceTimeMs);
  edits.add('server', 'envoy');
  return edits;
}
