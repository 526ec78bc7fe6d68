/**
 * Checks one request from a client identity to a service port the way the mesh would route and
 * authorise it: TrafficSplit resolution first, then the evaluator for every backend identity.
 * `osm policy check` prints this.
 */
import type { ObjectRef } from '../api/meta.js';
import { authorize, type AccessProtocol, type Decision } from './authorize.js';
import { mismatch, type HttpRequestAttributes } from './http-match.js';
import type { Identity, ServiceKey } from './identity.js';
import type { MeshState } from './mesh-state.js';
import { isHttp, type MeshServicePort } from './services.js';
import { liveBackends } from './splits.js';

export interface RequestCheck {
  source: Identity;
  service: ServiceKey;
  /** The Service port the client calls. */
  port: number;
  /** Evaluate as a TCP connection even on an HTTP port. */
  tcp?: boolean;
  http?: HttpRequestAttributes;
}

/** The verdict for one identity behind one backend. */
export interface DestinationVerdict {
  service: ServiceKey;
  /** Absent when no workload backs the backend. */
  identity?: Identity;
  /** The pod port the request reaches. */
  podPort?: number;
  weight: number;
  allowed: boolean;
  reason: string;
  decision?: Decision;
}

export interface CheckResult {
  protocol: AccessProtocol;
  split?: ObjectRef;
  notes: string[];
  destinations: DestinationVerdict[];
}

/** A destination the manifests do not define. */
export class UnknownDestinationError extends Error {}

export function checkRequest(state: MeshState, check: RequestCheck): CheckResult {
  const service = state.services.get(check.service);
  if (!service) {
    const unmonitored = !state.namespaces.isMonitored(check.service.split('/')[0] ?? '');
    throw new UnknownDestinationError(
      unmonitored
        ? `Service ${check.service} is not in the mesh: its namespace is not monitored`
        : `Service ${check.service} is not defined in the manifests`,
    );
  }
  const port = service.ports.find((p) => p.port === check.port);
  if (!port) {
    const ports = service.ports.map((p) => p.port).join(', ') || 'none';
    throw new UnknownDestinationError(`Service ${check.service} has no port ${check.port} (ports: ${ports})`);
  }
  const protocol: AccessProtocol = check.tcp || !isHttp(port.protocol) ? 'tcp' : 'http';
  const notes: string[] = [];
  const result: CheckResult = { protocol, notes, destinations: [] };
  let backends: ReadonlyArray<{ port: MeshServicePort; weight: number }> = [{ port, weight: 1 }];
  const split = state.splits.get(check.service);
  const splitBackends = split?.ports.get(check.port);
  if (split && splitBackends && splitBackends.length > 0) {
    const fits = !split.matches || (protocol === 'http' && split.matches.some((m) => mismatch(m, check.http ?? defaultRequest) === undefined));
    if (fits) {
      result.split = split.split;
      backends = liveBackends(state.members, splitBackends);
      notes.push(`TrafficSplit ${split.split.namespace}/${split.split.name} splits ${check.service} port ${check.port}`);
    } else {
      notes.push(`the request does not fit the HTTPRouteGroup matches of TrafficSplit ${split.split.namespace}/${split.split.name}, so it goes to ${check.service} itself`);
    }
  }
  for (const b of backends) {
    const backing = state.members.get(b.port.id)?.backing ?? [];
    if (backing.length === 0) {
      result.destinations.push({
        service: b.port.service,
        weight: b.weight,
        allowed: false,
        reason: `no workload backs Service ${b.port.service} port ${b.port.port}`,
      });
      continue;
    }
    for (const m of backing) {
      const decision = authorize(
        state.grantsByDestination.get(m.identity) ?? [],
        { source: check.source, destination: m.identity, port: m.port, protocol, ...(check.http ? { http: check.http } : {}) },
        { permissive: state.settings.permissive, ...(state.settings.setBy ? { setBy: state.settings.setBy } : {}) },
      );
      result.destinations.push({
        service: b.port.service,
        identity: m.identity,
        podPort: m.port,
        weight: b.weight,
        allowed: decision.allowed,
        reason: decision.reason,
        decision,
      });
    }
  }
  return result;
}

const defaultRequest: HttpRequestAttributes = { method: 'GET', path: '/', headers: {} };
