/** The sidecar's listeners: binding, original destination, filter-chain matching, mesh TLS, network filters. */
export { ListenerManager, type ExplicitBinding, type ListenerManagerOptions, type ListenerProblem, type ListenerStatus } from './manager.js';
export { selectFilterChain, needsInspection, type ConnectionFacts } from './chain-match.js';
export type { AccessLogEntry, DownstreamContext, ProxyRuntime, WorkloadIdentity } from './types.js';
export { pickWeighted } from './weighted.js';
