/**
 * SMI kinds in every served version, converted to one internal form (smi-decisions.md).
 */
import type { KindDefinition } from '../kind.js';
import { trafficTargetKind } from './access.js';
import { httpRouteGroupKind, tcpRouteKind, udpRouteKind } from './specs.js';
import { trafficSplitKind } from './split.js';

export type { IdentityRef, TrafficTarget, TrafficTargetRule } from './access.js';
export type { HTTPRouteGroup, HttpMatch, HttpMethod, PortMatches, TCPRoute, UDPRoute } from './specs.js';
export type { TrafficSplit, TrafficSplitBackend } from './split.js';
export { HTTP_METHODS } from './specs.js';
export { parseRootService } from './split.js';

export const smiKinds: KindDefinition[] = [
  trafficTargetKind,
  httpRouteGroupKind,
  tcpRouteKind,
  udpRouteKind,
  trafficSplitKind,
] as KindDefinition[];
