/**
 * The sidecar's HTTP connection manager and router (Envoy semantics): the HTTP/1.1 downstream
 * loop on raw sockets, route selection, RBAC and local rate limit filters, weighted clusters,
 * retries, timeouts, upstream HTTP/1.1 over pooled connections, websocket tunnels, stats, access
 * logs and OSM's request metrics. The router works on the protocol-neutral shapes of
 * `exchange.ts`, so other codecs (HTTP/2) plug in beside HTTP/1.1. It must not use `node:http`
 * on the data path, nor create stream objects per request.
 */
export { DEFAULT_HTTP_OPTIONS, startHttpConnection, type HttpConnection } from './connection-manager.js';
export type { HttpOptions } from './manager.js';
export {
  FieldKind, fieldKindOf, firstOfKind, HeaderEdits, PairFields,
  type DownstreamStream, type ExchangeRequest, type ExchangeResponse, type HeaderFields, type HttpProtocol, type StreamHandler,
  type UpstreamAttempt, type UpstreamCodec, type UpstreamEvents, type UpstreamRequestHead, type UpstreamResetReason,
} from './exchange.js';
export { http1Upstream } from './http1-upstream.js';
export { startExchange } from './router.js';
export { connectionManagerFor, type ConnectionManager } from './manager.js';
