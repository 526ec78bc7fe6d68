/**
 * What every connection of one HTTP connection manager config shares: its stats, the route
 * config lookup, the outbound `osm-stats-*` fields, the cached Date value and the options
 * (random source, upstream codecs, limits). Made once per config object and runtime, so a
 * new connection costs no stat lookups.
 */
import type { Cluster } from '../clusters/types.js';
import type { HttpConnectionManagerConfig, HttpLocalRateLimitConfig, ProxyConfig, RouteConfig } from '../config/index.js';
import { TokenBucket } from '../filters/index.js';
import type { DownstreamContext, ProxyRuntime } from '../listeners/types.js';
import type { OsmRequestLabels } from '../stats/types.js';
import type { HttpProtocol, UpstreamCodec } from './exchange.js';
import { osmStatsFields } from './headers.js';
import { hcmStatsFor, type HcmStats } from './stats.js';

/** Knobs of the HTTP data path; tests inject the random source. */
export interface HttpOptions {
  /** Uniform in [0, 1): weighted cluster picks, retry back-off jitter, rate-limit percentages. */
  readonly random: () => number;
  /** Upstream codecs by protocol; a cluster asking for HTTP/2 uses `http1` until an HTTP/2 codec is given. */
  readonly codecs: { readonly http1: UpstreamCodec; readonly http2?: UpstreamCodec };
  /** Closes a connection without requests after this long (Envoy's HCM idle_timeout default: 1 hour). */
  readonly idleTimeoutMs: number;
  /** Request body bytes kept for retries; a longer body is not retried (Envoy's default buffer limit, 1 MiB). */
  readonly retryBufferBytes: number;
}

/** Shared by all connections of one connection manager config. */
export class ConnectionManager {
  readonly stats: HcmStats;
  readonly outboundOsmFields: readonly string[];
  #dateSecond = -1;
  #dateText = '';
  #lastLabels: OsmRequestLabels | undefined;

  constructor(
    readonly hcm: HttpConnectionManagerConfig,
    readonly runtime: ProxyRuntime,
    readonly options: HttpOptions,
  ) {
    this.stats = hcmStatsFor(runtime.stats, hcm);
    this.outboundOsmFields = osmStatsFields(runtime.workload);
  }

  /** The route config in force for a request (RDS by name, or inline); undefined when RDS has not got it. */
  routeConfig(config: ProxyConfig): RouteConfig | undefined {
    const routes = this.hcm.routes;
    return routes.kind === 'inline' ? routes.config : config.routeConfigs.get(routes.name);
  }

  /**
   * Whether the connection's listener still has its filter chain in `config`. Envoy drains the
   * connections of a removed filter chain; an HTTP/1.1 connection then closes after its next
   * response, so a keep-alive client reconnects onto the chain that replaced it (a "denied"
   * chain giving way to an allowed one, say).
   */
  servesChain(config: ProxyConfig, ctx: DownstreamContext): boolean {
    let chains = chainsByConfig.get(config);
    if (chains === undefined) {
      chains = new Set();
      for (const l of config.listeners.values()) {
        for (const c of l.filterChains) chains.add(`${l.name}\n${c.name}`);
        if (l.defaultFilterChain !== undefined) chains.add(`${l.name}\n${l.defaultFilterChain.name}`);
      }
      chainsByConfig.set(config, chains);
    }
    return chains.has(`${ctx.listenerName}\n${ctx.filterChainName}`);
  }

  /** The codec for a cluster's upstream protocol. */
  /** The upstream codec: HTTP/2 for `http2` clusters, and for `downstream` ones when the client spoke HTTP/2. */
  codecFor(cluster: Cluster, downstream: HttpProtocol): UpstreamCodec {
    const codecs = this.options.codecs;
    const p = cluster.config.upstreamProtocol;
    return p === 'http2' || (p === 'downstream' && downstream === 'HTTP/2') ? codecs.http2 ?? codecs.http1 : codecs.http1;
  }

  /** The Date field value for local replies, formatted once per second. */
  date(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#dateText = new Date(now).toUTCString();
    }
    return this.#dateText;
  }

  /**
   * OSM's request-metric labels for a source (namespace, kind, name, pod) and this workload. The
   * last set is reused: an inbound connection usually carries one client pod's requests.
   */
  osmLabels(source: readonly [string, string, string, string]): OsmRequestLabels {
    const last = this.#lastLabels;
    if (last !== undefined && last.sourceNamespace === source[0] && last.sourceKind === source[1] && last.sourceName === source[2] && last.sourcePod === source[3]) return last;
    const w = this.runtime.workload;
    return (this.#lastLabels = {
      sourceNamespace: source[0], sourceKind: source[1], sourceName: source[2], sourcePod: source[3],
      destinationNamespace: w.namespace, destinationKind: w.kind, destinationName: w.name, destinationPod: w.pod,
    });
  }

  /** The token bucket of a local rate limit config: one per config object, kept across requests and connections. */
  bucket(limit: HttpLocalRateLimitConfig): TokenBucket | undefined {
    const config = limit.tokenBucket;
    if (config === undefined) return undefined;
    let bucket = buckets.get(limit);
    if (bucket === undefined) buckets.set(limit, (bucket = new TokenBucket(config, () => this.runtime.now())));
    return bucket;
  }
}

const buckets = new WeakMap<HttpLocalRateLimitConfig, TokenBucket>();
const chainsByConfig = new WeakMap<ProxyConfig, Set<string>>();
const managers = new WeakMap<HttpConnectionManagerConfig, ConnectionManager>();

/** The shared state of a connection manager config (made on its first connection). */
export function connectionManagerFor(hcm: HttpConnectionManagerConfig, runtime: ProxyRuntime, options: HttpOptions): ConnectionManager {
  const cached = managers.get(hcm);
  if (cached !== undefined && cached.runtime === runtime && cached.options === options) return cached;
  const cm = new ConnectionManager(hcm, runtime, options);
  managers.set(hcm, cm);
  return cm;
}
