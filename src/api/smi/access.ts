/**
 * TrafficTarget (access.smi-spec.io v1alpha1-v1alpha3) and its internal form.
 *
 * The internal form is v1alpha3's shape plus `port`, which keeps the `destination.port`
 * restriction of v1alpha1/v1alpha2: dropping it would widen access (smi.md section 7).
 */
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema, type ObjectMeta } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';

/** A ServiceAccount named by a TrafficTarget. */
export interface IdentityRef {
  kind: 'ServiceAccount';
  name: string;
  namespace: string;
}

/** A rule: a traffic spec named in the TrafficTarget's namespace. */
export type TrafficTargetRule =
  | { kind: 'HTTPRouteGroup'; name: string; /** Absent: every match of the group (A6). */ matches?: string[] }
  | { kind: 'TCPRoute'; name: string }
  | { kind: 'UDPRoute'; name: string };

export interface TrafficTarget {
  kind: 'TrafficTarget';
  metadata: ObjectMeta;
  spec: {
    destination: IdentityRef;
    sources: IdentityRef[];
    rules: TrafficTargetRule[];
    /** access v1alpha1/v1alpha2 `destination.port`: the pod port every rule is limited to. */
    port?: number;
  };
}

const identityWritten = s.object({
  kind: s.string(),
  name: s.string({ minLength: 1 }),
  namespace: s.optional(s.string()),
});

const identityWithPort = s.object({
  kind: s.string(),
  name: s.string({ minLength: 1 }),
  namespace: s.optional(s.string()),
  port: s.optional(s.intOrString()),
});

const ruleSchema = (kinds: readonly string[]) =>
  s.object({
    kind: s.enumOf(kinds),
    name: s.string({ minLength: 1 }),
    matches: s.optional(s.array(s.string())),
  });

const header = { apiVersion: s.string(), kind: s.string(), metadata: objectMetaSchema };

const v1alpha1 = s.object({
  ...header,
  destination: identityWithPort,
  specs: s.array(ruleSchema(['HTTPRouteGroup', 'TCPRoute'])),
  sources: s.array(identityWritten),
});

const v1alpha2 = s.object({
  ...header,
  spec: s.object({
    destination: identityWithPort,
    rules: s.array(ruleSchema(['HTTPRouteGroup', 'TCPRoute'])),
    sources: s.array(identityWritten),
  }),
});

const v1alpha3 = s.object({
  ...header,
  spec: s.object({
    destination: identityWritten,
    rules: s.array(ruleSchema(['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'])),
    sources: s.array(identityWritten),
  }),
});

type WrittenIdentity = Infer<typeof identityWritten>;
type WrittenRule = Infer<ReturnType<typeof ruleSchema>>;

function toIdentity(written: WrittenIdentity): IdentityRef {
  // Kind and namespace are checked by the admission rules on the internal form.
  return { kind: written.kind as 'ServiceAccount', name: written.name, namespace: written.namespace ?? '' };
}

function toRule(written: WrittenRule): TrafficTargetRule {
  if (written.kind === 'HTTPRouteGroup') {
    return written.matches === undefined
      ? { kind: 'HTTPRouteGroup', name: written.name }
      : { kind: 'HTTPRouteGroup', name: written.name, matches: written.matches };
  }
  return { kind: written.kind as 'TCPRoute' | 'UDPRoute', name: written.name };
}

/** `destination.port` was a string in access v1alpha1 manifests and an integer later. */
function toPort(port: number | string | undefined, field: string, reporter: ObjectReporter): number | undefined {
  if (port === undefined) return undefined;
  const n = typeof port === 'number' ? port : /^\d+$/.test(port) ? Number(port) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    reporter.reportAtSource('E2001', field, { detail: `expected a port number in 1-65535, got ${JSON.stringify(port)}` });
    return undefined;
  }
  return n;
}

function build(
  metadata: ObjectMeta,
  destination: WrittenIdentity,
  rules: WrittenRule[],
  sources: WrittenIdentity[],
  port: number | undefined,
): TrafficTarget {
  const spec: TrafficTarget['spec'] = {
    destination: toIdentity(destination),
    sources: sources.map(toIdentity),
    rules: rules.map(toRule),
  };
  if (port !== undefined) spec.port = port;
  return { kind: 'TrafficTarget', metadata, spec };
}

/** Checks SMI's and our admission rules (smi-decisions A10, A11, A12). */
function validateTrafficTarget(tt: TrafficTarget, reporter: ObjectReporter): void {
  const { spec, metadata } = tt;
  const checkIdentity = (id: IdentityRef, field: string) => {
    if (id.kind !== 'ServiceAccount') reporter.report('E3005', `${field}.kind`, { got: id.kind });
    if (id.namespace === '') reporter.report('E3015', `${field}.namespace`);
  };
  checkIdentity(spec.destination, 'spec.destination');
  if (spec.destination.namespace !== '' && spec.destination.namespace !== metadata.namespace) {
    reporter.report('E3003', 'spec.destination.namespace', { namespace: metadata.namespace ?? '' });
  }
  spec.sources.forEach((src, i) => checkIdentity(src, `spec.sources[${i}]`));
  if (spec.sources.length === 0) reporter.report('E3004', 'spec.sources', { what: 'source' });
  if (spec.rules.length === 0) reporter.report('E3004', 'spec.rules', { what: 'rule' });
  spec.rules.forEach((rule, i) => {
    if (rule.kind !== 'HTTPRouteGroup' || !rule.matches) return;
    const seen = new Set<string>();
    rule.matches.forEach((m, j) => {
      if (seen.has(m)) reporter.report('E3016', `spec.rules[${i}].matches[${j}]`, { name: m });
      seen.add(m);
    });
  });
}

export const trafficTargetKind: KindDefinition<TrafficTarget> = {
  group: 'access.smi-spec.io',
  kind: 'TrafficTarget',
  plural: 'traffictargets',
  shortNames: ['tt'],
  namespaced: true,
  storageVersion: 'v1alpha3',
  unknownFields: 'error',
  versions: {
    v1alpha1: defineVersion(
      v1alpha1,
      (o, r) => build(o.metadata, o.destination, o.specs, o.sources, toPort(o.destination.port, 'destination.port', r)),
      { pathMap: (p) => p.replace(/^spec\.rules/, 'specs').replace(/^spec\./, '') },
    ),
    v1alpha2: defineVersion(v1alpha2, (o, r) =>
      build(o.metadata, o.spec.destination, o.spec.rules, o.spec.sources, toPort(o.spec.destination.port, 'spec.destination.port', r)),
    ),
    v1alpha3: defineVersion(v1alpha3, (o) => build(o.metadata, o.spec.destination, o.spec.rules, o.spec.sources, undefined)),
  },
  validate: validateTrafficTarget,
};
