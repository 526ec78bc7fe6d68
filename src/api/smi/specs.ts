/**
 * Traffic specs (specs.smi-spec.io v1alpha1-v1alpha4): HTTPRouteGroup, TCPRoute, UDPRoute, each
 * converted to v1alpha4's shape. Header conditions are normalised to one map with lower-case
 * names (smi-decisions A4); regexes must be RE2 (A3).
 */
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema, type ObjectMeta } from '../meta.js';
import { checkRe2 } from '../../lib/re2.js';
import { s, type Infer } from '../../lib/schema.js';

/** HTTP methods an HTTPRouteGroup may name; `*` means any. */
export const HTTP_METHODS = ['*', 'GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One named HTTP match. Absent fields mean "any" (A7). */
export interface HttpMatch {
  name: string;
  pathRegex?: string;
  methods?: HttpMethod[];
  /** Lower-case header name -> RE2 regex for the whole value. */
  headers?: Record<string, string>;
}

export interface HTTPRouteGroup {
  kind: 'HTTPRouteGroup';
  metadata: ObjectMeta;
  spec: { matches: HttpMatch[] };
}

/** Ports of a TCPRoute or UDPRoute; an empty list means every port (smi.md 3.2). */
export interface PortMatches {
  name?: string;
  ports: number[];
}

export interface TCPRoute {
  kind: 'TCPRoute';
  metadata: ObjectMeta;
  spec: { matches: PortMatches };
}

export interface UDPRoute {
  kind: 'UDPRoute';
  metadata: ObjectMeta;
  spec: { matches: PortMatches };
}

const header = { apiVersion: s.string(), kind: s.string(), metadata: objectMetaSchema };

const headersSchema = s.optional(
  s.anyOf([s.map(s.string()), s.array(s.map(s.string()))]),
);

const matchV1 = s.object({
  name: s.string({ minLength: 1 }),
  pathRegex: s.optional(s.string()),
  methods: s.optional(s.array(s.enumOf(HTTP_METHODS))),
});

const matchV2 = s.object({
  name: s.string({ minLength: 1 }),
  pathRegex: s.optional(s.string()),
  methods: s.optional(s.array(s.enumOf(HTTP_METHODS))),
  headers: headersSchema,
});

const httpV1alpha1 = s.object({ ...header, matches: s.array(matchV1) });
const httpV1alpha2 = s.object({ ...header, matches: s.array(matchV2) });
const httpV1alpha3 = s.object({ ...header, spec: s.object({ matches: s.array(matchV2) }) });

type WrittenMatch = Infer<typeof matchV2>;

function toMatch(written: WrittenMatch, field: string, reporter: ObjectReporter): HttpMatch {
  const match: HttpMatch = { name: written.name };
  if (written.pathRegex !== undefined) match.pathRegex = written.pathRegex;
  if (written.methods !== undefined) match.methods = written.methods;
  if (written.headers !== undefined) match.headers = normaliseHeaders(written.headers, `${field}.headers`, reporter);
  return match;
}

/** Both written forms become one map; a repeated name is an error, never last-one-wins (A4). */
function normaliseHeaders(
  written: Record<string, string> | Array<Record<string, string>>,
  field: string,
  reporter: ObjectReporter,
): Record<string, string> {
  // A Map, not an object: a header named `__proto__` or `constructor` is a condition like any other.
  const out = new Map<string, string>();
  const entries = Array.isArray(written)
    ? written.flatMap((item, i) => Object.entries(item).map(([k, v]) => ({ k, v, at: `${field}[${i}].${k}` })))
    : Object.entries(written).map(([k, v]) => ({ k, v, at: `${field}.${k}` }));
  for (const { k, v, at } of entries) {
    const name = k.toLowerCase();
    if (out.has(name)) reporter.reportAtSource('E3006', at, { header: k });
    else out.set(name, v);
  }
  return Object.fromEntries(out);
}

function buildGroup(metadata: ObjectMeta, matches: WrittenMatch[], base: string, reporter: ObjectReporter): HTTPRouteGroup {
  return {
    kind: 'HTTPRouteGroup',
    metadata,
    spec: { matches: matches.map((m, i) => toMatch(m, `${base}[${i}]`, reporter)) },
  };
}

/** Reports a regex that is not RE2, naming the construct where we know it. */
export function checkRegexField(regex: string, field: string, reporter: ObjectReporter): void {
  const check = checkRe2(regex);
  if (check.ok) return;
  if (check.construct) reporter.report('E3001', field, { construct: check.construct, regex });
  else reporter.report('E3002', field, { regex, reason: check.reason });
}

function validateHttpRouteGroup(group: HTTPRouteGroup, reporter: ObjectReporter): void {
  const names = new Set<string>();
  group.spec.matches.forEach((m, i) => {
    const field = `spec.matches[${i}]`;
    if (names.has(m.name)) reporter.report('E3007', `${field}.name`, { name: m.name });
    names.add(m.name);
    if (m.pathRegex !== undefined) checkRegexField(m.pathRegex, `${field}.pathRegex`, reporter);
    for (const [name, regex] of Object.entries(m.headers ?? {})) checkRegexField(regex, `${field}.headers.${name}`, reporter);
  });
}

export const httpRouteGroupKind: KindDefinition<HTTPRouteGroup> = {
  group: 'specs.smi-spec.io',
  kind: 'HTTPRouteGroup',
  plural: 'httproutegroups',
  shortNames: ['htr'],
  namespaced: true,
  storageVersion: 'v1alpha4',
  unknownFields: 'error',
  versions: {
    v1alpha1: defineVersion(httpV1alpha1, (o, r) => buildGroup(o.metadata, o.matches, 'matches', r), {
      pathMap: (p) => p.replace(/^spec\./, ''),
    }),
    v1alpha2: defineVersion(httpV1alpha2, (o, r) => buildGroup(o.metadata, o.matches, 'matches', r), {
      pathMap: (p) => p.replace(/^spec\./, ''),
    }),
    v1alpha3: defineVersion(httpV1alpha3, (o, r) => buildGroup(o.metadata, o.spec.matches, 'spec.matches', r)),
    v1alpha4: defineVersion(httpV1alpha3, (o, r) => buildGroup(o.metadata, o.spec.matches, 'spec.matches', r)),
  },
  validate: validateHttpRouteGroup,
};

const portMatchesSchema = s.object({
  name: s.optional(s.string()),
  ports: s.optional(s.array(s.integer({ minimum: 1, maximum: 65535 }))),
});

/** specs v1alpha1/v1alpha2 TCPRoutes have no fields; v1alpha3 has an empty spec. */
const tcpV1alpha1 = s.object({ ...header });
const tcpV1alpha3 = s.object({ ...header, spec: s.optional(s.object({})) });
const portRouteV1alpha4 = s.object({ ...header, spec: s.object({ matches: s.optional(portMatchesSchema) }) });

function toPortMatches(written: Infer<typeof portMatchesSchema> | undefined): PortMatches {
  const out: PortMatches = { ports: [...new Set(written?.ports ?? [])].sort((a, b) => a - b) };
  if (written?.name !== undefined) out.name = written.name;
  return out;
}

/** Before v1alpha4 a TCPRoute had no port selection: it covers every port. */
const everyPort = (o: { metadata: ObjectMeta }): TCPRoute => ({ kind: 'TCPRoute', metadata: o.metadata, spec: { matches: { ports: [] } } });

export const tcpRouteKind: KindDefinition<TCPRoute> = {
  group: 'specs.smi-spec.io',
  kind: 'TCPRoute',
  plural: 'tcproutes',
  shortNames: ['tr'],
  namespaced: true,
  storageVersion: 'v1alpha4',
  unknownFields: 'error',
  versions: {
    v1alpha1: defineVersion(tcpV1alpha1, everyPort),
    v1alpha2: defineVersion(tcpV1alpha1, everyPort),
    v1alpha3: defineVersion(tcpV1alpha3, everyPort),
    v1alpha4: defineVersion(portRouteV1alpha4, (o) => ({
      kind: 'TCPRoute',
      metadata: o.metadata,
      spec: { matches: toPortMatches(o.spec.matches) },
    })),
  },
};

export const udpRouteKind: KindDefinition<UDPRoute> = {
  group: 'specs.smi-spec.io',
  kind: 'UDPRoute',
  plural: 'udproutes',
  shortNames: ['ur'],
  namespaced: true,
  storageVersion: 'v1alpha4',
  unknownFields: 'error',
  versions: {
    v1alpha4: defineVersion(portRouteV1alpha4, (o) => ({
      kind: 'UDPRoute',
      metadata: o.metadata,
      spec: { matches: toPortMatches(o.spec.matches) },
    })),
  },
};
