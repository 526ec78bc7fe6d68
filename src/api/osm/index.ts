/**
 * OSM's own kinds: MeshConfig (config.openservicemesh.io) and the policy.openservicemesh.io
 * policies, with OSM's defaults and validation rules (reference/osm.md 2.3-2.7, 2.10).
 *
 * Each kind decodes and checks one object on its own. Rules that compare objects (two
 * UpstreamTrafficSettings for one host, two IngressBackends for one backend port) belong to
 * the catalog, not here.
 */
import type { KindDefinition } from '../kind.js';
import { egressKind } from './egress.js';
import { ingressBackendKind } from './ingress-backend.js';
import { meshConfigKind } from './mesh-config.js';
import { retryKind } from './retry.js';
import { upstreamTrafficSettingKind } from './upstream-traffic-setting.js';

export { isCidr, isIPv4Cidr } from './cidr.js';
export { parseGoDuration } from './duration.js';
export type { Egress, EgressMatch, EgressProtocol } from './egress.js';
export { EGRESS_PROTOCOLS, HTTP_ROUTE_GROUP_API_GROUP } from './egress.js';
export type { IngressBackend, IngressBackendTarget, IngressSource } from './ingress-backend.js';
export { INGRESS_PROTOCOLS } from './ingress-backend.js';
export type { MeshConfig, MeshConfigSpec } from './mesh-config.js';
export {
  DEFAULT_OSM_NAMESPACE,
  DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE,
  defaultMeshConfigSpec,
  MESH_CONFIG_NAME,
} from './mesh-config.js';
export type { ServiceAccountRef } from './policy-refs.js';
export type { Retry, RetryDestination } from './retry.js';
export type { HttpLocalRateLimit, UpstreamTrafficSetting } from './upstream-traffic-setting.js';

/** Every OSM kind osm-ts reads. */
export const osmKinds: KindDefinition[] = [
  meshConfigKind,
  egressKind,
  ingressBackendKind,
  retryKind,
  upstreamTrafficSettingKind,
] as KindDefinition[];
