/**
 * Envoy's per-cluster stats, `cluster.<name>.<stat>`: the `ClusterStats` the data path
 * increments, plus the ones only the cluster itself moves (pending totals, circuit-breaker
 * gauges, membership, TLS). One set per cluster name, shared by every config version of that
 * cluster, so a cluster replaced by an update keeps counting where the old one stopped.
 */
import type { Counter, Gauge, Histogram, Stats } from '../stats/types.js';
import type { ClusterStats } from './types.js';

/** Stats under one cluster's prefix, for the parts (outlier detection, health checks) that name their own. */
export interface ClusterScope {
  counter(stat: string): Counter;
  gauge(stat: string): Gauge;
}

/** Everything a cluster counts: the shared `ClusterStats` and the cluster-internal rest. */
export class ClusterStatsSet implements ClusterStats, ClusterScope {
  readonly upstreamRqTotal: Counter;
  readonly upstreamRqCompleted: Counter;
  readonly upstreamRqActive: Gauge;
  readonly upstreamRqPendingActive: Gauge;
  readonly upstreamRqPendingOverflow: Counter;
  readonly upstreamRqPendingFailureEject: Counter;
  readonly upstreamRqTimeout: Counter;
  readonly upstreamRqPerTryTimeout: Counter;
  readonly upstreamRqRxReset: Counter;
  readonly upstreamRqTxReset: Counter;
  readonly upstreamRqRetry: Counter;
  readonly upstreamRqRetrySuccess: Counter;
  readonly upstreamRqRetryOverflow: Counter;
  readonly upstreamRqRetryLimitExceeded: Counter;
  readonly upstreamRqRetryBackoffExponential: Counter;
  readonly upstreamRqTime: Histogram;
  readonly upstreamCxTotal: Counter;
  readonly upstreamCxActive: Gauge;
  readonly upstreamCxConnectFail: Counter;
  readonly upstreamCxConnectTimeout: Counter;
  readonly upstreamCxOverflow: Counter;
  readonly upstreamCxTxBytesTotal: Counter;
  readonly upstreamCxRxBytesTotal: Counter;
  readonly upstreamCxDestroyLocalWithActiveRq: Counter;
  readonly upstreamCxDestroyRemoteWithActiveRq: Counter;

  readonly upstreamRqPendingTotal: Counter;
  readonly upstreamCxIdleTimeout: Counter;
  readonly upstreamCxMaxRequests: Counter;
  readonly upstreamCxNoneHealthy: Counter;
  readonly lbHealthyPanic: Counter;
  readonly membershipHealthy: Gauge;
  readonly membershipDegraded: Gauge;
  readonly membershipTotal: Gauge;
  /** `circuit_breakers.default.*_open`: 1 while that limit is reached, else 0. */
  readonly cxOpen: Gauge;
  readonly rqPendingOpen: Gauge;
  readonly rqOpen: Gauge;
  readonly rqRetryOpen: Gauge;
  readonly sslHandshake: Counter;
  readonly sslSessionReused: Counter;
  readonly sslConnectionError: Counter;
  readonly sslFailVerifySan: Counter;
  readonly sslFailVerifyError: Counter;

  readonly #stats: Stats;
  readonly #prefix: string;
  readonly #byStatus = new Map<number, { code: Counter; klass: Counter }>();

  constructor(stats: Stats, clusterName: string) {
    this.#stats = stats;
    this.#prefix = `cluster.${clusterName}.`;
    const c = (s: string) => this.counter(s);
    const g = (s: string) => this.gauge(s);
    this.upstreamRqTotal = c('upstream_rq_total');
    this.upstreamRqCompleted = c('upstream_rq_completed');
    this.upstreamRqActive = g('upstream_rq_active');
    this.upstreamRqPendingActive = g('upstream_rq_pending_active');
    this.upstreamRqPendingOverflow = c('upstream_rq_pending_overflow');
    this.upstreamRqPendingFailureEject = c('upstream_rq_pending_failure_eject');
    this.upstreamRqTimeout = c('upstream_rq_timeout');
    this.upstreamRqPerTryTimeout = c('upstream_rq_per_try_timeout');
    this.upstreamRqRxReset = c('upstream_rq_rx_reset');
    this.upstreamRqTxReset = c('upstream_rq_tx_reset');
    this.upstreamRqRetry = c('upstream_rq_retry');
    this.upstreamRqRetrySuccess = c('upstream_rq_retry_success');
    this.upstreamRqRetryOverflow = c('upstream_rq_retry_overflow');
    this.upstreamRqRetryLimitExceeded = c('upstream_rq_retry_limit_exceeded');
    this.upstreamRqRetryBackoffExponential = c('upstream_rq_retry_backoff_exponential');
    this.upstreamRqTime = stats.histogram(`${this.#prefix}upstream_rq_time`, 'ms');
    this.upstreamCxTotal = c('upstream_cx_total');
    this.upstreamCxActive = g('upstream_cx_active');
    this.upstreamCxConnectFail = c('upstream_cx_connect_fail');
    this.upstreamCxConnectTimeout = c('upstream_cx_connect_timeout');
    this.upstreamCxOverflow = c('upstream_cx_overflow');
    this.upstreamCxTxBytesTotal = c('upstream_cx_tx_bytes_total');
    this.upstreamCxRxBytesTotal = c('upstream_cx_rx_bytes_total');
    this.upstreamCxDestroyLocalWithActiveRq = c('upstream_cx_destroy_local_with_active_rq');
    this.upstreamCxDestroyRemoteWithActiveRq = c('upstream_cx_destroy_remote_with_active_rq');
    this.upstreamRqPendingTotal = c('upstream_rq_pending_total');
    this.upstreamCxIdleTimeout = c('upstream_cx_idle_timeout');
    this.upstreamCxMaxRequests = c('upstream_cx_max_requests');
    this.upstreamCxNoneHealthy = c('upstream_cx_none_healthy');
    this.lbHealthyPanic = c('lb_healthy_panic');
    this.membershipHealthy = g('membership_healthy');
    this.membershipDegraded = g('membership_degraded');
    this.membershipTotal = g('membership_total');
    this.cxOpen = g('circuit_breakers.default.cx_open');
    this.rqPendingOpen = g('circuit_breakers.default.rq_pending_open');
    this.rqOpen = g('circuit_breakers.default.rq_open');
    this.rqRetryOpen = g('circuit_breakers.default.rq_retry_open');
    this.sslHandshake = c('ssl.handshake');
    this.sslSessionReused = c('ssl.session_reused');
    this.sslConnectionError = c('ssl.connection_error');
    this.sslFailVerifySan = c('ssl.fail_verify_san');
    this.sslFailVerifyError = c('ssl.fail_verify_error');
  }

  counter(stat: string): Counter {
    return this.#stats.counter(this.#prefix + stat);
  }

  gauge(stat: string): Gauge {
    return this.#stats.gauge(this.#prefix + stat);
  }

  recordResponse(statusCode: number): void {
    let s = this.#byStatus.get(statusCode);
    if (!s) {
      // Looked up once per status code seen, so a response costs two increments, not two lookups.
      s = { code: this.counter(`upstream_rq_${statusCode}`), klass: this.counter(`upstream_rq_${Math.floor(statusCode / 100)}xx`) };
      this.#byStatus.set(statusCode, s);
    }
    s.code.inc();
    s.klass.inc();
    this.upstreamRqCompleted.inc();
  }
}
