/** Envoy's per-listener stats (`listener.<address>_<port>.<stat>`), looked up once per bound address. */
import type { Stats, Counter, Gauge } from '../stats/types.js';

export interface ListenerStats {
  readonly downstreamCxTotal: Counter;
  readonly downstreamCxActive: Gauge;
  readonly downstreamCxDestroy: Counter;
  readonly noFilterChainMatch: Counter;
  readonly listenerFilterTimeout: Counter;
  readonly sslHandshake: Counter;
  readonly sslConnectionError: Counter;
  readonly sslFailVerifyNoCert: Counter;
  readonly sslFailVerifySan: Counter;
}

/** Envoy writes the address with `_` before the port: `listener.0.0.0.0_15001.`. */
export function listenerStats(stats: Stats, address: string, port: number): ListenerStats {
  const n = (stat: string) => `listener.${address}_${port}.${stat}`;
  return {
    downstreamCxTotal: stats.counter(n('downstream_cx_total')),
    downstreamCxActive: stats.gauge(n('downstream_cx_active')),
    downstreamCxDestroy: stats.counter(n('downstream_cx_destroy')),
    noFilterChainMatch: stats.counter(n('no_filter_chain_match')),
    listenerFilterTimeout: stats.counter(n('downstream_pre_cx_timeout')),
    sslHandshake: stats.counter(n('ssl.handshake')),
    sslConnectionError: stats.counter(n('ssl.connection_error')),
    sslFailVerifyNoCert: stats.counter(n('ssl.fail_verify_no_cert')),
    sslFailVerifySan: stats.counter(n('ssl.fail_verify_san')),
  };
}
