/**
 * UpstreamTrafficSetting (policy.openservicemesh.io/v1alpha1): circuit breaking for clients of
 * a host and local rate limits on its servers (reference/osm.md 2.6). OSM v1.2.4's surface:
 * the global rate limits of OSM's unreleased main branch are not read.
 */
import { s, type Infer } from '../../lib/schema.js';
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import type { ObjectMeta } from '../meta.js';
import { checkPositiveDuration, checkRe2Field } from './admission.js';
import { POLICY_GROUP, policyHeader } from './policy-refs.js';

// Envoy's circuit-breaker thresholds are uint32; OSM sets the maximum where none is given so
// that Envoy's own default of 1024 never applies by surprise.
const UINT32_MAX = 4294967295;
const uint32 = (defaultValue?: number) =>
  defaultValue === undefined
    ? s.integer({ minimum: 0, maximum: UINT32_MAX })
    : s.integer({ minimum: 0, maximum: UINT32_MAX, default: defaultValue });

const unitSchema = s.enumOf(['second', 'minute', 'hour'], { description: 'The period the limit counts over.' });

const httpLocalRateLimitSchema = s.object({
  requests: s.integer({ minimum: 1, maximum: UINT32_MAX }),
  unit: unitSchema,
  burst: uint32(0),
  responseStatusCode: s.integer({ minimum: 400, maximum: 599, default: 429 }),
  responseHeadersToAdd: s.array(s.object({ name: s.string({ minLength: 1 }), value: s.string({ minLength: 1 }) }), { default: [] }),
});

const specSchema = s.object({
  host: s.string({ minLength: 1, description: 'FQDN <service>.<namespace>.svc.cluster.local of a Service in this namespace.' }),
  connectionSettings: s.optional(
    s.object({
      tcp: s.optional(
        s.object({
          maxConnections: uint32(UINT32_MAX),
          connectTimeout: s.string({ default: '5s', description: 'Go duration.' }),
        }),
      ),
      http: s.optional(
        s.object({
          maxRequests: uint32(UINT32_MAX),
          // Absent: unlimited.
          maxRequestsPerConnection: s.optional(uint32()),
          maxPendingRequests: uint32(UINT32_MAX),
          maxRetries: uint32(UINT32_MAX),
        }),
      ),
    }),
  ),
  rateLimit: s.optional(
    s.object({
      local: s.optional(
        s.object({
          tcp: s.optional(
            s.object({
              connections: s.integer({ minimum: 1, maximum: UINT32_MAX }),
              unit: unitSchema,
              burst: uint32(0),
            }),
          ),
          http: s.optional(httpLocalRateLimitSchema),
        }),
      ),
    }),
  ),
  httpRoutes: s.array(
    s.object({
      path: s.string({ minLength: 1, description: "RE2 regex; must equal a route's path regex exactly." }),
      rateLimit: s.optional(s.object({ local: s.optional(httpLocalRateLimitSchema) })),
    }),
    { default: [] },
  ),
});

const upstreamTrafficSettingSchema = s.object({ ...policyHeader, spec: specSchema, status: s.optional(s.any()) });

/** An HTTP local rate limit with its defaults applied (burst 0, status 429, no headers). */
export type HttpLocalRateLimit = Infer<typeof httpLocalRateLimitSchema>;

/** An UpstreamTrafficSetting in its internal form: the v1alpha1 spec with defaults applied. */
export interface UpstreamTrafficSetting {
  kind: 'UpstreamTrafficSetting';
  metadata: ObjectMeta;
  spec: Infer<typeof specSchema>;
}

function toUpstreamTrafficSetting(o: Infer<typeof upstreamTrafficSettingSchema>): UpstreamTrafficSetting {
  return { kind: 'UpstreamTrafficSetting', metadata: o.metadata, spec: o.spec };
}

// A Service name is a DNS-1035 label.
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

function isServiceHostIn(host: string, namespace: string): boolean {
  const labels = host.split('.');
  return labels.length === 5 && SERVICE_NAME.test(labels[0] ?? '') && labels.slice(1).join('.') === `${namespace}.svc.cluster.local`;
}

/**
 * The object's own rules. The host rule is stricter than OSM's webhook (which only asks for
 * a dot) and follows osm.md 2.6: OSM looks a setting up in its Service's namespace by FQDN,
 * so a setting elsewhere never applies to mesh traffic. Duplicate hosts across objects are
 * the catalog's to find.
 */
function validateUpstreamTrafficSetting(uts: UpstreamTrafficSetting, reporter: ObjectReporter): void {
  const { spec, metadata } = uts;
  const namespace = metadata.namespace ?? '';
  if (!isServiceHostIn(spec.host, namespace)) reporter.report('E4017', 'spec.host', { namespace, got: spec.host });
  const tcp = spec.connectionSettings?.tcp;
  if (tcp) checkPositiveDuration(reporter, 'spec.connectionSettings.tcp.connectTimeout', tcp.connectTimeout);
  spec.httpRoutes.forEach((route, i) => checkRe2Field(reporter, `spec.httpRoutes[${i}].path`, route.path));
}

/** UpstreamTrafficSetting: policy.openservicemesh.io/v1alpha1. */
export const upstreamTrafficSettingKind: KindDefinition<UpstreamTrafficSetting> = {
  group: POLICY_GROUP,
  kind: 'UpstreamTrafficSetting',
  plural: 'upstreamtrafficsettings',
  shortNames: ['upstreamtrafficsetting'],
  namespaced: true,
  storageVersion: 'v1alpha1',
  unknownFields: 'error',
  versions: { v1alpha1: defineVersion(upstreamTrafficSettingSchema, toUpstreamTrafficSetting) },
  validate: validateUpstreamTrafficSetting,
};
