/**
 * ClusterLoadAssignment -> EndpointsConfig (EDS resources and static clusters' inline
 * assignments).
 *
 * Supported: localities (zone, region, sub-zone, priority, weight) with endpoints by IP socket
 * address and port, per-endpoint weight and health status. Rejected: named endpoints,
 * additional addresses, hostnames-only endpoints, per-endpoint health-check config, the
 * assignment `policy` (overprovisioning, drop overloads), and anything else set.
 */
import { isIP } from 'node:net';
import {
  ClusterLoadAssignmentSchema,
  EndpointSchema,
  HealthStatus,
  LbEndpointSchema,
  LocalityLbEndpointsSchema,
  type ClusterLoadAssignment,
} from '../../xds/proto.js';
import { at, Issues, item, rejectUnsupported } from './decode-common.js';
import type { Decoded, EndpointConfig, EndpointsConfig, LocalityConfig } from './model.js';

const HEALTH: Record<HealthStatus, EndpointConfig['health']> = {
  [HealthStatus.UNKNOWN]: 'unknown',
  [HealthStatus.HEALTHY]: 'healthy',
  [HealthStatus.UNHEALTHY]: 'unhealthy',
  [HealthStatus.DRAINING]: 'draining',
  [HealthStatus.TIMEOUT]: 'timeout',
  [HealthStatus.DEGRADED]: 'degraded',
};

/** Decodes an EDS resource. */
export function decodeClusterLoadAssignment(msg: ClusterLoadAssignment): Decoded<EndpointsConfig> {
  const issues = new Issues();
  if (msg.clusterName === '') issues.add('cluster_name', 'required');
  return issues.result(decodeAssignment(msg, '', issues));
}

/** Decodes a load assignment found at `path`. */
export function decodeAssignment(msg: ClusterLoadAssignment, path: string, issues: Issues): EndpointsConfig {
  rejectUnsupported(ClusterLoadAssignmentSchema, msg, path, ['cluster_name', 'endpoints'], issues);
  const localities: LocalityConfig[] = msg.endpoints.map((l, i) => {
    const p = item(at(path, 'endpoints'), i);
    rejectUnsupported(LocalityLbEndpointsSchema, l, p, ['locality', 'lb_endpoints', 'load_balancing_weight', 'priority'], issues);
    if (l.loadBalancingWeight === 0) issues.add(at(p, 'load_balancing_weight'), 'must be greater than 0');
    const endpoints = l.lbEndpoints.flatMap((e, j): EndpointConfig[] => {
      const ep = item(at(p, 'lb_endpoints'), j);
      rejectUnsupported(LbEndpointSchema, e, ep, ['endpoint', 'health_status', 'load_balancing_weight'], issues);
      if (e.loadBalancingWeight === 0) issues.add(at(ep, 'load_balancing_weight'), 'must be greater than 0');
      if (e.hostIdentifier.case !== 'endpoint') {
        issues.add(at(ep, 'endpoint'), 'required');
        return [];
      }
      const endpoint = e.hostIdentifier.value;
      rejectUnsupported(EndpointSchema, endpoint, at(ep, 'endpoint'), ['address', 'hostname'], issues);
      const addressPath = at(ep, 'endpoint.address.socket_address');
      const a = endpoint.address?.address;
      if (a?.case !== 'socketAddress') {
        issues.add(addressPath, 'required: the sidecar connects to IP socket addresses');
        return [];
      }
      if (isIP(a.value.address) === 0) issues.add(at(addressPath, 'address'), `"${a.value.address}" is not an IP address`);
      if (a.value.portSpecifier.case !== 'portValue' || a.value.portSpecifier.value === 0 || a.value.portSpecifier.value > 65535) {
        issues.add(at(addressPath, 'port_value'), 'a port from 1 to 65535 is required');
        return [];
      }
      return [{ address: a.value.address, port: a.value.portSpecifier.value, weight: e.loadBalancingWeight ?? 1, health: HEALTH[e.healthStatus] ?? 'unknown' }];
    });
    return {
      zone: l.locality?.zone ?? '',
      region: l.locality?.region ?? '',
      subZone: l.locality?.subZone ?? '',
      priority: l.priority,
      weight: l.loadBalancingWeight,
      endpoints,
    };
  });
  return { clusterName: msg.clusterName, localities };
}
