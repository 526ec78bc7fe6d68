/**
 * `/stats` as Envoy's admin prints it (source/server/admin/stats_render.cc): counters and gauges
 * merged and sorted by name as `name: value` lines, then histograms as
 * `name: P0(interval,cumulative) P25(...) ... P100(...)` or `name: No recorded values`; and the
 * JSON form `{"stats":[{"name","value"}..., {"histograms":{"supported_quantiles","computed_quantiles"}}]}`.
 * Quantiles come from buckets (histogram.ts), not Envoy's log-linear histograms, so they are
 * estimates of the same quantities. OSM's request series appear only in `/stats/prometheus`.
 */
import { quantile, SUPPORTED_PERCENTILES, type HistogramSnapshot } from './histogram.js';
import type { StatsQuery } from './query.js';
import type { HistogramView, NamedStat, StatsStore } from './store.js';

interface Selected {
  readonly numeric: ReadonlyArray<{ readonly name: string; readonly value: number }>;
  readonly histograms: readonly HistogramView[];
}

function select(store: StatsStore, query: StatsQuery): Selected {
  const keep = (s: NamedStat) => (!query.usedOnly || s.used) && (!query.filter || query.filter(s.name));
  const want = (type: StatsQuery['type']) => query.type === 'All' || query.type === type;
  const numeric = [...(want('Counters') ? store.counters() : []), ...(want('Gauges') ? store.gauges() : [])].filter(keep);
  // Each list is sorted already; a stable sort of the two keeps a counter before a gauge of the same name.
  numeric.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { numeric, histograms: want('Histograms') ? store.histograms().filter(keep) : [] };
}

/** Envoy prints quantiles with fmt's `{}`: the shortest round-trip form, and `nan` for no value. */
function formatQuantile(value: number): string {
  return Number.isNaN(value) ? 'nan' : String(value);
}

/** Interpolated estimates, rounded to 6 significant digits so float noise (37.74999999999999) does not show. */
function quantiles(snapshot: HistogramSnapshot | undefined): number[] {
  return SUPPORTED_PERCENTILES.map((p) => (snapshot ? Number(quantile(snapshot, p / 100).toPrecision(6)) : NaN));
}

function summary(h: HistogramView): string {
  if (!h.used) return 'No recorded values';
  const interval = quantiles(h.interval);
  const cumulative = quantiles(h.cumulative);
  return SUPPORTED_PERCENTILES.map((p, i) => `P${p}(${formatQuantile(interval[i] as number)},${formatQuantile(cumulative[i] as number)})`).join(' ');
}

/** The plain-text `/stats` body. */
export function renderStatsText(store: StatsStore, query: StatsQuery): string {
  const { numeric, histograms } = select(store, query);
  let out = '';
  for (const s of numeric) out += `${s.name}: ${s.value}\n`;
  for (const h of histograms) out += `${h.name}: ${summary(h)}\n`;
  return out;
}

/** The value of `/stats?format=json`; a quantile with no value is `null`, as Envoy writes NaN. */
export function statsJson(store: StatsStore, query: StatsQuery): { stats: unknown[] } {
  const { numeric, histograms } = select(store, query);
  const stats: unknown[] = numeric.map((s) => ({ name: s.name, value: s.value }));
  if (histograms.length > 0) {
    stats.push({
      histograms: {
        supported_quantiles: SUPPORTED_PERCENTILES,
        computed_quantiles: histograms.map((h) => {
          const interval = quantiles(h.interval);
          const cumulative = quantiles(h.cumulative);
          return { name: h.name, values: cumulative.map((c, i) => ({ cumulative: nullIfNaN(c), interval: nullIfNaN(interval[i] as number) })) };
        }),
      },
    });
  }
  return { stats };
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}
