/**
 * The connection manager's stats with Envoy's names, looked up once per connection manager
 * config (and per rate-limit config), so the data path only increments fields:
 * `http.<stat_prefix>.*` for the connection manager, its router and its RBAC filters, and
 * `<stat_prefix>.http_local_rate_limit.*` for each local rate limit.
 */
import type { HttpConnectionManagerConfig, HttpLocalRateLimitConfig } from '../config/index.js';
import type { Counter, Gauge, Histogram, Stats } from '../stats/types.js';

/** `http.<stat_prefix>.*`. */
export class HcmStats {
  readonly downstreamCxTotal: Counter;
  readonly downstreamCxActive: Gauge;
  readonly downstreamCxHttp1Total: Counter;
  readonly downstreamCxHttp1Active: Gauge;
  readonly downstreamCxDestroy: Counter;
  readonly downstreamCxDestroyLocal: Counter;
  readonly downstreamCxDestroyRemote: Counter;
  readonly downstreamCxDestroyActiveRq: Counter;
  readonly downstreamCxDestroyLocalActiveRq: Counter;
  readonly downstreamCxDestroyRemoteActiveRq: Counter;
  readonly downstreamCxRxBytesTotal: Counter;
  readonly downstreamCxTxBytesTotal: Counter;
  readonly downstreamCxProtocolError: Counter;
  readonly downstreamCxIdleTimeout: Counter;
  readonly downstreamCxLengthMs: Histogram;
  readonly downstreamCxUpgradesTotal: Counter;
  readonly downstreamCxUpgradesActive: Gauge;
  readonly downstreamRqTotal: Counter;
  readonly downstreamRqHttp1Total: Counter;
  readonly downstreamRqActive: Gauge;
  readonly downstreamRqCompleted: Counter;
  /** `downstream_rq_1xx` ... `downstream_rq_5xx` at index 0 to 4. */
  readonly downstreamRqByClass: readonly Counter[];
  readonly downstreamRqTime: Histogram;
  readonly downstreamRqRxReset: Counter;
  readonly downstreamRqTxReset: Counter;
  readonly downstreamRqWsOnNonWsRoute: Counter;
  readonly noRoute: Counter;
  readonly noCluster: Counter;
  readonly rqDirectResponse: Counter;
  readonly rqTotal: Counter;
  readonly rqResetAfterDownstreamResponseStarted: Counter;
  readonly rbacAllowed: Counter;
  readonly rbacDenied: Counter;

  /** Counts a response head by its status class. */
  countResponse(status: number): void {
    this.downstreamRqByClass[Math.min(5, Math.max(1, Math.floor(status / 100))) - 1]!.inc();
  }

  constructor(stats: Stats, statPrefix: string) {
    const p = `http.${statPrefix}.`;
    const c = (name: string): Counter => stats.counter(p + name);
    const g = (name: string): Gauge => stats.gauge(p + name);
    this.downstreamCxTotal = c('downstream_cx_total');
    this.downstreamCxActive = g('downstream_cx_active');
    this.downstreamCxHttp1Total = c('downstream_cx_http1_total');
    this.downstreamCxHttp1Active = g('downstream_cx_http1_active');
    this.downstreamCxDestroy = c('downstream_cx_destroy');
    this.downstreamCxDestroyLocal = c('downstream_cx_destroy_local');
    this.downstreamCxDestroyRemote = c('downstream_cx_destroy_remote');
    this.downstreamCxDestroyActiveRq = c('downstream_cx_destroy_active_rq');
    this.downstreamCxDestroyLocalActiveRq = c('downstream_cx_destroy_local_active_rq');
    this.downstreamCxDestroyRemoteActiveRq = c('downstream_cx_destroy_remote_active_rq');
    this.downstreamCxRxBytesTotal = c('downstream_cx_rx_bytes_total');
    this.downstreamCxTxBytesTotal = c('downstream_cx_tx_bytes_total');
    this.downstreamCxProtocolError = c('downstream_cx_protocol_error');
    this.downstreamCxIdleTimeout = c('downstream_cx_idle_timeout');
    this.downstreamCxLengthMs = stats.histogram(`${p}downstream_cx_length_ms`, 'ms');
    this.downstreamCxUpgradesTotal = c('downstream_cx_upgrades_total');
    this.downstreamCxUpgradesActive = g('downstream_cx_upgrades_active');
    this.downstreamRqTotal = c('downstream_rq_total');
    this.downstreamRqHttp1Total = c('downstream_rq_http1_total');
    this.downstreamRqActive = g('downstream_rq_active');
    this.downstreamRqCompleted = c('downstream_rq_completed');
    this.downstreamRqByClass = [1, 2, 3, 4, 5].map((k) => c(`downstream_rq_${k}xx`));
    this.downstreamRqTime = stats.histogram(`${p}downstream_rq_time`, 'ms');
    this.downstreamRqRxReset = c('downstream_rq_rx_reset');
    this.downstreamRqTxReset = c('downstream_rq_tx_reset');
    this.downstreamRqWsOnNonWsRoute = c('downstream_rq_ws_on_non_ws_route');
    this.noRoute = c('no_route');
    this.noCluster = c('no_cluster');
    this.rqDirectResponse = c('rq_direct_response');
    this.rqTotal = c('rq_total');
    this.rqResetAfterDownstreamResponseStarted = c('rq_reset_after_downstream_response_started');
    this.rbacAllowed = c('rbac.allowed');
    this.rbacDenied = c('rbac.denied');
  }
}

/** `<stat_prefix>.http_local_rate_limit.*` of one local rate limit config. */
export class RateLimitStats {
  readonly enabled: Counter;
  readonly enforced: Counter;
  readonly ok: Counter;
  readonly rateLimited: Counter;

  constructor(stats: Stats, statPrefix: string) {
    const p = `${statPrefix}.http_local_rate_limit.`;
    this.enabled = stats.counter(`${p}enabled`);
    this.enforced = stats.counter(`${p}enforced`);
    this.ok = stats.counter(`${p}ok`);
    this.rateLimited = stats.counter(`${p}rate_limited`);
  }
}

/** A value made once per config object and stats store (config objects are frozen per version). */
class PerConfig<K extends object, V> {
  private readonly cache = new WeakMap<K, { stats: Stats; value: V }>();

  constructor(private readonly make: (stats: Stats, key: K) => V) {}

  get(stats: Stats, key: K): V {
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.stats === stats) return hit.value;
    const value = this.make(stats, key);
    this.cache.set(key, { stats, value });
    return value;
  }
}

const hcmStats = new PerConfig<HttpConnectionManagerConfig, HcmStats>((stats, hcm) => new HcmStats(stats, hcm.statPrefix));
const rateLimitStats = new PerConfig<HttpLocalRateLimitConfig, RateLimitStats>((stats, limit) => new RateLimitStats(stats, limit.statPrefix));

/** The stats of a connection manager config. */
export function hcmStatsFor(stats: Stats, hcm: HttpConnectionManagerConfig): HcmStats {
  return hcmStats.get(stats, hcm);
}

/** The stats of a local rate limit config. */
export function rateLimitStatsFor(stats: Stats, limit: HttpLocalRateLimitConfig): RateLimitStats {
  return rateLimitStats.get(stats, limit);
}
