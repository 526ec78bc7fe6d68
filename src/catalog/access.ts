/**
 * TrafficTargets compiled into grants: for one destination identity, who may reach it, on
 * which pod ports, and with which HTTP requests (smi-decisions A6-A14, A16).
 *
 * A missing traffic spec or match name grants nothing but still restricts: a rule that cannot be
 * resolved never turns into "no restriction" (that would widen access).
 */
import type { ObjectRef } from '../api/meta.js';
import { problem, type Problem } from '../api/problem.js';
import type { HTTPRouteGroup, TCPRoute, TrafficTarget } from '../api/smi/index.js';
import { compileHttpMatch, matchesEverything, type CompiledHttpMatch } from './http-match.js';
import { identityOf, type Identity } from './identity.js';

/** A TCPRoute rule: the pod ports it covers (`all` for an empty list, A9). */
export interface TcpRuleGrant {
  ruleIndex: number;
  route: ObjectRef;
  ports: 'all' | readonly number[];
}

/** An HTTPRouteGroup rule: the matches it selects (empty when the group or names are missing). */
export interface HttpRuleGrant {
  ruleIndex: number;
  route: ObjectRef;
  matches: readonly CompiledHttpMatch[];
}

/** What one TrafficTarget grants. */
export interface AccessGrant {
  trafficTarget: ObjectRef;
  destination: Identity;
  sources: ReadonlySet<Identity>;
  /** Absent when the TrafficTarget has no TCPRoute rule: then ports are not limited by TCPRoutes. */
  tcp?: readonly TcpRuleGrant[];
  /** Absent when the TrafficTarget has no HTTPRouteGroup rule: then every HTTP request fits (A8). */
  http?: readonly HttpRuleGrant[];
  /** access v1alpha1/v1alpha2 `destination.port`. */
  port?: number;
}

/** Looks up traffic specs in a namespace (A14: the TrafficTarget's own). */
export interface SpecLookup {
  httpRouteGroup(namespace: string, name: string): HTTPRouteGroup | undefined;
  tcpRoute(namespace: string, name: string): TCPRoute | undefined;
  /** Compiled matches of a group, shared by every TrafficTarget that names it. */
  compiledMatches(group: HTTPRouteGroup): ReadonlyMap<string, CompiledHttpMatch>;
}

/** Compiles a group's matches by name. */
export function compileGroup(group: HTTPRouteGroup): ReadonlyMap<string, CompiledHttpMatch> {
  const ref: ObjectRef = { kind: 'HTTPRouteGroup', namespace: group.metadata.namespace ?? '', name: group.metadata.name };
  return new Map(group.spec.matches.map((m) => [m.name, compileHttpMatch(ref, m)]));
}

/** The identity a TrafficTarget grants access to. */
export function destinationOf(tt: TrafficTarget): Identity {
  return identityOf(tt.spec.destination.namespace, tt.spec.destination.name);
}

/** Compiles one TrafficTarget; returns no grant (and says why) when it grants nothing. */
export function compileTrafficTarget(tt: TrafficTarget, specs: SpecLookup, problems: Problem[]): AccessGrant | undefined {
  const namespace = tt.metadata.namespace ?? '';
  const ref: ObjectRef = { kind: 'TrafficTarget', namespace, name: tt.metadata.name };
  const report = (code: Parameters<typeof problem>[0], field: string, params: Record<string, string> = {}) =>
    problems.push(problem(code, params, { object: ref, field }));
  if (tt.spec.destination.namespace !== namespace) {
    report('E5001', 'spec.destination.namespace', { namespace });
    return undefined;
  }
  const tcp: TcpRuleGrant[] = [];
  const http: HttpRuleGrant[] = [];
  tt.spec.rules.forEach((rule, ruleIndex) => {
    const field = `spec.rules[${ruleIndex}]`;
    const route: ObjectRef = { kind: rule.kind, namespace, name: rule.name };
    if (rule.kind === 'UDPRoute') {
      report('E5005', field, { name: rule.name });
      return;
    }
    if (rule.kind === 'TCPRoute') {
      const spec = specs.tcpRoute(namespace, rule.name);
      if (!spec) report('E5002', field, { kind: rule.kind, name: rule.name, namespace });
      const ports = spec ? (spec.spec.matches.ports.length === 0 ? 'all' : spec.spec.matches.ports) : [];
      tcp.push({ ruleIndex, route, ports });
      return;
    }
    const group = specs.httpRouteGroup(namespace, rule.name);
    if (!group) {
      report('E5002', field, { kind: rule.kind, name: rule.name, namespace });
      http.push({ ruleIndex, route, matches: [] });
      return;
    }
    const compiled = specs.compiledMatches(group);
    let matches: CompiledHttpMatch[];
    if (rule.matches === undefined) {
      report('E5004', field, { name: rule.name });
      matches = [...compiled.values()];
    } else {
      matches = [];
      rule.matches.forEach((name, i) => {
        const m = compiled.get(name);
        if (m) matches.push(m);
        else report('E5003', `${field}.matches[${i}]`, { match: name, group: rule.name });
      });
    }
    for (const m of matches) {
      if (matchesEverything(m)) report('E5006', field, { match: m.name, group: rule.name });
    }
    http.push({ ruleIndex, route, matches });
  });
  if (tcp.length === 0 && http.length === 0) {
    report('E5007', 'spec.rules');
    return undefined;
  }
  const grant: AccessGrant = {
    trafficTarget: ref,
    destination: destinationOf(tt),
    sources: new Set(tt.spec.sources.map((s) => identityOf(s.namespace, s.name))),
  };
  if (tcp.length > 0) grant.tcp = tcp;
  if (http.length > 0) grant.http = http;
  if (tt.spec.port !== undefined) grant.port = tt.spec.port;
  return grant;
}

/** The TCPRoute rule that covers `port`, or undefined; `null` when TCPRoutes do not limit ports. */
export function tcpRuleCovering(grant: AccessGrant, port: number): TcpRuleGrant | null | undefined {
  if (grant.port !== undefined && grant.port !== port) return undefined;
  if (!grant.tcp) return null;
  return grant.tcp.find((r) => r.ports === 'all' || r.ports.includes(port));
}

/** Whether a grant can allow anything on `port` for the given protocol (client-side filtering). */
export function grantCovers(grant: AccessGrant, port: number, protocol: 'http' | 'tcp'): boolean {
  const rule = tcpRuleCovering(grant, port);
  if (protocol === 'tcp') return rule !== undefined && rule !== null;
  if (rule === undefined) return false;
  return !grant.http || grant.http.some((r) => r.matches.length > 0);
}
