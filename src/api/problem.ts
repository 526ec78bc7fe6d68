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
  E3001: { severity: 'error', text: (p) => `${p.construct} is not RE2 syntax (osm-ts accepts RE2 regular expressions only): ${JSON.stringify(p.regex)}` },
  E3002: { severity: 'error', text: (p) => `invalid RE2 regular expression ${JSON.stringify(p.regex)}: ${p.reason}` },
  E3003: { severity: 'error', text: (p) => `must equal the TrafficTarget's namespace ${JSON.stringify(p.namespace)}: a TrafficTarget lives in its destination's namespace` },
  E3004: { severity: 'error', text: (p) => `at least one ${p.what} is required; without one the TrafficTarget grants nothing` },
  E3005: { severity: 'error', text: (p) => `kind must be ServiceAccount, got ${JSON.stringify(p.got)}` },
  E3006: { severity: 'error', text: (p) => `header ${JSON.stringify(p.header)} is listed more than once; merge the conditions into one regular expression` },
  E3007: { severity: 'error', text: (p) => `match name ${JSON.stringify(p.name)} is used more than once in this HTTPRouteGroup` },
  E3008: { severity: 'error', text: (p) => `weights must sum to more than 0 so that the split sends traffic somewhere` },
  E3009: { severity: 'error', text: (p) => `expected a whole number >= 0, got ${p.got}` },
  E3010: { severity: 'error', text: (p) => `${JSON.stringify(p.service)} names namespace ${JSON.stringify(p.other)}; the root service must be a Service in the split's namespace ${JSON.stringify(p.namespace)}` },
  E3011: { severity: 'error', text: (p) => `${JSON.stringify(p.service)} is not a Service name; backends are Services in the split's namespace ${JSON.stringify(p.namespace)}` },
  E3012: { severity: 'error', text: (p) => `backend ${JSON.stringify(p.service)} is listed more than once` },
  E3013: { severity: 'error', text: (p) => `cannot convert ${p.from} to ${p.to} without widening access: ${p.reason}` },
  E3014: { severity: 'error', text: (p) => `invalid quantity ${JSON.stringify(p.got)}: ${p.reason}` },
  E3015: { severity: 'error', text: (p) => `namespace is required; an identity without a namespace is never a wildcard` },
  E3016: { severity: 'error', text: (p) => `match name ${JSON.stringify(p.name)} is listed more than once` },
  // OSM policy and MeshConfig admission rules (E4xxx).
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
