/**
 * TrafficSplit (split.smi-spec.io v1alpha1-v1alpha4) converted to v1alpha4's shape with integer
 * weights. v1alpha1 quantities are scaled keeping their ratios (smi-decisions A20); v1alpha3/4
 * header-matched splits are kept (A25).
 */
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema, type ObjectMeta } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';
import { parseQuantity, toIntegerRatios, type Rational } from './quantity.js';

export interface TrafficSplitBackend {
  /** A Service in the split's namespace. */
  service: string;
  weight: number;
}

export interface TrafficSplit {
  kind: 'TrafficSplit';
  metadata: ObjectMeta;
  spec: {
    /** The root service as written: `name` or `name.<ns>[.svc[.cluster[.local]]]`. */
    service: string;
    backends: TrafficSplitBackend[];
    /** HTTPRouteGroups (split namespace) whose matches select the requests to split. */
    matches?: Array<{ kind: 'HTTPRouteGroup'; name: string }>;
  };
}

const header = { apiVersion: s.string(), kind: s.string(), metadata: objectMetaSchema };

const v1alpha1 = s.object({
  ...header,
  spec: s.object({
    service: s.string({ minLength: 1 }),
    backends: s.array(s.object({ service: s.string({ minLength: 1 }), weight: s.intOrString() }), { minItems: 1 }),
  }),
});

const backendV2 = s.object({ service: s.string({ minLength: 1 }), weight: s.number() });

const v1alpha2 = s.object({
  ...header,
  spec: s.object({ service: s.string({ minLength: 1 }), backends: s.array(backendV2, { minItems: 1 }) }),
});

const v1alpha3 = s.object({
  ...header,
  spec: s.object({
    service: s.string({ minLength: 1 }),
    backends: s.array(backendV2, { minItems: 1 }),
    matches: s.optional(
      s.array(s.object({ kind: s.enumOf(['HTTPRouteGroup']), name: s.string({ minLength: 1 }), apiGroup: s.optional(s.string()) })),
    ),
  }),
});

function fromV1alpha1(o: Infer<typeof v1alpha1>, reporter: ObjectReporter): TrafficSplit | undefined {
  const rationals: Rational[] = [];
  o.spec.backends.forEach((b, i) => {
    const q = parseQuantity(b.weight);
    if ('error' in q) reporter.reportAtSource('E3014', `spec.backends[${i}].weight`, { got: String(b.weight), reason: q.error });
    else rationals.push(q);
  });
  if (rationals.length !== o.spec.backends.length) return undefined;
  const weights = toIntegerRatios(rationals);
  if (!weights) {
    reporter.reportAtSource('E3013', 'spec.backends', {
      from: 'split v1alpha1',
      to: 'integer weights',
      reason: 'the weights differ by more than 2^53 and their ratios cannot be kept',
    });
    return undefined;
  }
  return {
    kind: 'TrafficSplit',
    metadata: o.metadata,
    spec: { service: o.spec.service, backends: o.spec.backends.map((b, i) => ({ service: b.service, weight: weights[i] ?? 0 })) },
  };
}

function fromV1alpha3(o: Infer<typeof v1alpha3>): TrafficSplit {
  const spec: TrafficSplit['spec'] = { service: o.spec.service, backends: o.spec.backends.map((b) => ({ ...b })) };
  if (o.spec.matches) spec.matches = o.spec.matches.map((m) => ({ kind: m.kind, name: m.name }));
  return { kind: 'TrafficSplit', metadata: o.metadata, spec };
}

/**
 * The root Service's name, and the namespace it names if any. Accepted forms (A17):
 * `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster`, `name.ns.svc.cluster.local`.
 */
export function parseRootService(written: string): { name: string; namespace?: string } | undefined {
  const parts = written.split('.');
  const [name, namespace, ...rest] = parts;
  if (!name || !isDnsLabel(name)) return undefined;
  const suffix = ['svc', 'cluster', 'local'];
  if (rest.some((p, i) => p !== suffix[i])) return undefined;
  if (namespace === undefined) return { name };
  if (!isDnsLabel(namespace)) return undefined;
  return { name, namespace };
}

function isDnsLabel(text: string): boolean {
  return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(text);
}

function validateTrafficSplit(split: TrafficSplit, reporter: ObjectReporter): void {
  const ns = split.metadata.namespace ?? '';
  const root = parseRootService(split.spec.service);
  if (!root) reporter.report('E3017', 'spec.service', { service: split.spec.service });
  else if (root.namespace !== undefined && root.namespace !== ns) {
    reporter.report('E3010', 'spec.service', { service: split.spec.service, other: root.namespace, namespace: ns });
  }
  const seen = new Set<string>();
  let total = 0;
  split.spec.backends.forEach((b, i) => {
    const field = `spec.backends[${i}]`;
    if (!isDnsLabel(b.service)) reporter.report('E3011', `${field}.service`, { service: b.service, namespace: ns });
    if (seen.has(b.service)) reporter.report('E3012', `${field}.service`, { service: b.service });
    seen.add(b.service);
    if (!Number.isInteger(b.weight) || b.weight < 0) reporter.report('E3009', `${field}.weight`, { got: String(b.weight) });
    else total += b.weight;
  });
  if (total === 0 && !reporter.hasErrors()) reporter.report('E3008', 'spec.backends');
}

export const trafficSplitKind: KindDefinition<TrafficSplit> = {
  group: 'split.smi-spec.io',
  kind: 'TrafficSplit',
  plural: 'trafficsplits',
  shortNames: ['ts'],
  namespaced: true,
  storageVersion: 'v1alpha4',
  unknownFields: 'error',
  versions: {
    v1alpha1: defineVersion(v1alpha1, fromV1alpha1),
    v1alpha2: defineVersion(v1alpha2, (o) => fromV1alpha3(o)),
    v1alpha3: defineVersion(v1alpha3, fromV1alpha3),
    v1alpha4: defineVersion(v1alpha3, fromV1alpha3),
  },
  validate: validateTrafficSplit,
};
