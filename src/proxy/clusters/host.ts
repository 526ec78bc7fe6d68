/**
 * One upstream endpoint of a cluster and what the cluster knows about it: weight, priority,
 * EDS health, the health-check and outlier verdicts, and the counts that feed least-request
 * balancing and `/clusters`. The connection pool and the health-check session hang off it.
 */
import { isIPv6 } from 'node:net';
import type { EndpointConfig } from '../config/index.js';
import type { UpstreamHost } from './types.js';

/** `address:port`, IPv6 in brackets (Envoy's `%UPSTREAM_HOST%`). */
export function hostId(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A host's standing in balancing, derived from its flags. */
export type HostHealth = 'healthy' | 'degraded' | 'unhealthy';

/** Mutable state of one endpoint within one cluster object. */
export class Host implements UpstreamHost {
  readonly address: string;
  readonly port: number;
  readonly id: string;
  weight: number;
  priority: number;
  edsHealth: EndpointConfig['health'];
  /** Active health checking says unhealthy; set on hosts added to a health-checked cluster until a check passes. */
  failedActiveHc = false;
  /** Ejected by outlier detection. */
  ejected = false;
  /** No longer among the cluster's endpoints: its pool drains and nothing new is sent to it. */
  removed = false;
  /** Requests in flight (least-request balancing). */
  activeRequests = 0;
  /** Completed requests by outcome, for `/clusters`. */
  successes = 0;
  errors = 0;

  constructor(endpoint: { readonly address: string; readonly port: number; readonly weight: number; readonly health: EndpointConfig['health'] }, priority: number) {
    this.address = endpoint.address;
    this.port = endpoint.port;
    this.id = hostId(endpoint.address, endpoint.port);
    this.weight = endpoint.weight;
    this.priority = priority;
    this.edsHealth = endpoint.health;
  }

  /**
   * Envoy's classification: EDS UNHEALTHY, DRAINING and TIMEOUT, a failing active check and an
   * outlier ejection all take a host out of the healthy set; EDS DEGRADED makes it a fallback.
   */
  get health(): HostHealth {
    if (this.failedActiveHc || this.ejected) return 'unhealthy';
    switch (this.edsHealth) {
      case 'unknown':
      case 'healthy':
        return 'healthy';
      case 'degraded':
        return 'degraded';
      default:
        return 'unhealthy';
    }
  }

  /** Envoy's `/clusters` health flags (`healthy` when none is set). */
  healthFlags(): string[] {
    const flags: string[] = [];
    if (this.failedActiveHc) flags.push('failed_active_hc');
    if (this.ejected) flags.push('failed_outlier_check');
    if (this.edsHealth === 'unhealthy' || this.edsHealth === 'draining' || this.edsHealth === 'timeout') flags.push('failed_eds_health');
    if (this.edsHealth === 'degraded') flags.push('degraded_eds_health');
    if (this.removed) flags.push('pending_dynamic_removal');
    return flags.length > 0 ? flags : ['healthy'];
  }
}
