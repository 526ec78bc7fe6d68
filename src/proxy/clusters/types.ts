/**
 * What the listeners and the HTTP router see of upstream clusters: choosing an endpoint,
 * getting a connection to it (pooled for HTTP/1.1, fresh for TCP), circuit-breaker slots, and
 * the outcomes that feed least-request balancing and outlier detection. Implemented by
 * `manager.ts`; everything here is per config version only as far as `ClusterManager.update`
 * says: clusters whose config did not change keep their pools across versions.
 */
import type { Socket } from 'node:net';
import type { ClusterConfig, ProxyConfig } from '../config/index.js';
import type { Counter, Gauge, Histogram } from '../stats/types.js';

export interface Destination {
  readonly address: string;
  readonly port: number;
}

export interface UpstreamHost {
  readonly address: string;
  readonly port: number;
  /** `address:port` (IPv6 in brackets), Envoy's `%UPSTREAM_HOST%`. */
  readonly id: string;
}

/** Why no connection was had; each maps to an Envoy response flag (UO, UH, UF, ...). */
export type UpstreamFailureKind = 'overflow' | 'noHealthyUpstream' | 'connectTimeout' | 'connectFailure' | 'tlsFailure';

export interface UpstreamError {
  readonly kind: UpstreamFailureKind;
  /** Names the cluster and host, e.g. `cluster bookstore/bookstore|14001: connect ECONNREFUSED 10.1.0.5:14001`. */
  readonly message: string;
  readonly host: UpstreamHost | undefined;
}

/** A connected upstream socket (TLS: handshake done and the server's SANs verified; TCP_NODELAY on). */
export interface UpstreamConnection {
  readonly socket: Socket;
  readonly host: UpstreamHost;
  /** Requests sent on it so far, counted by the caller through `startRequest`. */
  readonly requests: number;
  /** Counts a request on this connection (for max_requests_per_connection and cx stats). */
  startRequest(): void;
  /** Back to the idle pool for the next request (HTTP/1.1 keep-alive); a closed or non-pooled socket is closed instead. */
  release(): void;
  /** Closes it; it is never reused. */
  close(): void;
}

/**
 * How a request or connection ended, for outlier detection and least-request. Outlier detection
 * reads `success` as a non-5xx response, `error5xx` as a 500/501/505..., `gatewayError` as a
 * 502/503/504, `localReset` as the connection failing mid-request and `timeout` as no response in
 * time; `connectFailure` only ends the request, since the cluster already counted the failed connect.
 */
export type UpstreamOutcome = 'success' | 'error5xx' | 'gatewayError' | 'connectFailure' | 'localReset' | 'timeout';

/** Envoy's per-cluster stats the data path increments (`cluster.<name>.<stat>`). */
export interface ClusterStats {
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
  /** `upstream_rq_<code>`, `upstream_rq_<N>xx` and `upstream_rq_completed` for one response. */
  recordResponse(statusCode: number): void;
}

export interface Cluster {
  readonly name: string;
  readonly config: ClusterConfig;
  readonly stats: ClusterStats;
  /**
   * An endpoint by the cluster's balancing policy, skipping ejected and unhealthy hosts and,
   * when another host is available, those in `exclude` (retries prefer a different host).
   * For an `originalDst` cluster: the connection's original destination.
   */
  chooseHost(destination: Destination | undefined, exclude?: ReadonlySet<string>): UpstreamHost | undefined;
  /**
   * A connection to `host`: an idle pooled one or a new one (`pooled: false` for tcp_proxy:
   * always new, never reused). Honours max_connections (overflow) and the connect timeout.
   * Calls back exactly once unless cancelled, never before `connect` returns; returns the
   * cancel function. Attach socket listeners synchronously in the callback (a reused socket is
   * already flowing).
   */
  connect(host: UpstreamHost, options: { readonly pooled: boolean }, callback: (error: UpstreamError | undefined, connection: UpstreamConnection | undefined) => void): () => void;
  /** A max_requests slot; false means overflow (503, flag UO) and counts `upstream_rq_pending_overflow`, as Envoy does. */
  tryStartRequest(): boolean;
  endRequest(): void;
  /** A max_retries slot; false means retry overflow and counts `upstream_rq_retry_overflow`. */
  tryStartRetry(): boolean;
  endRetry(): void;
  /** Feeds least-request balancing. */
  hostRequestStarted(host: UpstreamHost): void;
  /** Feeds least-request balancing and passive outlier detection. */
  hostRequestEnded(host: UpstreamHost, outcome: UpstreamOutcome): void;
}

export interface ClusterManager {
  get(name: string): Cluster | undefined;
  /** Applies a new config: unchanged clusters keep their pools, changed ones drain, removed ones close when idle. */
  update(config: ProxyConfig): void;
  /** What `/clusters` shows: per cluster, per host, stats and health flags. */
  describe(): readonly ClusterDescription[];
  close(): void;
}

export interface ClusterDescription {
  readonly name: string;
  readonly hosts: ReadonlyArray<{
    readonly id: string;
    readonly weight: number;
    readonly healthFlags: readonly string[];
    readonly activeRequests: number;
    readonly activeConnections: number;
    readonly successes: number;
    readonly errors: number;
  }>;
}
