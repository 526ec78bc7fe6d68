/**
 * What the data path sees of stats: counters, gauges and histograms named as Envoy names them
 * (`cluster.<name>.upstream_rq_total`, `http.<stat_prefix>.downstream_rq_total`,
 * `listener.<address>.downstream_cx_total`). Callers look a stat up once (per cluster, listener
 * or connection manager) and keep the object, so the hot path is a field increment. Tags for
 * Prometheus are extracted from the names when rendering, as Envoy's tag extractors do.
 */

export interface Counter {
  inc(by?: number): void;
  readonly value: number;
}

export interface Gauge {
  add(delta: number): void;
  set(value: number): void;
  readonly value: number;
}

export interface Histogram {
  /** One observation in the histogram's unit. */
  record(value: number): void;
}

export type HistogramUnit = 'ms' | 'us' | 'bytes' | 'unspecified';

/** Labels of OSM's request metrics (`osm_request_total`, `osm_request_duration_ms`). */
export interface OsmRequestLabels {
  readonly sourceNamespace: string;
  readonly sourceKind: string;
  readonly sourceName: string;
  readonly sourcePod: string;
  readonly destinationNamespace: string;
  readonly destinationKind: string;
  readonly destinationName: string;
  readonly destinationPod: string;
}

export interface Stats {
  /** The counter with this Envoy name, created at 0 on first use. */
  counter(name: string): Counter;
  /** The gauge with this Envoy name, created at 0 on first use. */
  gauge(name: string): Gauge;
  histogram(name: string, unit: HistogramUnit): Histogram;
  /** Counts one request for `osm_request_total` and `osm_request_duration_ms`. */
  osmRequest(labels: OsmRequestLabels, responseCode: number, durationMs: number): void;
}
