/**
 * `/stats/prometheus`: the text exposition format as Envoy's admin writes it
 * (source/server/admin/prometheus_stats.cc): counter families, then gauges, then histograms;
 * each family a `# TYPE` line, its samples sorted by stat name, and a blank line. Names are
 * `envoy_` plus the tag-extracted name with every character outside `[a-zA-Z0-9_]` turned into
 * `_`; tags become labels in extraction order. OSM's request metrics follow, named and labelled
 * as OSM's Prometheus saw them (`osm_request_total`, `osm_request_duration_ms`).
 */
import { cumulativeBuckets, DEFAULT_BUCKETS, mergeSnapshots, type HistogramSnapshot } from './histogram.js';
import type { StatsQuery } from './query.js';
import type { NamedStat, OsmRequestSeries, StatsStore } from './store.js';

type MetricType = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly samples: string[];
}

type Labels = ReadonlyArray<readonly [name: string, value: string]>;

/** Envoy's `sanitizeName`: Prometheus names and label names allow only `[a-zA-Z0-9_]`. */
function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** Envoy's `sanitizeValue`: label values escape backslash, newline and double quote. */
function sanitizeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  return labels.map(([k, v]) => `${sanitizeName(k)}="${sanitizeValue(v)}"`).join(',');
}

function histogramSamples(metric: string, labels: Labels, h: HistogramSnapshot): string[] {
  const tags = labelText(labels);
  const prefix = tags === '' ? '' : `${tags},`;
  const buckets = cumulativeBuckets(h);
  const out = DEFAULT_BUCKETS.map((bound, i) => `${metric}_bucket{${prefix}le="${bound}"} ${buckets[i]}`);
  out.push(`${metric}_bucket{${prefix}le="+Inf"} ${h.count}`, `${metric}_sum{${tags}} ${h.sum}`, `${metric}_count{${tags}} ${h.count}`);
  return out;
}

/**
 * Groups stats into families by Prometheus name, and into series by labels. Envoy groups by
 * tag-extracted name, so two names that sanitise alike (`a-b.x`, `a_b.x`) would repeat a
 * `# TYPE` line and a series, which makes a scrape fail; here they share a family, and stats
 * that land on one series are added together (`render` gets them all).
 */
function families<T extends NamedStat>(stats: readonly T[], type: MetricType, render: (metric: string, labels: Labels, stats: readonly T[]) => string[]): Family[] {
  const byName = new Map<string, Map<string, { labels: Labels; stats: T[] }>>();
  for (const stat of stats) {
    const metric = `envoy_${sanitizeName(stat.tagged.tagExtractedName)}`;
    const labels = stat.tagged.tags.map((t) => [t.name, t.value] as const);
    const key = labelText(labels);
    let series = byName.get(metric);
    if (!series) byName.set(metric, (series = new Map()));
    const one = series.get(key);
    if (one) one.stats.push(stat);
    else series.set(key, { labels, stats: [stat] });
  }
  return [...byName.entries()].map(([name, series]) => ({ name, type, samples: [...series.values()].flatMap((s) => render(name, s.labels, s.stats)) }));
}

function numericSamples(metric: string, labels: Labels, stats: ReadonlyArray<{ readonly value: number }>): string[] {
  return [`${metric}{${labelText(labels)}} ${stats.reduce((sum, s) => sum + s.value, 0)}`];
}

function osmFamilies(series: readonly OsmRequestSeries[]): { counter: Family; histogram: Family } {
  const counter: Family = { name: 'osm_request_total', type: 'counter', samples: [] };
  const histogram: Family = { name: 'osm_request_duration_ms', type: 'histogram', samples: [] };
  for (const s of series) {
    for (const code of [...s.responses.keys()].sort((a, b) => a - b)) {
      counter.samples.push(`osm_request_total{${labelText([['response_code', String(code)], ...s.labels])}} ${s.responses.get(code)}`);
    }
    histogram.samples.push(...histogramSamples('osm_request_duration_ms', s.labels, s.duration));
  }
  return { counter, histogram };
}

const byName = (a: Family, b: Family) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Renders the store in the Prometheus text format (version 0.0.4), honouring `usedOnly`, `filter` and `type`. */
export function renderPrometheus(store: StatsStore, query: StatsQuery): string {
  const keep = <T extends NamedStat>(stats: readonly T[]) => stats.filter((s) => (!query.usedOnly || s.used) && (!query.filter || query.filter(s.name)));
  const want = (type: StatsQuery['type']) => query.type === 'All' || query.type === type;
  const osm = osmFamilies(store.osmRequestSeries());
  const osmKept = (f: Family) => f.samples.length > 0 && (!query.filter || query.filter(f.name));
  const groups: Family[][] = [];
  if (want('Counters')) {
    const numeric = families(keep(store.counters()), 'counter', numericSamples);
    groups.push([...numeric, ...[osm.counter].filter(osmKept)].sort(byName));
  }
  if (want('Gauges')) groups.push(families(keep(store.gauges()), 'gauge', numericSamples).sort(byName));
  if (want('Histograms')) {
    const hist = families(keep(store.histograms()), 'histogram', (m, labels, hs) => histogramSamples(m, labels, mergeSnapshots(hs.map((h) => h.cumulative))));
    groups.push([...hist, ...[osm.histogram].filter(osmKept)].sort(byName));
  }
  let out = '';
  for (const family of groups.flat()) out += `# TYPE ${family.name} ${family.type}\n${family.samples.join('\n')}\n\n`;
  return out;
}
