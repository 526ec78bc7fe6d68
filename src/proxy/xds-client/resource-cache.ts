/**
 * The last accepted resources of one xDS type, and the pure rules for a response: decode
 * every resource before deciding (so a NACK names each bad resource and field), accept all or
 * nothing. SotW: full state for LDS/CDS, merge-by-name for RDS/EDS/SDS (xds.md 3.1 rule 8).
 * Delta: merge the changed resources (with their versions) and drop `removed_resources` (3.2).
 */
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  ListenerSchema,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  SecretSchema,
  unpackAny,
  type Any,
  type DescMessage,
  type MessageShape,
  type TypeUrl,
} from '../../xds/proto.js';
import {
  decodeCluster,
  decodeClusterLoadAssignment,
  decodeListener,
  decodeRouteConfiguration,
  decodeSecret,
  type ClusterConfig,
  type Decoded,
  type EndpointsConfig,
  type ListenerConfig,
  type RouteConfig,
  type SecretConfig,
} from '../config/index.js';

/** How one resource type is named, unpacked and decoded. */
interface TypeSpec<Desc extends DescMessage, T> {
  readonly typeUrl: TypeUrl;
  /** The message name used in NACK details, e.g. `Listener`. */
  readonly label: string;
  readonly schema: Desc;
  /** LDS and CDS responses carry the full state: absence means deletion. */
  readonly fullState: boolean;
  nameOf(message: MessageShape<Desc>): string;
  decode(message: MessageShape<Desc>): Decoded<T>;
}

interface Held<T> {
  readonly bytes: Uint8Array;
  readonly value: T;
  /** The per-resource version of a delta response ('' from SotW). */
  readonly version: string;
}

/** One resource of a delta response: its name, version and packed message. */
export interface DeltaResource {
  readonly name: string;
  readonly version: string;
  readonly resource?: Any | undefined;
}

/** The outcome of applying a response: accepted (and whether anything changed) or the NACK text. */
export type ApplyResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly message: string };

/** The accepted resources and protocol state of one type on the client (it outlives streams). */
export class ResourceCache<Desc extends DescMessage, T> {
  readonly spec: TypeSpec<Desc, T>;
  /** The version_info of the last accepted response ('' before any). */
  versionInfo = '';
  /** Whether any response of this type was accepted (an empty state of the world counts). */
  received = false;
  /** When an accepted response last changed what is held (ms since the epoch), for `/config_dump`. */
  lastUpdatedMs: number | undefined;
  /** The nonce of the last response on the current stream ('' on a new stream). */
  nonce = '';
  /** The names last requested on the current stream; undefined before the first request. */
  sentNames: readonly string[] | undefined;
  readonly #held = new Map<string, Held<T>>();

  constructor(spec: TypeSpec<Desc, T>) {
    this.spec = spec;
  }

  get typeUrl(): TypeUrl {
    return this.spec.typeUrl;
  }

  /** The accepted values, sorted by name so assembly never sees arrival order. */
  values(): T[] {
    return [...this.#held.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, h]) => h.value);
  }

  /**
   * Decodes a response's resources and, if every one is valid, accepts them. `wanted` is the
   * subscribed names of a non-wildcard type; resources not asked for are ignored.
   */
  apply(resources: readonly Any[], wanted: ReadonlySet<string> | 'wildcard'): ApplyResult {
    const decoded = this.#decodeAll(resources.map((any) => ({ any, version: '' })));
    if (!decoded.ok) return decoded;
    let changed = false;
    if (this.spec.fullState) {
      for (const name of [...this.#held.keys()]) {
        if (!decoded.held.has(name)) changed = this.#held.delete(name) || changed;
      }
    }
    return this.#accepted(this.#merge(decoded.held, wanted) || changed);
  }

  /**
   * Applies a delta response: decodes every changed resource and, if all are valid, merges
   * them and drops `removed` (names not held are ignored). All or nothing, like `apply`.
   */
  applyDelta(resources: readonly DeltaResource[], removed: readonly string[], wanted: ReadonlySet<string> | 'wildcard'): ApplyResult {
    const problems: string[] = [];
    const items: { any: Any; version: string; name: string }[] = [];
    resources.forEach((r, i) => {
      if (r.resource === undefined) problems.push(`${this.spec.label} resources[${i}] (${r.name}): no resource`);
      else items.push({ any: r.resource, version: r.version, name: r.name });
    });
    const decoded = this.#decodeAll(items);
    if (!decoded.ok) problems.push(decoded.message);
    if (!decoded.ok || problems.length > 0) return { ok: false, message: problems.join('; ') };
    let changed = false;
    for (const name of removed) changed = this.#held.delete(name) || changed;
    return this.#accepted(this.#merge(decoded.held, wanted) || changed);
  }

  #accepted(changed: boolean): ApplyResult {
    this.received = true;
    if (changed) this.lastUpdatedMs = Date.now();
    return { ok: true, changed };
  }

  /** The held resources as received (name, per-resource version, encoded bytes), sorted by name: what `/config_dump` shows. */
  entries(): Array<{ readonly name: string; readonly version: string; readonly bytes: Uint8Array }> {
    return [...this.#held.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, h]) => ({ name, version: h.version, bytes: h.bytes }));
  }

  /** The held resources' versions, name to version, for a delta stream's `initial_resource_versions`. */
  versions(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, held] of this.#held) out[name] = held.version;
    return out;
  }

  #decodeAll(items: readonly { readonly any: Any; readonly version: string; readonly name?: string }[]): { readonly ok: true; readonly held: Map<string, Held<T>> } | { readonly ok: false; readonly message: string } {
    const problems: string[] = [];
    const decoded = new Map<string, Held<T>>();
    const { label, schema } = this.spec;
    items.forEach(({ any, version, name: outerName }, i) => {
      if (any.typeUrl !== this.spec.typeUrl) {
        problems.push(`${label} resources[${i}]: type_url: ${any.typeUrl} in a ${this.spec.typeUrl} response`);
        return;
      }
      const unpacked = unpackAny(any, schema);
      if (!unpacked.ok) {
        problems.push(`${label} resources[${i}]: ${unpacked.reason}`);
        return;
      }
      const name = this.spec.nameOf(unpacked.message);
      if (outerName !== undefined && outerName !== name) {
        problems.push(`${label} resources[${i}]: name: ${outerName} names a resource called ${name}`);
        return;
      }
      if (decoded.has(name)) {
        problems.push(`${label} ${name}: appears twice in one response`);
        return;
      }
      const result = this.spec.decode(unpacked.message);
      if (!result.ok) {
        for (const e of result.errors) problems.push(e.path === '' ? `${label} ${name}: ${e.message}` : `${label} ${name}: ${e.path}: ${e.message}`);
        return;
      }
      decoded.set(name, { bytes: any.value, value: result.value, version });
    });
    return problems.length > 0 ? { ok: false, message: problems.join('; ') } : { ok: true, held: decoded };
  }

  /** Stores the wanted decoded resources; true if any differs from what was held. */
  #merge(decoded: ReadonlyMap<string, Held<T>>, wanted: ReadonlySet<string> | 'wildcard'): boolean {
    let changed = false;
    for (const [name, held] of decoded) {
      if (wanted !== 'wildcard' && !wanted.has(name)) continue;
      const old = this.#held.get(name);
      // Keep the newest version even when the bytes are the same, so a reconnect reports it.
      this.#held.set(name, held);
      if (old !== undefined && Buffer.compare(old.bytes, held.bytes) === 0) continue;
      changed = true;
    }
    return changed;
  }

  /** Drops resources no longer referenced (RDS/EDS/SDS go away with their last parent); true if any went. */
  retain(wanted: ReadonlySet<string>): boolean {
    let changed = false;
    for (const name of [...this.#held.keys()]) {
      if (!wanted.has(name)) changed = this.#held.delete(name) || changed;
    }
    return changed;
  }
}

/** The five caches, one per type the sidecar subscribes to. */
export interface Caches {
  readonly listeners: ResourceCache<typeof ListenerSchema, ListenerConfig>;
  readonly routeConfigs: ResourceCache<typeof RouteConfigurationSchema, RouteConfig>;
  readonly clusters: ResourceCache<typeof ClusterSchema, ClusterConfig>;
  readonly endpoints: ResourceCache<typeof ClusterLoadAssignmentSchema, EndpointsConfig>;
  readonly secrets: ResourceCache<typeof SecretSchema, SecretConfig>;
}

/** Fresh, empty caches. */
export function createCaches(): Caches {
  return {
    listeners: new ResourceCache({ typeUrl: ResourceTypeUrl.listener, label: 'Listener', schema: ListenerSchema, fullState: true, nameOf: (m) => m.name, decode: decodeListener }),
    routeConfigs: new ResourceCache({ typeUrl: ResourceTypeUrl.routeConfiguration, label: 'RouteConfiguration', schema: RouteConfigurationSchema, fullState: false, nameOf: (m) => m.name, decode: decodeRouteConfiguration }),
    clusters: new ResourceCache({ typeUrl: ResourceTypeUrl.cluster, label: 'Cluster', schema: ClusterSchema, fullState: true, nameOf: (m) => m.name, decode: decodeCluster }),
    endpoints: new ResourceCache({ typeUrl: ResourceTypeUrl.clusterLoadAssignment, label: 'ClusterLoadAssignment', schema: ClusterLoadAssignmentSchema, fullState: false, nameOf: (m) => m.clusterName, decode: decodeClusterLoadAssignment }),
    secrets: new ResourceCache({ typeUrl: ResourceTypeUrl.secret, label: 'Secret', schema: SecretSchema, fullState: false, nameOf: (m) => m.name, decode: decodeSecret }),
  };
}

/** The RDS, EDS and SDS names the accepted listeners and clusters refer to. */
export interface References {
  readonly routeConfigs: ReadonlySet<string>;
  readonly endpoints: ReadonlySet<string>;
  readonly secrets: ReadonlySet<string>;
}

/** Walks the accepted listeners and clusters for the names they need, as assembleConfig does. */
export function referencesOf(listeners: readonly ListenerConfig[], clusters: readonly ClusterConfig[]): References {
  const routeConfigs = new Set<string>();
  const endpoints = new Set<string>();
  const secrets = new Set<string>();
  const addSecrets = (tls: { readonly certificateSecret?: string | undefined; readonly validationSecret?: string | undefined } | undefined) => {
    if (tls?.certificateSecret !== undefined) secrets.add(tls.certificateSecret);
    if (tls?.validationSecret !== undefined) secrets.add(tls.validationSecret);
  };
  for (const l of listeners) {
    for (const chain of l.defaultFilterChain ? [...l.filterChains, l.defaultFilterChain] : l.filterChains) {
      addSecrets(chain.tls);
      for (const f of chain.filters) {
        if (f.kind === 'httpConnectionManager' && f.hcm.routes.kind === 'rds') routeConfigs.add(f.hcm.routes.name);
      }
    }
  }
  for (const c of clusters) {
    addSecrets(c.tls);
    if (c.discovery.kind === 'eds') endpoints.add(c.discovery.edsServiceName);
  }
  return { routeConfigs, endpoints, secrets };
}
