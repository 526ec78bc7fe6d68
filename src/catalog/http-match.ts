/**
 * HTTPRouteGroup matches compiled for evaluation, and the request attributes they see.
 *
 * Semantics (smi-decisions): the path regex matches the whole path without the query (A1, A2);
 * header values match whole, names case-insensitively, `host` matches the authority, and a
 * missing header fails (A5); absent fields mean "any" (A7). RE2 only (A3).
 */
import type { ObjectRef } from '../api/meta.js';
import type { HttpMatch } from '../api/smi/index.js';
import { compileWhole, type WholeMatcher } from '../lib/re2.js';

/** What an HTTP request looks like to the evaluator. */
export interface HttpRequestAttributes {
  method: string;
  /** The request target's path; a query string, if present, is ignored. */
  path: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string>>;
  /** `:authority` or the Host header. */
  authority?: string;
}

/** A match ready to evaluate, with where it came from. */
export interface CompiledHttpMatch {
  group: ObjectRef;
  name: string;
  spec: HttpMatch;
  path?: WholeMatcher;
  /** Undefined means any method. */
  methods?: ReadonlySet<string>;
  headers: ReadonlyArray<{ name: string; value: WholeMatcher }>;
  /** From a `host` header condition. */
  authority?: WholeMatcher;
}

export function compileHttpMatch(group: ObjectRef, match: HttpMatch): CompiledHttpMatch {
  const compiled: CompiledHttpMatch = { group, name: match.name, spec: match, headers: [] };
  if (match.pathRegex !== undefined) compiled.path = compileWhole(match.pathRegex);
  if (match.methods && match.methods.length > 0 && !match.methods.includes('*')) compiled.methods = new Set(match.methods);
  const headers: Array<{ name: string; value: WholeMatcher }> = [];
  for (const [name, regex] of Object.entries(match.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name === 'host') compiled.authority = compileWhole(regex);
    else headers.push({ name, value: compileWhole(regex) });
  }
  compiled.headers = headers;
  return compiled;
}

/** True when the match has no condition at all, so it matches every request. */
export function matchesEverything(match: CompiledHttpMatch): boolean {
  return !match.path && !match.methods && match.headers.length === 0 && !match.authority;
}

/** The request's path without its query string or fragment. */
export function pathOf(target: string): string {
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

/** Why a request does not fit a match, or undefined when it fits. */
export function mismatch(match: CompiledHttpMatch, req: HttpRequestAttributes): string | undefined {
  const path = pathOf(req.path);
  if (match.path && !match.path.test(path)) return `path ${JSON.stringify(path)} does not match ${JSON.stringify(match.path.source)}`;
  // Methods are case-sensitive (RFC 9110), as Envoy's `:method` matcher is.
  if (match.methods && !match.methods.has(req.method)) {
    return `method ${req.method} is not one of ${[...match.methods].join(', ')}`;
  }
  if (match.authority) {
    const authority = req.authority ?? headerOf(req, 'host');
    if (authority === undefined) return 'the request has no host';
    if (!match.authority.test(authority)) return `host ${JSON.stringify(authority)} does not match ${JSON.stringify(match.authority.source)}`;
  }
  for (const h of match.headers) {
    const value = headerOf(req, h.name);
    if (value === undefined) return `header ${h.name} is missing`;
    if (!h.value.test(value)) return `header ${h.name} ${JSON.stringify(value)} does not match ${JSON.stringify(h.value.source)}`;
  }
  return undefined;
}

/** A request header by lower-case name; only the request's own headers count, never inherited keys. */
function headerOf(req: HttpRequestAttributes, name: string): string | undefined {
  return Object.hasOwn(req.headers, name) ? req.headers[name] : undefined;
}
