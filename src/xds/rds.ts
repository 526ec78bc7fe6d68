/**
 * RDS: `rds-outbound.<port>` (a virtual host per reachable HTTP service, routes to weighted
 * clusters, retries) and `rds-inbound.<podPort>` (a virtual host per local service and split
 * root, routes from HTTPRouteGroup matches to the local app, each carrying the RBAC policies
 * that implement the evaluator, and local rate limits).
 */
import {
  hostnamesOf,
  isHttp,
  type CompiledHttpMatch,
  type InboundPort,
  type LocalRateLimit,
  type OutboundRoute,
  type OutboundService,
  type ProxyPolicy,
  type RetryPolicy,
  type TokenBucket,
} from '../catalog/index.js';
import { byKey, duration } from './common.js';
import type { GeneratorContext } from './context.js';
import {
  inboundRouteConfigName,
  inboundVirtualHostName,
  localClusterName,
  outboundRouteConfigName,
  outboundVirtualHostName,
  upstreamClusterName,
} from './names.js';
import {
  create,
  FractionalPercent_DenominatorType,
  HttpLocalRateLimitSchema,
  HttpRbacPerRouteSchema,
  packAny,
  RBAC_Action,
  RouteConfigurationSchema,
  RouteSchema,
  type Any,
  type Route,
  type RouteConfiguration,
  type RouteMatch,
} from './proto.js';
import { httpRules, methodsRegex, regexHeader } from './rbac.js';

export const RBAC_FILTER = 'envoy.filters.http.rbac';
export const LOCAL_RATE_LIMIT_FILTER = 'envoy.filters.http.local_ratelimit';

/** A `typed_per_filter_config` map from the entries that are set, keys in order. */
function perFilter(...entries: Array<[string, Any | undefined]>): Record<string, Any> {
  const out: Record<string, Any> = {};
  for (const [name, config] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) if (config) out[name] = config;
  return out;
}

/** The route configurations of one proxy, sorted by name. */
export function buildRouteConfigurations(policy: ProxyPolicy, ctx: GeneratorContext): RouteConfiguration[] {
  const outbound = new Map<number, OutboundService[]>();
  for (const svc of policy.outbound.services) {
    if (!isHttp(svc.port.protocol)) continue;
    outbound.set(svc.port.port, [...(outbound.get(svc.port.port) ?? []), svc]);
  }
  const configs: RouteConfiguration[] = [];
  for (const [port, services] of outbound) {
    configs.push(
      create(RouteConfigurationSchema, {
        name: outboundRouteConfigName(port),
        virtualHosts: services.map((svc) => ({
          name: outboundVirtualHostName(svc.port),
          domains: domainsFor(svc, policy.proxy.namespace),
          routes: svc.routes.flatMap((r) => outboundRoutes(r, svc.retry)),
        })),
        validateClusters: false,
      }),
    );
  }
  for (const port of policy.inbound.ports) {
    if (isHttp(port.protocol)) configs.push(inboundRouteConfiguration(port, ctx));
  }
  return configs.sort(byKey((c) => c.name));
}

/** Short names resolve only inside the service's namespace, as OSM does (osm.md 5.4). */
function domainsFor(svc: OutboundService, clientNamespace: string): string[] {
  const all = hostnamesOf(svc.port);
  return svc.port.namespace === clientNamespace ? all : all.filter((h) => h.includes('.'));
}

/** A match's conditions as an Envoy route match (whole-path RE2, `:method`, `:authority`, headers). */
export function routeMatchOf(match: CompiledHttpMatch | undefined): RouteMatch {
  const headers = [];
  if (match?.methods) headers.push(regexHeader(':method', methodsRegex(match.methods)));
  if (match?.authority) headers.push(regexHeader(':authority', match.authority.source));
  for (const h of match?.headers ?? []) headers.push(regexHeader(h.name, h.value.source));
  const pathSpecifier = match?.path
    ? ({ case: 'safeRegex', value: { regex: match.path.source } } as const)
    : ({ case: 'prefix', value: '/' } as const);
  return create(RouteSchema, { match: { pathSpecifier, headers } }).match as RouteMatch;
}

const DENY_ALL = (): Any =>
  packAny(HttpRbacPerRouteSchema, create(HttpRbacPerRouteSchema, { rbac: { rules: { action: RBAC_Action.DENY, policies: { 'not-allowed-by-mesh-policy': { permissions: [{ rule: { case: 'any', value: true } }], principals: [{ identifier: { case: 'any', value: true } }] } } } } }));

function outboundRoutes(route: OutboundRoute, retry: RetryPolicy | undefined): Route[] {
  const matches: Array<CompiledHttpMatch | undefined> = route.matches ? [...route.matches] : [undefined];
  return matches.map((m) => {
    const action = {
      clusterSpecifier: {
        case: 'weightedClusters' as const,
        value: {
          clusters: route.backends
            .filter((b) => b.weight > 0)
            .map((b) => ({
              name: upstreamClusterName(b.cluster.port),
              weight: b.weight,
              // A share the client may not send to is answered 403 by its own sidecar (A15, A26).
              typedPerFilterConfig: perFilter([RBAC_FILTER, b.allowed ? undefined : DENY_ALL()]),
            })),
        },
      },
      timeout: duration(0),
      ...(retry ? { retryPolicy: retryPolicyOf(retry) } : {}),
    };
    return create(RouteSchema, {
      name: m ? `${m.group.namespace}/${m.group.name}#${m.name}` : 'default',
      match: routeMatchOf(m),
      action: { case: 'route', value: action },
    });
  });
}

function retryPolicyOf(retry: RetryPolicy) {
  return {
    retryOn: retry.retryOn,
    ...(retry.numRetries !== undefined ? { numRetries: retry.numRetries } : {}),
    ...(retry.perTryTimeoutMs !== undefined ? { perTryTimeout: duration(retry.perTryTimeoutMs) } : {}),
    ...(retry.retryBackoffBaseIntervalMs !== undefined ? { retryBackOff: { baseInterval: duration(retry.retryBackoffBaseIntervalMs) } } : {}),
  };
}

function inboundRouteConfiguration(port: InboundPort, ctx: GeneratorContext): RouteConfiguration {
  const rbac = packAny(HttpRbacPerRouteSchema, create(HttpRbacPerRouteSchema, { rbac: { rules: httpRules(port.routes, ctx) } }));
  const local = port.services[0];
  const hosts = [...port.services, ...port.apexServices];
  const virtualHosts = hosts.map((svc) => {
    const cluster = localClusterName(port.services.includes(svc) ? svc : (local ?? svc), port.port);
    const serviceLimit = port.rateLimits.get(svc.id);
    const routes = [...port.routes.filter((r) => r.match), { match: undefined }].map((r) => {
      const limit = r.match?.path ? routeRateLimit(serviceLimit, r.match.path.source) : undefined;
      return create(RouteSchema, {
        name: r.match ? `${r.match.group.namespace}/${r.match.group.name}#${r.match.name}` : 'default',
        match: routeMatchOf(r.match),
        action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: cluster }, timeout: duration(0) } },
        typedPerFilterConfig: perFilter([RBAC_FILTER, rbac], [LOCAL_RATE_LIMIT_FILTER, limit]),
      });
    });
    const vhostLimit = serviceLimit?.http ? httpRateLimit(serviceLimit.http, 'inbound') : undefined;
    return {
      name: inboundVirtualHostName(svc),
      domains: hostnamesOf(svc),
      routes,
      typedPerFilterConfig: perFilter([LOCAL_RATE_LIMIT_FILTER, vhostLimit]),
    };
  });
  return create(RouteConfigurationSchema, { name: inboundRouteConfigName(port.port), virtualHosts, validateClusters: false });
}

/** A route-level limit applies to the route whose path regex is written exactly as `path` (osm.md 2.6). */
function routeRateLimit(limit: LocalRateLimit | undefined, path: string): Any | undefined {
  const r = limit?.routes.find((x) => x.pathRegex === path);
  return r ? httpRateLimit(r.http, 'inbound-route') : undefined;
}

const ALWAYS = { defaultValue: { numerator: 100, denominator: FractionalPercent_DenominatorType.HUNDRED }, runtimeKey: '' };

function httpRateLimit(bucket: TokenBucket & { responseStatusCode: number; responseHeadersToAdd: ReadonlyArray<{ name: string; value: string }> }, scope: string): Any {
  return packAny(
    HttpLocalRateLimitSchema,
    create(HttpLocalRateLimitSchema, {
      statPrefix: `http_local_rate_limiter.${scope}`,
      status: { code: bucket.responseStatusCode },
      tokenBucket: { maxTokens: bucket.tokens + bucket.burst, tokensPerFill: bucket.tokens, fillInterval: duration(bucket.fillIntervalMs) },
      filterEnabled: ALWAYS,
      filterEnforced: ALWAYS,
      responseHeadersToAdd: bucket.responseHeadersToAdd.map((h) => ({ header: { key: h.name, value: h.value } })),
    }),
  );
}
