/**
 * Object metadata shared by every kind, and the references problems and records carry.
 */
import { s, type Infer } from '../lib/schema.js';

const ownerReference = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  name: s.string(),
  uid: s.optional(s.string()),
  controller: s.optional(s.boolean()),
  blockOwnerDeletion: s.optional(s.boolean()),
});

/** Kubernetes ObjectMeta. Every field the API defines is known; osm-ts reads a few of them. */
export const objectMetaSchema = s.object({
  name: s.string({ minLength: 1, description: 'Name, unique within the namespace and kind.' }),
  namespace: s.optional(s.string({ minLength: 1 })),
  labels: s.optional(s.map(s.string())),
  annotations: s.optional(s.map(s.string())),
  uid: s.optional(s.string()),
  resourceVersion: s.optional(s.string()),
  generation: s.optional(s.integer()),
  creationTimestamp: s.optional(s.string()),
  deletionTimestamp: s.optional(s.string()),
  deletionGracePeriodSeconds: s.optional(s.integer()),
  generateName: s.optional(s.string()),
  ownerReferences: s.optional(s.array(ownerReference)),
  finalizers: s.optional(s.array(s.string())),
  managedFields: s.optional(s.any()),
  selfLink: s.optional(s.string()),
});

export type ObjectMeta = Infer<typeof objectMetaSchema>;

/** Names one object: what problems, records and reasons point at. */
export interface ObjectRef {
  kind: string;
  /** Absent for cluster-scoped kinds. */
  namespace?: string;
  name: string;
}

/** `Kind ns/name`, or `Kind name` for cluster-scoped objects. */
export function formatRef(ref: ObjectRef): string {
  return ref.namespace === undefined ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** The store key of an object: kind, namespace and name. */
export function refKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** The namespace Kubernetes gives a namespaced object that names none. */
export const DEFAULT_NAMESPACE = 'default';
