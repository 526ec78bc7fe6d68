/**
 * The entry point the listeners call for a filter chain whose terminal filter is the HTTP
 * connection manager: it serves the connection with the HTTP/1.1 codec and the router.
 */
import type { HttpConnectionManagerConfig } from '../config/index.js';
import type { DownstreamContext, ProxyRuntime } from '../listeners/types.js';
import { detectHttp2, http2Upstream, startHttp2Connection } from './h2/index.js';
import { serveHttp1 } from './http1-server.js';
import { http1Upstream } from './http1-upstream.js';
import { connectionManagerFor, type HttpOptions } from './manager.js';

/** The production options: Math.random, the HTTP/1.1 upstream codec, Envoy's idle timeout (1 h) and buffer limit (1 MiB). */
export const DEFAULT_HTTP_OPTIONS: HttpOptions = Object.freeze({
  random: Math.random,
  codecs: Object.freeze({ http1: http1Upstream, http2: http2Upstream }),
  idleTimeoutMs: 60 * 60 * 1000,
  retryBufferBytes: 1024 * 1024,
});

/** What the listener can do with a connection it handed over. */
export interface HttpConnection {
  /**
   * Envoy's drain (a removed filter chain, shutdown): no request after the ones in flight. An
   * idle HTTP/1.1 connection closes at once, a busy one after its response (`Connection: close`);
   * an HTTP/2 one gets GOAWAY and closes once its streams are done.
   */
  drain(): void;
}

/** Serves HTTP on an accepted connection (TLS already terminated when the chain has TLS) until it closes. */
export function startHttpConnection(ctx: DownstreamContext, hcm: HttpConnectionManagerConfig, runtime: ProxyRuntime, options: HttpOptions = DEFAULT_HTTP_OPTIONS): HttpConnection {
  const cm = connectionManagerFor(hcm, runtime, options);
  if (hcm.codec === 'http1') return serveHttp1(ctx, cm);
  if (hcm.codec === 'http2') return startHttp2Connection(ctx, cm);
  // Undecided until the first bytes (or ALPN) tell; a connection drained before that has sent no request and just closes.
  let decided: HttpConnection | undefined;
  detectHttp2(ctx, options.idleTimeoutMs, (c, http2) => (decided = http2 ? startHttp2Connection(c, cm) : serveHttp1(c, cm)));
  return {
    drain: () => {
      if (decided !== undefined) decided.drain();
      else ctx.socket.destroy();
    },
  };
}
