/**
 * The catalog: snapshot in, mesh model out, recomputing only what a change affects.
 * It holds caches but performs no I/O and reads no clock.
 */
import type { Problem } from '../api/problem.js';
import { splitKey, type Identity } from './identity.js';
import { MeshStateBuilder, type CatalogInput, type MeshState } from './mesh-state.js';
import type { ProxyPolicy } from './model.js';
import type { NamespaceOptions } from './namespaces.js';
import { PolicyBuilder } from './proxy-policy.js';

export interface CatalogOptions extends NamespaceOptions {
  /** Suffix of every principal: `<sa>.<ns>.<trustDomain>`. */
  trustDomain: string;
}

/** OSM's names: mesh `osm`, control plane in `osm-system`, trust domain `cluster.local`. */
export const DEFAULT_CATALOG_OPTIONS: CatalogOptions = {
  meshName: 'osm',
  osmNamespace: 'osm-system',
  trustDomain: 'cluster.local',
  undeclaredNamespaces: 'unmonitored',
};

/** The mesh at one snapshot. */
export interface MeshModel {
  state: MeshState;
  /** Every meshed pod's policy by `namespace/pod`, sorted by key. */
  proxies: ReadonlyMap<string, ProxyPolicy>;
  problems: readonly Problem[];
}

/** What an update changed: proxies whose policy object is new, and proxies that went away. */
export interface CatalogUpdate {
  model: MeshModel;
  changedProxies: readonly string[];
  removedProxies: readonly string[];
}

export class Catalog {
  private readonly states: MeshStateBuilder;
  private readonly policies = new PolicyBuilder();
  private previous: ReadonlyMap<string, ProxyPolicy> = new Map();
  private state?: MeshState;

  constructor(readonly options: CatalogOptions = DEFAULT_CATALOG_OPTIONS) {
    this.states = new MeshStateBuilder(options);
  }

  /** Computes the model for `input`, reusing every part whose inputs are unchanged. */
  update(input: CatalogInput): CatalogUpdate {
    const state = this.states.build(input);
    this.state = state;
    const proxies = this.policies.build(state);
    const changedProxies: string[] = [];
    for (const [key, policy] of proxies) if (this.previous.get(key) !== policy) changedProxies.push(key);
    const removedProxies = [...this.previous.keys()].filter((k) => !proxies.has(k));
    this.previous = proxies;
    return { model: { state, proxies, problems: state.problems }, changedProxies, removedProxies };
  }

  /**
   * The policy of a proxy that runs as `identity` but is no pod the catalog knows (a proxy joined
   * by hand with `osm proxy bootstrap`, or a proxyless gRPC client): what the identity may reach,
   * and nothing inbound. Uses the state of the last `update`.
   */
  identityPolicy(identity: Identity, name: string): ProxyPolicy | undefined {
    if (!this.state) return undefined;
    const { namespace } = splitKey(identity);
    return { proxy: { namespace, name, identity, metricsScraped: false }, outbound: this.policies.outboundFor(this.state, identity), inbound: { ports: [] } };
  }
}

/** Builds a model once, without keeping caches: for one-shot commands and tests. */
export function buildMeshModel(input: CatalogInput, options: CatalogOptions = DEFAULT_CATALOG_OPTIONS): MeshModel {
  return new Catalog(options).update(input).model;
}
