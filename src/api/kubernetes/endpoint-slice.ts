/**
 * EndpointSlice (discovery.k8s.io/v1): a slice of a Service's endpoints. The label
 * `kubernetes.io/service-name` names the Service; a Service may have many slices.
 */
import { defineVersion, type KindDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';
import { objectReferenceSchema } from './endpoints.js';
import { protocolSchema } from './ports.js';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const endpointSchema = s.object({
  addresses: s.array(s.string(), { minItems: 1 }),
  // Kubernetes reads an absent condition as unknown, and unknown `ready` as ready.
  conditions: s.optional(
    s.object({
      ready: s.optional(s.boolean()),
      serving: s.optional(s.boolean()),
      terminating: s.optional(s.boolean()),
    }),
  ),
  hostname: s.optional(s.string()),
  nodeName: s.optional(s.string()),
  zone: s.optional(s.string()),
  targetRef: s.optional(objectReferenceSchema),
  hints: s.optional(
    s.object({
      forZones: s.optional(s.array(s.object({ name: s.string() }))),
      forNodes: s.optional(s.array(s.object({ name: s.string() }))),
    }),
  ),
  deprecatedTopology: s.optional(s.map(s.string())),
});

const endpointSliceSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  addressType: s.enumOf(['IPv4', 'IPv6', 'FQDN']),
  // The API server writes `null` for a Service with no endpoints or no ports.
  endpoints: s.array(endpointSchema, { default: [] }),
  ports: s.array(
    s.object({
      name: s.optional(s.string()),
      // Absent: every port of each endpoint.
      port: s.optional(s.integer({ minimum: 0, maximum: 65535 })),
      protocol: protocolSchema,
      appProtocol: s.optional(s.string()),
    }),
    { default: [] },
  ),
});

/** An EndpointSlice in its internal form; absent lists are empty. */
export type EndpointSlice = Infer<typeof endpointSliceSchema> & { kind: 'EndpointSlice' };

/** The name of the Service the slice belongs to, from its `kubernetes.io/service-name` label. */
export function serviceNameOf(slice: EndpointSlice): string | undefined {
  return slice.metadata.labels?.[SERVICE_NAME_LABEL];
}

/** The EndpointSlice kind. */
export const endpointSliceKind: KindDefinition<EndpointSlice> = {
  group: 'discovery.k8s.io',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(endpointSliceSchema, (o) => ({ ...o, kind: 'EndpointSlice' as const })) },
};
