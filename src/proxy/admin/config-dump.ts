/**
 * `/config_dump`: the accepted xDS resources in Envoy's `envoy.admin.v3.ConfigDump` shape, one
 * `*ConfigDump` per type in Envoy's order (clusters, endpoints only with `include_eds`,
 * listeners, routes, secrets), each resource as proto3 JSON with proto field names, as Envoy
 * prints it. Private keys, passwords and other sensitive fields are replaced as Envoy's
 * `MessageUtil::redact` does: strings by `[redacted]`, bytes by the bytes of `[redacted]`
 * (base64 `W3JlZGFjdGVkXQ==`), so the shape stays and nothing secret leaves the process.
 */
import { fromBinary, toJson, type JsonValue } from '@bufbuild/protobuf';
import { envoyRegistry, ResourceTypeUrl } from '../../xds/proto.js';

/** The accepted resources of one xDS type, as the ADS client holds them. */
export interface AcceptedResources {
  readonly typeUrl: string;
  /** The `version_info` of the last accepted response ('' before any). */
  readonly versionInfo: string;
  /** When the type last changed (ms since the epoch); `last_updated` is left out when unknown. */
  readonly lastUpdatedMs?: number;
  readonly resources: ReadonlyArray<{
    readonly name: string;
    /** The delta protocol's per-resource version; '' under SotW, where the type's version applies. */
    readonly version: string;
    /** The resource message's encoding (the `value` of its `Any`). */
    readonly bytes: Uint8Array;
  }>;
}

/** What `/config_dump` dumps: every accepted type (`XdsClient.acceptedResources()` fits as is). */
export type ConfigDumpInput = readonly AcceptedResources[];

type JsonObject = { [key: string]: JsonValue };

const ADMIN = 'type.googleapis.com/envoy.admin.v3.';
const REDACTED = '[redacted]';
const REDACTED_BYTES = Buffer.from(REDACTED).toString('base64');

/**
 * Fields Envoy's API marks `udpa.annotations.sensitive`, by the message field that holds them:
 * `TlsCertificate.private_key` and `.password`, `TlsSessionTicketKeys.keys`, `GenericSecret.secret`.
 */
const SENSITIVE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['tls_certificate', new Set(['private_key', 'password'])],
  ['tls_certificates', new Set(['private_key', 'password'])],
  ['session_ticket_keys', new Set(['keys'])],
  ['generic_secret', new Set(['secret'])],
]);

function redactAll(value: JsonValue, key: string): JsonValue {
  if (typeof value === 'string') return key === 'inline_bytes' ? REDACTED_BYTES : REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactAll(v, key));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAll(v, k)]));
  return value;
}

/** A copy of `value` with every sensitive field redacted, wherever it sits (secrets, inline TLS in listeners and clusters). */
function redact(value: JsonValue, parent = ''): JsonValue {
  if (Array.isArray(value)) return value.map((v) => redact(v, parent));
  if (value === null || typeof value !== 'object') return value;
  const sensitive = SENSITIVE.get(parent);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sensitive?.has(k) ? redactAll(v, k) : redact(v, k)]));
}

/** A resource as proto3 JSON inside an `Any` (`@type` first), redacted. */
function resourceJson(typeUrl: string, bytes: Uint8Array): JsonObject {
  const desc = envoyRegistry.getMessage(typeUrl.slice(typeUrl.lastIndexOf('/') + 1));
  if (!desc) return { '@type': typeUrl };
  const json = toJson(desc, fromBinary(desc, bytes), { registry: envoyRegistry, useProtoFieldName: true });
  return { '@type': typeUrl, ...(redact(json) as JsonObject) };
}

function timestamp(ms: number | undefined): JsonObject {
  return ms === undefined ? {} : { last_updated: new Date(ms).toISOString() };
}

function version(v: string): JsonObject {
  return v === '' ? {} : { version_info: v };
}

/** One dumped resource: an element of a `dynamic_*` list. */
interface Entry {
  readonly name: string;
  readonly json: JsonObject;
}

interface Section {
  readonly dumpType: string;
  /** The repeated field holding the resources, and its element's message type. */
  readonly field: string;
  readonly elementType: string;
  readonly typeUrl: string;
  entry(accepted: AcceptedResources, resource: AcceptedResources['resources'][number]): JsonObject;
}

const resourceVersion = (accepted: AcceptedResources, r: { readonly version: string }) => version(r.version === '' ? accepted.versionInfo : r.version);

/** Envoy's order of config dumps (the config tracker's keys, sorted). */
const SECTIONS: readonly Section[] = [
  {
    dumpType: 'ClustersConfigDump',
    field: 'dynamic_active_clusters',
    elementType: 'ClustersConfigDump.DynamicCluster',
    typeUrl: ResourceTypeUrl.cluster,
    entry: (a, r) => ({ ...resourceVersion(a, r), cluster: resourceJson(a.typeUrl, r.bytes), ...timestamp(a.lastUpdatedMs) }),
  },
  {
    dumpType: 'EndpointsConfigDump',
    field: 'dynamic_endpoint_configs',
    elementType: 'EndpointsConfigDump.DynamicEndpointConfig',
    typeUrl: ResourceTypeUrl.clusterLoadAssignment,
    entry: (a, r) => ({ ...resourceVersion(a, r), endpoint_config: resourceJson(a.typeUrl, r.bytes), ...timestamp(a.lastUpdatedMs) }),
  },
  {
    dumpType: 'ListenersConfigDump',
    field: 'dynamic_listeners',
    elementType: 'ListenersConfigDump.DynamicListener',
    typeUrl: ResourceTypeUrl.listener,
    entry: (a, r) => ({ name: r.name, active_state: { ...resourceVersion(a, r), listener: resourceJson(a.typeUrl, r.bytes), ...timestamp(a.lastUpdatedMs) } }),
  },
  {
    dumpType: 'RoutesConfigDump',
    field: 'dynamic_route_configs',
    elementType: 'RoutesConfigDump.DynamicRouteConfig',
    typeUrl: ResourceTypeUrl.routeConfiguration,
    entry: (a, r) => ({ ...resourceVersion(a, r), route_config: resourceJson(a.typeUrl, r.bytes), ...timestamp(a.lastUpdatedMs) }),
  },
  {
    dumpType: 'SecretsConfigDump',
    field: 'dynamic_active_secrets',
    elementType: 'SecretsConfigDump.DynamicSecret',
    typeUrl: ResourceTypeUrl.secret,
    entry: (a, r) => ({ name: r.name, ...resourceVersion(a, r), ...timestamp(a.lastUpdatedMs), secret: resourceJson(a.typeUrl, r.bytes) }),
  },
];

export interface ConfigDumpQuery {
  /** Dump EDS too (Envoy's `include_eds`). */
  readonly includeEds: boolean;
  /** Only this repeated field's elements, each with its own `@type` (Envoy's `resource`). */
  readonly resource: string | undefined;
  /** Keeps resources whose name it accepts (Envoy's `name_regex`). */
  readonly nameFilter: ((name: string) => boolean) | undefined;
}

export type ConfigDumpResult = { readonly ok: true; readonly dump: { configs: JsonObject[] } } | { readonly ok: false; readonly status: number; readonly message: string };

/** Builds the `/config_dump` body. */
export function buildConfigDump(input: ConfigDumpInput, query: ConfigDumpQuery): ConfigDumpResult {
  const byType = new Map(input.map((a) => [a.typeUrl, a]));
  const sections = SECTIONS.filter((s) => s.field !== 'dynamic_endpoint_configs' || query.includeEds || query.resource === s.field);
  const entries = (s: Section): Entry[] => {
    const accepted = byType.get(s.typeUrl);
    if (!accepted) return [];
    return accepted.resources.filter((r) => !query.nameFilter || query.nameFilter(r.name)).map((r) => ({ name: r.name, json: s.entry(accepted, r) }));
  };
  if (query.resource !== undefined) {
    const section = SECTIONS.find((s) => s.field === query.resource);
    if (!section) return { ok: false, status: 404, message: `config_dump: resource=${query.resource}: not one of ${SECTIONS.map((s) => s.field).join(', ')}` };
    return { ok: true, dump: { configs: entries(section).map((e) => ({ '@type': `${ADMIN}${section.elementType}`, ...e.json })) } };
  }
  const configs = sections.map((s): JsonObject => {
    const versioned = s.field === 'dynamic_active_clusters' || s.field === 'dynamic_listeners';
    return { '@type': `${ADMIN}${s.dumpType}`, ...(versioned ? version(byType.get(s.typeUrl)?.versionInfo ?? '') : {}), [s.field]: entries(s).map((e) => e.json) };
  });
  return { ok: true, dump: { configs } };
}
