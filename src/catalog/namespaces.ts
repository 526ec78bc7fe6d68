/**
 * Which namespaces the mesh monitors and where sidecars are injected, from OSM's label and
 * annotations (osm.md 4.1).
 */
import type { Namespace } from '../api/kubernetes/index.js';

export const MONITORED_BY_LABEL = 'openservicemesh.io/monitored-by';
export const IGNORE_LABEL = 'openservicemesh.io/ignore';
export const INJECTION_ANNOTATION = 'openservicemesh.io/sidecar-injection';

export interface NamespaceOptions {
  meshName: string;
  /** The control plane's namespace: never part of the mesh (nor are kube-system and kube-public). */
  osmNamespace: string;
  /**
   * How to treat a namespace that objects live in but no Namespace object declares: `monitored`
   * suits checking manifests offline (OSM's guides create namespaces by hand), `unmonitored`
   * a running mesh.
   */
  undeclaredNamespaces: 'monitored' | 'unmonitored';
}

export interface NamespaceStatus {
  monitored: boolean;
  /** Sidecars are injected into pods here unless a pod says otherwise. */
  injection: boolean;
  declared: boolean;
}

/** Whether an injection annotation value turns injection on, off, or says nothing. */
export function injectionSetting(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'enabled' || v === 'yes' || v === 'true') return true;
  if (v === 'disabled' || v === 'no' || v === 'false') return false;
  return undefined;
}

export class NamespaceIndex {
  private readonly declared: ReadonlyMap<string, Namespace>;

  constructor(
    namespaces: readonly Namespace[],
    private readonly options: NamespaceOptions,
  ) {
    this.declared = new Map(namespaces.map((n) => [n.metadata.name, n]));
  }

  status(name: string): NamespaceStatus {
    if (name === this.options.osmNamespace || name === 'kube-system' || name === 'kube-public') return { monitored: false, injection: false, declared: this.declared.has(name) };
    const ns = this.declared.get(name);
    if (!ns) {
      const monitored = this.options.undeclaredNamespaces === 'monitored';
      return { monitored, injection: monitored, declared: false };
    }
    const labels = ns.metadata.labels ?? {};
    const monitored = labels[MONITORED_BY_LABEL] === this.options.meshName && labels[IGNORE_LABEL] !== 'true';
    const injection = monitored && injectionSetting(ns.metadata.annotations?.[INJECTION_ANNOTATION]) === true;
    return { monitored, injection, declared: true };
  }

  isMonitored(name: string): boolean {
    return this.status(name).monitored;
  }

  /** OSM's injection decision for a pod (osm.md 4.2): the pod's annotation wins over the namespace's. */
  injects(namespace: string, podAnnotations: Readonly<Record<string, string>>, hostNetwork: boolean): boolean {
    const status = this.status(namespace);
    if (!status.monitored || hostNetwork) return false;
    return injectionSetting(podAnnotations[INJECTION_ANNOTATION]) ?? status.injection;
  }
}
