/**
 * Egress (policy.openservicemesh.io/v1alpha1): which clients may reach which destinations
 * outside the mesh (reference/osm.md 2.4, webhook rules 2.10).
 */
import { s, type Infer } from '../../lib/schema.js';
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import type { ObjectMeta } from '../meta.js';
import { quotedList } from './admission.js';
import { isIPv4Cidr } from './cidr.js';
import {
  normaliseProtocol,
  POLICY_GROUP,
  POLICY_GROUP_VERSION,
  policyHeader,
  portNumberSchema,
  typedRefSchema,
  type ServiceAccountRef,
} from './policy-refs.js';

/** Protocols an Egress port may carry. */
export const EGRESS_PROTOCOLS = ['http', 'https', 'tcp', 'tcp-server-first'] as const;

/** One of EGRESS_PROTOCOLS, lower case. */
export type EgressProtocol = (typeof EGRESS_PROTOCOLS)[number];

/** The apiGroup OSM expects on an HTTPRouteGroup match (group and version). */
export const HTTP_ROUTE_GROUP_API_GROUP = 'specs.smi-spec.io/v1alpha4';

/** What an Egress may match on: HTTP routes, or the connection settings for its traffic. */
export type EgressMatch =
  | { apiGroup: typeof HTTP_ROUTE_GROUP_API_GROUP; kind: 'HTTPRouteGroup'; name: string }
  | { apiGroup: typeof POLICY_GROUP_VERSION; kind: 'UpstreamTrafficSetting'; name: string };

/** An Egress in its internal form. */
export interface Egress {
  kind: 'Egress';
  metadata: ObjectMeta;
  spec: {
    sources: ServiceAccountRef[];
    /** HTTP: matched against the Host header; HTTPS: against the TLS SNI; ignored for TCP. */
    hosts: string[];
    /** IPv4 CIDRs the destination address must fall in. */
    ipAddresses: string[];
    ports: Array<{ number: number; protocol: EgressProtocol }>;
    /** HTTPRouteGroups restricting HTTP requests, and at most one UpstreamTrafficSetting. */
    matches: EgressMatch[];
  };
}

const egressSchema = s.object({
  ...policyHeader,
  spec: s.object({
    sources: s.array(
      s.object({
        kind: s.enumOf(['ServiceAccount']),
        name: s.string({ minLength: 1 }),
        namespace: s.string({ minLength: 1 }),
      }),
    ),
    hosts: s.array(s.string({ minLength: 1 }), { default: [] }),
    ipAddresses: s.array(s.string(), { default: [] }),
    ports: s.array(s.object({ number: portNumberSchema, protocol: s.string() })),
    matches: s.array(typedRefSchema, { default: [] }),
  }),
});

function toEgress(o: Infer<typeof egressSchema>): Egress {
  const { spec } = o;
  return {
    kind: 'Egress',
    metadata: o.metadata,
    spec: {
      sources: spec.sources,
      hosts: spec.hosts,
      ipAddresses: spec.ipAddresses,
      // OSM compares protocols without case; validateEgress rejects the unknown ones.
      ports: spec.ports.map((p) => ({ number: p.number, protocol: normaliseProtocol(p.protocol, EGRESS_PROTOCOLS) })),
      matches: spec.matches as EgressMatch[],
    },
  };
}

function isKnownMatch(m: { apiGroup: string; kind: string }): boolean {
  return (
    (m.apiGroup === HTTP_ROUTE_GROUP_API_GROUP && m.kind === 'HTTPRouteGroup') ||
    (m.apiGroup === POLICY_GROUP_VERSION && m.kind === 'UpstreamTrafficSetting')
  );
}

/** OSM's webhook rules for Egress, plus the CRD's pattern on ipAddresses. */
function validateEgress(egress: Egress, reporter: ObjectReporter): void {
  const { spec } = egress;
  spec.ipAddresses.forEach((cidr, i) => {
    if (!isIPv4Cidr(cidr)) reporter.report('E4005', `spec.ipAddresses[${i}]`, { got: cidr });
  });
  spec.ports.forEach((p, i) => {
    if (!(EGRESS_PROTOCOLS as readonly string[]).includes(p.protocol)) {
      reporter.report('E4010', `spec.ports[${i}].protocol`, { expected: quotedList(EGRESS_PROTOCOLS), got: p.protocol });
    }
  });
  let firstSetting: string | undefined;
  spec.matches.forEach((m, i) => {
    const field = `spec.matches[${i}]`;
    if (!isKnownMatch(m)) {
      reporter.report('E4011', field, { kind: m.kind, apiGroup: m.apiGroup });
      return;
    }
    if (m.kind !== 'UpstreamTrafficSetting') return;
    // One Egress gets one set of connection limits; OSM's webhook rejects a second.
    if (firstSetting === undefined) firstSetting = field;
    else reporter.report('E4012', field, { first: firstSetting });
  });
}

/** Egress: policy.openservicemesh.io/v1alpha1. */
export const egressKind: KindDefinition<Egress> = {
  group: POLICY_GROUP,
  kind: 'Egress',
  plural: 'egresses',
  shortNames: ['egress'],
  namespaced: true,
  storageVersion: 'v1alpha1',
  unknownFields: 'error',
  versions: { v1alpha1: defineVersion(egressSchema, toEgress) },
  validate: validateEgress,
};
