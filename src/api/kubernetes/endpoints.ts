/**
 * Endpoints (core/v1): the addresses behind a Service, grouped in subsets that share ports.
 * Kubernetes names an Endpoints object after its Service.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';
import { portNumberSchema, protocolSchema } from './ports.js';

/** Kubernetes ObjectReference: how an endpoint names the pod behind it. */
export const objectReferenceSchema = s.object({
  kind: s.optional(s.string()),
  namespace: s.optional(s.string()),
  name: s.optional(s.string()),
  uid: s.optional(s.string()),
  apiVersion: s.optional(s.string()),
  resourceVersion: s.optional(s.string()),
  fieldPath: s.optional(s.string()),
});

const addressSchema = s.object({
  ip: s.string({ minLength: 1 }),
  hostname: s.optional(s.string()),
  nodeName: s.optional(s.string()),
  targetRef: s.optional(objectReferenceSchema),
});

const endpointsSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  subsets: s.array(
    s.object({
      addresses: s.array(addressSchema, { default: [] }),
      notReadyAddresses: s.array(addressSchema, { default: [] }),
      ports: s.array(
        s.object({
          name: s.optional(s.string()),
          port: portNumberSchema,
          protocol: protocolSchema,
          appProtocol: s.optional(s.string()),
        }),
        { default: [] },
      ),
    }),
    { default: [] },
  ),
});

/** An Endpoints object in its internal form; absent lists are empty. */
export type Endpoints = Infer<typeof endpointsSchema> & { kind: 'Endpoints' };

/** The Endpoints kind. */
export const endpointsKind: KindDefinition<Endpoints> = {
  group: '',
  kind: 'Endpoints',
  plural: 'endpoints',
  shortNames: ['ep'],
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(endpointsSchema, (o) => ({ ...o, kind: 'Endpoints' as const })) },
};
