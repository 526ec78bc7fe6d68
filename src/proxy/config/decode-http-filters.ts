/**
 * HTTP filter configs, both where the connection manager lists them and where routes, virtual
 * hosts and weighted clusters override them (`typed_per_filter_config`).
 *
 * Supported filters: envoy.extensions.filters.http.rbac.v3.RBAC (with RBACPerRoute overrides),
 * envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit (token bucket, status,
 * enabled/enforced fractions, response headers), envoy.extensions.filters.http.router.v3.Router
 * (which must be last). Any other type, ECDS (`config_discovery`) and rate-limit descriptors
 * are rejected.
 */
import {
  FractionalPercent_DenominatorType,
  HttpFilterSchema,
  HttpLocalRateLimitSchema,
  HttpRbacPerRouteSchema,
  HttpRbacSchema,
  RouterSchema,
  type Any,
  type HttpFilter,
  type HttpLocalRateLimit,
  type HttpRbac,
  type RuntimeFractionalPercent,
} from '../../xds/proto.js';
import { at, decodeTokenBucket, item, Issues, key, rejectUnsupported, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import { decodeRbacRules } from './decode-rbac.js';
import type { HttpFilterConfig, HttpLocalRateLimitConfig, PerFilterConfig, RbacRules } from './model.js';

const DENOMINATOR: Record<FractionalPercent_DenominatorType, number> = {
  [FractionalPercent_DenominatorType.HUNDRED]: 100,
  [FractionalPercent_DenominatorType.TEN_THOUSAND]: 10_000,
  [FractionalPercent_DenominatorType.MILLION]: 1_000_000,
};

/** Envoy reads an absent fraction as 0%: the rate limit is then neither applied nor enforced. */
function percentOf(p: RuntimeFractionalPercent | undefined): number {
  const d = p?.defaultValue;
  if (!d) return 0;
  return Math.min(100, (d.numerator * 100) / (DENOMINATOR[d.denominator] ?? 100));
}

function decodeHttpRbac(rbac: HttpRbac, path: string, issues: Issues): { rules: RbacRules | undefined } {
  rejectUnsupported(HttpRbacSchema, rbac, path, ['rules'], issues);
  return { rules: rbac.rules ? decodeRbacRules(rbac.rules, at(path, 'rules'), issues) : undefined };
}

function decodeHttpLocalRateLimit(limit: HttpLocalRateLimit, path: string, issues: Issues): HttpLocalRateLimitConfig {
  rejectUnsupported(HttpLocalRateLimitSchema, limit, path, ['status', 'token_bucket', 'filter_enabled', 'filter_enforced', 'response_headers_to_add'], issues);
  const headers = limit.responseHeadersToAdd.flatMap((h, i) => {
    if (!h.header || h.header.key === '') {
      issues.add(at(path, `response_headers_to_add[${i}].header.key`), 'required');
      return [];
    }
    return [{ name: h.header.key.toLowerCase(), value: h.header.value }];
  });
  const statusCode = limit.status?.code ?? 429;
  if (statusCode < 200 || statusCode > 599) issues.add(at(path, 'status.code'), `${statusCode} is not an HTTP status the proxy can send`);
  return {
    statPrefix: limit.statPrefix,
    tokenBucket: limit.tokenBucket ? decodeTokenBucket(limit.tokenBucket, at(path, 'token_bucket'), issues) : undefined,
    statusCode,
    enabledPercent: percentOf(limit.filterEnabled),
    enforcedPercent: percentOf(limit.filterEnforced),
    responseHeadersToAdd: headers,
  };
}

/** Decodes the connection manager's `http_filters`; `path` names that list. */
export function decodeHttpFilters(filters: readonly HttpFilter[], path: string, issues: Issues): HttpFilterConfig[] {
  const out: HttpFilterConfig[] = [];
  filters.forEach((f, i) => {
    const p = item(path, i);
    rejectUnsupported(HttpFilterSchema, f, p, ['name', 'typed_config'], issues);
    if (f.configType.case !== 'typedConfig') {
      issues.add(at(p, 'typed_config'), 'required (the sidecar knows filters by their config type)');
      return;
    }
    const any = f.configType.value;
    const last = i === filters.length - 1;
    switch (typeNameOf(any)) {
      case HttpRbacSchema.typeName: {
        const rbac = unpackTyped(any, HttpRbacSchema, p, issues);
        if (rbac) out.push({ kind: 'rbac', name: f.name, ...decodeHttpRbac(rbac, typedPath(p, HttpRbacSchema), issues) });
        break;
      }
      case HttpLocalRateLimitSchema.typeName: {
        const limit = unpackTyped(any, HttpLocalRateLimitSchema, p, issues);
        if (limit) out.push({ kind: 'localRateLimit', name: f.name, limit: decodeHttpLocalRateLimit(limit, typedPath(p, HttpLocalRateLimitSchema), issues) });
        break;
      }
      case RouterSchema.typeName: {
        const router = unpackTyped(any, RouterSchema, p, issues);
        if (router) rejectUnsupported(RouterSchema, router, typedPath(p, RouterSchema), [], issues);
        if (!last) issues.add(p, 'the router must be the last HTTP filter');
        out.push({ kind: 'router', name: f.name });
        break;
      }
      default:
        issues.add(at(p, 'typed_config'), `the HTTP filter type ${typeNameOf(any) || '(empty type URL)'} is not supported by the sidecar`);
    }
  });
  if (filters.length === 0 || out.at(-1)?.kind !== 'router') {
    if (!issues.list.some((x) => x.path.startsWith(path))) issues.add(path, 'the last HTTP filter must be the router');
  }
  return out;
}

/** Decodes a `typed_per_filter_config` map (RBACPerRoute and LocalRateLimit overrides). */
export function decodePerFilterConfig(map: { readonly [name: string]: Any }, path: string, issues: Issues): PerFilterConfig {
  const out: { rbac?: PerFilterConfig['rbac']; localRateLimit?: PerFilterConfig['localRateLimit'] } = {};
  for (const filterName of Object.keys(map).sort()) {
    const any = map[filterName];
    if (!any) continue;
    const p = key(path, filterName);
    switch (typeNameOf(any)) {
      case HttpRbacPerRouteSchema.typeName: {
        const perRoute = unpackTyped(any, HttpRbacPerRouteSchema, p, issues);
        if (!perRoute) break;
        const tp = typedPath(p, HttpRbacPerRouteSchema);
        rejectUnsupported(HttpRbacPerRouteSchema, perRoute, tp, ['rbac'], issues);
        // An RBACPerRoute without `rbac` turns the filter off for this route (Envoy's semantics).
        const rules = perRoute.rbac ? decodeHttpRbac(perRoute.rbac, at(tp, 'rbac'), issues).rules : undefined;
        out.rbac = { filterName, rules };
        break;
      }
      case HttpLocalRateLimitSchema.typeName: {
        const limit = unpackTyped(any, HttpLocalRateLimitSchema, p, issues);
        if (limit) out.localRateLimit = { filterName, limit: decodeHttpLocalRateLimit(limit, typedPath(p, HttpLocalRateLimitSchema), issues) };
        break;
      }
      default:
        issues.add(at(p, 'typed_config'), `a per-route config of type ${typeNameOf(any) || '(empty type URL)'} is not supported by the sidecar`);
    }
  }
  return out;
}
