/**
 * One cluster object: one version of a cluster's config with its hosts, balancing, connection
 * pools, circuit breakers, outlier detection and health checks. The manager keeps it while the
 * config stays the same (endpoints update in place); a changed config gets a new object that
 * takes over the hosts' health verdicts, while this one drains (`retire`).
 */
import type { SecureContext } from 'node:tls';
import type { ClusterConfig, EndpointsConfig, SecretConfig } from '../config/index.js';
import type { Logger } from '../../lib/logging.js';
import { certificateSecret, validationSecret, type TlsContextCache } from '../tls/index.js';
import { Balancer } from './balancer.js';
import { CircuitBreakers } from './circuit-breakers.js';
import type { ClusterClock } from './clock.js';
import { HealthChecker, type HostCheckState } from './health-check.js';
import { Host, hostId } from './host.js';
import { OutlierDetector, type HostMonitor } from './outlier.js';
import { ConnectionPools } from './pool.js';
import { sameData } from './same-data.js';
import type { ClusterStatsSet } from './stats.js';
import type { TransportSettings } from './transport.js';
import type { Cluster, ClusterDescription, Destination, UpstreamConnection, UpstreamError, UpstreamHost, UpstreamOutcome } from './types.js';

/** What every cluster object shares. */
export interface ClusterDeps {
  readonly tls: TlsContextCache;
  readonly logger: Logger;
  readonly clock: ClusterClock;
  readonly random: () => number;
  readonly idleTimeoutMs: number;
}

/** The secrets a cluster's TLS names, resolved from one ProxyConfig (to notice rotation). */
export type ClusterSecrets = readonly [SecretConfig | undefined, SecretConfig | undefined];

/** The secrets `config.tls` names, as present in `secrets`. */
export function secretsOf(config: ClusterConfig, secrets: ReadonlyMap<string, SecretConfig>): ClusterSecrets {
  const t = config.tls;
  return [t?.certificateSecret ? secrets.get(t.certificateSecret) : undefined, t?.validationSecret ? secrets.get(t.validationSecret) : undefined];
}

function resolveTls(config: ClusterConfig, secrets: ReadonlyMap<string, SecretConfig>, cache: TlsContextCache): TransportSettings['tls'] {
  const t = config.tls;
  if (!t) return undefined;
  const referrer = `cluster ${config.name} transport_socket`;
  try {
    const certificate = t.certificateSecret ? certificateSecret(secrets, t.certificateSecret, referrer) : undefined;
    const validation = t.validationSecret ? validationSecret(secrets, t.validationSecret, referrer) : undefined;
    const context: SecureContext = cache.context(certificate, validation, t.params);
    return { context, servername: t.sni || undefined, alpn: t.alpn, validation };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** One endpoint with the priority of its locality. */
interface HostEndpoint {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: Host['edsHealth'];
  readonly priority: number;
}

/** A cluster's endpoints as hosts, first occurrence of an `address:port` winning. */
function endpointList(endpoints: EndpointsConfig | undefined): HostEndpoint[] {
  const out: HostEndpoint[] = [];
  const seen = new Set<string>();
  for (const l of endpoints?.localities ?? []) {
    for (const e of l.endpoints) {
      const id = hostId(e.address, e.port);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ ...e, priority: l.priority });
    }
  }
  return out;
}

export class ClusterImpl implements Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly stats: ClusterStatsSet;
  readonly #secrets: ClusterSecrets;
  readonly #deps: ClusterDeps;
  readonly #logger: Logger;
  /** Current hosts by id; for an original-destination cluster, those with connections. */
  readonly #hosts = new Map<string, Host>();
  /** Every host this object made, removed ones included (their connections still drain here). */
  readonly #mine = new WeakSet<Host>();
  readonly #breakers: CircuitBreakers;
  readonly #pools: ConnectionPools;
  readonly #outlier: OutlierDetector | undefined;
  readonly #health: HealthChecker | undefined;
  #endpoints: EndpointsConfig | undefined;
  #balancer: Balancer | undefined;
  #retired = false;

  constructor(config: ClusterConfig, endpoints: EndpointsConfig | undefined, secrets: ReadonlyMap<string, SecretConfig>, stats: ClusterStatsSet, deps: ClusterDeps, previous?: ClusterImpl) {
    this.name = config.name;
    this.config = config;
    this.stats = stats;
    this.#deps = deps;
    this.#secrets = secretsOf(config, secrets);
    this.#logger = deps.logger.child({ cluster: config.name });
    const tls = resolveTls(config, secrets, deps.tls);
    if (tls && 'error' in tls) this.#logger.warn({ event: 'cluster.tls_error', detail: tls.error }, 'cluster TLS cannot be set up: its connections fail');
    const transport: TransportSettings = { clusterName: config.name, connectTimeoutMs: config.connectTimeoutMs, tls };
    this.#breakers = new CircuitBreakers(config.circuitBreakers, stats);
    this.#pools = new ConnectionPools({ transport, maxRequestsPerConnection: config.maxRequestsPerConnection, idleTimeoutMs: deps.idleTimeoutMs }, this.#breakers, stats, deps.clock, {
      connectResult: (host, result) => {
        if (!result.ok) this.#outlier?.connectFailed(host, result.kind === 'connectTimeout');
      },
      poolEmpty: (host) => {
        if (this.config.discovery.kind === 'originalDst' && host.activeRequests === 0 && this.#hosts.get(host.id) === host) this.#hosts.delete(host.id);
      },
    });
    // Health verdicts change rarely; rebuilding at once keeps the membership gauges current.
    const changed = () => {
      if (!this.#retired) this.#rebuild();
    };
    if (config.outlierDetection) {
      this.#outlier = new OutlierDetector({ config: config.outlierDetection, scope: stats, clock: deps.clock, random: deps.random, logger: this.#logger, changed });
    }
    if (config.healthCheck) {
      this.#health = new HealthChecker({
        config: config.healthCheck,
        clusterName: config.name,
        transport: { ...transport, connectTimeoutMs: Math.min(config.connectTimeoutMs, config.healthCheck.timeoutMs) },
        scope: stats,
        clock: deps.clock,
        random: deps.random,
        logger: this.#logger,
        hasTraffic: () => stats.upstreamCxTotal.value > 0,
        changed,
        passed: (host) => this.#outlier?.healthCheckPassed(host),
      });
    }
    this.#setEndpoints(endpoints, previous);
  }

  /** Whether `config` (and the secrets it names) is what this object was built from. */
  isSame(config: ClusterConfig, secrets: ReadonlyMap<string, SecretConfig>): boolean {
    if (config !== this.config && !sameData(config, this.config)) return false;
    const next = secretsOf(config, secrets);
    return next.every((s, i) => s === this.#secrets[i] || sameData(s, this.#secrets[i]));
  }

  /** Applies a new endpoint list in place: hosts with the same `address:port` keep their state and pools. */
  updateEndpoints(endpoints: EndpointsConfig | undefined): void {
    if (endpoints === this.#endpoints || this.#retired) return;
    this.#setEndpoints(endpoints, undefined);
  }

  chooseHost(destination: Destination | undefined, exclude?: ReadonlySet<string>): UpstreamHost | undefined {
    if (this.config.discovery.kind === 'originalDst') {
      if (!destination) return undefined;
      // Not kept until it connects, so destinations that never get a connection leave nothing behind.
      return this.#hosts.get(hostId(destination.address, destination.port)) ?? this.#newHost({ ...destination, weight: 1, health: 'unknown', priority: 0 });
    }
    let balancer = this.#balancer;
    if (!balancer) balancer = this.#rebuild();
    const pick = balancer.choose(exclude);
    if (!pick) {
      this.stats.upstreamCxNoneHealthy.inc();
      return undefined;
    }
    if (pick.panic) this.stats.lbHealthyPanic.inc();
    return pick.host;
  }

  connect(host: UpstreamHost, options: { readonly pooled: boolean }, callback: (error: UpstreamError | undefined, connection: UpstreamConnection | undefined) => void): () => void {
    return this.#pools.acquire(this.#own(host), options.pooled, callback);
  }

  tryStartRequest(): boolean {
    return this.#breakers.tryStartRequest();
  }

  endRequest(): void {
    this.#breakers.endRequest();
  }

  tryStartRetry(): boolean {
    return this.#breakers.tryStartRetry();
  }

  endRetry(): void {
    this.#breakers.endRetry();
  }

  hostRequestStarted(host: UpstreamHost): void {
    if (host instanceof Host) host.activeRequests++;
  }

  hostRequestEnded(host: UpstreamHost, outcome: UpstreamOutcome): void {
    if (!(host instanceof Host)) return;
    if (host.activeRequests > 0) host.activeRequests--;
    if (outcome === 'success') host.successes++;
    else host.errors++;
    if (this.#mine.has(host)) this.#outlier?.requestEnded(host, outcome);
  }

  /** Replaced or removed: no more health checks or ejections; idle connections close, busy ones when released. */
  retire(): void {
    if (this.#retired) return;
    this.#retired = true;
    this.#breakers.retire();
    this.#outlier?.close();
    this.#health?.close();
    this.#pools.drain();
  }

  /** Shutdown: `retire`, and connects in progress and waiting requests are given up. */
  close(): void {
    this.retire();
    this.#pools.close();
  }

  describe(): ClusterDescription {
    const hosts = [...this.#hosts.values()].sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return {
      name: this.name,
      hosts: hosts.map((h) => ({
        id: h.id,
        weight: h.weight,
        healthFlags: h.healthFlags(),
        activeRequests: h.activeRequests,
        activeConnections: this.#pools.connectionsTo(h),
        successes: h.successes,
        errors: h.errors,
      })),
    };
  }

  /** What the cluster object replacing this one takes over for the host `id`: its health verdicts. */
  handOver(id: string): { readonly host: Host; readonly monitor: HostMonitor | undefined; readonly check: HostCheckState | undefined } | undefined {
    const host = this.#hosts.get(id);
    if (!host) return undefined;
    return { host, monitor: this.#outlier?.monitorOf(host), check: this.#health?.stateOf(host) };
  }

  /** This object's Host for `host`: a host chosen on another object (a retry across an update) is matched by id. */
  #own(host: UpstreamHost): Host {
    if (host instanceof Host && this.#mine.has(host)) {
      if (this.config.discovery.kind === 'originalDst' && !host.removed && !this.#hosts.has(host.id)) this.#hosts.set(host.id, host);
      return host;
    }
    const known = this.#hosts.get(host.id);
    if (known) return known;
    const stranger = this.#newHost({ address: host.address, port: host.port, weight: 1, health: 'unknown', priority: 0 });
    if (this.config.discovery.kind === 'originalDst') this.#hosts.set(stranger.id, stranger);
    // A host this cluster no longer lists: serve the request, keep nothing pooled.
    else stranger.removed = true;
    return stranger;
  }

  #newHost(e: HostEndpoint): Host {
    const host = new Host(e, e.priority);
    this.#mine.add(host);
    return host;
  }

  #setEndpoints(endpoints: EndpointsConfig | undefined, previous: ClusterImpl | undefined): void {
    this.#endpoints = endpoints;
    if (this.config.discovery.kind === 'originalDst') return;
    const seen = new Set<string>();
    for (const e of endpointList(endpoints)) {
      seen.add(hostIdOf(e));
      const existing = this.#hosts.get(hostIdOf(e));
      if (existing) {
        existing.weight = e.weight;
        existing.priority = e.priority;
        existing.edsHealth = e.health;
        continue;
      }
      const host = this.#newHost(e);
      this.#hosts.set(host.id, host);
      const before = previous?.handOver(host.id);
      // Verdicts carry over only where the new config still checks the same way.
      const check = this.#health ? before?.check : undefined;
      const monitor = this.#outlier ? before?.monitor : undefined;
      if (check && before) host.failedActiveHc = before.host.failedActiveHc;
      if (monitor && before) host.ejected = before.host.ejected;
      this.#outlier?.addHost(host, monitor);
      this.#health?.addHost(host, check);
    }
    for (const [id, host] of this.#hosts) {
      if (seen.has(id)) continue;
      host.removed = true;
      this.#hosts.delete(id);
      this.#outlier?.removeHost(host);
      this.#health?.removeHost(host);
      this.#pools.hostRemoved(host);
    }
    this.#balancer = undefined;
    this.#rebuild();
  }

  #rebuild(): Balancer {
    const hosts = [...this.#hosts.values()];
    const policy = this.config.lbPolicy === 'leastRequest' ? 'leastRequest' : 'roundRobin';
    const balancer = new Balancer(hosts, policy, this.#deps.random);
    this.#balancer = balancer;
    if (!this.#retired) {
      this.stats.membershipTotal.set(hosts.length);
      this.stats.membershipHealthy.set(hosts.filter((h) => h.health === 'healthy').length);
      this.stats.membershipDegraded.set(hosts.filter((h) => h.health === 'degraded').length);
    }
    return balancer;
  }
}

function hostIdOf(e: { address: string; port: number }): string {
  return hostId(e.address, e.port);
}
