/** Filters shared by the network and HTTP layers: RBAC evaluation and the rate-limit token bucket. */
export { evaluateRbac, type RbacDecision, type RbacInput } from './rbac.js';
export { TokenBucket } from './token-bucket.js';
