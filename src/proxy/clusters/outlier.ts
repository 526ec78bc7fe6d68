/**
 * Passive health checking, Envoy's outlier detection (arch_overview/upstream/outlier and
 * source/common/upstream/outlier_detection_impl.cc):
 *
 * - Consecutive errors eject at once: N 5xx, N gateway errors (502/503/504), or, with
 *   `splitExternalLocalOriginErrors`, N local-origin failures (connect failures, resets,
 *   timeouts). Without the split those count as 503 and 504.
 * - Every `intervalMs`: ejected hosts whose time is up return; success-rate and
 *   failure-percentage ejection run over the last interval's requests; hosts that stayed in
 *   since their last return lower their back-off by one.
 * - A host stays out `baseEjectionTimeMs` x its back-off (which grows by one per ejection),
 *   capped at `maxEjectionTimeMs`, plus jitter. No ejection may take the ejected share of the
 *   cluster past `maxEjectionPercent` (unless `alwaysEjectOneHost` and none is ejected);
 *   a detection is enforced with its `enforcing*` chance.
 */
import type { OutlierDetectionConfig } from '../config/index.js';
import type { Logger } from '../../lib/logging.js';
import type { Counter } from '../stats/types.js';
import type { ClusterClock } from './clock.js';
import type { Host } from './host.js';
import type { ClusterScope } from './stats.js';
import type { UpstreamOutcome } from './types.js';

/** Envoy's `OutlierEjectionType`s, named as their stats are. */
type EjectionType =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'local_origin_success_rate'
  | 'failure_percentage'
  | 'local_origin_failure_percentage';

/** Requests in one interval: the current one is written, the last one is evaluated. */
interface Buckets {
  current: { success: number; total: number };
  last: { success: number; total: number };
}

/** What the detector keeps per host; it survives a cluster's config change with the host. */
export interface HostMonitor {
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  ejections: number;
  backoff: number;
  lastEjectionMs: number | undefined;
  lastUnejectionMs: number | undefined;
  jitterMs: number;
  readonly external: Buckets;
  readonly localOrigin: Buckets;
}

function newMonitor(): HostMonitor {
  const buckets = (): Buckets => ({ current: { success: 0, total: 0 }, last: { success: 0, total: 0 } });
  return {
    consecutive5xx: 0,
    consecutiveGatewayFailure: 0,
    consecutiveLocalOriginFailure: 0,
    ejections: 0,
    backoff: 0,
    lastEjectionMs: undefined,
    lastUnejectionMs: undefined,
    jitterMs: 0,
    external: buckets(),
    localOrigin: buckets(),
  };
}

/** The response code Envoy maps each outcome to when local-origin errors are not split out. */
const CODE_OF: Record<UpstreamOutcome, number | undefined> = {
  success: 200,
  error5xx: 500,
  gatewayError: 502,
  connectFailure: 503,
  localReset: 503,
  timeout: 504,
};

export interface OutlierOptions {
  readonly config: OutlierDetectionConfig;
  readonly scope: ClusterScope;
  readonly clock: ClusterClock;
  readonly random: () => number;
  readonly logger: Logger;
  /** A host was ejected or returned: balancing must be rebuilt. */
  readonly changed: () => void;
}

/** One cluster object's outlier detector. */
export class OutlierDetector {
  readonly #o: OutlierOptions;
  readonly #monitors = new Map<Host, HostMonitor>();
  readonly #counters = new Map<string, Counter>();
  #ejectionsActive = 0;
  #cancelTimer: (() => void) | undefined;
  #closed = false;

  constructor(options: OutlierOptions) {
    this.#o = options;
    this.#arm();
  }

  /** Starts watching `host`, with the state it had in the previous cluster object if any. */
  addHost(host: Host, carried?: HostMonitor): void {
    this.#monitors.set(host, carried ?? newMonitor());
    if (host.ejected) this.#setActive(this.#ejectionsActive + 1);
  }

  /** Stops watching `host` (it left the cluster). */
  removeHost(host: Host): void {
    if (!this.#monitors.delete(host)) return;
    if (host.ejected) this.#setActive(this.#ejectionsActive - 1);
  }

  /** The state to carry into the next cluster object. */
  monitorOf(host: Host): HostMonitor | undefined {
    return this.#monitors.get(host);
  }

  /** A finished request's outcome, from the data path. */
  requestEnded(host: Host, outcome: UpstreamOutcome): void {
    // The pool reports connect failures itself, for requests and tcp_proxy alike.
    if (outcome === 'connectFailure' || this.#closed) return;
    const m = this.#monitors.get(host);
    if (!m) return;
    if (!this.#o.config.splitExternalLocalOriginErrors) return this.#httpCode(host, m, CODE_OF[outcome] ?? 200);
    // The request had a connection: Envoy's router reports that success first (on pool ready),
    // so resets and timeouts never run up a count on their own; connect failures do.
    this.#localOriginSuccess(m);
    if (outcome === 'localReset' || outcome === 'timeout') this.#localOriginFailure(host, m);
    else this.#httpCode(host, m, CODE_OF[outcome] ?? 200);
  }

  /** A connect to `host` failed or timed out (TLS failures included). */
  connectFailed(host: Host, timedOut: boolean): void {
    const m = this.#monitors.get(host);
    if (!m || this.#closed) return;
    if (this.#o.config.splitExternalLocalOriginErrors) this.#localOriginFailure(host, m);
    else this.#httpCode(host, m, timedOut ? 504 : 503);
  }

  /** An active health check passed: Envoy returns an ejected host at once (`successful_active_health_check_uneject_host`). */
  healthCheckPassed(host: Host): void {
    if (!this.#closed && this.#o.config.successfulActiveHealthCheckUnejectHost && host.ejected && !host.failedActiveHc) this.#uneject(host, this.#o.clock.nowMs());
  }

  /** Stops the interval timer and gives up the ejections this object counted. */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#setActive(0);
  }

  #httpCode(host: Host, m: HostMonitor, code: number): void {
    m.external.current.total++;
    if (code < 500) {
      m.external.current.success++;
      m.consecutive5xx = 0;
      m.consecutiveGatewayFailure = 0;
      return;
    }
    const c = this.#o.config;
    if (code >= 502 && code <= 504 && ++m.consecutiveGatewayFailure === c.consecutiveGatewayFailure) this.#consecutive(host, m, 'consecutive_gateway_failure');
    else if (code < 502 || code > 504) m.consecutiveGatewayFailure = 0;
    if (++m.consecutive5xx === c.consecutive5xx) this.#consecutive(host, m, 'consecutive_5xx');
  }

  #localOriginFailure(host: Host, m: HostMonitor): void {
    m.localOrigin.current.total++;
    if (++m.consecutiveLocalOriginFailure === this.#o.config.consecutiveLocalOriginFailure) this.#consecutive(host, m, 'consecutive_local_origin_failure');
  }

  #localOriginSuccess(m: HostMonitor): void {
    m.localOrigin.current.total++;
    m.localOrigin.current.success++;
    m.consecutiveLocalOriginFailure = 0;
  }

  #consecutive(host: Host, m: HostMonitor, type: 'consecutive_5xx' | 'consecutive_gateway_failure' | 'consecutive_local_origin_failure'): void {
    if (host.ejected) return;
    this.#count(`ejections_detected_${type}`);
    this.#eject(host, m, type);
    // Reset so the next run of errors is counted from zero, as Envoy does after a detection.
    if (type === 'consecutive_5xx') m.consecutive5xx = 0;
    else if (type === 'consecutive_gateway_failure') m.consecutiveGatewayFailure = 0;
    else m.consecutiveLocalOriginFailure = 0;
  }

  #enforcingPercent(type: EjectionType): number {
    const c = this.#o.config;
    switch (type) {
      case 'consecutive_5xx':
        return c.enforcingConsecutive5xxPercent;
      case 'consecutive_gateway_failure':
        return c.enforcingConsecutiveGatewayFailurePercent;
      case 'consecutive_local_origin_failure':
        return c.enforcingConsecutiveLocalOriginFailurePercent;
      case 'success_rate':
        return c.successRate.enforcingPercent;
      case 'local_origin_success_rate':
        return c.successRate.enforcingLocalOriginPercent;
      case 'failure_percentage':
        return c.failurePercentage.enforcingPercent;
      case 'local_origin_failure_percentage':
        return c.failurePercentage.enforcingLocalOriginPercent;
    }
  }

  #eject(host: Host, m: HostMonitor, type: EjectionType): void {
    const c = this.#o.config;
    const ejectedPercent = (100 * (this.#ejectionsActive + 1)) / this.#monitors.size;
    const allowed = ejectedPercent <= Math.min(100, c.maxEjectionPercent) || (c.alwaysEjectOneHost && this.#ejectionsActive === 0);
    if (!allowed) {
      this.#count('ejections_overflow');
      return;
    }
    if (this.#o.random() * 100 >= this.#enforcingPercent(type)) return;
    const now = this.#o.clock.nowMs();
    host.ejected = true;
    m.ejections++;
    m.lastEjectionMs = now;
    m.jitterMs = Math.floor(this.#o.random() * (c.maxEjectionTimeJitterMs + 1));
    if (m.backoff * c.baseEjectionTimeMs < c.maxEjectionTimeMs + c.baseEjectionTimeMs) m.backoff++;
    this.#setActive(this.#ejectionsActive + 1);
    this.#count('ejections_enforced_total');
    this.#count(`ejections_enforced_${type}`);
    const outMs = Math.min(c.baseEjectionTimeMs * m.backoff, c.maxEjectionTimeMs) + m.jitterMs;
    this.#o.logger.warn({ event: 'cluster.outlier_ejected', host: host.id, type, ejections: m.ejections, ejectedForMs: outMs }, 'upstream host ejected by outlier detection');
    this.#o.changed();
  }

  #uneject(host: Host, now: number): void {
    const m = this.#monitors.get(host);
    if (!m || !host.ejected) return;
    host.ejected = false;
    m.consecutive5xx = 0;
    m.consecutiveGatewayFailure = 0;
    m.consecutiveLocalOriginFailure = 0;
    m.lastUnejectionMs = now;
    this.#setActive(this.#ejectionsActive - 1);
    this.#o.logger.info({ event: 'cluster.outlier_unejected', host: host.id }, 'upstream host returned from outlier ejection');
    this.#o.changed();
  }

  #arm(): void {
    this.#cancelTimer = this.#o.clock.setTimer(() => this.#onInterval(), this.#o.config.intervalMs);
  }

  #onInterval(): void {
    const c = this.#o.config;
    const now = this.#o.clock.nowMs();
    for (const [host, m] of this.#monitors) {
      if (host.ejected && m.lastEjectionMs !== undefined && Math.min(c.baseEjectionTimeMs * m.backoff, c.maxEjectionTimeMs) + m.jitterMs <= now - m.lastEjectionMs) this.#uneject(host, now);
      for (const b of [m.external, m.localOrigin]) {
        b.last = b.current;
        b.current = { success: 0, total: 0 };
      }
    }
    this.#rates('external');
    if (c.splitExternalLocalOriginErrors) this.#rates('localOrigin');
    for (const [host, m] of this.#monitors) {
      if (!host.ejected && m.lastUnejectionMs !== undefined && now - m.lastUnejectionMs >= c.intervalMs && m.backoff > 0) m.backoff--;
    }
    this.#arm();
  }

  /** Success-rate and failure-percentage ejection over the last interval (Envoy's processSuccessRateEjections). */
  #rates(origin: 'external' | 'localOrigin'): void {
    const { successRate: sr, failurePercentage: fp } = this.#o.config;
    if (this.#monitors.size < sr.minimumHosts && this.#monitors.size < fp.minimumHosts) return;
    const srHosts: Array<[Host, HostMonitor, number]> = [];
    const fpHosts: Array<[Host, HostMonitor, number]> = [];
    for (const [host, m] of this.#monitors) {
      const b = m[origin].last;
      if (host.ejected || b.total === 0) continue;
      const rate = (b.success * 100) / b.total;
      if (b.total >= sr.requestVolume) srHosts.push([host, m, rate]);
      if (b.total >= fp.requestVolume) fpHosts.push([host, m, rate]);
    }
    if (srHosts.length > 0 && srHosts.length >= sr.minimumHosts) {
      const mean = srHosts.reduce((s, [, , r]) => s + r, 0) / srHosts.length;
      const stdev = Math.sqrt(srHosts.reduce((s, [, , r]) => s + (r - mean) ** 2, 0) / srHosts.length);
      const threshold = mean - sr.stdevFactor * stdev;
      const type = origin === 'external' ? 'success_rate' : 'local_origin_success_rate';
      for (const [host, m, rate] of srHosts) {
        if (rate >= threshold) continue;
        this.#count(`ejections_detected_${type}`);
        if (!host.ejected) this.#eject(host, m, type);
      }
    }
    if (fpHosts.length > 0 && fpHosts.length >= fp.minimumHosts) {
      const type = origin === 'external' ? 'failure_percentage' : 'local_origin_failure_percentage';
      for (const [host, m, rate] of fpHosts) {
        if (100 - rate < fp.thresholdPercent) continue;
        this.#count(`ejections_detected_${type}`);
        if (!host.ejected) this.#eject(host, m, type);
      }
    }
  }

  #setActive(n: number): void {
    this.#o.scope.gauge('outlier_detection.ejections_active').add(n - this.#ejectionsActive);
    this.#ejectionsActive = n;
  }

  #count(stat: string): void {
    let c = this.#counters.get(stat);
    if (!c) this.#counters.set(stat, (c = this.#o.scope.counter(`outlier_detection.${stat}`)));
    c.inc();
  }
}
