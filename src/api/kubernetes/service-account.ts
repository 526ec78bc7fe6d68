/**
 * ServiceAccount (core/v1): a workload identity. SMI grants access to ServiceAccounts.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';

const serviceAccountSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  secrets: s.optional(s.array(s.any())),
  imagePullSecrets: s.optional(s.array(s.any())),
  automountServiceAccountToken: s.optional(s.boolean()),
});

export type ServiceAccount = Infer<typeof serviceAccountSchema> & { kind: 'ServiceAccount' };

export const serviceAccountKind: KindDefinition<ServiceAccount> = {
  group: '',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  shortNames: ['sa'],
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(serviceAccountSchema, (o) => o as ServiceAccount) },
};
