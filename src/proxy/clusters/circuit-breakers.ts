/**
 * Envoy's default-priority circuit breakers for one cluster object: connections open or
 * opening, requests waiting for a connection, requests and retries in flight, each against
 * its limit, with the `circuit_breakers.default.*_open` gauges (1 while the limit is reached).
 * A cluster replaced by a config change keeps counting its own connections down, but only the
 * current one writes the gauges.
 */
import type { CircuitBreakerConfig } from '../config/index.js';
import type { ClusterStatsSet } from './stats.js';

export class CircuitBreakers {
  connections = 0;
  pending = 0;
  requests = 0;
  retries = 0;
  readonly limits: CircuitBreakerConfig;
  readonly #stats: ClusterStatsSet;
  #live = true;

  constructor(limits: CircuitBreakerConfig, stats: ClusterStatsSet) {
    this.limits = limits;
    this.#stats = stats;
    this.#refresh();
  }

  /** Stops writing the shared gauges (a newer cluster object owns them now). */
  retire(): void {
    this.#live = false;
  }

  canConnect(): boolean {
    return this.connections < this.limits.maxConnections;
  }

  canQueue(): boolean {
    return this.pending < this.limits.maxPendingRequests;
  }

  connectionOpened(): void {
    this.connections++;
    if (this.#live) this.#stats.cxOpen.set(this.connections >= this.limits.maxConnections ? 1 : 0);
  }

  connectionClosed(): void {
    this.connections--;
    if (this.#live) this.#stats.cxOpen.set(this.connections >= this.limits.maxConnections ? 1 : 0);
  }

  pendingAdded(): void {
    this.pending++;
    this.#stats.upstreamRqPendingActive.add(1);
    if (this.#live) this.#stats.rqPendingOpen.set(this.pending >= this.limits.maxPendingRequests ? 1 : 0);
  }

  pendingRemoved(): void {
    this.pending--;
    this.#stats.upstreamRqPendingActive.add(-1);
    if (this.#live) this.#stats.rqPendingOpen.set(this.pending >= this.limits.maxPendingRequests ? 1 : 0);
  }

  /** A max_requests slot; on overflow counts `upstream_rq_pending_overflow`, as Envoy's pool does. */
  tryStartRequest(): boolean {
    if (this.requests >= this.limits.maxRequests) {
      this.#stats.upstreamRqPendingOverflow.inc();
      return false;
    }
    this.requests++;
    if (this.#live) this.#stats.rqOpen.set(this.requests >= this.limits.maxRequests ? 1 : 0);
    return true;
  }

  endRequest(): void {
    if (this.requests > 0) this.requests--;
    if (this.#live) this.#stats.rqOpen.set(this.requests >= this.limits.maxRequests ? 1 : 0);
  }

  /** A max_retries slot; on overflow counts `upstream_rq_retry_overflow`. */
  tryStartRetry(): boolean {
    if (this.retries >= this.limits.maxRetries) {
      this.#stats.upstreamRqRetryOverflow.inc();
      return false;
    }
    this.retries++;
    if (this.#live) this.#stats.rqRetryOpen.set(this.retries >= this.limits.maxRetries ? 1 : 0);
    return true;
  }

  endRetry(): void {
    if (this.retries > 0) this.retries--;
    if (this.#live) this.#stats.rqRetryOpen.set(this.retries >= this.limits.maxRetries ? 1 : 0);
  }

  #refresh(): void {
    if (!this.#live) return;
    const s = this.#stats;
    const l = this.limits;
    s.cxOpen.set(this.connections >= l.maxConnections ? 1 : 0);
    s.rqPendingOpen.set(this.pending >= l.maxPendingRequests ? 1 : 0);
    s.rqOpen.set(this.requests >= l.maxRequests ? 1 : 0);
    s.rqRetryOpen.set(this.retries >= l.maxRetries ? 1 : 0);
  }
}
