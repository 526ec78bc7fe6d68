/**
 * Namespace (core/v1): its labels and annotations say whether the mesh monitors it
 * (`openservicemesh.io/monitored-by`) and whether sidecars are injected.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';

const namespaceSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  spec: s.optional(s.object({ finalizers: s.optional(s.array(s.string())) })),
  status: s.optional(s.any()),
});

export type Namespace = Infer<typeof namespaceSchema> & { kind: 'Namespace' };

export const namespaceKind: KindDefinition<Namespace> = {
  group: '',
  kind: 'Namespace',
  plural: 'namespaces',
  shortNames: ['ns'],
  namespaced: false,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(namespaceSchema, (o) => o as Namespace) },
};
