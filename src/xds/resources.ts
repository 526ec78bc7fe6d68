/**
 * One proxy's complete Envoy configuration: build every type, check each resource against the
 * `validate` rules on Envoy's protos and the references between them, then encode and version.
 * A proxy whose resources fail a check gets no new snapshot (the caller keeps the last good one).
 */
import { createHash } from 'node:crypto';
import type { ProxyPolicy } from '../catalog/index.js';
import type { ProxySnapshot, VersionedResource } from '../ads/snapshot.js';
import { buildClusters, upstreamClustersOf } from './cds.js';
import type { GeneratorContext } from './context.js';
import { loadAssignment } from './eds.js';
import { buildListeners, type DeniedDestinations } from './lds.js';
import { buildRouteConfigurations } from './rds.js';
import { buildSecrets, type SecretMaterial } from './sds.js';
import {
  Cluster_DiscoveryType,
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  envoyRegistry,
  ListenerSchema,
  packAny,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  SecretSchema,
  type Cluster,
  type ClusterLoadAssignment,
  type DescMessage,
  type Listener,
  type MessageShape,
  type RouteConfiguration,
  type Secret,
  type TypeUrl,
} from './proto.js';
import { validateRules } from './validate-rules.js';

/** Every resource of one proxy, each list sorted by name. */
export interface EnvoyResources {
  listeners: Listener[];
  routes: RouteConfiguration[];
  clusters: Cluster[];
  endpoints: ClusterLoadAssignment[];
  secrets: Secret[];
}

/** Builds one proxy's Envoy resources (Envoy flavour). Pure. */
export function buildEnvoyResources(policy: ProxyPolicy, ctx: GeneratorContext, denied: DeniedDestinations, material: SecretMaterial): EnvoyResources {
  return {
    listeners: buildListeners(policy, ctx, denied),
    routes: buildRouteConfigurations(policy, ctx),
    clusters: buildClusters(policy, ctx),
    endpoints: [...upstreamClustersOf(policy).values()].map(loadAssignment),
    secrets: buildSecrets(policy, ctx, material),
  };
}

/** Why a set of resources cannot be published. */
export class InvalidResourcesError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in generated resources: ${problems.slice(0, 5).join('; ')}`);
  }
}

/**
 * Remembers which resource versions passed the validate rules. A version is a hash of the
 * encoded bytes, so a resource shared by many proxies (or unchanged since the last push) is
 * checked once. Bounded: it starts over past `limit` entries.
 */
export class ValidatedVersions {
  private seen = new Set<string>();
  constructor(private readonly limit = 200_000) {}

  has(version: string): boolean {
    return this.seen.has(version);
  }

  add(version: string): void {
    if (this.seen.size >= this.limit) this.seen = new Set();
    this.seen.add(version);
  }
}

/** Checks protos' validate rules (skipping versions already known good) and every reference. */
export function checkResources(r: EnvoyResources, validated?: ValidatedVersions, versions?: ReadonlyMap<object, string>): string[] {
  const problems: string[] = [];
  const rules = <Desc extends DescMessage>(kind: string, schema: Desc, list: ReadonlyArray<MessageShape<Desc> & { name?: string; clusterName?: string }>) => {
    for (const m of list) {
      const version = versions?.get(m);
      if (version !== undefined && validated?.has(version)) continue;
      const violations = validateRules(schema, m, { registry: envoyRegistry });
      for (const v of violations) problems.push(`${kind} ${m.name ?? m.clusterName}: ${v.path}: ${v.message}`);
      if (violations.length === 0 && version !== undefined) validated?.add(version);
    }
  };
  rules('Listener', ListenerSchema, r.listeners);
  rules('RouteConfiguration', RouteConfigurationSchema, r.routes);
  rules('Cluster', ClusterSchema, r.clusters);
  rules('ClusterLoadAssignment', ClusterLoadAssignmentSchema, r.endpoints);
  rules('Secret', SecretSchema, r.secrets);
  const names = (list: ReadonlyArray<{ name: string }>) => new Set(list.map((x) => x.name));
  const duplicates = (kind: string, list: ReadonlyArray<{ name: string }>) => {
    const seen = new Set<string>();
    for (const x of list) {
      if (seen.has(x.name)) problems.push(`${kind} ${x.name} is generated twice`);
      seen.add(x.name);
    }
  };
  duplicates('Listener', r.listeners);
  duplicates('RouteConfiguration', r.routes);
  duplicates('Cluster', r.clusters);
  duplicates('Secret', r.secrets);
  const clusters = names(r.clusters);
  const edsClusters = r.clusters.filter((c) => c.clusterDiscoveryType.case === 'type' && c.clusterDiscoveryType.value === Cluster_DiscoveryType.EDS).map((c) => c.name);
  const assignments = new Set(r.endpoints.map((e) => e.clusterName));
  for (const c of edsClusters) if (!assignments.has(c)) problems.push(`Cluster ${c} has no ClusterLoadAssignment`);
  for (const route of r.routes) {
    for (const vh of route.virtualHosts) {
      for (const rt of vh.routes) {
        if (rt.action.case !== 'route') continue;
        const spec = rt.action.value.clusterSpecifier;
        const named = spec.case === 'cluster' ? [spec.value] : spec.case === 'weightedClusters' ? spec.value.clusters.map((w) => w.name) : [];
        for (const n of named) if (!clusters.has(n)) problems.push(`RouteConfiguration ${route.name} route ${rt.name} names cluster ${n}, which is not generated`);
      }
    }
  }
  return problems;
}

function versionOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function versioned<Desc extends DescMessage>(
  schema: Desc,
  typeUrl: TypeUrl,
  list: ReadonlyArray<MessageShape<Desc>>,
  nameOf: (m: MessageShape<Desc>) => string,
  versions: Map<object, string>,
) {
  const out = new Map<string, VersionedResource>();
  for (const m of list) {
    const resource = packAny(schema, m);
    const version = versionOf(resource.value);
    versions.set(m, version);
    out.set(nameOf(m), { name: nameOf(m), typeUrl, version, resource });
  }
  return out;
}

/** Checks, encodes and versions resources; throws `InvalidResourcesError` instead of publishing a bad set. */
export function toSnapshot(r: EnvoyResources, validated?: ValidatedVersions): ProxySnapshot {
  const versions = new Map<object, string>();
  const resources = new Map<TypeUrl, ReadonlyMap<string, VersionedResource>>([
    [ResourceTypeUrl.listener, versioned(ListenerSchema, ResourceTypeUrl.listener, r.listeners, (m) => m.name, versions)],
    [ResourceTypeUrl.routeConfiguration, versioned(RouteConfigurationSchema, ResourceTypeUrl.routeConfiguration, r.routes, (m) => m.name, versions)],
    [ResourceTypeUrl.cluster, versioned(ClusterSchema, ResourceTypeUrl.cluster, r.clusters, (m) => m.name, versions)],
    [ResourceTypeUrl.clusterLoadAssignment, versioned(ClusterLoadAssignmentSchema, ResourceTypeUrl.clusterLoadAssignment, r.endpoints, (m) => m.clusterName, versions)],
    [ResourceTypeUrl.secret, versioned(SecretSchema, ResourceTypeUrl.secret, r.secrets, (m) => m.name, versions)],
  ]);
  const problems = checkResources(r, validated, versions);
  if (problems.length > 0) throw new InvalidResourcesError(problems);
  const typeVersions = new Map<TypeUrl, string>();
  for (const [type, byName] of resources) {
    const h = createHash('sha256');
    for (const [name, v] of byName) h.update(`${name}\u0000${v.version}\u0000`);
    typeVersions.set(type, h.digest('hex').slice(0, 16));
  }
  return { resources, typeVersions };
}
