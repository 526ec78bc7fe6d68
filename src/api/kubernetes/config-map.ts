/**
 * ConfigMap (core/v1): plain configuration. `binaryData` values are base64 as written.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';

const configMapSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  data: s.optional(s.map(s.string())),
  binaryData: s.optional(s.map(s.string())),
  immutable: s.optional(s.boolean()),
});

/** A ConfigMap in its internal form. */
export type ConfigMap = Infer<typeof configMapSchema> & { kind: 'ConfigMap' };

/** The ConfigMap kind. */
export const configMapKind: KindDefinition<ConfigMap> = {
  group: '',
  kind: 'ConfigMap',
  plural: 'configmaps',
  shortNames: ['cm'],
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(configMapSchema, (o) => ({ ...o, kind: 'ConfigMap' as const })) },
};
