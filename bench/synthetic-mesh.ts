/**
 * A synthetic mesh for benchmarks: namespaces of services, each backed by its own
 * ServiceAccount and pods, TrafficTargets between them, and some TrafficSplits. Deterministic
 * for a given seed.
 */
import type { KubeObject } from '../src/api/kind.js';
import type { StoreWrite } from '../src/store/index.js';

export interface SyntheticMeshSize {
  namespaces: number;
  services: number;
  pods: number;
  trafficTargets: number;
  splits: number;
}

/** A small seeded generator (mulberry32), so every run builds the same mesh. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const meta = (name: string, namespace?: string, extra: Record<string, unknown> = {}) => ({
  name,
  ...(namespace ? { namespace } : {}),
  ...extra,
});

/** The objects of a synthetic mesh, as store writes. */
export function syntheticMesh(size: SyntheticMeshSize, seed = 1): StoreWrite[] {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const objects: KubeObject[] = [];
  const services: Array<{ ns: string; name: string; tcp: boolean }> = [];
  for (let n = 0; n < size.namespaces; n++) {
    objects.push({
      kind: 'Namespace',
      metadata: meta(`ns-${n}`, undefined, {
        labels: { 'openservicemesh.io/monitored-by': 'osm' },
        annotations: { 'openservicemesh.io/sidecar-injection': 'enabled' },
      }),
    } as KubeObject);
  }
  for (let i = 0; i < size.services; i++) {
    const ns = `ns-${i % size.namespaces}`;
    const name = `svc-${i}`;
    const tcp = i % 5 === 0;
    services.push({ ns, name, tcp });
    objects.push({ kind: 'ServiceAccount', metadata: meta(name, ns) } as KubeObject);
    objects.push({
      kind: 'Service',
      metadata: meta(name, ns),
      spec: {
        selector: { app: name },
        clusterIP: `10.96.${Math.floor(i / 250)}.${i % 250}`,
        ports: [{ name: tcp ? 'tcp-data' : 'http', port: tcp ? 5432 : 8080, targetPort: tcp ? 5432 : 8080, protocol: 'TCP' }],
      },
    } as KubeObject);
    objects.push({
      kind: 'HTTPRouteGroup',
      metadata: meta(`${name}-routes`, ns),
      spec: {
        matches: [
          { name: 'read', pathRegex: `/${name}/.*`, methods: ['GET'] },
          { name: 'write', pathRegex: `/${name}/items`, methods: ['POST', 'PUT'], headers: { 'x-team': 'blue|green' } },
        ],
      },
    } as KubeObject);
    if (tcp) objects.push({ kind: 'TCPRoute', metadata: meta(`${name}-tcp`, ns), spec: { matches: { ports: [5432] } } } as KubeObject);
  }
  for (let p = 0; p < size.pods; p++) {
    const svc = services[p % services.length] as (typeof services)[number];
    objects.push({
      kind: 'Pod',
      metadata: meta(`${svc.name}-${Math.floor(p / services.length)}`, svc.ns, { labels: { app: svc.name } }),
      spec: { serviceAccountName: svc.name, containers: [{ name: 'app', image: 'app', ports: [{ containerPort: svc.tcp ? 5432 : 8080 }] }] },
      status: { podIP: `10.${1 + Math.floor(p / 65025)}.${Math.floor(p / 255) % 255}.${(p % 255) + 1}`, phase: 'Running' },
    } as KubeObject);
  }
  for (let t = 0; t < size.trafficTargets; t++) {
    const dest = services[t % services.length] as (typeof services)[number];
    const sources = [pick(services), pick(services), pick(services)];
    objects.push(trafficTarget(`tt-${t}`, dest, sources));
  }
  for (let s = 0; s < size.splits; s++) {
    const root = services[s * 3] as (typeof services)[number];
    const a = services[s * 3 + 1] as (typeof services)[number];
    objects.push({
      kind: 'TrafficSplit',
      metadata: meta(`split-${s}`, root.ns),
      spec: { service: root.name, backends: [{ service: root.name, weight: 90 }, { service: a.name, weight: 10 }] },
    } as KubeObject);
  }
  return objects.map((object) => ({ type: 'put', object, apiVersion: 'v1' }));
}

/** A TrafficTarget from `sources` to `dest`, by name (used to change one in place). */
export function trafficTarget(
  name: string,
  dest: { ns: string; name: string; tcp: boolean },
  sources: ReadonlyArray<{ ns: string; name: string }>,
): KubeObject {
  return {
    kind: 'TrafficTarget',
    metadata: meta(name, dest.ns),
    spec: {
      destination: { kind: 'ServiceAccount', name: dest.name, namespace: dest.ns },
      sources: sources.map((s) => ({ kind: 'ServiceAccount', name: s.name, namespace: s.ns })),
      rules: dest.tcp ? [{ kind: 'TCPRoute', name: `${dest.name}-tcp` }] : [{ kind: 'HTTPRouteGroup', name: `${dest.name}-routes`, matches: ['read', 'write'] }],
    },
  } as KubeObject;
}
