/**
 * Endpoints and backing identities of a mesh service port.
 *
 * Endpoints (addresses) come from the Service's EndpointSlices, else its Endpoints object, else
 * the selected pods that have an address. Backing identities come from every selected workload
 * (pods and templates) and from endpoints whose pod is known: they say who serves the port even
 * when nothing runs yet.
 */
import type { EndpointSlice, Endpoints } from '../api/kubernetes/index.js';
import { problem, type Problem } from '../api/problem.js';
import type { Identity } from './identity.js';
import type { MeshServicePort } from './services.js';
import type { Workload, WorkloadIndex } from './workloads.js';

/** One address of a service port: the pod's IP and pod port. */
export interface Endpoint {
  ip: string;
  port: number;
  /** Unknown when the address names no pod (a Service without selector, for example). */
  identity?: Identity;
  pod?: string;
}

/** An identity that serves a service port, and the pod port it serves it on. */
export interface Backing {
  identity: Identity;
  port: number;
}

export interface ServicePortMembers {
  endpoints: readonly Endpoint[];
  backing: readonly Backing[];
}

/** Where endpoints of one Service are written, if anywhere. */
export interface EndpointSources {
  slices: readonly EndpointSlice[];
  endpoints?: Endpoints;
}

/** Resolves a workload's pod port for a target port (a number, or a container port name). */
export function resolveTargetPort(workload: Workload, targetPort: number | string): number | undefined {
  if (typeof targetPort === 'number') return targetPort;
  if (/^\d+$/.test(targetPort)) return Number(targetPort);
  return workload.containerPorts.find((p) => p.name === targetPort)?.port;
}

/** The endpoints and backing identities of one service port. */
export function membersOf(
  port: MeshServicePort,
  selected: readonly Workload[],
  written: EndpointSources,
  workloads: WorkloadIndex,
  problems: Problem[],
): ServicePortMembers {
  const object = { kind: 'Service', namespace: port.namespace, name: port.name };
  const endpoints: Endpoint[] = [];
  const identityOfPod = (namespace: string | undefined, name: string | undefined, ip: string): Workload | undefined =>
    (name !== undefined ? workloads.pod(namespace ?? port.namespace, name) : undefined) ?? workloads.podByIp(ip);
  const add = (ip: string, pod: Workload | undefined, podPort: number) => {
    const e: Endpoint = { ip, port: podPort };
    if (pod) {
      e.identity = pod.identity;
      e.pod = pod.ref.name;
    }
    endpoints.push(e);
  };
  if (written.slices.length > 0 || written.endpoints) {
    for (const slice of written.slices) {
      const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.portName ?? ''));
      if (!sp?.port) continue;
      for (const ep of slice.endpoints) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses) add(ip, identityOfPod(ep.targetRef?.namespace, ep.targetRef?.name, ip), sp.port);
      }
    }
    for (const subset of written.endpoints?.subsets ?? []) {
      const sp = (subset.ports ?? []).find((p) => (p.name ?? '') === (port.portName ?? ''));
      if (!sp) continue;
      for (const a of subset.addresses ?? []) add(a.ip, identityOfPod(a.targetRef?.namespace, a.targetRef?.name, a.ip), sp.port);
    }
  } else {
    for (const w of selected) {
      if (!w.isPod || !w.ip) continue;
      const podPort = resolveTargetPort(w, port.targetPort);
      if (podPort === undefined) {
        problems.push(problem('E5021', { port: String(port.targetPort), pod: w.ref.name }, { object, field: 'spec.ports' }));
        continue;
      }
      add(w.ip, w, podPort);
    }
  }
  for (const e of endpoints) {
    if (!e.identity) problems.push(problem('E5022', { ip: e.ip }, { object }));
  }
  const backing = new Map<string, Backing>();
  const addBacking = (identity: Identity, podPort: number) => backing.set(`${identity}:${podPort}`, { identity, port: podPort });
  for (const w of selected) {
    const podPort = resolveTargetPort(w, port.targetPort);
    if (podPort !== undefined) addBacking(w.identity, podPort);
  }
  for (const e of endpoints) if (e.identity) addBacking(e.identity, e.port);
  endpoints.sort((a, b) => compare(a.ip, b.ip) || a.port - b.port);
  return { endpoints, backing: [...backing.values()].sort((a, b) => compare(a.identity, b.identity) || a.port - b.port) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
