/**
 * Traffic interception: the nat-table rules that send a workload's TCP through its sidecar, and
 * the `iptables-restore` scripts that install and remove them. Used by the Kubernetes init step
 * and by the local runtime (`osm up` / `osm down`).
 *
 * Pure: it builds rules and script text and never runs iptables, reads the environment or
 * touches the network. Running the scripts (as root, in the right network namespace) is the
 * caller's job.
 */
export type { ExclusionIssue, ExclusionIssueCode, ExclusionResult, TrafficExclusions } from './exclusions.js';
export {
  EXCLUSION_ANNOTATIONS,
  interceptionExclusions,
  meshConfigExclusions,
  mergeExclusions,
  NO_EXCLUSIONS,
  podExclusions,
} from './exclusions.js';
export type {
  BuiltinChain,
  Chain,
  InterceptionInput,
  InterceptionPorts,
  InterceptionRules,
  LocalProxyMode,
  Negatable,
  OsmChain,
  Rule,
  RuleMatch,
  RuleTarget,
} from './rules.js';
export { interceptionRules, MULTIPORT_MAX, OSM_CHAINS, OSM_PORTS, OSM_PROXY_UID, rulesIn } from './rules.js';
export { cleanupScript, restoreScript, ruleSpec } from './restore.js';
