/**
 * IngressBackend (policy.openservicemesh.io/v1alpha1): which sources may send ingress
 * traffic to which backend ports (reference/osm.md 2.5, webhook rules 2.10).
 */
import { s, type Infer } from '../../lib/schema.js';
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import type { ObjectMeta } from '../meta.js';
import { quotedList } from './admission.js';
import { isCidr } from './cidr.js';
import { normaliseProtocol, POLICY_GROUP, policyHeader, portNumberSchema, typedRefSchema } from './policy-refs.js';

/** Protocols an IngressBackend port may carry. */
export const INGRESS_PROTOCOLS = ['http', 'https'] as const;

const SOURCE_KINDS = ['Service', 'AuthenticatedPrincipal', 'IPRange'] as const;

/**
 * Where ingress traffic may come from: a Service's endpoint addresses, a client certificate
 * identity (https with client certificate validation only), or a CIDR written in `name`.
 */
export type IngressSource =
  | { kind: 'Service'; name: string; namespace: string }
  | { kind: 'AuthenticatedPrincipal'; name: string }
  | { kind: 'IPRange'; name: string };

/** A backend Service (in the IngressBackend's namespace) and its target port. */
export interface IngressBackendTarget {
  name: string;
  port: { number: number; protocol: (typeof INGRESS_PROTOCOLS)[number] };
  /** Always present: absent in the manifest means client certificates are validated. */
  tls: { skipClientCertValidation: boolean; sniHosts: string[] };
}

/** An IngressBackend in its internal form. */
export interface IngressBackend {
  kind: 'IngressBackend';
  metadata: ObjectMeta;
  spec: {
    backends: IngressBackendTarget[];
    sources: IngressSource[];
    /** Reserved by OSM: only a wildcard route is generated. Kept as written. */
    matches: Array<Infer<typeof typedRefSchema>>;
  };
}

const ingressBackendSchema = s.object({
  ...policyHeader,
  spec: s.object({
    backends: s.array(
      s.object({
        name: s.string({ minLength: 1 }),
        port: s.object({ number: portNumberSchema, protocol: s.string() }),
        tls: s.optional(
          s.object({
            skipClientCertValidation: s.boolean(),
            sniHosts: s.array(s.string({ minLength: 1 }), { default: [] }),
          }),
        ),
      }),
    ),
    sources: s.array(s.object({ kind: s.string(), name: s.string(), namespace: s.optional(s.string()) })),
    matches: s.array(typedRefSchema, { default: [] }),
  }),
  status: s.optional(s.any()),
});

type WrittenSource = Infer<typeof ingressBackendSchema>['spec']['sources'][number];

function toSource(written: WrittenSource): IngressSource {
  // Kinds and required fields are checked by validateIngressBackend on this form.
  if (written.kind === 'Service') return { kind: 'Service', name: written.name, namespace: written.namespace ?? '' };
  return { kind: written.kind as 'AuthenticatedPrincipal' | 'IPRange', name: written.name };
}

function toIngressBackend(o: Infer<typeof ingressBackendSchema>): IngressBackend {
  const { spec } = o;
  return {
    kind: 'IngressBackend',
    metadata: o.metadata,
    spec: {
      backends: spec.backends.map((b) => ({
        name: b.name,
        port: { number: b.port.number, protocol: normaliseProtocol(b.port.protocol, INGRESS_PROTOCOLS) },
        tls: b.tls ?? { skipClientCertValidation: false, sniHosts: [] },
      })),
      sources: spec.sources.map(toSource),
      matches: spec.matches,
    },
  };
}

function validateSource(source: IngressSource, field: string, reporter: ObjectReporter): void {
  switch (source.kind) {
    case 'Service':
      if (source.name === '') reporter.report('E4015', `${field}.name`, { kind: source.kind });
      if (source.namespace === '') reporter.report('E4015', `${field}.namespace`, { kind: source.kind });
      return;
    case 'AuthenticatedPrincipal':
      if (source.name === '') reporter.report('E4015', `${field}.name`, { kind: source.kind });
      return;
    case 'IPRange':
      if (!isCidr(source.name)) reporter.report('E4006', `${field}.name`, { got: source.name });
      return;
    default: {
      const got: string = (source as { kind: string }).kind;
      reporter.report('E4014', `${field}.kind`, { expected: quotedList(SOURCE_KINDS), got });
    }
  }
}

/** OSM's webhook rules for IngressBackend that one object can break on its own. */
function validateIngressBackend(ib: IngressBackend, reporter: ObjectReporter): void {
  const { backends, sources } = ib.spec;
  const hasPrincipal = sources.some((src) => src.kind === 'AuthenticatedPrincipal');
  const seen = new Set<string>();
  backends.forEach((b, i) => {
    const field = `spec.backends[${i}]`;
    const key = `${b.name}:${b.port.number}`;
    if (seen.has(key)) reporter.report('E4016', field, { name: b.name, port: String(b.port.number) });
    seen.add(key);
    if (!(INGRESS_PROTOCOLS as readonly string[]).includes(b.port.protocol)) {
      reporter.report('E4010', `${field}.port.protocol`, { expected: quotedList(INGRESS_PROTOCOLS), got: b.port.protocol });
    } else if (b.port.protocol === 'https' && !b.tls.skipClientCertValidation && !hasPrincipal) {
      // OSM v1.2.4's webhook tests skipClientCertValidation the wrong way round; we keep the
      // documented rule: validating client certificates needs a principal to accept.
      reporter.report('E4013', field, { name: b.name });
    }
  });
  sources.forEach((src, i) => validateSource(src, `spec.sources[${i}]`, reporter));
}

/** IngressBackend: policy.openservicemesh.io/v1alpha1. */
export const ingressBackendKind: KindDefinition<IngressBackend> = {
  group: POLICY_GROUP,
  kind: 'IngressBackend',
  plural: 'ingressbackends',
  shortNames: ['ingressbackend'],
  namespaced: true,
  storageVersion: 'v1alpha1',
  unknownFields: 'error',
  versions: { v1alpha1: defineVersion(ingressBackendSchema, toIngressBackend) },
  validate: validateIngressBackend,
};
