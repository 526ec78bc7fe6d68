/**
 * The query parameters of Envoy's `/stats` and `/stats/prometheus`: `usedonly`, `filter` (an RE2
 * regex that may match any part of the name, as Envoy's partial match), `type` and `format`.
 * Parsed once at the admin edge into a `StatsQuery` the renderers trust.
 */
import { checkRe2, compileWhole } from '../../lib/re2.js';

export type StatsFormat = 'text' | 'json' | 'prometheus';

/** Envoy's `type` parameter values that select what we keep (no text readouts here). */
export type StatsType = 'All' | 'Counters' | 'Gauges' | 'Histograms';

export interface StatsQuery {
  /** Only stats that were ever updated. */
  readonly usedOnly: boolean;
  /** Keeps a stat whose full Envoy name (or OSM metric name) it accepts; undefined keeps all. */
  readonly filter: ((name: string) => boolean) | undefined;
  readonly type: StatsType;
  readonly format: StatsFormat;
}

/** Everything, as `/stats` with no parameters. */
export const ALL_STATS: StatsQuery = Object.freeze({ usedOnly: false, filter: undefined, type: 'All', format: 'text' });

const TYPES: readonly StatsType[] = ['All', 'Counters', 'Gauges', 'Histograms'];
const FORMATS: readonly StatsFormat[] = ['text', 'json', 'prometheus'];

export type StatsQueryResult = { readonly ok: true; readonly query: StatsQuery } | { readonly ok: false; readonly message: string };

/** Reads `/stats` parameters; `format` defaults to `defaultFormat` (prometheus for `/stats/prometheus`). */
export function parseStatsQuery(params: URLSearchParams, defaultFormat: StatsFormat): StatsQueryResult {
  const format = params.get('format') ?? defaultFormat;
  if (!(FORMATS as readonly string[]).includes(format)) return { ok: false, message: `stats: format=${format}: must be one of ${FORMATS.join(', ')}` };
  const type = params.get('type') ?? 'All';
  if (!(TYPES as readonly string[]).includes(type)) return { ok: false, message: `stats: type=${type}: must be one of ${TYPES.join(', ')}` };
  const filter = nameFilter(params.get('filter'));
  if (!filter.ok) return { ok: false, message: `stats: filter=${params.get('filter')}: ${filter.message}` };
  return { ok: true, query: { usedOnly: params.has('usedonly'), filter: filter.test, type: type as StatsType, format: format as StatsFormat } };
}

/**
 * An admin name filter (`filter=`, `name_regex=`): an RE2 pattern that may match any part of
 * the name, as Envoy's admin matches; undefined for an absent or empty pattern.
 */
export function nameFilter(pattern: string | null): { readonly ok: true; readonly test: ((name: string) => boolean) | undefined } | { readonly ok: false; readonly message: string } {
  if (pattern === null || pattern === '') return { ok: true, test: undefined };
  const check = checkRe2(pattern);
  if (!check.ok) return { ok: false, message: `Invalid re2 regex: ${check.reason}` };
  // Our RE2 wrapper matches whole strings. The pattern parsed on its own, so its groups are
  // balanced and wrapping it cannot change its meaning.
  const matcher = compileWhole(`(?s:.*)(?:${pattern})(?s:.*)`);
  return { ok: true, test: (name) => matcher.test(name) };
}
