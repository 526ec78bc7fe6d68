/**
 * Secret (core/v1): where OSM keeps its CA bundle, Vault token and proxies' bootstrap configs.
 * `data` values stay base64 as written; `stringData` is plain text that the API server merges
 * into `data` on write.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';

const secretSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  data: s.optional(s.map(s.string())),
  stringData: s.optional(s.map(s.string())),
  // Kubernetes defaults the type to Opaque.
  type: s.string({ default: 'Opaque' }),
  immutable: s.optional(s.boolean()),
});

/** A Secret in its internal form. */
export type Secret = Infer<typeof secretSchema> & { kind: 'Secret' };

/** The Secret kind. */
export const secretKind: KindDefinition<Secret> = {
  group: '',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(secretSchema, (o) => ({ ...o, kind: 'Secret' as const })) },
};
