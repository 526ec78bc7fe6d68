/**
 * RouteConfiguration -> RouteConfig.
 *
 * Supported: virtual hosts with domains (exact, `*.suffix`, `prefix.*`, `*`) and per-vhost
 * filter configs; route matches on prefix, path or RE2 safe_regex (whole path), case
 * sensitivity and header matchers; actions `route` (one cluster or weighted clusters with
 * per-cluster filter overrides, timeout, retry policy with retry_on / num_retries /
 * per_try_timeout / back-off base, prefix_rewrite) and `direct_response` (status, inline body);
 * RBAC and local rate limit `typed_per_filter_config`. Rejected: redirects, filter actions,
 * cluster headers and plugins, path-separated prefixes and templates, query-parameter and
 * runtime matches, header manipulation, CORS, hedging, mirroring, and anything else set.
 */
import {
  RetryPolicySchema,
  RouteActionSchema,
  RouteConfigurationSchema,
  RouteMatchSchema,
  RouteSchema,
  VirtualHostSchema,
  WeightedCluster_ClusterWeightSchema,
  WeightedClusterSchema,
  type RetryPolicy,
  type Route,
  type RouteAction,
  type RouteConfiguration,
  type VirtualHost,
} from '../../xds/proto.js';
import { at, decodeDataSource, decodeHeaderMatcher, decodeRegex, Issues, item, msOf, rejectUnsupported } from './decode-common.js';
import { decodePerFilterConfig } from './decode-http-filters.js';
import type { ClusterTarget, Decoded, HeaderMatch, PathMatch, RetryPolicyConfig, RouteActionConfig, RouteConfig, RouteEntry, VirtualHostConfig } from './model.js';

/** Envoy's route timeout when none is given; 0 disables it. */
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

/** Decodes an RDS resource. */
export function decodeRouteConfiguration(msg: RouteConfiguration): Decoded<RouteConfig> {
  const issues = new Issues();
  if (msg.name === '') issues.add('name', 'required');
  return issues.result(decodeRouteConfig(msg, '', issues));
}

/** Decodes a route configuration found at `path` (an RDS resource, or inline in a connection manager). */
export function decodeRouteConfig(msg: RouteConfiguration, path: string, issues: Issues): RouteConfig {
  // validate_clusters only changes when Envoy checks cluster names; the sidecar never does (503 at request time).
  rejectUnsupported(RouteConfigurationSchema, msg, path, ['name', 'virtual_hosts', 'validate_clusters'], issues);
  const seen = new Map<string, number>();
  const virtualHosts = msg.virtualHosts.map((vh, i) => decodeVirtualHost(vh, item(at(path, 'virtual_hosts'), i), issues, seen, i));
  return { name: msg.name, virtualHosts };
}

function decodeVirtualHost(vh: VirtualHost, path: string, issues: Issues, seen: Map<string, number>, index: number): VirtualHostConfig {
  rejectUnsupported(VirtualHostSchema, vh, path, ['name', 'domains', 'routes', 'typed_per_filter_config'], issues);
  if (vh.name === '') issues.add(at(path, 'name'), 'required');
  if (vh.domains.length === 0) issues.add(at(path, 'domains'), 'at least one domain is required');
  const domains = vh.domains.map((d, i) => {
    const p = item(at(path, 'domains'), i);
    const domain = d.toLowerCase();
    const stars = domain.split('*').length - 1;
    if (domain === '') issues.add(p, 'must not be empty');
    else if (stars > 1 || (stars === 1 && domain !== '*' && !domain.startsWith('*') && !domain.endsWith('*'))) issues.add(p, `"${d}": a wildcard may only start or end a domain`);
    const other = seen.get(domain);
    if (other !== undefined) issues.add(p, `"${d}" is also a domain of virtual_hosts[${other}]`);
    else seen.set(domain, index);
    return domain;
  });
  return {
    name: vh.name,
    domains,
    routes: vh.routes.map((r, i) => decodeRoute(r, item(at(path, 'routes'), i), issues)),
    perFilter: decodePerFilterConfig(vh.typedPerFilterConfig, at(path, 'typed_per_filter_config'), issues),
  };
}

function decodeRoute(route: Route, path: string, issues: Issues): RouteEntry {
  rejectUnsupported(RouteSchema, route, path, ['name', 'match', 'route', 'direct_response', 'typed_per_filter_config'], issues);
  return {
    name: route.name,
    ...decodeMatch(route, at(path, 'match'), issues),
    action: decodeAction(route, path, issues),
    perFilter: decodePerFilterConfig(route.typedPerFilterConfig, at(path, 'typed_per_filter_config'), issues),
  };
}

const NEVER: PathMatch = { kind: 'path', value: '', caseSensitive: true };

function decodeMatch(route: Route, path: string, issues: Issues): { path: PathMatch; headers: HeaderMatch[] } {
  const m = route.match;
  if (!m) {
    issues.add(path, 'required');
    return { path: NEVER, headers: [] };
  }
  rejectUnsupported(RouteMatchSchema, m, path, ['prefix', 'path', 'safe_regex', 'case_sensitive', 'headers'], issues);
  const caseSensitive = m.caseSensitive ?? true;
  const headers = m.headers.flatMap((h, i) => decodeHeaderMatcher(h, item(at(path, 'headers'), i), issues) ?? []);
  const s = m.pathSpecifier;
  switch (s.case) {
    case 'prefix':
    case 'path':
      return { path: { kind: s.case, value: s.value, caseSensitive }, headers };
    case 'safeRegex': {
      if (m.caseSensitive === false) issues.add(at(path, 'case_sensitive'), 'not supported with safe_regex');
      const regex = decodeRegex(s.value.regex, at(path, 'safe_regex.regex'), issues);
      return { path: regex ? { kind: 'regex', regex } : NEVER, headers };
    }
    case undefined:
      issues.add(path, 'a route match needs one of prefix, path, safe_regex');
      return { path: NEVER, headers };
    default:
      // rejectUnsupported already named the field.
      return { path: NEVER, headers };
  }
}

function decodeAction(route: Route, path: string, issues: Issues): RouteActionConfig {
  const a = route.action;
  switch (a.case) {
    case 'route':
      return decodeRouteAction(a.value, at(path, 'route'), issues);
    case 'directResponse': {
      const p = at(path, 'direct_response');
      const status = a.value.status;
      if (status < 200 || status > 599) issues.add(at(p, 'status'), `${status} is not an HTTP status the proxy can send`);
      const body = a.value.body ? decodeDataSource(a.value.body, at(p, 'body'), issues) : undefined;
      return { kind: 'directResponse', status, body };
    }
    case undefined:
      issues.add(path, 'a route needs an action: route or direct_response');
      return { kind: 'directResponse', status: 404, body: undefined };
    default:
      // rejectUnsupported already named the field (redirect, filter_action, non_forwarding_action).
      return { kind: 'directResponse', status: 404, body: undefined };
  }
}

function decodeRouteAction(action: RouteAction, path: string, issues: Issues): RouteActionConfig {
  rejectUnsupported(RouteActionSchema, action, path, ['cluster', 'weighted_clusters', 'timeout', 'retry_policy', 'prefix_rewrite'], issues);
  let target: ClusterTarget = { kind: 'cluster', cluster: '' };
  const spec = action.clusterSpecifier;
  if (spec.case === 'cluster') {
    if (spec.value === '') issues.add(at(path, 'cluster'), 'required');
    target = { kind: 'cluster', cluster: spec.value };
  } else if (spec.case === 'weightedClusters') {
    const p = at(path, 'weighted_clusters');
    rejectUnsupported(WeightedClusterSchema, spec.value, p, ['clusters'], issues);
    const clusters = spec.value.clusters.map((c, i) => {
      const cp = item(at(p, 'clusters'), i);
      rejectUnsupported(WeightedCluster_ClusterWeightSchema, c, cp, ['name', 'weight', 'typed_per_filter_config'], issues);
      if (c.name === '') issues.add(at(cp, 'name'), 'required');
      return { name: c.name, weight: c.weight ?? 0, perFilter: decodePerFilterConfig(c.typedPerFilterConfig, at(cp, 'typed_per_filter_config'), issues) };
    });
    const totalWeight = clusters.reduce((sum, c) => sum + c.weight, 0);
    if (clusters.length === 0) issues.add(at(p, 'clusters'), 'at least one cluster is required');
    else if (totalWeight === 0) issues.add(at(p, 'clusters'), 'the weights add up to 0: no cluster can be chosen');
    target = { kind: 'weighted', clusters, totalWeight };
  } else if (spec.case === undefined) {
    issues.add(path, 'a route action needs cluster or weighted_clusters');
  }
  return {
    kind: 'forward',
    target,
    timeoutMs: msOf(action.timeout, at(path, 'timeout'), issues) ?? DEFAULT_ROUTE_TIMEOUT_MS,
    retry: action.retryPolicy ? decodeRetryPolicy(action.retryPolicy, at(path, 'retry_policy'), issues) : undefined,
    prefixRewrite: action.prefixRewrite === '' ? undefined : action.prefixRewrite,
  };
}

/** The `retry_on` conditions the proxy can detect. */
const RETRY_ON = new Set(['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable']);

function decodeRetryPolicy(r: RetryPolicy, path: string, issues: Issues): RetryPolicyConfig {
  rejectUnsupported(RetryPolicySchema, r, path, ['retry_on', 'num_retries', 'per_try_timeout', 'retry_back_off'], issues);
  const retryOn = r.retryOn.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const cond of retryOn) if (!RETRY_ON.has(cond)) issues.add(at(path, 'retry_on'), `"${cond}" is not a retry condition the sidecar knows`);
  const backOff = r.retryBackOff;
  if (backOff?.maxInterval) issues.add(at(path, 'retry_back_off.max_interval'), 'not supported by the sidecar');
  const backOffBaseMs = backOff ? msOf(backOff.baseInterval, at(path, 'retry_back_off.base_interval'), issues) : undefined;
  if (backOff && (backOffBaseMs === undefined || backOffBaseMs <= 0)) issues.add(at(path, 'retry_back_off.base_interval'), 'must be greater than 0');
  return {
    retryOn,
    // Envoy retries once when num_retries is not set.
    numRetries: r.numRetries ?? 1,
    perTryTimeoutMs: msOf(r.perTryTimeout, at(path, 'per_try_timeout'), issues),
    backOffBaseMs,
  };
}
