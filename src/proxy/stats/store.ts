/**
 * The sidecar's stats: counters, gauges and histograms by Envoy stat name, and OSM's request
 * series. One store per process, owned by the sidecar and read by the admin server. Callers
 * look a stat up once and keep it, so `inc`, `add` and `record` touch only the stat's fields;
 * names are split into Prometheus tags only when first rendered.
 */
import type { Counter, Gauge, Histogram, HistogramUnit, OsmRequestLabels, Stats } from './types.js';
import { BucketCounts, bucketIndex, type HistogramSnapshot } from './histogram.js';
import { extractTags, type TaggedName } from './tag-extractor.js';

/** A named stat as the renderers read it. */
export interface NamedStat {
  readonly name: string;
  /** Whether it was ever updated (Envoy's `used()`, for `?usedonly`). */
  readonly used: boolean;
  /** The name split by Envoy's default tag extractors (computed on first read). */
  readonly tagged: TaggedName;
}

export interface CounterView extends NamedStat {
  readonly value: number;
}

export interface GaugeView extends NamedStat {
  readonly value: number;
}

export interface HistogramView extends NamedStat {
  /** Every observation since the histogram was created. */
  readonly cumulative: HistogramSnapshot;
  /** The observations of the last completed flush interval; undefined before the first flush. */
  readonly interval: HistogramSnapshot | undefined;
}

/** One label set of `osm_request_total` / `osm_request_duration_ms`. */
export interface OsmRequestSeries {
  /** Label values as OSM exported them (see `osmLabelValue`), in OSM's label order. */
  readonly labels: ReadonlyArray<readonly [name: string, value: string]>;
  /** Requests by response code. */
  readonly responses: ReadonlyMap<number, number>;
  readonly duration: HistogramSnapshot;
}

abstract class StoreStat {
  #tagged: TaggedName | undefined;
  constructor(readonly name: string) {}

  get tagged(): TaggedName {
    return (this.#tagged ??= extractTags(this.name));
  }
}

class StoreCounter extends StoreStat implements Counter, CounterView {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }

  // A counter only goes up, so "updated" is "above zero" and `inc` stays a single add.
  get used(): boolean {
    return this.value !== 0;
  }
}

class StoreGauge extends StoreStat implements Gauge, GaugeView {
  value = 0;
  used = false;

  add(delta: number): void {
    this.value += delta;
    this.used = true;
  }

  set(value: number): void {
    this.value = value;
    this.used = true;
  }
}

class StoreHistogram extends StoreStat implements Histogram, HistogramView {
  cumulative = new BucketCounts();
  interval: BucketCounts | undefined;
  #current = new BucketCounts();

  record(value: number): void {
    const index = bucketIndex(value);
    this.cumulative.add(value, index);
    this.#current.add(value, index);
  }

  get used(): boolean {
    return this.cumulative.count > 0;
  }

  flushInterval(): void {
    this.interval = this.#current;
    this.#current = new BucketCounts();
  }
}

/** OSM's label names, in the order OSM's WASM filter declared them (openservicemesh/osm wasm/stats.cc). */
const OSM_LABELS: ReadonlyArray<readonly [string, keyof OsmRequestLabels]> = [
  ['source_namespace', 'sourceNamespace'],
  ['source_kind', 'sourceKind'],
  ['source_name', 'sourceName'],
  ['source_pod', 'sourcePod'],
  ['destination_namespace', 'destinationNamespace'],
  ['destination_kind', 'destinationKind'],
  ['destination_name', 'destinationName'],
  ['destination_pod', 'destinationPod'],
];

/**
 * A label value as OSM users saw it in Prometheus. OSM's WASM filter folded the labels into the
 * Envoy stat name, Envoy's Prometheus output turned every character outside `[a-zA-Z0-9_]` into
 * `_`, and OSM's Prometheus config split the name back into labels, so `bookstore-v1-5d7f-x2x`
 * arrived as `bookstore_v1_5d7f_x2x` (OSM's e2e_metrics_test.go expects exactly this). We emit
 * the labels directly but keep those values, so existing queries and alerts keep matching.
 */
function osmLabelValue(value: string): string {
  return value.replace(/[^a-zA-Z0-9_]/g, '_');
}

class OsmSeries implements OsmRequestSeries {
  readonly responses = new Map<number, number>();
  readonly duration = new BucketCounts();
  constructor(readonly labels: ReadonlyArray<readonly [string, string]>) {}
}

/** The `Stats` the data path writes and the admin server reads. */
export class StatsStore implements Stats {
  readonly #counters = new Map<string, StoreCounter>();
  readonly #gauges = new Map<string, StoreGauge>();
  readonly #histograms = new Map<string, StoreHistogram>();
  /** OSM series by their exported label values, and by the raw values callers pass (a cache). */
  readonly #osm = new Map<string, OsmSeries>();
  readonly #osmByRaw = new Map<string, OsmSeries>();

  constructor() {
    // Envoy's `server.live`: 1 unless draining. OSM's dashboards list pods by `envoy_server_live`.
    this.gauge('server.live').set(1);
  }

  counter(name: string): Counter {
    let c = this.#counters.get(name);
    if (!c) this.#counters.set(name, (c = new StoreCounter(name)));
    return c;
  }

  gauge(name: string): Gauge {
    let g = this.#gauges.get(name);
    if (!g) this.#gauges.set(name, (g = new StoreGauge(name)));
    return g;
  }

  // Every histogram uses Envoy's default buckets, whatever the unit; the unit names what a
  // bucket bound means (ms for `upstream_rq_time`), it does not change the bounds.
  histogram(name: string, _unit: HistogramUnit): Histogram {
    let h = this.#histograms.get(name);
    if (!h) this.#histograms.set(name, (h = new StoreHistogram(name)));
    return h;
  }

  osmRequest(labels: OsmRequestLabels, responseCode: number, durationMs: number): void {
    const series = this.#osmSeries(labels);
    series.responses.set(responseCode, (series.responses.get(responseCode) ?? 0) + 1);
    series.duration.add(durationMs);
  }

  #osmSeries(labels: OsmRequestLabels): OsmSeries {
    const raw = OSM_LABELS.map(([, field]) => labels[field]).join('\u0000');
    let series = this.#osmByRaw.get(raw);
    if (!series) {
      // Values that differ only in characters OSM rewrote to '_' share one series, as they did in OSM.
      const values = OSM_LABELS.map(([label, field]) => [label, osmLabelValue(labels[field])] as const);
      const key = values.map(([, v]) => v).join('\u0000');
      series = this.#osm.get(key);
      if (!series) this.#osm.set(key, (series = new OsmSeries(values)));
      this.#osmByRaw.set(raw, series);
    }
    return series;
  }

  /**
   * Closes the current histogram interval (Envoy's stats flush, every 5 s by default): `/stats`
   * shows each quantile for the last interval and since start. The owner calls it on a timer.
   */
  flushInterval(): void {
    for (const h of this.#histograms.values()) h.flushInterval();
  }

  /** Counters sorted by name. */
  counters(): CounterView[] {
    return sortedValues(this.#counters);
  }

  /** Gauges sorted by name. */
  gauges(): GaugeView[] {
    return sortedValues(this.#gauges);
  }

  /** Histograms sorted by name. */
  histograms(): HistogramView[] {
    return sortedValues(this.#histograms);
  }

  /** OSM's request series, sorted by their label values. */
  osmRequestSeries(): OsmRequestSeries[] {
    return [...this.#osm.entries()].sort(([a], [b]) => compare(a, b)).map(([, s]) => s);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedValues<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.entries()].sort(([a], [b]) => compare(a, b)).map(([, v]) => v);
}
