/**
 * The sidecar's own config model: what the data path reads, decoded once from xDS by the
 * `decode-*.ts` modules and assembled by `snapshot.ts`. These are our types, not protos
 * (STYLE.md section 1): every field is one the proxy acts on, units are in names, regexes are
 * already compiled, and everything is frozen once built.
 */
import type { WholeMatcher } from '../../lib/re2.js';

/** One problem in a resource, with the proto field path it was found at (for the NACK message). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** The outcome of decoding one resource: our model, or every issue found in it. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

/** How a string is matched (Envoy's StringMatcher); regexes are RE2 and match the whole input. */
export type StringMatch =
  | { readonly kind: 'exact' | 'prefix' | 'suffix' | 'contains'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'regex'; readonly regex: WholeMatcher };

/** A condition on one request header (pseudo-headers such as `:method` included). */
export type HeaderMatch =
  | { readonly name: string; readonly kind: 'string'; readonly match: StringMatch; readonly invert: boolean }
  | { readonly name: string; readonly kind: 'present'; readonly present: boolean; readonly invert: boolean };

/** An RBAC permission: what a request or connection does, as a tree of conditions. */
export type RbacPermission =
  | { readonly kind: 'any' }
  | { readonly kind: 'and' | 'or'; readonly rules: readonly RbacPermission[] }
  | { readonly kind: 'not'; readonly rule: RbacPermission }
  | { readonly kind: 'header'; readonly header: HeaderMatch }
  | { readonly kind: 'path'; readonly path: StringMatch }
  | { readonly kind: 'destinationPort'; readonly port: number };

/** An RBAC principal: who the peer is, as a tree of conditions. */
export type RbacPrincipal =
  | { readonly kind: 'any' }
  | { readonly kind: 'and' | 'or'; readonly ids: readonly RbacPrincipal[] }
  | { readonly kind: 'not'; readonly id: RbacPrincipal }
  | { readonly kind: 'authenticated'; readonly principalName: StringMatch | undefined }
  | { readonly kind: 'header'; readonly header: HeaderMatch };

/** A named RBAC policy: it matches when any permission and any principal match. */
export interface RbacPolicy {
  readonly name: string;
  readonly permissions: readonly RbacPermission[];
  readonly principals: readonly RbacPrincipal[];
}

/** Compiled RBAC rules: ALLOW lets through what some policy matches, DENY refuses it. Policies sorted by name. */
export interface RbacRules {
  readonly action: 'allow' | 'deny';
  readonly policies: readonly RbacPolicy[];
}

/** A token bucket: `maxTokens` capacity, refilled by `tokensPerFill` every `fillIntervalMs`. */
export interface TokenBucketConfig {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/** An HTTP local rate limit; with no bucket the filter only applies per-route or per-vhost limits. */
export interface HttpLocalRateLimitConfig {
  /** Stats go under `<statPrefix>.http_local_rate_limit.` (Envoy's naming). */
  readonly statPrefix: string;
  readonly tokenBucket: TokenBucketConfig | undefined;
  /** Status sent when limited (Envoy's default 429). */
  readonly statusCode: number;
  readonly enabledPercent: number;
  readonly enforcedPercent: number;
  readonly responseHeadersToAdd: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** An HTTP filter of the connection manager, in chain order; `router` is always last. */
export type HttpFilterConfig =
  | { readonly kind: 'rbac'; readonly name: string; readonly rules: RbacRules | undefined }
  | { readonly kind: 'localRateLimit'; readonly name: string; readonly limit: HttpLocalRateLimitConfig }
  | { readonly kind: 'router'; readonly name: string };

/** Per-route (or per-vhost, per-weighted-cluster) overrides of HTTP filters, by filter name. */
export interface PerFilterConfig {
  /** Replaces the RBAC filter's rules; `undefined` rules disable RBAC there. */
  readonly rbac?: { readonly filterName: string; readonly rules: RbacRules | undefined };
  readonly localRateLimit?: { readonly filterName: string; readonly limit: HttpLocalRateLimitConfig };
}

/** Where a connection goes: one cluster, or clusters chosen by weight. */
export type ClusterTarget =
  | { readonly kind: 'cluster'; readonly cluster: string }
  | { readonly kind: 'weighted'; readonly clusters: ReadonlyArray<{ readonly name: string; readonly weight: number; readonly perFilter: PerFilterConfig }>; readonly totalWeight: number };

/** A retry policy (Envoy's `retry_on` conditions, count, per-try timeout and back-off). */
export interface RetryPolicyConfig {
  readonly retryOn: readonly string[];
  readonly numRetries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly backOffBaseMs: number | undefined;
}

/** What a route does with a matched request. */
export type RouteActionConfig =
  | { readonly kind: 'forward'; readonly target: ClusterTarget; readonly timeoutMs: number; readonly retry: RetryPolicyConfig | undefined; readonly prefixRewrite: string | undefined }
  | { readonly kind: 'directResponse'; readonly status: number; readonly body: string | undefined };

/** How a route matches the path (query string excluded). */
export type PathMatch =
  | { readonly kind: 'prefix' | 'path'; readonly value: string; readonly caseSensitive: boolean }
  | { readonly kind: 'regex'; readonly regex: WholeMatcher };

/** One route: the first whose path and headers match wins. */
export interface RouteEntry {
  readonly name: string;
  readonly path: PathMatch;
  readonly headers: readonly HeaderMatch[];
  readonly action: RouteActionConfig;
  readonly perFilter: PerFilterConfig;
}

/** A virtual host: chosen by the request's authority among its `domains`. */
export interface VirtualHostConfig {
  readonly name: string;
  readonly domains: readonly string[];
  readonly routes: readonly RouteEntry[];
  readonly perFilter: PerFilterConfig;
}

/** A route configuration (RDS resource or inline in a connection manager). */
export interface RouteConfig {
  readonly name: string;
  readonly virtualHosts: readonly VirtualHostConfig[];
}

/** The HTTP connection manager: codec, routes (by RDS name or inline), filters, upgrades. */
export interface HttpConnectionManagerConfig {
  readonly codec: 'auto' | 'http1' | 'http2';
  readonly routes: { readonly kind: 'rds'; readonly name: string } | { readonly kind: 'inline'; readonly config: RouteConfig };
  readonly httpFilters: readonly HttpFilterConfig[];
  readonly websocket: boolean;
  /** Stats go under `http.<statPrefix>.`. */
  readonly statPrefix: string;
  /** Whether the manager has an access log: the sidecar then writes OSM's JSON line per request to stdout. */
  readonly accessLog: boolean;
}

/** A network filter, in chain order; the last is `tcpProxy` or `httpConnectionManager`. */
export type NetworkFilterConfig =
  | { readonly kind: 'rbac'; readonly name: string; readonly statPrefix: string; readonly rules: RbacRules | undefined }
  | { readonly kind: 'localRateLimit'; readonly name: string; readonly statPrefix: string; readonly tokenBucket: TokenBucketConfig }
  | { readonly kind: 'tcpProxy'; readonly name: string; readonly statPrefix: string; readonly target: ClusterTarget }
  | { readonly kind: 'httpConnectionManager'; readonly name: string; readonly hcm: HttpConnectionManagerConfig };

/** An IP prefix, parsed: `bits` of `address` are significant. */
export interface CidrConfig {
  readonly address: string;
  readonly family: 4 | 6;
  readonly bits: number;
}

/** TLS version bounds and algorithms; empty lists mean the proxy's defaults. */
export interface TlsParamsConfig {
  readonly minVersion: 'auto' | 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';
  readonly maxVersion: 'auto' | 'TLSv1_0' | 'TLSv1_1' | 'TLSv1_2' | 'TLSv1_3';
  readonly cipherSuites: readonly string[];
  readonly ecdhCurves: readonly string[];
}

/** The TLS a server terminates: its certificate and how it validates clients, by secret name. */
export interface DownstreamTlsConfig {
  readonly certificateSecret: string;
  readonly validationSecret: string | undefined;
  readonly requireClientCertificate: boolean;
  readonly alpn: readonly string[];
  readonly params: TlsParamsConfig;
}

/** The TLS a client originates: its certificate, how it validates the server, SNI and ALPN. */
export interface UpstreamTlsConfig {
  readonly certificateSecret: string | undefined;
  readonly validationSecret: string | undefined;
  readonly sni: string;
  readonly alpn: readonly string[];
  readonly params: TlsParamsConfig;
}

/** What a filter chain accepts; an empty list or `undefined` matches anything. */
export interface FilterChainMatchConfig {
  readonly destinationPort: number | undefined;
  readonly prefixRanges: readonly CidrConfig[];
  readonly serverNames: readonly string[];
  readonly transportProtocol: string | undefined;
  readonly applicationProtocols: readonly string[];
}

/** A filter chain: the match, the TLS it terminates (if any), and its network filters. */
export interface FilterChainConfig {
  readonly name: string;
  readonly match: FilterChainMatchConfig;
  readonly tls: DownstreamTlsConfig | undefined;
  readonly filters: readonly NetworkFilterConfig[];
}

/** A listener: where it binds, its listener filters and its filter chains. */
export interface ListenerConfig {
  readonly name: string;
  readonly bindAddress: string;
  readonly port: number;
  readonly direction: 'inbound' | 'outbound' | 'unspecified';
  readonly originalDestination: boolean;
  readonly tlsInspector: boolean;
  readonly filterChains: readonly FilterChainConfig[];
  readonly defaultFilterChain: FilterChainConfig | undefined;
}

/** Circuit-breaker limits of the default priority. */
export interface CircuitBreakerConfig {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

/** One upstream endpoint. */
export interface EndpointConfig {
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly health: 'unknown' | 'healthy' | 'unhealthy' | 'draining' | 'timeout' | 'degraded';
}

/** A locality's endpoints, with its priority (0 first) and weight. */
export interface LocalityConfig {
  readonly zone: string;
  readonly region: string;
  readonly subZone: string;
  readonly priority: number;
  readonly weight: number | undefined;
  readonly endpoints: readonly EndpointConfig[];
}

/** A cluster's endpoints (an EDS resource, or a static cluster's inline assignment). */
export interface EndpointsConfig {
  readonly clusterName: string;
  readonly localities: readonly LocalityConfig[];
}

/**
 * Passive health checking (Envoy's `outlier_detection`): which run of failures or which success
 * rate ejects a host from balancing, for how long, and how much of the cluster may be ejected.
 * Percentages are 0 to 100; `enforcing*` are the chance a detected outlier is really ejected.
 */
export interface OutlierDetectionConfig {
  /** 5xx responses in a row (and, unless split, local-origin failures mapped to 503/504). */
  readonly consecutive5xx: number;
  readonly enforcingConsecutive5xxPercent: number;
  /** 502, 503 or 504 responses in a row (local-origin failures included unless split). */
  readonly consecutiveGatewayFailure: number;
  readonly enforcingConsecutiveGatewayFailurePercent: number;
  /** Whether connect failures, resets and timeouts count on their own instead of as 503/504. */
  readonly splitExternalLocalOriginErrors: boolean;
  readonly consecutiveLocalOriginFailure: number;
  readonly enforcingConsecutiveLocalOriginFailurePercent: number;
  /** How often ejected hosts are considered for return and success rates are evaluated. */
  readonly intervalMs: number;
  /** A host stays out `baseEjectionTimeMs` times its ejection count, at most `maxEjectionTimeMs`, plus jitter. */
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionTimeJitterMs: number;
  readonly maxEjectionPercent: number;
  /** Eject one host even when `maxEjectionPercent` would allow none. */
  readonly alwaysEjectOneHost: boolean;
  /** A passing active health check returns an ejected host at once. */
  readonly successfulActiveHealthCheckUnejectHost: boolean;
  /** Success-rate ejection: hosts below mean - stdevFactor x stdev over one interval. */
  readonly successRate: {
    readonly minimumHosts: number;
    readonly requestVolume: number;
    /** Envoy's `success_rate_stdev_factor` divided by 1000. */
    readonly stdevFactor: number;
    readonly enforcingPercent: number;
    readonly enforcingLocalOriginPercent: number;
  };
  /** Failure-percentage ejection: hosts whose failures over one interval reach `thresholdPercent`. */
  readonly failurePercentage: {
    readonly thresholdPercent: number;
    readonly minimumHosts: number;
    readonly requestVolume: number;
    readonly enforcingPercent: number;
    readonly enforcingLocalOriginPercent: number;
  };
}

/** A range of HTTP status codes, `start` included and `end` excluded. */
export interface StatusRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Active HTTP/1.1 health checking (Envoy's `health_checks` with `http_health_check`), over the
 * cluster's own transport (TLS when the cluster has it). Times in ms.
 */
export interface HealthCheckConfig {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Until the cluster has made a connection: the interval between checks (healthy hosts: `noTrafficHealthyIntervalMs`). */
  readonly noTrafficIntervalMs: number;
  readonly noTrafficHealthyIntervalMs: number;
  readonly unhealthyIntervalMs: number;
  /** After a check that moves a host towards unhealthy or healthy without crossing the threshold yet. */
  readonly unhealthyEdgeIntervalMs: number;
  readonly healthyEdgeIntervalMs: number;
  readonly initialJitterMs: number;
  readonly intervalJitterMs: number;
  readonly intervalJitterPercent: number;
  /** Failed checks (network failures and retriable statuses) in a row that make a host unhealthy. */
  readonly unhealthyThreshold: number;
  /** Passing checks in a row that make an unhealthy host healthy again (the first check ever needs one). */
  readonly healthyThreshold: number;
  /** Keep the checking connection open between checks. */
  readonly reuseConnection: boolean;
  readonly http: {
    /** The Host header; empty means the cluster name. */
    readonly host: string;
    readonly path: string;
    readonly method: 'GET' | 'HEAD';
    readonly requestHeadersToAdd: ReadonlyArray<{ readonly name: string; readonly value: string }>;
    /** Statuses that pass (default 200 only). */
    readonly expectedStatuses: readonly StatusRange[];
    /** Failing statuses that count towards `unhealthyThreshold` instead of failing the host at once. */
    readonly retriableStatuses: readonly StatusRange[];
  };
}

/** An upstream cluster. */
export interface ClusterConfig {
  readonly name: string;
  /** `eds` endpoints come by `edsServiceName`; `static` inline; `originalDst` from the connection's original destination. */
  readonly discovery: { readonly kind: 'eds'; readonly edsServiceName: string } | { readonly kind: 'static'; readonly endpoints: EndpointsConfig } | { readonly kind: 'originalDst' };
  readonly lbPolicy: 'roundRobin' | 'leastRequest' | 'clusterProvided';
  readonly connectTimeoutMs: number;
  readonly tls: UpstreamTlsConfig | undefined;
  readonly circuitBreakers: CircuitBreakerConfig;
  /** `downstream` speaks whatever the client spoke. */
  readonly upstreamProtocol: 'http1' | 'http2' | 'downstream';
  readonly maxRequestsPerConnection: number | undefined;
  /** Passive health checking; absent when the cluster has no `outlier_detection`. */
  readonly outlierDetection?: OutlierDetectionConfig | undefined;
  /** Active health checking; absent when the cluster has no `health_checks`. */
  readonly healthCheck?: HealthCheckConfig | undefined;
}

/** A SAN a peer certificate must carry (one of the list). */
export interface SanMatcherConfig {
  readonly type: 'dns' | 'uri' | 'email' | 'ip';
  readonly match: StringMatch;
}

/** A secret: a certificate with its key, or what a peer's certificate is validated against. */
export type SecretConfig =
  | { readonly name: string; readonly kind: 'certificate'; readonly certificateChainPem: string; readonly privateKeyPem: string }
  | { readonly name: string; readonly kind: 'validation'; readonly trustedCaPem: string; readonly sanMatchers: readonly SanMatcherConfig[] };

/** One complete, consistent config: every name a resource refers to is present. */
export interface ProxyConfig {
  readonly listeners: ReadonlyMap<string, ListenerConfig>;
  readonly routeConfigs: ReadonlyMap<string, RouteConfig>;
  readonly clusters: ReadonlyMap<string, ClusterConfig>;
  /** By cluster name: EDS clusters' assignments and static clusters' inline ones. */
  readonly endpoints: ReadonlyMap<string, EndpointsConfig>;
  readonly secrets: ReadonlyMap<string, SecretConfig>;
}
