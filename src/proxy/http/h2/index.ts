/**
 * HTTP/2 for the sidecar's connection manager: the downstream codec (h2c with prior knowledge,
 * or TLS with ALPN `h2` or the mesh's `osm`) and how an `auto` connection is recognised, the
 * upstream codec (one multiplexed session per cluster and host), and gRPC's trailers-only
 * local replies. Both codecs speak to the router through the shapes of `../exchange.ts`.
 */
export { detectHttp2, startHttp2Connection, type Http2Connection } from './downstream.js';
export { createHttp2Upstream, http2Upstream, type Http2Upstream, type Http2UpstreamOptions } from './upstream.js';
export { DEFAULT_HTTP2_WINDOWS } from './settings.js';
export { encodeGrpcMessage, grpcLocalReply, grpcStatusOf, GrpcStatus, isGrpcRequest } from './grpc.js';
