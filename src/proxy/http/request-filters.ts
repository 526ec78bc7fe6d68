/**
 * The HTTP filters before the router, in chain order: RBAC and local rate limit. Each takes
 * its most specific config, as Envoy does: a weighted cluster's `typed_per_filter_config`,
 * then the route's, then the virtual host's (matched by filter name), then the filter's own.
 */
import type { HttpFilterConfig, HttpLocalRateLimitConfig, PerFilterConfig, RbacRules } from '../config/index.js';
import { evaluateRbac } from '../filters/index.js';
import type { PeerSans } from '../tls/index.js';
import { rbacDenied, ResponseFlag, type LocalReply } from './local-reply.js';
import type { ConnectionManager } from './manager.js';
import { rateLimitStatsFor } from './stats.js';

/** What the filters look at in a request. */
export interface FilterRequest {
  readonly peer: PeerSans | undefined;
  readonly destinationPort: number;
  /** The path without its query. */
  readonly path: string;
  /** A request header by lower-case name, pseudo-headers included. */
  header(name: string): string | undefined;
  /** Per-filter overrides, most specific first (weighted cluster, route, virtual host). */
  readonly overrides: readonly PerFilterConfig[];
}

/** A filter's answer that stops the request: the local reply and extra response fields (name, value pairs). */
export interface FilterStop {
  readonly reply: LocalReply;
  readonly fields: readonly string[];
}

const RATE_LIMITED: LocalReply = { status: 429, body: 'local_rate_limited', details: 'local_rate_limited', flag: ResponseFlag.RL };

/** Runs the filters before the router; undefined lets the request through. */
export function runRequestFilters(cm: ConnectionManager, request: FilterRequest): FilterStop | undefined {
  for (const filter of cm.hcm.httpFilters) {
    if (filter.kind === 'rbac') {
      const rules = rbacRules(filter, request.overrides);
      if (rules === undefined) continue;
      const decision = evaluateRbac(rules, { peer: request.peer, destinationPort: request.destinationPort, header: (name) => request.header(name), path: request.path });
      if (decision.allowed) {
        cm.stats.rbacAllowed.inc();
        continue;
      }
      cm.stats.rbacDenied.inc();
      return { reply: rbacDenied(decision.policy), fields: [] };
    }
    if (filter.kind === 'localRateLimit') {
      const stop = rateLimit(cm, rateLimitConfig(filter, request.overrides));
      if (stop !== undefined) return stop;
    }
  }
  return undefined;
}

/** The RBAC rules in force; an override without rules turns the filter off (RBACPerRoute without `rbac`). */
function rbacRules(filter: Extract<HttpFilterConfig, { kind: 'rbac' }>, overrides: readonly PerFilterConfig[]): RbacRules | undefined {
  for (const o of overrides) if (o.rbac !== undefined && o.rbac.filterName === filter.name) return o.rbac.rules;
  return filter.rules;
}

function rateLimitConfig(filter: Extract<HttpFilterConfig, { kind: 'localRateLimit' }>, overrides: readonly PerFilterConfig[]): HttpLocalRateLimitConfig {
  for (const o of overrides) if (o.localRateLimit !== undefined && o.localRateLimit.filterName === filter.name) return o.localRateLimit.limit;
  return filter.limit;
}

/**
 * Envoy's local rate limit: applied to `filter_enabled` percent of requests (counted `enabled`),
 * one token each (`ok`, or `rate_limited` when none is left), and enforced for
 * `filter_enforced` percent of the limited ones (`enforced`) with the configured status, the
 * body `local_rate_limited` and `x-envoy-ratelimited: true` plus the configured fields.
 */
function rateLimit(cm: ConnectionManager, limit: HttpLocalRateLimitConfig): FilterStop | undefined {
  const bucket = cm.bucket(limit);
  if (bucket === undefined || !chance(cm.options.random, limit.enabledPercent)) return undefined;
  const stats = rateLimitStatsFor(cm.runtime.stats, limit);
  stats.enabled.inc();
  if (bucket.tryTake()) {
    stats.ok.inc();
    return undefined;
  }
  stats.rateLimited.inc();
  if (!chance(cm.options.random, limit.enforcedPercent)) return undefined;
  stats.enforced.inc();
  const fields = ['x-envoy-ratelimited', 'true'];
  for (const h of limit.responseHeadersToAdd) fields.push(h.name, h.value);
  return { reply: limit.statusCode === 429 ? RATE_LIMITED : { ...RATE_LIMITED, status: limit.statusCode }, fields };
}

function chance(random: () => number, percent: number): boolean {
  return percent >= 100 || (percent > 0 && random() * 100 < percent);
}
