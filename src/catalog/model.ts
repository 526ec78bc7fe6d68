/**
 * The mesh model the catalog produces: per-proxy policy, ready for the xDS generators.
 * Every list is sorted by a stable key; objects are shared between proxies where equal.
 */
import type { ObjectRef } from '../api/meta.js';
import type { AccessGrant } from './access.js';
import type { CompiledHttpMatch } from './http-match.js';
import type { Identity } from './identity.js';
import type { Endpoint } from './endpoints.js';
import type { AppProtocol, MeshServicePort } from './services.js';

/** Circuit breakers and connection limits for an upstream (UpstreamTrafficSetting). */
export interface ConnectionSettings {
  setBy: ObjectRef;
  maxConnections?: number;
  connectTimeoutMs?: number;
  maxRequests?: number;
  maxRequestsPerConnection?: number;
  maxPendingRequests?: number;
  maxRetries?: number;
}

/** A Retry policy for one client and upstream. */
export interface RetryPolicy {
  setBy: ObjectRef;
  retryOn: string;
  numRetries?: number;
  perTryTimeoutMs?: number;
  retryBackoffBaseIntervalMs?: number;
}

/** A token bucket: `tokens` per `fillIntervalMs`, holding at most `tokens + burst`. */
export interface TokenBucket {
  tokens: number;
  fillIntervalMs: number;
  burst: number;
}

/** Server-side local rate limits of a service (UpstreamTrafficSetting). */
export interface LocalRateLimit {
  setBy: ObjectRef;
  tcp?: TokenBucket;
  http?: TokenBucket & { responseStatusCode: number; responseHeadersToAdd: ReadonlyArray<{ name: string; value: string }> };
  /** Per route, keyed by the route's path regex exactly as written. */
  routes: ReadonlyArray<{ pathRegex: string; http: TokenBucket & { responseStatusCode: number; responseHeadersToAdd: ReadonlyArray<{ name: string; value: string }> } }>;
}

/** One upstream (a service port) as one client sees it. */
export interface UpstreamCluster {
  port: MeshServicePort;
  /** Only the endpoints whose identity the client may reach (all of them in permissive mode). */
  endpoints: readonly Endpoint[];
  /** Every identity serving the port: the names the client accepts on the server's certificate. */
  identities: readonly Identity[];
  connection?: ConnectionSettings;
}

/** A backend of an outbound route. A denied backend's share is answered with a 403 (A15, A26). */
export interface WeightedBackend {
  cluster: UpstreamCluster;
  weight: number;
  allowed: boolean;
}

/** An outbound route: requests that fit `matches` (or every request) go to the backends. */
export interface OutboundRoute {
  /** Absent: every request. From a TrafficSplit's HTTPRouteGroups (A25). */
  matches?: readonly CompiledHttpMatch[];
  backends: readonly WeightedBackend[];
}

/** A service port the client may reach, with how its traffic is routed. */
export interface OutboundService {
  port: MeshServicePort;
  /** The TrafficSplit that routes this port, if any. */
  split?: ObjectRef;
  /** Most specific first; the last route catches every request. */
  routes: readonly OutboundRoute[];
  retry?: RetryPolicy;
}

/** An Egress policy that applies to the client. */
export interface EgressRule {
  egress: ObjectRef;
  hosts: readonly string[];
  ipAddresses: readonly string[];
  ports: ReadonlyArray<{ number: number; protocol: string }>;
  /** HTTPRouteGroup matches restricting HTTP egress; absent means any request. */
  matches?: readonly CompiledHttpMatch[];
  connection?: ConnectionSettings;
}

export interface OutboundPolicy {
  services: readonly OutboundService[];
  /** Global egress passthrough (MeshConfig `spec.traffic.enableEgress`). */
  egressPassthrough: boolean;
  egress: readonly EgressRule[];
}

/** One inbound HTTP route for RBAC: requests fitting `match` (any request if absent) from `principals`. */
export interface InboundRoute {
  match?: CompiledHttpMatch;
  /** `any` in permissive mode. */
  principals: readonly Identity[] | 'any';
  grantedBy: readonly ObjectRef[];
}

/** An IngressBackend rule for a local port. */
export interface IngressRule {
  ingressBackend: ObjectRef;
  protocol: 'http' | 'https';
  /** Source CIDRs (from Service endpoints and IPRange sources). */
  sourceCidrs: readonly string[];
  /** Principals allowed for https with client certificate validation. */
  principals: readonly string[];
  skipClientCertValidation: boolean;
  sniHosts: readonly string[];
}

/** One pod port that local services route to. */
export interface InboundPort {
  /** The pod port (the Service's target port resolved for this pod). */
  port: number;
  protocol: AppProtocol;
  /** Local service ports that lead here, then the split roots whose backends they are. */
  services: readonly MeshServicePort[];
  apexServices: readonly MeshServicePort[];
  permissive: boolean;
  /** The grants for this proxy's identity (empty in permissive mode): what `authorize` evaluates. */
  grants: readonly AccessGrant[];
  /** For HTTP ports: the evaluator's decisions as RBAC routes (union of every grant). */
  routes: readonly InboundRoute[];
  /** Who may open TCP connections (for tcp ports). */
  tcpPrincipals: readonly Identity[] | 'any';
  /**
   * UpstreamTrafficSetting rate limits by the id of the service port they were set for (local
   * and apex services): HTTP limits apply to that service's virtual host only. All services on
   * the pod port share one connection, so a TCP limit applies to the port (the first service's).
   */
  rateLimits: ReadonlyMap<string, LocalRateLimit>;
  ingress: readonly IngressRule[];
}

export interface InboundPolicy {
  ports: readonly InboundPort[];
}

/** A sidecar: a meshed pod. */
export interface ProxyRef {
  namespace: string;
  name: string;
  identity: Identity;
  ip?: string;
  /** The pod asks Prometheus to scrape it (`prometheus.io/scrape: "true"`): it gets the metrics listener. */
  metricsScraped: boolean;
}

/** Everything one proxy's configuration is built from. */
export interface ProxyPolicy {
  proxy: ProxyRef;
  outbound: OutboundPolicy;
  inbound: InboundPolicy;
}
