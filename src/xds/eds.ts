/**
 * EDS: one ClusterLoadAssignment per upstream cluster with only the endpoints the client may
 * reach. Every locality carries a weight, which Envoy ignores here and gRPC requires.
 */
import type { UpstreamCluster } from '../catalog/index.js';
import { byKey, socketAddress } from './common.js';
import { upstreamClusterName } from './names.js';
import { ClusterLoadAssignmentSchema, create, type ClusterLoadAssignment } from './proto.js';

/** The load assignment of one upstream cluster, as one client sees it. */
export function loadAssignment(cluster: UpstreamCluster): ClusterLoadAssignment {
  const lbEndpoints = [...cluster.endpoints]
    .sort(byKey((e) => `${e.ip}:${e.port}`))
    .map((e) => ({ hostIdentifier: { case: 'endpoint' as const, value: { address: socketAddress(e.ip, e.port) } } }));
  return create(ClusterLoadAssignmentSchema, {
    clusterName: upstreamClusterName(cluster.port),
    endpoints: lbEndpoints.length === 0 ? [] : [{ locality: { zone: 'local' }, lbEndpoints, loadBalancingWeight: 100, priority: 0 }],
  });
}
