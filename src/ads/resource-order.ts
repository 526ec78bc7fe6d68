/**
 * Which resource types reference which, and the order an ADS stream sends them in.
 *
 * Make-before-break (reference/xds.md 3.1 #11): a resource must reach the client before
 * anything that references it, and may leave only after everything that referenced it has
 * moved on. The protocol note lists CDS, EDS, LDS, RDS; we put SDS first, because clusters'
 * upstream TLS and listeners' downstream TLS name secrets, and Envoy warms a cluster or a
 * listener until every secret it names has arrived. Types we do not know come last, in type
 * URL order, so the order is still a function of the types alone.
 */
import { ResourceTypeUrl, type TypeUrl } from '../xds/proto.js';

const { secret, cluster, clusterLoadAssignment, listener, routeConfiguration } = ResourceTypeUrl;

/** The order in which one evaluation of a stream sends additions and updates. */
export const PUSH_ORDER: readonly TypeUrl[] = Object.freeze([secret, cluster, clusterLoadAssignment, listener, routeConfiguration]);

// Who names resources of each type: a removal of the key type waits until these types have
// settled (sent, ACKed, nothing left to send), so no live reference dangles.
const REFERRERS: ReadonlyMap<TypeUrl, readonly TypeUrl[]> = new Map([
  [secret, [cluster, listener]],
  [cluster, [listener, routeConfiguration]],
  [clusterLoadAssignment, [cluster]],
  [routeConfiguration, [listener]],
  [listener, []],
]);

/** The types whose resources reference resources of `typeUrl` (none for unknown types). */
export function referrersOf(typeUrl: TypeUrl): readonly TypeUrl[] {
  return REFERRERS.get(typeUrl) ?? [];
}

/**
 * True for the types whose SotW responses carry the complete subscribed state, where absence
 * means deletion: LDS and CDS (reference/xds.md 3.1 #8). Legacy wildcard applies to these too.
 */
export function isFullStateType(typeUrl: string): boolean {
  return typeUrl === listener || typeUrl === cluster;
}

/** Sorts type URLs into push order: known types as PUSH_ORDER, then the rest by name. */
export function inPushOrder<T extends { readonly typeUrl: TypeUrl }>(items: Iterable<T>): T[] {
  const rank = (t: TypeUrl) => {
    const i = PUSH_ORDER.indexOf(t);
    return i === -1 ? PUSH_ORDER.length : i;
  };
  return [...items].sort((a, b) => rank(a.typeUrl) - rank(b.typeUrl) || (a.typeUrl < b.typeUrl ? -1 : a.typeUrl > b.typeUrl ? 1 : 0));
}

/** A short name for logs and status (`LDS`, `CDS`, ...), or the type URL itself for other types. */
export function shortTypeName(typeUrl: string): string {
  switch (typeUrl) {
    case listener:
      return 'LDS';
    case routeConfiguration:
      return 'RDS';
    case cluster:
      return 'CDS';
    case clusterLoadAssignment:
      return 'EDS';
    case secret:
      return 'SDS';
    default:
      return typeUrl;
  }
}
