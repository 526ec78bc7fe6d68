/**
 * Retry (policy.openservicemesh.io/v1alpha1): how one client retries requests to some
 * services (reference/osm.md 2.7). Applied only when `featureFlags.enableRetryPolicy` is on.
 */
import { s, type Infer } from '../../lib/schema.js';
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import type { ObjectMeta } from '../meta.js';
import { checkPositiveDuration } from './admission.js';
import { POLICY_GROUP, policyHeader, type ServiceAccountRef } from './policy-refs.js';

/** A Service a Retry applies to. */
export interface RetryDestination {
  kind: 'Service';
  name: string;
  namespace: string;
}

/** A Retry in its internal form. */
export interface Retry {
  kind: 'Retry';
  metadata: ObjectMeta;
  spec: {
    source: ServiceAccountRef;
    destinations: RetryDestination[];
    retryPolicy: {
      /** Envoy's retry-on conditions, comma-separated (`5xx`, `connect-failure`, ...). */
      retryOn: string;
      /** Go duration; checked to be longer than 0s. */
      perTryTimeout: string;
      numRetries: number;
      /** Go duration; checked to be longer than 0s. Back-off grows from it up to 10 times it. */
      retryBackoffBaseInterval: string;
    };
  };
}

const refSchema = s.object({
  kind: s.string(),
  name: s.string({ minLength: 1 }),
  namespace: s.string({ minLength: 1 }),
});

const retrySchema = s.object({
  ...policyHeader,
  spec: s.object({
    source: refSchema,
    destinations: s.array(refSchema),
    retryPolicy: s.object({
      retryOn: s.string({ minLength: 1 }),
      perTryTimeout: s.string(),
      // Envoy's num_retries is a uint32.
      numRetries: s.integer({ minimum: 0, maximum: 4294967295 }),
      retryBackoffBaseInterval: s.string(),
    }),
  }),
});

function toRetry(o: Infer<typeof retrySchema>): Retry {
  // Kinds are checked by validateRetry on this form.
  const { source, destinations, retryPolicy } = o.spec;
  return {
    kind: 'Retry',
    metadata: o.metadata,
    spec: {
      source: { ...source, kind: source.kind as 'ServiceAccount' },
      destinations: destinations.map((d) => ({ ...d, kind: d.kind as 'Service' })),
      retryPolicy,
    },
  };
}

function validateRetry(retry: Retry, reporter: ObjectReporter): void {
  const { source, destinations, retryPolicy } = retry.spec;
  if (source.kind !== 'ServiceAccount') {
    reporter.report('E4014', 'spec.source.kind', { expected: '"ServiceAccount"', got: source.kind });
  }
  destinations.forEach((d, i) => {
    if (d.kind === 'Service') return;
    const note = 'OSM skips such a destination and logs an error; osm-ts rejects the Retry so the mistake shows';
    reporter.report('E4014', `spec.destinations[${i}].kind`, { expected: '"Service"', got: d.kind, note });
  });
  checkPositiveDuration(reporter, 'spec.retryPolicy.perTryTimeout', retryPolicy.perTryTimeout);
  checkPositiveDuration(reporter, 'spec.retryPolicy.retryBackoffBaseInterval', retryPolicy.retryBackoffBaseInterval);
}

/** Retry: policy.openservicemesh.io/v1alpha1. */
export const retryKind: KindDefinition<Retry> = {
  group: POLICY_GROUP,
  kind: 'Retry',
  plural: 'retries',
  shortNames: ['retry'],
  namespaced: true,
  storageVersion: 'v1alpha1',
  unknownFields: 'error',
  versions: { v1alpha1: defineVersion(retrySchema, toRetry) },
  validate: validateRetry,
};
