/**
 * The cluster manager: one cluster object per configured cluster, kept across config versions
 * while its config (and the secrets its TLS names) stays the same, so pools, health verdicts
 * and ejections survive unrelated pushes. A changed cluster gets a new object for new requests
 * (certificate rotation included) while the old one drains; a removed one drains and goes.
 * Nothing in use is ever closed by an update.
 */
import type { Logger } from '../../lib/logging.js';
import type { ProxyConfig } from '../config/index.js';
import type { Counter, Gauge, Stats } from '../stats/types.js';
import type { TlsContextCache } from '../tls/index.js';
import { ClusterImpl, type ClusterDeps } from './cluster.js';
import { systemClusterClock, type ClusterClock } from './clock.js';
import { ClusterStatsSet } from './stats.js';
import type { Cluster, ClusterDescription, ClusterManager } from './types.js';

/**
 * How long an idle pooled connection is kept: 60 s. Envoy's default is 1 h, but a Node app
 * behind the inbound sidecar closes idle keep-alive connections after 5 s
 * (`server.keepAliveTimeout`) and other upstreams after a minute or so; a connection the
 * server is closing at the moment we reuse it fails the request, so stale ones go sooner.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

export interface ClusterManagerOptions {
  readonly stats: Stats;
  readonly tls: TlsContextCache;
  readonly logger: Logger;
  /** Timers for connect timeouts, idle closing, outlier back-off and health checks; the process clock by default. */
  readonly clock?: ClusterClock;
  /** Uniform in [0, 1): balancing, jitter and enforcement chances; `Math.random` by default. */
  readonly random?: () => number;
  /** Idle pooled connections close after this long (default `DEFAULT_IDLE_TIMEOUT_MS`). */
  readonly idleTimeoutMs?: number;
}

/** Makes an empty cluster manager; `update` gives it clusters. */
export function createClusterManager(options: ClusterManagerOptions): ClusterManager {
  return new Manager(options);
}

class Manager implements ClusterManager {
  readonly #clusters = new Map<string, ClusterImpl>();
  readonly #statsByName = new Map<string, ClusterStatsSet>();
  readonly #deps: ClusterDeps;
  readonly #stats: Stats;
  readonly #logger: Logger;
  readonly #counts: { readonly added: Counter; readonly modified: Counter; readonly removed: Counter; readonly active: Gauge };
  #closed = false;

  constructor(options: ClusterManagerOptions) {
    this.#stats = options.stats;
    this.#logger = options.logger;
    this.#deps = {
      tls: options.tls,
      logger: options.logger,
      clock: options.clock ?? systemClusterClock,
      random: options.random ?? Math.random,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    };
    this.#counts = {
      added: options.stats.counter('cluster_manager.cluster_added'),
      modified: options.stats.counter('cluster_manager.cluster_modified'),
      removed: options.stats.counter('cluster_manager.cluster_removed'),
      active: options.stats.gauge('cluster_manager.active_clusters'),
    };
  }

  get(name: string): Cluster | undefined {
    return this.#clusters.get(name);
  }

  update(config: ProxyConfig): void {
    if (this.#closed) return;
    for (const [name, c] of config.clusters) {
      const endpoints = config.endpoints.get(name) ?? (c.discovery.kind === 'static' ? c.discovery.endpoints : undefined);
      const current = this.#clusters.get(name);
      if (current?.isSame(c, config.secrets)) {
        current.updateEndpoints(endpoints);
        continue;
      }
      const next = new ClusterImpl(c, endpoints, config.secrets, this.#statsOf(name), this.#deps, current);
      this.#clusters.set(name, next);
      if (current) {
        current.retire();
        this.#counts.modified.inc();
        this.#logger.info({ event: 'cluster.modified', cluster: name }, 'cluster changed: new requests use the new settings, open connections drain');
      } else {
        this.#counts.added.inc();
        this.#logger.debug({ event: 'cluster.added', cluster: name }, 'cluster added');
      }
    }
    for (const [name, c] of this.#clusters) {
      if (config.clusters.has(name)) continue;
      c.retire();
      this.#clusters.delete(name);
      this.#counts.removed.inc();
      this.#logger.info({ event: 'cluster.removed', cluster: name }, 'cluster removed: open connections drain');
    }
    this.#counts.active.set(this.#clusters.size);
  }

  describe(): readonly ClusterDescription[] {
    return [...this.#clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => c.describe());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#clusters.values()) c.close();
    this.#clusters.clear();
    this.#counts.active.set(0);
  }

  #statsOf(name: string): ClusterStatsSet {
    let s = this.#statsByName.get(name);
    if (!s) this.#statsByName.set(name, (s = new ClusterStatsSet(this.#stats, name)));
    return s;
  }
}
