/**
 * Test-only: tiny but real Envoy resources (a Cluster, its ClusterLoadAssignment, a Listener
 * whose HTTP connection manager takes routes over ADS, a RouteConfiguration, a Secret), each
 * encoded once with a content-hash version, and snapshots built from them as the contract
 * asks: resources by type and name, and a per-type version over every (name, version).
 */
import { createHash } from 'node:crypto';
import {
  Cluster_DiscoveryType,
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  create,
  HttpConnectionManagerSchema,
  ListenerSchema,
  packAny,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  RouterSchema,
  SecretSchema,
  type Any,
  type TypeUrl,
} from '../../xds/proto.js';
import type { ProxySnapshot, VersionedResource } from '../snapshot.js';

function hash(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function versioned(name: string, typeUrl: TypeUrl, resource: Any): VersionedResource {
  return { name, typeUrl, version: hash(resource.value), resource };
}

/** An EDS cluster; `connectTimeoutS` lets a test change it without renaming it. */
export function cluster(name: string, connectTimeoutS = 1): VersionedResource {
  const message = create(ClusterSchema, {
    name,
    connectTimeout: { seconds: BigInt(connectTimeoutS) },
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: { edsConfig: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 } },
  });
  return versioned(name, ResourceTypeUrl.cluster, packAny(ClusterSchema, message));
}

/** The endpoints of cluster `name`: one loopback endpoint per port. */
export function endpoints(name: string, ports: readonly number[] = [8080]): VersionedResource {
  const message = create(ClusterLoadAssignmentSchema, {
    clusterName: name,
    endpoints: [
      {
        lbEndpoints: ports.map((port) => ({
          hostIdentifier: {
            case: 'endpoint' as const,
            value: { address: { address: { case: 'socketAddress' as const, value: { address: '127.0.0.1', portSpecifier: { case: 'portValue' as const, value: port } } } } },
          },
        })),
      },
    ],
  });
  return versioned(name, ResourceTypeUrl.clusterLoadAssignment, packAny(ClusterLoadAssignmentSchema, message));
}

/** A listener on `port` whose HTTP connection manager takes route config `routeName` over ADS. */
export function listener(name: string, routeName: string, port = 15001): VersionedResource {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: name,
    routeSpecifier: { case: 'rds', value: { routeConfigName: routeName, configSource: { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: 2 } } },
    httpFilters: [{ name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: packAny(RouterSchema, create(RouterSchema, {})) } }],
  });
  const message = create(ListenerSchema, {
    name,
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } } } },
    filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: packAny(HttpConnectionManagerSchema, hcm) } }] }],
  });
  return versioned(name, ResourceTypeUrl.listener, packAny(ListenerSchema, message));
}

/** A route configuration sending every path to `clusterName`. */
export function routes(name: string, clusterName: string): VersionedResource {
  const message = create(RouteConfigurationSchema, {
    name,
    virtualHosts: [
      {
        name: `${name}|*`,
        domains: ['*'],
        routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: clusterName } } } }],
      },
    ],
  });
  return versioned(name, ResourceTypeUrl.routeConfiguration, packAny(RouteConfigurationSchema, message));
}

/** A validation-context secret whose trusted CA is the string `pem`. */
export function secret(name: string, pem = 'test-ca'): VersionedResource {
  const message = create(SecretSchema, { name, type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineString', value: pem } } } } });
  return versioned(name, ResourceTypeUrl.secret, packAny(SecretSchema, message));
}

/** A snapshot of `resources`; every known type gets a version, empty types included. */
export function snapshotOf(resources: readonly VersionedResource[]): ProxySnapshot {
  const byType = new Map<TypeUrl, Map<string, VersionedResource>>();
  for (const url of Object.values(ResourceTypeUrl)) byType.set(url, new Map());
  for (const r of resources) {
    const map = byType.get(r.typeUrl) ?? new Map<string, VersionedResource>();
    if (map.has(r.name)) throw new Error(`duplicate ${r.typeUrl} ${r.name}`);
    byType.set(r.typeUrl, map.set(r.name, r));
  }
  const typeVersions = new Map<TypeUrl, string>();
  for (const [url, map] of byType) {
    const lines = [...map.values()].map((r) => `${r.name}=${r.version}`).sort();
    typeVersions.set(url, hash(lines.join('\n')));
  }
  return { resources: byType, typeVersions };
}
