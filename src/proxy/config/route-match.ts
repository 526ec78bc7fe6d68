/**
 * Which virtual host and route a request takes, by Envoy's rules: the virtual host whose
 * domains match the authority best (an exact domain, then the longest `*.suffix` wildcard, then
 * the longest `prefix.*` wildcard, then `*`), and in it the first route whose path and header
 * matchers all hold. Pure, so the data path and tests share it.
 */
import type { HeaderMatch, PathMatch, RouteConfig, RouteEntry, StringMatch, VirtualHostConfig } from './model.js';

/** The parts of a request routing looks at; header names lower-case, one value each. */
export interface RouteRequest {
  readonly authority: string;
  readonly path: string;
  readonly method: string;
  readonly headers?: ReadonlyMap<string, string>;
}

/** Whether `value` satisfies a string matcher. */
export function matchesString(m: StringMatch, value: string): boolean {
  if (m.kind === 'regex') return m.regex.test(value);
  const v = m.ignoreCase ? value.toLowerCase() : value;
  const want = m.ignoreCase ? m.value.toLowerCase() : m.value;
  switch (m.kind) {
    case 'exact':
      return v === want;
    case 'prefix':
      return v.startsWith(want);
    case 'suffix':
      return v.endsWith(want);
    case 'contains':
      return v.includes(want);
  }
}

/**
 * Whether a header matcher holds. An absent header fails a string matcher, inverted or not
 * (Envoy without treat_missing_header_as_empty); a present matcher is inverted as usual.
 */
export function matchesHeader(h: HeaderMatch, value: string | undefined): boolean {
  if (h.kind === 'present') return ((value !== undefined) === h.present) !== h.invert;
  if (value === undefined) return false;
  return matchesString(h.match, value) !== h.invert;
}

function matchesPath(m: PathMatch, path: string): boolean {
  if (m.kind === 'regex') return m.regex.test(path);
  const p = m.caseSensitive ? path : path.toLowerCase();
  const want = m.caseSensitive ? m.value : m.value.toLowerCase();
  return m.kind === 'prefix' ? p.startsWith(want) : p === want;
}

/** The virtual host for an authority, by Envoy's domain precedence; `undefined` when none matches. */
export function selectVirtualHost(config: RouteConfig, authority: string): VirtualHostConfig | undefined {
  const host = authority.toLowerCase();
  let suffix: { vh: VirtualHostConfig; length: number } | undefined;
  let prefix: { vh: VirtualHostConfig; length: number } | undefined;
  let any: VirtualHostConfig | undefined;
  for (const vh of config.virtualHosts) {
    for (const d of vh.domains) {
      if (d === host) return vh;
      if (d === '*') {
        any ??= vh;
      } else if (d.startsWith('*')) {
        // The wildcard stands for at least one character.
        const rest = d.slice(1);
        if (host.length > rest.length && host.endsWith(rest) && (!suffix || rest.length > suffix.length)) suffix = { vh, length: rest.length };
      } else if (d.endsWith('*')) {
        const rest = d.slice(0, -1);
        if (host.length > rest.length && host.startsWith(rest) && (!prefix || rest.length > prefix.length)) prefix = { vh, length: rest.length };
      }
    }
  }
  return suffix?.vh ?? prefix?.vh ?? any;
}

/** The virtual host and first matching route for a request; `undefined` means Envoy's 404. */
export function selectRoute(config: RouteConfig, request: RouteRequest): { virtualHost: VirtualHostConfig; route: RouteEntry } | undefined {
  const virtualHost = selectVirtualHost(config, request.authority);
  if (!virtualHost) return undefined;
  const q = request.path.indexOf('?');
  const path = q === -1 ? request.path : request.path.slice(0, q);
  const header = (name: string): string | undefined => {
    if (name === ':authority' || name === 'host') return request.authority;
    if (name === ':method') return request.method;
    if (name === ':path') return request.path;
    return request.headers?.get(name);
  };
  const route = virtualHost.routes.find((r) => matchesPath(r.path, path) && r.headers.every((h) => matchesHeader(h, header(h.name))));
  return route ? { virtualHost, route } : undefined;
}
