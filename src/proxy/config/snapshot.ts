/**
 * Decoded resources -> one complete ProxyConfig. Like Envoy warming a listener or cluster (and
 * grpc-js-xds's dependency manager), a config is only produced when every name it refers to
 * is present: the RouteConfiguration an RDS connection manager names, the
 * ClusterLoadAssignment of each EDS cluster, and every secret a TLS context names. Until then
 * the result lists what is missing, so the caller keeps serving the previous config and waits.
 *
 * Cluster names in routes and tcp_proxy are not checked: Envoy answers 503 (or closes) for an
 * unknown cluster at request time, and the control plane relies on that for denied traffic.
 */
import type { ClusterConfig, ConfigIssue, EndpointsConfig, FilterChainConfig, ListenerConfig, ProxyConfig, RouteConfig, SecretConfig } from './model.js';
import { deepFreeze } from './decode-common.js';

/** The decoded resources of each type, as the xDS client last accepted them. */
export interface DecodedResources {
  readonly listeners: readonly ListenerConfig[];
  readonly routeConfigs: readonly RouteConfig[];
  readonly clusters: readonly ClusterConfig[];
  readonly endpoints: readonly EndpointsConfig[];
  readonly secrets: readonly SecretConfig[];
}

/** A resource some other resource names but that has not arrived (yet). */
export interface MissingResource {
  readonly kind: 'RouteConfiguration' | 'ClusterLoadAssignment' | 'Secret';
  readonly name: string;
  /** Who needs it, e.g. `Listener inbound-listener filter_chains[0]`; sorted. */
  readonly neededBy: readonly string[];
}

/** A complete config, or why there is none yet (missing resources) or ever (inconsistent ones). */
export type AssembleResult =
  | { readonly ok: true; readonly config: ProxyConfig }
  | { readonly ok: false; readonly missing: readonly MissingResource[]; readonly errors: readonly ConfigIssue[] };

/** A Map that cannot be changed once built (Object.freeze alone leaves `set` working). */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super(entries);
    Object.freeze(this);
  }
  override set(key: K, value: V): this {
    // The Map constructor adds its entries through `set`, before the freeze.
    if (Object.isFrozen(this)) throw new TypeError('ProxyConfig maps are immutable');
    return super.set(key, value);
  }
  override delete(): boolean {
    throw new TypeError('ProxyConfig maps are immutable');
  }
  override clear(): void {
    throw new TypeError('ProxyConfig maps are immutable');
  }
}

/** Resolves every reference between `resources` and returns one frozen, consistent ProxyConfig. */
export function assembleConfig(resources: DecodedResources): AssembleResult {
  const errors: ConfigIssue[] = [];
  const byName = <T>(kind: string, list: readonly T[], nameOf: (x: T) => string): Map<string, T> => {
    const out = new Map<string, T>();
    for (const x of [...list].sort((a, b) => compare(nameOf(a), nameOf(b)))) {
      if (out.has(nameOf(x))) errors.push({ path: `${kind} ${nameOf(x)}`, message: 'appears twice' });
      out.set(nameOf(x), x);
    }
    return out;
  };
  const listeners = byName('Listener', resources.listeners, (l) => l.name);
  const routeConfigs = byName('RouteConfiguration', resources.routeConfigs, (r) => r.name);
  const clusters = byName('Cluster', resources.clusters, (c) => c.name);
  const assignments = byName('ClusterLoadAssignment', resources.endpoints, (e) => e.clusterName);
  const secrets = byName('Secret', resources.secrets, (s) => s.name);

  const missing = new Map<string, { kind: MissingResource['kind']; name: string; neededBy: Set<string> }>();
  const need = (kind: MissingResource['kind'], name: string, by: string) => {
    const k = `${kind}\u0000${name}`;
    const m = missing.get(k) ?? { kind, name, neededBy: new Set<string>() };
    m.neededBy.add(by);
    missing.set(k, m);
  };
  const needSecret = (name: string | undefined, kind: SecretConfig['kind'], by: string) => {
    if (name === undefined) return;
    const s = secrets.get(name);
    if (!s) need('Secret', name, by);
    else if (s.kind !== kind) errors.push({ path: by, message: `names secret ${name}, which is a ${s.kind} secret, where a ${kind} secret is needed` });
  };

  for (const l of listeners.values()) {
    const chains: Array<readonly [string, FilterChainConfig]> = l.filterChains.map((c, i) => [`Listener ${l.name} filter_chains[${i}]`, c]);
    if (l.defaultFilterChain) chains.push([`Listener ${l.name} default_filter_chain`, l.defaultFilterChain]);
    for (const [by, chain] of chains) {
      needSecret(chain.tls?.certificateSecret, 'certificate', by);
      needSecret(chain.tls?.validationSecret, 'validation', by);
      for (const f of chain.filters) {
        if (f.kind === 'httpConnectionManager' && f.hcm.routes.kind === 'rds' && !routeConfigs.has(f.hcm.routes.name)) need('RouteConfiguration', f.hcm.routes.name, by);
      }
    }
  }
  const endpoints = new Map<string, EndpointsConfig>();
  for (const c of clusters.values()) {
    const by = `Cluster ${c.name}`;
    needSecret(c.tls?.certificateSecret, 'certificate', by);
    needSecret(c.tls?.validationSecret, 'validation', by);
    if (c.discovery.kind === 'static') endpoints.set(c.name, c.discovery.endpoints);
    if (c.discovery.kind === 'eds') {
      const a = assignments.get(c.discovery.edsServiceName);
      if (a) endpoints.set(c.name, a);
      else need('ClusterLoadAssignment', c.discovery.edsServiceName, by);
    }
  }
  if (missing.size > 0 || errors.length > 0) {
    const list = [...missing.values()]
      .map((m) => ({ kind: m.kind, name: m.name, neededBy: [...m.neededBy].sort() }))
      .sort((a, b) => compare(`${a.kind} ${a.name}`, `${b.kind} ${b.name}`));
    return { ok: false, missing: deepFreeze(list), errors: deepFreeze(errors) };
  }
  const config: ProxyConfig = {
    listeners: new FrozenMap(deepFreeze([...listeners])),
    routeConfigs: new FrozenMap(deepFreeze([...routeConfigs])),
    clusters: new FrozenMap(deepFreeze([...clusters])),
    endpoints: new FrozenMap(deepFreeze([...endpoints].sort(([a], [b]) => compare(a, b)))),
    secrets: new FrozenMap(deepFreeze([...secrets])),
  };
  return { ok: true, config: Object.freeze(config) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
