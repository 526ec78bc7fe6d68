/**
 * The controller's Prometheus metrics, with OSM's names where OSM had one (osm.md 7.1), and the
 * ADS hooks that feed them.
 */
import type { AdsHooks } from '../ads/index.js';
import { Counter, Gauge, Histogram, MetricsRegistry } from '../lib/metrics.js';

/** Short resource type names, as OSM labels them (`CDS`, `LDS`, ...). */
export function resourceTypeLabel(typeUrl: string): string {
  const name = typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
  const short: Record<string, string> = { Listener: 'LDS', RouteConfiguration: 'RDS', Cluster: 'CDS', ClusterLoadAssignment: 'EDS', Secret: 'SDS' };
  return short[name] ?? name;
}

export interface ControllerMetrics {
  registry: MetricsRegistry;
  hooks: AdsHooks;
  certificatesIssued: Counter;
  monitoredNamespaces: Gauge;
}

export function createControllerMetrics(opts: {
  connectedProxies: () => number;
  version: string;
  /** The catalog's current problems, counted at scrape time so fixed ones drop to nothing. */
  problems: () => ReadonlyArray<{ code: string; severity: string }>;
}): ControllerMetrics {
  const registry = new MetricsRegistry();
  registry.register(new Gauge('osm_proxy_connect_count', 'Proxies connected to this controller', () => [{ labels: {}, value: opts.connectedProxies() }]));
  registry.register(new Gauge('osm_version_info', 'The controller version', () => [{ labels: { version: opts.version }, value: 1 }]));
  const requests = registry.register(new Counter('osm_proxy_xds_request_count', 'xDS requests received, by resource type'));
  const responses = registry.register(new Counter('osm_proxy_response_send_success_count', 'xDS responses sent, by resource type'));
  const acks = registry.register(new Counter('osm_proxy_xds_ack_count', 'xDS responses proxies accepted, by resource type'));
  const nacks = registry.register(new Counter('osm_proxy_xds_nack_count', 'xDS responses proxies rejected (NACK), by resource type'));
  const refused = registry.register(new Counter('osm_proxy_refused_count', 'ADS streams refused, by gRPC status'));
  const pushes = registry.register(
    new Histogram('osm_proxy_config_update_time', 'Time to compute and write one push to one proxy, in seconds', [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 90]),
  );
  const certificatesIssued = registry.register(new Counter('osm_cert_issued_count', 'Workload certificates issued'));
  const monitoredNamespaces = registry.register(new Gauge('osm_resource_namespace_count', 'Namespaces the mesh monitors'));
  registry.register(
    new Gauge('osm_mesh_problem_count', 'Problems the catalog reports, by code and severity', () => {
      const counts = new Map<string, { labels: { code: string; severity: string }; value: number }>();
      for (const p of opts.problems()) {
        const c = counts.get(p.code) ?? { labels: { code: p.code, severity: p.severity }, value: 0 };
        c.value += 1;
        counts.set(p.code, c);
      }
      return [...counts.values()].sort((a, b) => (a.labels.code < b.labels.code ? -1 : 1));
    }),
  );
  const hooks: AdsHooks = {
    onRequest: (_s, typeUrl) => requests.inc({ type: resourceTypeLabel(typeUrl) }),
    onResponse: (_s, r) => responses.inc({ type: resourceTypeLabel(r.typeUrl) }),
    onAck: (_s, typeUrl) => acks.inc({ type: resourceTypeLabel(typeUrl) }),
    onNack: (_s, n) => nacks.inc({ type: resourceTypeLabel(n.typeUrl) }),
    onStreamRefused: (r) => refused.inc({ status: r.status }),
    onPush: (_s, p) => pushes.observe(p.durationMs / 1000, { resource_type: 'ADS', success: 'true' }),
  };
  return { registry, hooks, certificatesIssued, monitoredNamespaces };
}
