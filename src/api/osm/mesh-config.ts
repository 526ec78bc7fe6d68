/**
 * MeshConfig (config.openservicemesh.io v1alpha1 and v1alpha2): the mesh-wide settings.
 *
 * Both versions convert to one internal form, v1alpha2's shape with every default applied
 * (reference/osm.md 2.3), so readers never check for absent fields. Defaults live in the
 * schema where they are fixed values, so the CRD generated from it carries them too.
 */
import { decode, s, type Infer, type Schema } from '../../lib/schema.js';
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema, type ObjectMeta } from '../meta.js';
import { checkPositiveDuration, quotedList } from './admission.js';
import { isIPv4Cidr } from './cidr.js';
import { parseGoDuration } from './duration.js';

/** The only MeshConfig name OSM (and osm-ts) reads. */
export const MESH_CONFIG_NAME = 'osm-mesh-config';

/** The control-plane namespace assumed when a MeshConfig names none (OSM's default). */
export const DEFAULT_OSM_NAMESPACE = 'osm-system';

/**
 * DELIBERATE DIFFERENCE from OSM: `spec.traffic.enablePermissiveTrafficPolicyMode` defaults to
 * false. OSM's chart installs with permissive mode on, so any meshed client reaches any meshed
 * service until someone writes SMI policy. osm-ts is secure by default: traffic needs a
 * TrafficTarget unless the MeshConfig asks for permissive mode.
 */
export const DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE = false;

const ENVOY_LOG_LEVELS = ['trace', 'debug', 'info', 'warning', 'warn', 'error', 'critical', 'off'] as const;
const TLS_VERSIONS = ['TLS_AUTO', 'TLSv1_0', 'TLSv1_1', 'TLSv1_2', 'TLSv1_3'] as const;
// OSM's control plane logs with zerolog and keeps its level when handed another word.
const OSM_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic', 'disabled'];
// Below this, a resync would push to every proxy too often (OSM's minimum, osm.md 2.3).
const MIN_RESYNC_MS = 30_000;

const port = s.integer({ minimum: 1, maximum: 65535 });

// Quantities are passed to the sidecar container as written; Kubernetes checks them.
const resourcesSchema = s.object({
  limits: s.optional(s.map(s.any())),
  requests: s.optional(s.map(s.any())),
});

// The Envoy images OSM v1.2.4 ships (osm.md 0) and its init image at that release; osm-ts
// injects its own proxy, so they matter only to tools that read the MeshConfig.
const sidecarV1alpha1Fields = {
  enablePrivilegedInitContainer: s.boolean({ default: false, description: 'Run the init container privileged (else only NET_ADMIN).' }),
  logLevel: s.enumOf(ENVOY_LOG_LEVELS, { default: 'error', description: 'Proxy log level for new pods.' }),
  maxDataPlaneConnections: s.integer({ minimum: 0, default: 0, description: 'Most proxies one controller serves; 0 is unlimited.' }),
  envoyImage: s.string({ default: 'envoyproxy/envoy-distroless:v1.22.2' }),
  envoyWindowsImage: s.string({ default: 'envoyproxy/envoy-windows:v1.22.1' }),
  initContainerImage: s.string({ default: 'openservicemesh/init:v1.2.4' }),
  configResyncInterval: s.string({ default: '0s', description: 'Go duration between forced full pushes; 0s is off, else at least 30s.' }),
  resources: s.optional(resourcesSchema),
};

const sidecarSchema = s.object({
  ...sidecarV1alpha1Fields,
  tlsMinProtocolVersion: s.enumOf(TLS_VERSIONS, { default: 'TLSv1_2' }),
  tlsMaxProtocolVersion: s.enumOf(TLS_VERSIONS, { default: 'TLSv1_3' }),
  cipherSuites: s.optional(s.array(s.string())),
  ecdhCurves: s.optional(s.array(s.string())),
  localProxyMode: s.enumOf(['Localhost', 'PodIP'], { default: 'Localhost', description: 'How the proxy reaches the app.' }),
});

const externalAuthorizationSchema = s.object({
  enable: s.boolean({ default: false }),
  address: s.optional(s.string()),
  port: s.optional(port),
  statPrefix: s.string({ default: 'inboundExtAuthz' }),
  timeout: s.string({ default: '1s', description: 'Go duration.' }),
  failureModeAllow: s.boolean({ default: false }),
});

const trafficV1alpha1Fields = {
  enableEgress: s.boolean({ default: true, description: 'Pass unknown outbound destinations through.' }),
  enablePermissiveTrafficPolicyMode: s.boolean({
    default: DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE,
    description: 'Let any meshed client reach any meshed service without SMI policy. osm-ts defaults to false.',
  }),
  outboundIPRangeExclusionList: s.array(s.string(), { default: [], description: 'IPv4 CIDRs never redirected to the proxy.' }),
  outboundPortExclusionList: s.array(port, { default: [] }),
  inboundPortExclusionList: s.array(port, { default: [] }),
  inboundExternalAuthorization: s.optional(externalAuthorizationSchema),
};

const trafficSchema = s.object({
  ...trafficV1alpha1Fields,
  outboundIPRangeInclusionList: s.array(s.string(), { default: [], description: 'If set, only these IPv4 CIDRs are redirected.' }),
  networkInterfaceExclusionList: s.array(s.string(), { default: [] }),
});

const tracingSchema = s.object({
  enable: s.boolean({ default: false }),
  // Absent: jaeger in the MeshConfig's namespace (see completeSpec), as OSM's chart writes it.
  address: s.optional(s.string()),
  port: s.integer({ minimum: 1, maximum: 65535, default: 9411 }),
  endpoint: s.string({ default: '/api/v2/spans' }),
});

const observabilitySchema = s.object({
  osmLogLevel: s.string({ default: 'info' }),
  enableDebugServer: s.boolean({ default: false }),
  tracing: s.optional(tracingSchema),
});

const certificateSchema = s.object({
  serviceCertValidityDuration: s.string({ default: '24h', description: 'Go duration.' }),
  certKeyBitSize: s.integer({ minimum: 2048, maximum: 4096, default: 2048, description: 'RSA key size of workload certificates.' }),
  ingressGateway: s.optional(
    s.object({
      subjectAltNames: s.array(s.string({ minLength: 1 }), { minItems: 1 }),
      validityDuration: s.string(),
      secret: s.object({ name: s.string({ minLength: 1 }), namespace: s.string({ minLength: 1 }) }),
    }),
  ),
});

const featureFlagsSchema = s.object({
  enableWASMStats: s.boolean({ default: true }),
  enableEgressPolicy: s.boolean({ default: true }),
  enableMulticlusterMode: s.boolean({ default: false, description: 'Deprecated by OSM; unused.' }),
  enableSnapshotCacheMode: s.boolean({ default: false }),
  enableAsyncProxyServiceMapping: s.boolean({ default: false }),
  enableIngressBackendPolicy: s.boolean({ default: true }),
  enableEnvoyActiveHealthChecks: s.boolean({ default: false }),
  enableRetryPolicy: s.boolean({ default: false }),
  // Only on OSM's unreleased main branch; known so that its MeshConfigs read cleanly.
  enableMeshRootCertificate: s.boolean({ default: false }),
});

function specSchema<Sidecar extends Schema, Traffic extends Schema>(sidecar: Sidecar, traffic: Traffic) {
  return s.object({
    sidecar: s.optional(sidecar),
    traffic: s.optional(traffic),
    observability: s.optional(observabilitySchema),
    certificate: s.optional(certificateSchema),
    featureFlags: s.optional(featureFlagsSchema),
  });
}

const header = { apiVersion: s.string(), kind: s.string(), metadata: objectMetaSchema };

// v1alpha1 lacks the TLS settings, localProxyMode, the inclusion list and the interface list;
// the API server prunes them from a v1alpha1 object, so they take their defaults.
const v1alpha1 = s.object({
  ...header,
  spec: s.optional(specSchema(s.object(sidecarV1alpha1Fields), s.object(trafficV1alpha1Fields))),
});

const v1alpha2 = s.object({ ...header, spec: s.optional(specSchema(sidecarSchema, trafficSchema)) });

type Tracing = Infer<typeof tracingSchema> & { address: string };

/** The complete mesh settings: every field present, OSM's defaults (and ours) filled in. */
export interface MeshConfigSpec {
  sidecar: Infer<typeof sidecarSchema> & { resources: Infer<typeof resourcesSchema> };
  traffic: Infer<typeof trafficSchema> & { inboundExternalAuthorization: Infer<typeof externalAuthorizationSchema> };
  observability: Infer<typeof observabilitySchema> & { tracing: Tracing };
  certificate: Infer<typeof certificateSchema>;
  featureFlags: Infer<typeof featureFlagsSchema>;
}

/** A MeshConfig in its internal form (v1alpha2's shape, complete). */
export interface MeshConfig {
  kind: 'MeshConfig';
  metadata: ObjectMeta;
  spec: MeshConfigSpec;
}

/** What either version decodes to: any section or nested object may be absent. */
interface WrittenSpec {
  sidecar?: Partial<MeshConfigSpec['sidecar']>;
  traffic?: Partial<MeshConfigSpec['traffic']>;
  observability?: Partial<Omit<MeshConfigSpec['observability'], 'tracing'>> & { tracing?: Partial<Tracing> };
  certificate?: MeshConfigSpec['certificate'];
  featureFlags?: MeshConfigSpec['featureFlags'];
}

/** The schema's defaults for an object written as `{}`. */
function defaultsOf<S extends Schema>(schema: S): Infer<S> {
  const result = decode(schema, {});
  if (!result.ok) throw new Error(`MeshConfig defaults do not decode: ${result.issues.map((i) => i.path).join(', ')}`);
  return result.value;
}

function completeSpec(written: WrittenSpec, osmNamespace: string): MeshConfigSpec {
  const sidecar = { ...defaultsOf(sidecarSchema), ...written.sidecar };
  const traffic = { ...defaultsOf(trafficSchema), ...written.traffic };
  const tracing = { ...defaultsOf(tracingSchema), address: `jaeger.${osmNamespace}.svc.cluster.local`, ...written.observability?.tracing };
  return {
    sidecar: { ...sidecar, resources: sidecar.resources ?? {} },
    traffic: { ...traffic, inboundExternalAuthorization: traffic.inboundExternalAuthorization ?? defaultsOf(externalAuthorizationSchema) },
    observability: { ...defaultsOf(observabilitySchema), ...written.observability, tracing },
    certificate: written.certificate ?? defaultsOf(certificateSchema),
    featureFlags: written.featureFlags ?? defaultsOf(featureFlagsSchema),
  };
}

/**
 * The complete spec in force when no MeshConfig exists: OSM's defaults except permissive mode
 * (off, see DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE). `osmNamespace` places the default tracing
 * collector. Each call returns a fresh object.
 */
export function defaultMeshConfigSpec(opts: { osmNamespace?: string } = {}): MeshConfigSpec {
  return completeSpec({}, opts.osmNamespace ?? DEFAULT_OSM_NAMESPACE);
}

function toMeshConfig(metadata: ObjectMeta, spec: WrittenSpec | undefined): MeshConfig {
  // OSM reads its MeshConfig from its own namespace, so that is where the collector lives.
  return { kind: 'MeshConfig', metadata, spec: completeSpec(spec ?? {}, metadata.namespace ?? DEFAULT_OSM_NAMESPACE) };
}

const tlsRank = (v: (typeof TLS_VERSIONS)[number]): number => TLS_VERSIONS.indexOf(v);

/** Checks the rules the CRD's types cannot state (osm.md 2.3). */
function validateMeshConfig(mc: MeshConfig, reporter: ObjectReporter): void {
  const { sidecar, traffic, observability, certificate } = mc.spec;
  if (mc.metadata.name !== MESH_CONFIG_NAME) reporter.report('E4001', 'metadata.name', { expected: MESH_CONFIG_NAME });

  const resync = parseGoDuration(sidecar.configResyncInterval);
  if (resync === undefined) reporter.report('E4002', 'spec.sidecar.configResyncInterval', { got: sidecar.configResyncInterval });
  else if (resync !== 0 && resync < MIN_RESYNC_MS) {
    reporter.report('E4003', 'spec.sidecar.configResyncInterval', { got: sidecar.configResyncInterval });
  }
  const { tlsMinProtocolVersion: min, tlsMaxProtocolVersion: max } = sidecar;
  if (min !== 'TLS_AUTO' && max !== 'TLS_AUTO' && tlsRank(min) > tlsRank(max)) {
    reporter.report('E4007', 'spec.sidecar.tlsMinProtocolVersion', { min, max });
  }

  for (const list of ['outboundIPRangeExclusionList', 'outboundIPRangeInclusionList'] as const) {
    // The init container programs IPv4 iptables only, as the CRD's pattern says.
    traffic[list].forEach((cidr, i) => {
      if (!isIPv4Cidr(cidr)) reporter.report('E4005', `spec.traffic.${list}[${i}]`, { got: cidr });
    });
  }
  const authz = traffic.inboundExternalAuthorization;
  const authzField = 'spec.traffic.inboundExternalAuthorization';
  if (authz.enable) {
    const when = `${authzField}.enable is true`;
    if (authz.address === undefined || authz.address === '') reporter.report('E4009', `${authzField}.address`, { when });
    if (authz.port === undefined) reporter.report('E4009', `${authzField}.port`, { when });
  }
  checkPositiveDuration(reporter, `${authzField}.timeout`, authz.timeout);

  if (!OSM_LOG_LEVELS.includes(observability.osmLogLevel)) {
    reporter.report('E4008', 'spec.observability.osmLogLevel', { expected: quotedList(OSM_LOG_LEVELS), got: observability.osmLogLevel });
  }

  checkPositiveDuration(reporter, 'spec.certificate.serviceCertValidityDuration', certificate.serviceCertValidityDuration);
  if (certificate.ingressGateway) {
    checkPositiveDuration(reporter, 'spec.certificate.ingressGateway.validityDuration', certificate.ingressGateway.validityDuration);
  }
}

/** MeshConfig: read in v1alpha1 and v1alpha2, stored as v1alpha2. */
export const meshConfigKind: KindDefinition<MeshConfig> = {
  group: 'config.openservicemesh.io',
  kind: 'MeshConfig',
  plural: 'meshconfigs',
  shortNames: ['meshconfig'],
  namespaced: true,
  storageVersion: 'v1alpha2',
  // The API server prunes unknown fields, and OSM's own published MeshConfig has misplaced ones.
  unknownFields: 'warning',
  versions: {
    v1alpha1: defineVersion(v1alpha1, (o) => toMeshConfig(o.metadata, o.spec)),
    v1alpha2: defineVersion(v1alpha2, (o) => toMeshConfig(o.metadata, o.spec)),
  },
  validate: validateMeshConfig,
};
