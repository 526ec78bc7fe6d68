/**
 * What a filter chain's terminal filter (tcp_proxy or the HTTP connection manager) gets from the
 * listener: the accepted socket (TLS already terminated when the chain has TLS), who the peer is,
 * where the connection was going, and the runtime it forwards through.
 */
import type { Socket } from 'node:net';
import type { ProxyConfig } from '../config/index.js';
import type { ClusterManager, Destination } from '../clusters/types.js';
import type { Stats } from '../stats/types.js';
import type { PeerSans } from '../tls/index.js';

export interface DownstreamContext {
  /** Plain or TLS socket; data it already delivered during inspection is in `prefetched`. */
  readonly socket: Socket;
  /** Bytes read while inspecting the connection that the filter must handle first (empty if none). */
  readonly prefetched: Buffer;
  /** The verified client certificate's identities when the chain terminated mesh TLS. */
  readonly peer: PeerSans | undefined;
  readonly tls: boolean;
  /** The original destination (SO_ORIGINAL_DST, the explicit destination, or the local address). */
  readonly destination: Destination;
  readonly source: Destination;
  /** SNI the client sent, Envoy's `%REQUESTED_SERVER_NAME%`. */
  readonly serverName: string | undefined;
  readonly listenerName: string;
  readonly direction: 'inbound' | 'outbound' | 'unspecified';
  readonly filterChainName: string;
}

/** Who this sidecar is, for OSM's request metrics and `osm-stats-*` headers. */
export interface WorkloadIdentity {
  readonly namespace: string;
  /** `Deployment`, `StatefulSet`, `Pod`, ... (a ReplicaSet is reported as its Deployment). */
  readonly kind: string;
  readonly name: string;
  readonly pod: string;
}

/** One access-log line's fields, written by the HTTP connection manager (OSM's JSON format). */
export type AccessLogEntry = Readonly<Record<string, string | number | null>>;

/** Shared by every connection: the current config, the upstream clusters, stats and logs. */
export interface ProxyRuntime {
  /** The config in force now; a request reads it once when it starts, so in-flight requests finish on theirs. */
  config(): ProxyConfig;
  readonly clusters: ClusterManager;
  readonly stats: Stats;
  readonly workload: WorkloadIdentity;
  accessLog(entry: AccessLogEntry): void;
  /** Current time in ms (monotonic), injectable for tests. */
  now(): number;
}
