/**
 * Workloads: the pods, and the pod templates of Deployments, StatefulSets, DaemonSets and
 * ReplicaSets, that Services select. A template stands for pods that are not (yet) in the
 * snapshot, so manifests without running pods still say which identities back a Service.
 */
import type { ObjectRef } from '../api/meta.js';
import type { Pod, Workload as WorkloadObject } from '../api/kubernetes/index.js';
import { DEFAULT_SERVICE_ACCOUNT, identityOf, type Identity } from './identity.js';

/** A pod or a pod template, with what the catalog needs of it. */
export interface Workload {
  ref: ObjectRef;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  identity: Identity;
  /** Set for pods that have an address. */
  ip?: string;
  containerPorts: ReadonlyArray<{ name?: string; port: number }>;
  /** True for a Pod, false for a template. */
  isPod: boolean;
  /** Pods on the host network get no sidecar (osm.md 4.2). */
  hostNetwork: boolean;
}

type PodSpecLike = Pod['spec'];

function fromSpec(
  ref: ObjectRef,
  namespace: string,
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
  spec: PodSpecLike,
): Omit<Workload, 'isPod'> {
  const sa = spec.serviceAccountName ?? spec.serviceAccount ?? DEFAULT_SERVICE_ACCOUNT;
  const containerPorts = spec.containers.flatMap((c) =>
    (c.ports ?? []).map((p) => (p.name === undefined ? { port: p.containerPort } : { name: p.name, port: p.containerPort })),
  );
  return {
    ref,
    namespace,
    labels: labels ?? {},
    annotations: annotations ?? {},
    identity: identityOf(namespace, sa),
    containerPorts,
    hostNetwork: spec.hostNetwork === true,
  };
}

/** A Pod as a workload. */
export function podWorkload(pod: Pod): Workload {
  const namespace = pod.metadata.namespace ?? 'default';
  const w: Workload = {
    ...fromSpec({ kind: 'Pod', namespace, name: pod.metadata.name }, namespace, pod.metadata.labels, pod.metadata.annotations, pod.spec),
    isPod: true,
  };
  const ip = pod.status?.podIP;
  if (ip) w.ip = ip;
  return w;
}

/** The pod template of a Deployment, StatefulSet, DaemonSet or ReplicaSet as a workload. */
export function templateWorkload(owner: WorkloadObject): Workload {
  const namespace = owner.metadata.namespace ?? 'default';
  const template = owner.spec.template;
  return {
    ...fromSpec(
      { kind: owner.kind, namespace, name: owner.metadata.name },
      namespace,
      template.metadata?.labels,
      template.metadata?.annotations,
      template.spec,
    ),
    isPod: false,
  };
}

/** Whether a Service selector (equality on every key) selects these labels. */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/**
 * Finds the workloads a selector picks in a namespace without scanning every workload: an
 * index from `namespace`, `key=value` to workloads.
 */
export class WorkloadIndex {
  private readonly byLabel = new Map<string, Workload[]>();
  private readonly byNamespace = new Map<string, Workload[]>();
  private readonly podsByIp = new Map<string, Workload>();
  private readonly podsByName = new Map<string, Workload>();

  constructor(readonly all: readonly Workload[]) {
    for (const w of all) {
      push(this.byNamespace, w.namespace, w);
      for (const [k, v] of Object.entries(w.labels)) push(this.byLabel, `${w.namespace}\u0000${k}=${v}`, w);
      if (w.isPod) {
        this.podsByName.set(`${w.namespace}/${w.ref.name}`, w);
        if (w.ip) this.podsByIp.set(w.ip, w);
      }
    }
  }

  /** Workloads in `namespace` whose labels the selector matches; none for an empty selector. */
  select(namespace: string, selector: Readonly<Record<string, string>>): Workload[] {
    const entries = Object.entries(selector);
    if (entries.length === 0) return [];
    let smallest: Workload[] | undefined;
    for (const [k, v] of entries) {
      const list = this.byLabel.get(`${namespace}\u0000${k}=${v}`);
      if (!list) return [];
      if (!smallest || list.length < smallest.length) smallest = list;
    }
    return (smallest ?? []).filter((w) => selects(selector, w.labels));
  }

  inNamespace(namespace: string): readonly Workload[] {
    return this.byNamespace.get(namespace) ?? [];
  }

  pod(namespace: string, name: string): Workload | undefined {
    return this.podsByName.get(`${namespace}/${name}`);
  }

  podByIp(ip: string): Workload | undefined {
    return this.podsByIp.get(ip);
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
