/**
 * `/clusters` and `/listeners` in Envoy's text and JSON forms (source/server/admin/
 * clusters_handler.cc, listeners_handler.cc), from what the cluster and listener managers
 * describe. Text lines are `cluster::host::field::value` and `listener::address:port`; JSON
 * follows `envoy.admin.v3.Clusters` and `Listeners` in proto3 JSON, where zero values and the
 * default metric type are left out.
 */
import { isIPv6 } from 'node:net';
import type { ClusterDescription } from '../clusters/types.js';

/** A bound listener as the listener manager describes it. */
export interface ListenerDescription {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

type Host = ClusterDescription['hosts'][number];

/** Envoy's `HostHealthStatus` field (or `eds_health_status` value) for each health flag. */
const HEALTH_FIELDS: ReadonlyMap<string, readonly [field: string, value: string | true]> = new Map([
  ['failed_active_hc', ['failed_active_health_check', true]],
  ['failed_outlier_check', ['failed_outlier_check', true]],
  ['failed_eds_health', ['eds_health_status', 'UNHEALTHY']],
  ['degraded_active_hc', ['failed_active_degraded_check', true]],
  ['degraded_eds_health', ['eds_health_status', 'DEGRADED']],
  ['pending_dynamic_removal', ['pending_dynamic_removal', true]],
  ['pending_active_hc', ['pending_active_hc', true]],
  ['excluded_via_immediate_hc_fail', ['excluded_via_immediate_hc_fail', true]],
  ['active_hc_timeout', ['active_hc_timeout', true]],
] as const);

/** Flags as given, with or without Envoy's leading `/`. */
function flagsOf(host: Host): string[] {
  return host.healthFlags.map((f) => f.replace(/^\/+/, ''));
}

/** Envoy's `healthFlagsToString`: `healthy`, or each flag after a `/`. */
function healthText(host: Host): string {
  const flags = flagsOf(host);
  return flags.length === 0 ? 'healthy' : flags.map((f) => `/${f}`).join('');
}

/** The host's counters and gauges, sorted by name as Envoy prints them. */
function hostStats(host: Host): ReadonlyArray<readonly [name: string, value: number, type: 'COUNTER' | 'GAUGE']> {
  return [
    ['cx_active', host.activeConnections, 'GAUGE'],
    ['rq_active', host.activeRequests, 'GAUGE'],
    ['rq_error', host.errors, 'COUNTER'],
    ['rq_success', host.successes, 'COUNTER'],
    ['rq_total', host.successes + host.errors + host.activeRequests, 'COUNTER'],
  ];
}

const byName = <T extends { readonly name: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The `/clusters` text body. */
export function clustersText(clusters: readonly ClusterDescription[]): string {
  let out = '';
  for (const c of byName(clusters)) {
    out += `${c.name}::observability_name::${c.name}\n${c.name}::added_via_api::true\n`;
    for (const h of c.hosts) {
      const line = (field: string, value: string | number) => (out += `${c.name}::${h.id}::${field}::${value}\n`);
      for (const [name, value] of hostStats(h)) line(name, value);
      line('health_flags', healthText(h));
      line('weight', h.weight);
    }
  }
  return out;
}

/** `address:port` split back into Envoy's `SocketAddress` (IPv6 in brackets). */
function socketAddress(id: string): { socket_address: { address: string; port_value: number } } {
  const colon = id.lastIndexOf(':');
  const host = id.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { socket_address: { address: host, port_value: Number(id.slice(colon + 1)) } };
}

function healthStatus(host: Host): Record<string, string | true> {
  const status: Record<string, string | true> = {};
  for (const f of flagsOf(host)) {
    const field = HEALTH_FIELDS.get(f);
    if (field) status[field[0]] = field[1];
  }
  status.eds_health_status ??= 'HEALTHY';
  return status;
}

/** The `/clusters?format=json` value. */
export function clustersJson(clusters: readonly ClusterDescription[]): unknown {
  return {
    cluster_statuses: byName(clusters).map((c) => ({
      name: c.name,
      added_via_api: true,
      host_statuses: c.hosts.map((h) => ({
        address: socketAddress(h.id),
        stats: hostStats(h).map(([name, value, type]) => ({ name, ...(type === 'GAUGE' ? { type } : {}), ...(value !== 0 ? { value: String(value) } : {}) })),
        health_status: healthStatus(h),
        weight: h.weight,
      })),
    })),
  };
}

function hostPort(l: ListenerDescription): string {
  return isIPv6(l.address) ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
}

/** The `/listeners` text body. */
export function listenersText(listeners: readonly ListenerDescription[]): string {
  return byName(listeners)
    .map((l) => `${l.name}::${hostPort(l)}\n`)
    .join('');
}

/** The `/listeners?format=json` value. */
export function listenersJson(listeners: readonly ListenerDescription[]): unknown {
  return { listener_statuses: byName(listeners).map((l) => ({ name: l.name, local_address: { socket_address: { address: l.address, port_value: l.port } } })) };
}
