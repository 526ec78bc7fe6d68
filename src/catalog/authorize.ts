/**
 * The authorisation evaluator: the one function that decides whether a source identity may
 * reach a destination identity with a given request, and says why. The proxy configuration
 * (through `inbound-routes.ts`) and the CLI both rest on it.
 *
 * Semantics: smi-decisions.md. Union over TrafficTargets (A16); on an HTTP port TCPRoute rules
 * limit ports and HTTPRouteGroup rules limit requests (A8); TCP needs a TCPRoute rule.
 */
import { formatRef, type ObjectRef } from '../api/meta.js';
import { tcpRuleCovering, type AccessGrant } from './access.js';
import { mismatch, pathOf, type HttpRequestAttributes } from './http-match.js';
import type { Identity } from './identity.js';

/** How a port's traffic is evaluated: HTTP requests or TCP connections. */
export type AccessProtocol = 'http' | 'tcp';

export interface AccessRequest {
  source: Identity;
  destination: Identity;
  /** The destination pod's port (smi-decisions A9). */
  port: number;
  protocol: AccessProtocol;
  /** Required for `http`. */
  http?: HttpRequestAttributes;
}

/** What decided: the TrafficTarget, its rule and the match, when one allowed the request. */
export interface Decision {
  allowed: boolean;
  reason: string;
  trafficTarget?: ObjectRef;
  ruleIndex?: number;
  /** The traffic spec of the deciding rule. */
  route?: ObjectRef;
  match?: string;
}

/** Where permissive mode comes from, for the reason text. */
export interface AccessMode {
  permissive: boolean;
  /** The object that set the mode, e.g. the MeshConfig. */
  setBy?: ObjectRef;
}

/**
 * Evaluates `request` against the grants whose destination is `request.destination`
 * (grants for other destinations are ignored).
 */
export function authorize(grants: readonly AccessGrant[], request: AccessRequest, mode: AccessMode): Decision {
  if (mode.permissive) {
    const by = mode.setBy ? ` (${formatRef(mode.setBy)} spec.traffic.enablePermissiveTrafficPolicyMode)` : ' (the default when no MeshConfig exists)';
    return { allowed: true, reason: `permissive traffic policy mode is on${by}: every meshed client may reach every meshed service` };
  }
  const forDestination = grants.filter((g) => g.destination === request.destination);
  if (forDestination.length === 0) {
    return { allowed: false, reason: `no TrafficTarget has ServiceAccount ${request.destination} as its destination` };
  }
  const listing = forDestination.filter((g) => g.sources.has(request.source));
  if (listing.length === 0) {
    const names = forDestination.map((g) => g.trafficTarget.name).join(', ');
    return {
      allowed: false,
      reason: `no TrafficTarget lets ServiceAccount ${request.source} reach ServiceAccount ${request.destination} (TrafficTargets for that destination: ${names})`,
    };
  }
  const refusals: string[] = [];
  for (const grant of listing) {
    const outcome = evaluateGrant(grant, request);
    if (outcome.allowed) return outcome;
    refusals.push(`${formatRef(grant.trafficTarget)} ${outcome.reason}`);
  }
  return { allowed: false, reason: refusals.join('; ') };
}

function evaluateGrant(grant: AccessGrant, request: AccessRequest): Decision {
  const base = { trafficTarget: grant.trafficTarget };
  const tt = formatRef(grant.trafficTarget);
  if (grant.port !== undefined && grant.port !== request.port) {
    return { allowed: false, reason: `limits its destination to port ${grant.port}, not ${request.port}` };
  }
  const tcpRule = tcpRuleCovering(grant, request.port);
  if (request.protocol === 'tcp') {
    if (!grant.tcp) return { allowed: false, reason: `has no TCPRoute rule, and port ${request.port} carries TCP` };
    if (!tcpRule) return { allowed: false, reason: `covers ports ${describePorts(grant)} with its TCPRoute rules, not ${request.port}` };
    return {
      ...base,
      allowed: true,
      ruleIndex: tcpRule.ruleIndex,
      route: tcpRule.route,
      reason: `allowed by ${tt} rule ${tcpRule.ruleIndex} (TCPRoute ${tcpRule.route.name} covers port ${request.port})`,
    };
  }
  if (tcpRule === undefined) {
    return { allowed: false, reason: `covers ports ${describePorts(grant)} with its TCPRoute rules, not ${request.port}` };
  }
  if (!grant.http) {
    const rule = tcpRule ?? undefined;
    const via = rule ? `TCPRoute ${rule.route.name} covers port ${request.port} and ` : '';
    return {
      ...base,
      allowed: true,
      ...(rule ? { ruleIndex: rule.ruleIndex, route: rule.route } : {}),
      reason: `allowed by ${tt}: ${via}it has no HTTPRouteGroup rule, so every HTTP request is allowed`,
    };
  }
  const http = request.http ?? { method: 'GET', path: '/', headers: {} };
  const misses: string[] = [];
  for (const rule of grant.http) {
    if (rule.matches.length === 0) misses.push(`rule ${rule.ruleIndex} (HTTPRouteGroup ${rule.route.name}) selects no match`);
    for (const m of rule.matches) {
      const why = mismatch(m, http);
      if (why === undefined) {
        return {
          ...base,
          allowed: true,
          ruleIndex: rule.ruleIndex,
          route: rule.route,
          match: m.name,
          reason: `allowed by ${tt} rule ${rule.ruleIndex} (HTTPRouteGroup ${rule.route.name} match ${m.name})`,
        };
      }
      misses.push(`${m.name}: ${why}`);
    }
  }
  return { allowed: false, reason: `has no match for ${http.method.toUpperCase()} ${pathOf(http.path)} (${misses.join('; ')})` };
}

function describePorts(grant: AccessGrant): string {
  const ports = new Set<number>();
  for (const r of grant.tcp ?? []) if (r.ports !== 'all') for (const p of r.ports) ports.add(p);
  if (ports.size === 0) return 'none';
  return [...ports].sort((a, b) => a - b).join(', ');
}
