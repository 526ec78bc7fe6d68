/**
 * The evaluator's decisions for one destination port, in the shape RBAC needs: one route per
 * distinct match with the union of principals any grant gives it. A request is allowed iff some
 * route fits it and lists its source, which is exactly `authorize` (checked by property tests).
 */
import type { ObjectRef } from '../api/meta.js';
import { tcpRuleCovering, type AccessGrant } from './access.js';
import { mismatch, type CompiledHttpMatch, type HttpRequestAttributes } from './http-match.js';
import type { Identity } from './identity.js';
import type { InboundRoute } from './model.js';

/** HTTP routes for a pod port from the grants of its identity. */
export function inboundHttpRoutes(grants: readonly AccessGrant[], port: number): InboundRoute[] {
  const routes = new Map<string, { match?: CompiledHttpMatch; principals: Set<Identity>; grantedBy: ObjectRef[] }>();
  const add = (key: string, match: CompiledHttpMatch | undefined, grant: AccessGrant) => {
    let r = routes.get(key);
    if (!r) {
      r = { principals: new Set(), grantedBy: [] };
      if (match) r.match = match;
      routes.set(key, r);
    }
    for (const s of grant.sources) r.principals.add(s);
    if (!r.grantedBy.some((g) => g.name === grant.trafficTarget.name && g.namespace === grant.trafficTarget.namespace)) {
      r.grantedBy.push(grant.trafficTarget);
    }
  };
  for (const grant of grants) {
    if (tcpRuleCovering(grant, port) === undefined) continue;
    if (!grant.http) {
      add('', undefined, grant);
      continue;
    }
    for (const rule of grant.http) {
      for (const m of rule.matches) add(`${m.group.namespace}/${m.group.name}#${m.name}`, m, grant);
    }
  }
  return [...routes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) => {
      const route: InboundRoute = {
        principals: [...r.principals].sort(),
        grantedBy: [...r.grantedBy].sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1)),
      };
      if (r.match) route.match = r.match;
      return route;
    });
}

/** Identities that may open TCP connections to a pod port. */
export function inboundTcpPrincipals(grants: readonly AccessGrant[], port: number): Identity[] {
  const out = new Set<Identity>();
  for (const grant of grants) {
    if (!grant.tcp || !tcpRuleCovering(grant, port)) continue;
    for (const s of grant.sources) out.add(s);
  }
  return [...out].sort();
}

/** Evaluates RBAC routes as a sidecar does: any route that fits and lists the source allows. */
export function routesAllow(routes: readonly InboundRoute[], source: Identity, req: HttpRequestAttributes): boolean {
  return routes.some(
    (r) => (r.principals === 'any' || r.principals.includes(source)) && (r.match === undefined || mismatch(r.match, req) === undefined),
  );
}
