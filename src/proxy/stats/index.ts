/**
 * The sidecar's stats: the store the data path writes (Envoy stat names, OSM's request
 * series) and the renderings the admin server serves (`/stats` text and JSON,
 * `/stats/prometheus` with Envoy's tag extraction). It must not do I/O or keep timers: the
 * owner flushes histogram intervals (`flushInterval`) and serves the text.
 */
export type { Counter, Gauge, Histogram, HistogramUnit, OsmRequestLabels, Stats } from './types.js';
export { StatsStore, type CounterView, type GaugeView, type HistogramView, type NamedStat, type OsmRequestSeries } from './store.js';
export type { HistogramSnapshot } from './histogram.js';
export { extractTags, type Tag, type TaggedName } from './tag-extractor.js';
export { ALL_STATS, nameFilter, parseStatsQuery, type StatsFormat, type StatsQuery, type StatsQueryResult, type StatsType } from './query.js';
export { renderPrometheus } from './prometheus.js';
export { renderStatsText, statsJson } from './text.js';
