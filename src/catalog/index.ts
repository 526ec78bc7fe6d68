/**
 * The catalog: pure functions (with caches) from a store snapshot to the mesh model and every
 * proxy's policy, and the one authorisation evaluator. No I/O, no clock, no logging.
 */
export { authorize, type AccessMode, type AccessProtocol, type AccessRequest, type Decision } from './authorize.js';
export { Catalog, buildMeshModel, DEFAULT_CATALOG_OPTIONS, type CatalogOptions, type CatalogUpdate, type MeshModel } from './catalog.js';
export { checkRequest, UnknownDestinationError, type CheckResult, type DestinationVerdict, type RequestCheck } from './check.js';
export type { AccessGrant } from './access.js';
export type { Endpoint } from './endpoints.js';
export type { CompiledHttpMatch, HttpRequestAttributes } from './http-match.js';
export { identityOf, principalOf, serviceKeyOf, spiffeIdOf, splitKey, type Identity, type ServiceKey } from './identity.js';
export { routesAllow } from './inbound-routes.js';
export type { CatalogInput, MeshService, MeshState } from './mesh-state.js';
export type * from './model.js';
export { hostnamesOf, isHttp, type AppProtocol, type MeshServicePort } from './services.js';
