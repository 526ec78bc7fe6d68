/**
 * TrafficSplit resolution: which split applies to a root service, and its backends per root
 * port (smi-decisions A17-A25).
 */
import type { ObjectRef } from '../api/meta.js';
import { problem, type Problem } from '../api/problem.js';
import { parseRootService, type HTTPRouteGroup, type TrafficSplit } from '../api/smi/index.js';
import type { ServicePortMembers } from './endpoints.js';
import type { CompiledHttpMatch } from './http-match.js';
import { serviceKeyOf, type ServiceKey } from './identity.js';
import type { MeshServicePort } from './services.js';

/** One backend of a split on one root port: a port of a backend Service with its weight. */
export interface SplitBackend {
  service: ServiceKey;
  /** The backend Service's port with the root's port number. */
  port: MeshServicePort;
  weight: number;
}

/** The split that applies to one root service. */
export interface ResolvedSplit {
  split: ObjectRef;
  root: ServiceKey;
  /** By root port number; a port whose backends all lack that port is absent. */
  ports: ReadonlyMap<number, readonly SplitBackend[]>;
  /** A/B split (A25): only matching requests are split; absent means every request. */
  matches?: readonly CompiledHttpMatch[];
}

/** What split resolution needs to look up. */
export interface SplitLookup {
  servicePorts(service: ServiceKey): readonly MeshServicePort[] | undefined;
  httpRouteGroup(namespace: string, name: string): HTTPRouteGroup | undefined;
  compiledMatches(group: HTTPRouteGroup): ReadonlyMap<string, CompiledHttpMatch>;
}

/** Oldest first (A23): creation time, then name. Objects without a time sort after those with one. */
function olderFirst(a: TrafficSplit, b: TrafficSplit): number {
  const ta = a.metadata.creationTimestamp ?? '\uffff';
  const tb = b.metadata.creationTimestamp ?? '\uffff';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

function refOf(split: TrafficSplit): ObjectRef {
  return { kind: 'TrafficSplit', namespace: split.metadata.namespace ?? '', name: split.metadata.name };
}

/** Resolves every split; returns one per root service that exists. */
export function resolveSplits(splits: readonly TrafficSplit[], lookup: SplitLookup, problems: Problem[]): Map<ServiceKey, ResolvedSplit> {
  const byRoot = new Map<ServiceKey, TrafficSplit[]>();
  for (const split of splits) {
    const root = parseRootService(split.spec.service);
    if (!root) continue;
    const key = serviceKeyOf(split.metadata.namespace ?? '', root.name);
    const list = byRoot.get(key);
    if (list) list.push(split);
    else byRoot.set(key, [split]);
  }
  const out = new Map<ServiceKey, ResolvedSplit>();
  for (const [root, candidates] of [...byRoot.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [winner, ...losers] = [...candidates].sort(olderFirst);
    if (!winner) continue;
    for (const loser of losers) {
      problems.push(problem('E5010', { winner: `${winner.metadata.namespace}/${winner.metadata.name}`, service: root }, { object: refOf(loser), field: 'spec.service' }));
    }
    const resolved = resolveOne(winner, root, byRoot, lookup, problems);
    if (resolved) out.set(root, resolved);
  }
  return out;
}

function resolveOne(
  split: TrafficSplit,
  root: ServiceKey,
  roots: ReadonlyMap<ServiceKey, unknown>,
  lookup: SplitLookup,
  problems: Problem[],
): ResolvedSplit | undefined {
  const object = refOf(split);
  const namespace = split.metadata.namespace ?? '';
  const rootPorts = lookup.servicePorts(root);
  if (!rootPorts) {
    problems.push(problem('E5011', { service: root }, { object, field: 'spec.service' }));
    return undefined;
  }
  const ports = new Map<number, SplitBackend[]>();
  split.spec.backends.forEach((b, i) => {
    const field = `spec.backends[${i}].service`;
    const key = serviceKeyOf(namespace, b.service);
    const backendPorts = lookup.servicePorts(key);
    if (!backendPorts) {
      problems.push(problem('E5012', { service: key }, { object, field }));
      return;
    }
    if (key === root) problems.push(problem('E5016', { service: key }, { object, field }));
    else if (roots.has(key)) problems.push(problem('E5017', { service: key }, { object, field }));
    for (const rp of rootPorts) {
      const bp = backendPorts.find((p) => p.port === rp.port);
      if (!bp) {
        problems.push(problem('E5013', { service: key, port: String(rp.port) }, { object, field }));
        continue;
      }
      const list = ports.get(rp.port) ?? [];
      list.push({ service: key, port: bp, weight: b.weight });
      ports.set(rp.port, list);
    }
  });
  // Written order means nothing: backends by service, so output does not depend on it.
  for (const list of ports.values()) list.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  const resolved: ResolvedSplit = { split: object, root, ports };
  if (split.spec.matches) {
    const matches: CompiledHttpMatch[] = [];
    split.spec.matches.forEach((m, i) => {
      const group = lookup.httpRouteGroup(namespace, m.name);
      if (!group) problems.push(problem('E5015', { name: `${namespace}/${m.name}` }, { object, field: `spec.matches[${i}]` }));
      else matches.push(...lookup.compiledMatches(group).values());
    });
    resolved.matches = matches.sort((a, b) => compareKeys(`${a.group.name}#${a.name}`, `${b.group.name}#${b.name}`));
  }
  return resolved;
}

/**
 * A backend without endpoints loses its share to the others (smi-decisions A21); if none has
 * endpoints the weights stay as written, so traffic still never leaves the backends.
 */
export function liveBackends(members: ReadonlyMap<string, ServicePortMembers>, backends: readonly SplitBackend[]): readonly SplitBackend[] {
  const live = backends.filter((b) => (members.get(b.port.id)?.endpoints.length ?? 0) > 0);
  return live.length === 0 ? backends : live;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
