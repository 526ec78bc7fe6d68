/**
 * The entry point the listeners call for a filter chain whose terminal filter is the HTTP
 * connection manager: it serves the connection with the HTTP/1.1 codec and the router.
 */
import type { HttpConnectionManagerConfig } from '../config/index.js';
import type { DownstreamContext, ProxyRuntime } from '../listeners/types.js';
import { serveHttp1 } from './http1-server.js';
import { http1Upstream } from './http1-upstream.js';
import { connectionManagerFor, type HttpOptions } from './manager.js';

/** The production options: Math.random, the HTTP/1.1 upstream codec, Envoy's idle timeout (1 h) and buffer limit (1 MiB). */
export const DEFAULT_HTTP_OPTIONS: HttpOptions = Object.freeze({
  random: Math.random,
  codecs: Object.freeze({ http1: http1Upstream }),
  idleTimeoutMs: 60 * 60 * 1000,
  retryBufferBytes: 1024 * 1024,
});

/** Serves HTTP on an accepted connection (TLS already terminated when the chain has TLS) until it closes. */
export function startHttpConnection(ctx: DownstreamContext, hcm: HttpConnectionManagerConfig, runtime: ProxyRuntime, options: HttpOptions = DEFAULT_HTTP_OPTIONS): void {
  serveHttp1(ctx, connectionManagerFor(hcm, runtime, options));
}
