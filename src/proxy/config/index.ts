/**
 * The sidecar's config layer: decode each xDS resource into our model (NACKing with field
 * paths), then assemble a complete, frozen ProxyConfig once every reference resolves.
 */
export type * from './model.js';
export { decodeListener } from './decode-listener.js';
export { decodeRouteConfiguration } from './decode-route.js';
export { decodeCluster } from './decode-cluster.js';
export { decodeClusterLoadAssignment } from './decode-endpoints.js';
export { decodeSecret } from './decode-secret.js';
export { assembleConfig, type AssembleResult, type DecodedResources, type MissingResource } from './snapshot.js';
export { matchesHeader, matchesString, selectRoute, selectVirtualHost, type RouteRequest } from './route-match.js';
