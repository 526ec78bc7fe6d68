/**
 * Pieces the policy.openservicemesh.io kinds share: the group, the object header, and
 * the ServiceAccount references that name clients.
 */
import { s } from '../../lib/schema.js';
import { objectMetaSchema } from '../meta.js';

/** The API group of OSM's policies. */
export const POLICY_GROUP = 'policy.openservicemesh.io';

/** The `apiGroup` OSM compares references against: group and version, not the group alone. */
export const POLICY_GROUP_VERSION = `${POLICY_GROUP}/v1alpha1`;

/** apiVersion, kind and metadata, as every policy object starts. */
export const policyHeader = { apiVersion: s.string(), kind: s.string(), metadata: objectMetaSchema };

/** A ServiceAccount: a client identity a policy applies to. */
export interface ServiceAccountRef {
  kind: 'ServiceAccount';
  name: string;
  namespace: string;
}

/** A Kubernetes TypedLocalObjectReference, as OSM policies write `matches`. */
export const typedRefSchema = s.object({
  apiGroup: s.string(),
  kind: s.string({ minLength: 1 }),
  name: s.string({ minLength: 1 }),
});

/** A port number, 1-65535. */
export const portNumberSchema = s.integer({ minimum: 1, maximum: 65535 });

/** Lower-cases a protocol OSM compares without case; other values stay as written for the message. */
export function normaliseProtocol<P extends string>(written: string, known: readonly P[]): P {
  const lower = written.toLowerCase();
  return (known.includes(lower as P) ? lower : written) as P;
}
