/**
 * Problems: every error or warning osm-ts reports about the objects it reads, with the file,
 * line, object and field it concerns. One table of codes, each with its message template;
 * the code and the exact message are part of the interface.
 */
import { formatRef, type ObjectRef } from './meta.js';

export type Severity = 'error' | 'warning';

/** Where an object or field came from in its file. Lines and columns count from 1. */
export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
}

export interface Problem {
  code: ProblemCode;
  severity: Severity;
  /** What is wrong and what was expected, without the object and field (those are separate). */
  message: string;
  object?: ObjectRef;
  /** Field path in `spec.backends[1].weight` form. */
  field?: string;
  source?: SourcePosition;
}

type Template = (p: Record<string, string>) => string;

/**
 * Codes by area: E1xxx reading files, E2xxx schema, E3xxx SMI admission rules, E4xxx OSM
 * policy admission rules, E5xxx mesh problems found by the catalog. A retired code is never
 * reused.
 */
const templates = {
  E1001: { severity: 'error', text: (p) => `cannot read: ${p.reason}` },
  E1002: { severity: 'error', text: (p) => `invalid ${p.format}: ${p.reason}` },
  E1003: { severity: 'error', text: (p) => `expected an object with apiVersion and kind, got ${p.got}` },
  E1004: { severity: 'error', text: (p) => `required field is missing (${p.what})` },
  E1005: { severity: 'warning', text: (p) => `kind ${p.kind} (${p.apiVersion}) is not read by osm-ts; skipped` },
  E1006: { severity: 'error', text: (p) => `${p.apiVersion} is not a served version of ${p.kind}; served: ${p.served}` },
  E1007: { severity: 'error', text: (p) => `kind ${p.kind} is not defined in API group ${p.group}; known kinds: ${p.known}` },
  E1008: { severity: 'error', text: (p) => `defined twice; first definition at ${p.first}` },
  E1009: { severity: 'error', text: (p) => `cluster-scoped ${p.kind} must not set a namespace` },
  E2001: { severity: 'error', text: (p) => p.detail ?? '' },
  E2002: { severity: 'error', text: (p) => `unknown field${p.hint ? `; ${p.hint}` : ''}` },
  E2003: { severity: 'warning', text: (p) => `unknown field, ignored${p.hint ? `; ${p.hint}` : ''}` },
  // Kubernetes kinds' admission rules (E21xx).
  E2101: { severity: 'error', text: () => `name is required when a Service has more than one port` },
  E2102: { severity: 'error', text: (p) => `port name ${JSON.stringify(p.name)} is used more than once in this Service` },
  E2103: { severity: 'error', text: (p) => `expected a port number 1-65535 or a port name (IANA_SVC_NAME: 1-15 characters of a-z, 0-9 and '-', at least one letter, no '-' at either end or next to another '-'), got ${p.got}` },
  E2104: { severity: 'error', text: (p) => `must satisfy the selector ${JSON.stringify(p.selector)} (spec.selector): ${p.reason}; Kubernetes rejects a ${p.kind} whose selector does not select its own pods` },
  E2105: { severity: 'error', text: (p) => `must name at least one label: Kubernetes rejects an empty ${p.kind} selector, which would select every pod in the namespace` },
  E3001: { severity: 'error', text: (p) => `${p.construct} is not RE2 syntax (osm-ts accepts RE2 regular expressions only): ${JSON.stringify(p.regex)}` },
  E3002: { severity: 'error', text: (p) => `invalid RE2 regular expression ${JSON.stringify(p.regex)}: ${p.reason}` },
  E3003: { severity: 'error', text: (p) => `must equal the TrafficTarget's namespace ${JSON.stringify(p.namespace)}: a TrafficTarget lives in its destination's namespace` },
  E3004: { severity: 'error', text: (p) => `at least one ${p.what} is required; without one the TrafficTarget grants nothing` },
  E3005: { severity: 'error', text: (p) => `kind must be ServiceAccount, got ${JSON.stringify(p.got)}` },
  E3006: { severity: 'error', text: (p) => `header ${JSON.stringify(p.header)} is listed more than once; merge the conditions into one regular expression` },
  E3007: { severity: 'error', text: (p) => `match name ${JSON.stringify(p.name)} is used more than once in this HTTPRouteGroup` },
  E3008: { severity: 'error', text: () => `weights must sum to more than 0 so that the split sends traffic somewhere` },
  E3009: { severity: 'error', text: (p) => `expected a whole number >= 0, got ${p.got}` },
  E3010: { severity: 'error', text: (p) => `${JSON.stringify(p.service)} names namespace ${JSON.stringify(p.other)}; the root service must be a Service in the split's namespace ${JSON.stringify(p.namespace)}` },
  E3011: { severity: 'error', text: (p) => `${JSON.stringify(p.service)} is not a Service name; backends are Services in the split's namespace ${JSON.stringify(p.namespace)}` },
  E3012: { severity: 'error', text: (p) => `backend ${JSON.stringify(p.service)} is listed more than once` },
  E3013: { severity: 'error', text: (p) => `cannot convert ${p.from} to ${p.to} without widening access: ${p.reason}` },
  E3014: { severity: 'error', text: (p) => `invalid quantity ${JSON.stringify(p.got)}: ${p.reason}` },
  E3015: { severity: 'error', text: () => `namespace is required; an identity without a namespace is never a wildcard` },
  E3016: { severity: 'error', text: (p) => `match name ${JSON.stringify(p.name)} is listed more than once` },
  E3017: { severity: 'error', text: (p) => `${JSON.stringify(p.service)} is not a Service name; write name or name.namespace[.svc[.cluster[.local]]]` },
  // OSM policy and MeshConfig admission rules (E4xxx).
  E4001: { severity: 'warning', text: (p) => `expected the name ${JSON.stringify(p.expected)}: OSM and osm-ts read only the MeshConfig of that name` },
  E4002: { severity: 'error', text: (p) => `expected a Go duration such as "24h", "1m30s" or "250ms", got ${JSON.stringify(p.got)}` },
  E4003: { severity: 'error', text: (p) => `expected "0s" (no periodic resync) or at least 30s, got ${JSON.stringify(p.got)}` },
  E4004: { severity: 'error', text: (p) => `expected a duration longer than 0s, got ${JSON.stringify(p.got)}` },
  E4005: { severity: 'error', text: (p) => `expected an IPv4 CIDR such as "10.0.0.0/8", got ${JSON.stringify(p.got)}` },
  E4006: { severity: 'error', text: (p) => `expected an IPv4 or IPv6 CIDR such as "10.0.0.0/8" or "fd00::/8", got ${JSON.stringify(p.got)}` },
  E4007: { severity: 'error', text: (p) => `expected a version no higher than tlsMaxProtocolVersion ${p.max}, got ${p.min}: no TLS version would be left to negotiate` },
  E4008: { severity: 'warning', text: (p) => `expected one of ${p.expected}, got ${JSON.stringify(p.got)}; the control plane keeps its current log level` },
  E4009: { severity: 'error', text: (p) => `required when ${p.when}` },
  E4010: { severity: 'error', text: (p) => `expected protocol ${p.expected} (any case), got ${JSON.stringify(p.got)}` },
  E4011: { severity: 'error', text: (p) => `expected kind HTTPRouteGroup with apiGroup "specs.smi-spec.io/v1alpha4" or kind UpstreamTrafficSetting with apiGroup "policy.openservicemesh.io/v1alpha1", got kind ${JSON.stringify(p.kind)} with apiGroup ${JSON.stringify(p.apiGroup)}` },
  E4012: { severity: 'error', text: (p) => `expected at most one UpstreamTrafficSetting match; ${p.first} already names one` },
  E4013: { severity: 'error', text: (p) => `backend ${JSON.stringify(p.name)} uses https with client certificate validation, which needs at least one AuthenticatedPrincipal source; add one or set tls.skipClientCertValidation: true` },
  E4014: { severity: 'error', text: (p) => `expected kind ${p.expected}, got ${JSON.stringify(p.got)}${p.note ? `; ${p.note}` : ''}` },
  E4015: { severity: 'error', text: (p) => `required for a source of kind ${p.kind}` },
  E4016: { severity: 'error', text: (p) => `backend ${JSON.stringify(p.name)} port ${p.port} is listed more than once` },
  E4017: { severity: 'warning', text: (p) => `${JSON.stringify(p.got)} is not <service>.${p.namespace}.svc.cluster.local (a Service in the UpstreamTrafficSetting's own namespace): the setting only applies where an Egress references it` },
  // Mesh problems the catalog finds across objects (E5xxx): reported as events, never fatal.
  E5001: { severity: 'error', text: (p) => `ignored: the destination is not in the TrafficTarget's namespace ${JSON.stringify(p.namespace)}` },
  E5002: { severity: 'warning', text: (p) => `${p.kind} ${p.namespace}/${p.name} does not exist; this rule grants nothing until it does` },
  E5003: { severity: 'warning', text: (p) => `HTTPRouteGroup ${p.group} has no match named ${JSON.stringify(p.match)}; it grants nothing` },
  E5004: { severity: 'warning', text: (p) => `no matches listed: the rule covers every match of HTTPRouteGroup ${p.name}` },
  E5005: { severity: 'warning', text: (p) => `UDPRoute rules are not supported; rule ${JSON.stringify(p.name)} is ignored` },
  E5006: { severity: 'warning', text: (p) => `match ${JSON.stringify(p.match)} of HTTPRouteGroup ${p.group} has no path, method or header condition: it allows every request` },
  E5007: { severity: 'warning', text: () => 'no supported rule: the TrafficTarget grants nothing' },
  E5010: { severity: 'error', text: (p) => `ignored: TrafficSplit ${p.winner} also splits service ${p.service} and is older (the oldest split wins)` },
  E5011: { severity: 'error', text: (p) => `root service ${p.service} does not exist; the split has no effect` },
  E5012: { severity: 'warning', text: (p) => `backend service ${p.service} does not exist; its share goes to the other backends` },
  E5013: { severity: 'warning', text: (p) => `backend service ${p.service} has no port ${p.port}; it is left out for that port` },
  E5014: { severity: 'warning', text: (p) => `backend service ${p.service} port ${p.port} has no endpoints; its share goes to the other backends` },
  E5015: { severity: 'warning', text: (p) => `HTTPRouteGroup ${p.name} does not exist; no request matches, so all traffic goes to the root service` },
  E5016: { severity: 'warning', text: (p) => `backend ${p.service} is the root service itself; its share goes to the root service's own endpoints` },
  E5017: { severity: 'warning', text: (p) => `backend ${p.service} is the root of another TrafficSplit; splits are not followed recursively` },
  E5020: { severity: 'warning', text: (p) => `appProtocol ${JSON.stringify(p.appProtocol)} is not one of http, grpc, tcp, tcp-server-first; the port is proxied as tcp` },
  E5021: { severity: 'warning', text: (p) => `target port ${JSON.stringify(p.port)} is not a named container port of pod ${p.pod}; the pod is not an endpoint of this port` },
  E5022: { severity: 'warning', text: (p) => `endpoint ${p.ip} has no pod reference, so its identity is unknown; it is only used in permissive mode` },
  E5023: { severity: 'warning', text: (p) => `${p.protocol} ports are not proxied by the mesh` },
  E5030: { severity: 'warning', text: (p) => `ignored: osm-ts reads only MeshConfig ${p.expected}` },
  E5040: { severity: 'error', text: (p) => `ignored: UpstreamTrafficSetting ${p.winner} already sets host ${p.host} and is older` },
  E5041: { severity: 'warning', text: (p) => `host ${p.host} is not a mesh service; the setting has no effect` },
  E5042: { severity: 'error', text: (p) => `ignored: IngressBackend ${p.winner} already claims backend ${p.backend} port ${p.port} and is older` },
} satisfies Record<string, { severity: Severity; text: Template }>;

export type ProblemCode = keyof typeof templates;

/** Makes a problem from its code and the parameters of the code's template. */
export function problem(
  code: ProblemCode,
  params: Record<string, string>,
  where: { object?: ObjectRef; field?: string; source?: SourcePosition; severity?: Severity } = {},
): Problem {
  const t = templates[code];
  const p: Problem = { code, severity: where.severity ?? (t.severity as Severity), message: t.text(params) };
  if (where.object) p.object = where.object;
  if (where.field) p.field = where.field;
  if (where.source) p.source = where.source;
  return p;
}

/** One line, compiler style: `file:line:col: error: Kind ns/name: field: message [code]`. */
export function formatProblem(p: Problem): string {
  const parts: string[] = [];
  if (p.source) {
    let at = p.source.file;
    if (p.source.line !== undefined) at += `:${p.source.line}`;
    if (p.source.column !== undefined) at += `:${p.source.column}`;
    parts.push(at);
  }
  parts.push(p.severity);
  if (p.object) parts.push(formatRef(p.object));
  if (p.field) parts.push(p.field);
  return `${parts.join(': ')}: ${p.message} [${p.code}]`;
}

/** The JSON form `osm validate -o json` prints, one entry per problem. */
export function problemToJson(p: Problem): Record<string, unknown> {
  return {
    severity: p.severity,
    code: p.code,
    file: p.source?.file ?? null,
    line: p.source?.line ?? null,
    column: p.source?.column ?? null,
    kind: p.object?.kind ?? null,
    namespace: p.object?.namespace ?? null,
    name: p.object?.name ?? null,
    field: p.field ?? null,
    message: p.message,
  };
}
