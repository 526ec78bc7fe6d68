/**
 * `/stats` and `/stats/prometheus` renderings: exact goldens for a small set (checked against
 * the shapes Envoy's admin prints), a realistic sidecar's stats through a strict exposition
 * parser, the query parameters, and the metrics OSM's Grafana dashboards query.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DEFAULT_BUCKETS } from './histogram.js';
import { renderPrometheus } from './prometheus.js';
import { ALL_STATS, parseStatsQuery, type StatsQuery } from './query.js';
import { StatsStore } from './store.js';
import { parseExposition } from './testing/exposition.js';
import { renderStatsText, statsJson } from './text.js';
import type { OsmRequestLabels } from './types.js';

const V1 = 'bookstore/bookstore-v1|14001';

const buyer: OsmRequestLabels = {
  sourceNamespace: 'bookbuyer',
  sourceKind: 'Deployment',
  sourceName: 'bookbuyer',
  sourcePod: 'bookbuyer-5d7f8c6b4-x2x7q',
  destinationNamespace: 'bookstore',
  destinationKind: 'Deployment',
  destinationName: 'bookstore-v1',
  destinationPod: 'bookstore-v1-7c9d8-abcde',
};

function smallStore(): StatsStore {
  const store = new StatsStore();
  store.counter(`cluster.${V1}.upstream_rq_200`).inc(3);
  store.counter(`cluster.${V1}.upstream_rq_2xx`).inc(3);
  store.counter(`cluster.${V1}.upstream_rq_503`).inc();
  store.counter(`cluster.${V1}.upstream_rq_5xx`).inc();
  store.counter('http.mesh-http-conn-manager.rds-outbound.14001.downstream_rq_total').inc(4);
  store.counter('listener.0.0.0.0_15001.downstream_cx_total').inc(2);
  store.counter('tcp.egress-passthrough.downstream_cx_total').inc();
  store.gauge(`cluster.${V1}.upstream_cx_active`).set(1);
  store.histogram(`cluster.${V1}.upstream_rq_time`, 'ms').record(3);
  store.histogram(`cluster.${V1}.upstream_rq_time`, 'ms').record(7);
  store.osmRequest(buyer, 200, 3);
  return store;
}

/** A histogram's lines from its per-bucket counts (not cumulative), as Envoy prints them. */
function histogramLines(metric: string, labels: string, perBucket: readonly number[], sum: number): string[] {
  const prefix = labels === '' ? '' : `${labels},`;
  let running = 0;
  const lines = DEFAULT_BUCKETS.map((bound, i) => `${metric}_bucket{${prefix}le="${bound}"} ${(running += perBucket[i] ?? 0)}`);
  const count = perBucket.reduce((a, b) => a + b, 0);
  return [...lines, `${metric}_bucket{${prefix}le="+Inf"} ${count}`, `${metric}_sum{${labels}} ${sum}`, `${metric}_count{${labels}} ${count}`];
}

const OSM_LABELS =
  'source_namespace="bookbuyer",source_kind="Deployment",source_name="bookbuyer",source_pod="bookbuyer_5d7f8c6b4_x2x7q",' +
  'destination_namespace="bookstore",destination_kind="Deployment",destination_name="bookstore_v1",destination_pod="bookstore_v1_7c9d8_abcde"';

test('prometheus: Envoy names, tags as labels in extraction order, counters then gauges then histograms', () => {
  const cluster = `envoy_cluster_name="${V1}"`;
  const expected = [
    '# TYPE envoy_cluster_upstream_rq counter',
    `envoy_cluster_upstream_rq{envoy_response_code="200",${cluster}} 3`,
    `envoy_cluster_upstream_rq{envoy_response_code="503",${cluster}} 1`,
    '',
    '# TYPE envoy_cluster_upstream_rq_xx counter',
    `envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",${cluster}} 3`,
    `envoy_cluster_upstream_rq_xx{envoy_response_code_class="5",${cluster}} 1`,
    '',
    // The HCM stat prefix has dots: Envoy tags its first token and keeps the rest in the name.
    '# TYPE envoy_http_rds_outbound_14001_downstream_rq_total counter',
    'envoy_http_rds_outbound_14001_downstream_rq_total{envoy_http_conn_manager_prefix="mesh-http-conn-manager"} 4',
    '',
    '# TYPE envoy_listener_downstream_cx_total counter',
    'envoy_listener_downstream_cx_total{envoy_listener_address="0.0.0.0_15001"} 2',
    '',
    '# TYPE envoy_tcp_downstream_cx_total counter',
    'envoy_tcp_downstream_cx_total{envoy_tcp_prefix="egress-passthrough"} 1',
    '',
    '# TYPE osm_request_total counter',
    `osm_request_total{response_code="200",${OSM_LABELS}} 1`,
    '',
    '# TYPE envoy_cluster_upstream_cx_active gauge',
    `envoy_cluster_upstream_cx_active{${cluster}} 1`,
    '',
    '# TYPE envoy_server_live gauge',
    'envoy_server_live{} 1',
    '',
    '# TYPE envoy_cluster_upstream_rq_time histogram',
    ...histogramLines('envoy_cluster_upstream_rq_time', cluster, [0, 0, 1, 1], 10),
    '',
    '# TYPE osm_request_duration_ms histogram',
    ...histogramLines('osm_request_duration_ms', OSM_LABELS, [0, 0, 1], 3),
    '',
    '',
  ].join('\n');
  const got = renderPrometheus(smallStore(), { ...ALL_STATS, format: 'prometheus' });
  assert.equal(got, expected);
  parseExposition(got);
});

test('prometheus: a histogram with no tags has bare le labels and empty braces on _sum and _count', () => {
  const store = new StatsStore();
  store.histogram('server.initialization_time_ms', 'ms').record(0.2);
  const text = renderPrometheus(store, { ...ALL_STATS, type: 'Histograms' });
  assert.ok(text.includes('envoy_server_initialization_time_ms_bucket{le="0.5"} 1\n'));
  assert.ok(text.includes('envoy_server_initialization_time_ms_sum{} 0.2\n'));
  assert.ok(text.includes('envoy_server_initialization_time_ms_count{} 1\n'));
});

test('prometheus: label values are escaped as Prometheus requires', () => {
  const store = new StatsStore();
  store.counter('cluster.we"ird\\name.upstream_cx_total').inc();
  const text = renderPrometheus(store, ALL_STATS);
  assert.ok(text.includes('envoy_cluster_upstream_cx_total{envoy_cluster_name="we\\"ird\\\\name"} 1'), text);
  assert.equal(parseExposition(text).get('envoy_cluster_upstream_cx_total')?.samples[0]?.labels.envoy_cluster_name, 'we"ird\\name');
});

test('prometheus: names that sanitise alike form one family and one summed series, never repeats', () => {
  const store = new StatsStore();
  store.counter('http.hcm.rds-inbound.14001.downstream_rq_total').inc();
  store.counter('http.hcm.rds_inbound.14001.downstream_rq_total').inc(2);
  store.counter('http.other.rds_inbound.14001.downstream_rq_total').inc(5);
  store.histogram('http.hcm.rds-inbound.14001.downstream_rq_time', 'ms').record(1);
  store.histogram('http.hcm.rds_inbound.14001.downstream_rq_time', 'ms').record(700);
  const families = parseExposition(renderPrometheus(store, ALL_STATS));
  assert.deepEqual(
    families.get('envoy_http_rds_inbound_14001_downstream_rq_total')?.samples.map((s) => [s.labels.envoy_http_conn_manager_prefix, s.value]),
    [
      ['hcm', 3],
      ['other', 5],
    ],
  );
  const time = families.get('envoy_http_rds_inbound_14001_downstream_rq_time')?.samples ?? [];
  assert.deepEqual(
    time.filter((s) => !s.name.endsWith('_bucket')).map((s) => [s.name, s.value]),
    [
      ['envoy_http_rds_inbound_14001_downstream_rq_time_sum', 701],
      ['envoy_http_rds_inbound_14001_downstream_rq_time_count', 2],
    ],
  );
  assert.equal(time.find((s) => s.labels.le === '1')?.value, 1);
});

test('text: counters and gauges merged by name, then histograms with interval and cumulative quantiles', () => {
  const store = smallStore();
  const text = renderStatsText(store, ALL_STATS);
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 9), [
    `cluster.${V1}.upstream_cx_active: 1`,
    `cluster.${V1}.upstream_rq_200: 3`,
    `cluster.${V1}.upstream_rq_2xx: 3`,
    `cluster.${V1}.upstream_rq_503: 1`,
    `cluster.${V1}.upstream_rq_5xx: 1`,
    'http.mesh-http-conn-manager.rds-outbound.14001.downstream_rq_total: 4',
    'listener.0.0.0.0_15001.downstream_cx_total: 2',
    'server.live: 1',
    'tcp.egress-passthrough.downstream_cx_total: 1',
  ]);
  // Before any flush there is no interval: Envoy prints nan for it.
  assert.match(lines[9] ?? '', new RegExp(`^cluster\\.bookstore/bookstore-v1\\|14001\\.upstream_rq_time: P0\\(nan,3\\) P25\\(nan,4\\) P50\\(nan,5\\) P75\\(nan,6\\) `));
  assert.match(lines[9] ?? '', / P99\.5\(nan,[0-9.]+\) P99\.9\(nan,[0-9.]+\) P100\(nan,7\)$/);
  assert.equal(lines.length, 11);
  assert.equal(lines[10], '');
});

test('text: a histogram without values prints "No recorded values"; after a flush the interval has numbers', () => {
  const store = new StatsStore();
  const h = store.histogram('cluster.c.upstream_rq_time', 'ms');
  assert.ok(renderStatsText(store, ALL_STATS).includes('cluster.c.upstream_rq_time: No recorded values\n'));
  h.record(3);
  store.flushInterval();
  const all3 = ['P0', 'P25', 'P50', 'P75', 'P90', 'P95', 'P99', 'P99.5', 'P99.9', 'P100'].map((p) => `${p}(3,3)`).join(' ');
  assert.ok(renderStatsText(store, ALL_STATS).includes(`cluster.c.upstream_rq_time: ${all3}\n`));
});

test('json: stats then one histograms entry, quantiles with null for no value', () => {
  const store = new StatsStore();
  store.counter('a.b').inc(2);
  store.histogram('h.time', 'ms').record(3);
  const json = JSON.parse(JSON.stringify(statsJson(store, { ...ALL_STATS, format: 'json' }))) as { stats: unknown[] };
  assert.deepEqual(json.stats.slice(0, 2), [
    { name: 'a.b', value: 2 },
    { name: 'server.live', value: 1 },
  ]);
  const last = json.stats[2] as { histograms: { supported_quantiles: number[]; computed_quantiles: Array<{ name: string; values: Array<{ cumulative: number | null; interval: number | null }> }> } };
  assert.deepEqual(last.histograms.supported_quantiles, [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
  assert.equal(last.histograms.computed_quantiles[0]?.name, 'h.time');
  assert.deepEqual(last.histograms.computed_quantiles[0]?.values[0], { cumulative: 3, interval: null });
  assert.equal(json.stats.length, 3);
});

test('json: no histograms entry when no histogram is selected', () => {
  const store = new StatsStore();
  store.counter('a').inc();
  assert.deepEqual(statsJson(store, ALL_STATS), {
    stats: [
      { name: 'a', value: 1 },
      { name: 'server.live', value: 1 },
    ],
  });
});

function query(params: string, format: 'text' | 'prometheus' = 'text'): StatsQuery {
  const r = parseStatsQuery(new URLSearchParams(params), format);
  if (!r.ok) throw new Error(r.message);
  return r.query;
}

test('filter matches anywhere in the name (partial match); anchors still anchor', () => {
  const store = smallStore();
  const names = (q: StatsQuery) =>
    renderStatsText(store, q)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(0, l.indexOf(': ')));
  assert.deepEqual(names(query('filter=downstream_cx')), ['listener.0.0.0.0_15001.downstream_cx_total', 'tcp.egress-passthrough.downstream_cx_total']);
  assert.deepEqual(names(query('filter=^server\\.live$')), ['server.live']);
  assert.deepEqual(names(query('filter=^live')), []);
  assert.deepEqual(names(query('filter=rq_(200|503)$')), [`cluster.${V1}.upstream_rq_200`, `cluster.${V1}.upstream_rq_503`]);
});

test('filter applies to the Prometheus output too, by Envoy stat name', () => {
  const families = parseExposition(renderPrometheus(smallStore(), query('filter=upstream_rq_time', 'prometheus')));
  assert.deepEqual([...families.keys()], ['envoy_cluster_upstream_rq_time']);
});

test('usedonly drops stats never updated', () => {
  const store = new StatsStore();
  store.counter('never');
  store.gauge('g.never');
  store.histogram('h.never', 'ms');
  store.counter('once').inc();
  assert.equal(renderStatsText(store, query('usedonly')), 'once: 1\nserver.live: 1\n');
  assert.deepEqual([...parseExposition(renderPrometheus(store, query('usedonly', 'prometheus'))).keys()], ['envoy_once', 'envoy_server_live']);
});

test('type selects counters, gauges or histograms', () => {
  const store = smallStore();
  assert.equal(renderStatsText(store, query('type=Gauges')), `cluster.${V1}.upstream_cx_active: 1\nserver.live: 1\n`);
  assert.deepEqual([...parseExposition(renderPrometheus(store, query('type=Histograms', 'prometheus'))).keys()], ['envoy_cluster_upstream_rq_time', 'osm_request_duration_ms']);
});

const badQueries: ReadonlyArray<[string, RegExp]> = [
  ['filter=(unclosed', /filter=\(unclosed: Invalid re2 regex/],
  ['filter=a(?=b)', /Invalid re2 regex/],
  ['format=xml', /format=xml: must be one of/],
  ['type=Timers', /type=Timers: must be one of/],
];
for (const [params, message] of badQueries) {
  test(`bad stats query ${params} is refused with its reason`, () => {
    const r = parseStatsQuery(new URLSearchParams(params), 'text');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.message, message);
  });
}

/** A bookbuyer sidecar after some traffic: the names the listeners, clusters and HTTP code create. */
function sidecarStore(): StatsStore {
  const store = new StatsStore();
  const clusterStats = [
    'upstream_rq_total',
    'upstream_rq_completed',
    'upstream_rq_pending_overflow',
    'upstream_rq_pending_failure_eject',
    'upstream_rq_timeout',
    'upstream_rq_per_try_timeout',
    'upstream_rq_rx_reset',
    'upstream_rq_tx_reset',
    'upstream_rq_retry',
    'upstream_rq_retry_success',
    'upstream_rq_retry_overflow',
    'upstream_rq_retry_limit_exceeded',
    'upstream_rq_retry_backoff_exponential',
    'upstream_cx_total',
    'upstream_cx_connect_fail',
    'upstream_cx_connect_timeout',
    'upstream_cx_overflow',
    'upstream_cx_tx_bytes_total',
    'upstream_cx_rx_bytes_total',
    'upstream_cx_destroy_local_with_active_rq',
    'upstream_cx_destroy_remote_with_active_rq',
  ];
  const clusters = ['bookstore/bookstore-v1|14001', 'bookstore/bookstore-v2|14001', 'bookbuyer/bookbuyer|14001-local', 'passthrough-outbound', 'httpbin.org:80'];
  clusters.forEach((cluster, i) => {
    for (const s of clusterStats) store.counter(`cluster.${cluster}.${s}`).inc(i + 1);
    for (const g of ['upstream_rq_active', 'upstream_rq_pending_active', 'upstream_cx_active']) store.gauge(`cluster.${cluster}.${g}`).set(i);
    for (const code of [200, 404, 503]) {
      store.counter(`cluster.${cluster}.upstream_rq_${code}`).inc(code / 100);
      store.counter(`cluster.${cluster}.upstream_rq_${Math.floor(code / 100)}xx`).inc(code / 100);
    }
    for (let v = 0; v < 50; v++) store.histogram(`cluster.${cluster}.upstream_rq_time`, 'ms').record(v * 7.3);
  });
  for (const l of ['0.0.0.0_15001', '0.0.0.0_15003', '0.0.0.0_15010']) {
    for (const s of ['downstream_cx_total', 'downstream_cx_destroy', 'no_filter_chain_match', 'ssl.handshake', 'ssl.fail_verify_san']) store.counter(`listener.${l}.${s}`).inc();
    store.gauge(`listener.${l}.downstream_cx_active`).set(1);
  }
  for (const hcm of ['mesh-http-conn-manager.rds-inbound.14001', 'mesh-http-conn-manager.rds-outbound.14001', 'prometheus-http-conn-manager']) {
    for (const s of ['downstream_rq_total', 'downstream_rq_2xx', 'downstream_rq_4xx', 'downstream_rq_5xx', 'downstream_cx_total', 'rbac.allowed', 'rbac.denied']) store.counter(`http.${hcm}.${s}`).inc(2);
    store.gauge(`http.${hcm}.downstream_rq_active`).set(0);
    store.histogram(`http.${hcm}.downstream_rq_time`, 'ms').record(4);
  }
  store.counter('tcp.inbound-mesh-tcp-proxy.bookbuyer/bookbuyer|14001|local.downstream_cx_total').inc();
  store.counter('tcp.outbound-mesh-tcp-proxy_bookstore/bookstore|14001.downstream_cx_total').inc();
  store.counter('network-inbound_bookbuyer_14001.rbac.allowed').inc();
  store.counter('network-inbound_bookbuyer_14001.rbac.denied').inc();
  store.counter('http_local_rate_limiter.http_local_rate_limit.rate_limited').inc();
  store.counter('local_rate_limit.inbound-tcp-rate-limit.inbound_bookbuyer_14001.rate_limited').inc();
  for (const code of [200, 200, 404, 503]) store.osmRequest(buyer, code, code / 10);
  store.osmRequest({ ...buyer, destinationName: 'bookstore-v2', destinationPod: 'bookstore-v2-6f9-zzzzz' }, 200, 12);
  store.flushInterval();
  return store;
}

test('a realistic sidecar exposition passes the strict parser, every sample under its family', () => {
  const families = parseExposition(renderPrometheus(sidecarStore(), ALL_STATS));
  assert.equal(families.get('envoy_server_live')?.samples[0]?.value, 1);
  // Envoy tags a cluster name only up to its first dot: httpbin.org:80 lands in another family.
  assert.equal(families.get('envoy_cluster_upstream_rq_total')?.samples.length, 4);
  assert.equal(families.get('envoy_cluster_org_80_upstream_rq_total')?.samples[0]?.labels.envoy_cluster_name, 'httpbin');
  assert.equal(families.get('envoy_cluster_upstream_rq_time')?.type, 'histogram');
  assert.deepEqual(families.get('osm_request_total')?.samples.map((s) => [s.labels.response_code, s.labels.destination_name, s.value]), [
    ['200', 'bookstore_v1', 2],
    ['404', 'bookstore_v1', 1],
    ['503', 'bookstore_v1', 1],
    ['200', 'bookstore_v2', 1],
  ]);
  for (const family of families.values()) {
    for (const s of family.samples) assert.ok(family.type === 'histogram' || s.name === family.name, `${s.name} under ${family.name}`);
  }
});

// Labels Prometheus adds from the scrape target (OSM's prometheus-configmap.yaml relabel rules),
// which the proxy does not emit on Envoy's metrics.
const TARGET_LABELS = new Set(['source_namespace', 'source_pod_name', 'source_service', 'source_workload_kind', 'source_workload_name']);

/** Every `metric{selectors}` in OSM's dashboards for metrics a sidecar exports. */
function dashboardSelectors(): Array<{ dashboard: string; metric: string; labels: string[] }> {
  const dir = fileURLToPath(new URL('../../../../../shared/data/osm/dashboards/', import.meta.url));
  const out: Array<{ dashboard: string; metric: string; labels: string[] }> = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const text = readFileSync(`${dir}${file}`, 'utf8');
    // Every such metric is written with a selector, `name{...}`; label_values() names one more label.
    for (const m of text.matchAll(/\b((?:envoy|osm_request)_[a-z_]+)\{([^}]*)\}(?:\s*,\s*([a-z_]+)\s*\))?/g)) {
      const labels = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] as string);
      out.push({ dashboard: file, metric: m[1] as string, labels: m[3] ? [...labels, m[3]] : labels });
    }
  }
  return out;
}

test("OSM's dashboards find every Envoy and OSM request metric they query, with the labels they select on", () => {
  const families = parseExposition(renderPrometheus(sidecarStore(), ALL_STATS));
  const selectors = dashboardSelectors();
  assert.ok(selectors.length > 20, `found ${selectors.length} selectors`);
  const seriesOf = (metric: string) => {
    for (const suffix of ['_bucket', '_sum', '_count', '']) {
      const base = suffix === '' ? metric : metric.endsWith(suffix) ? metric.slice(0, -suffix.length) : undefined;
      const family = base === undefined ? undefined : families.get(base);
      if (family) return family.samples.filter((s) => s.name === metric);
    }
    return [];
  };
  for (const { dashboard, metric, labels } of selectors) {
    const samples = seriesOf(metric);
    assert.ok(samples.length > 0, `${dashboard}: no series for ${metric}`);
    const own = metric.startsWith('osm_request') ? labels : labels.filter((l) => !TARGET_LABELS.has(l));
    for (const label of own) assert.ok(samples.some((s) => label in s.labels), `${dashboard}: ${metric} has no label ${label}`);
  }
});

test('the response-code-class panels see 2 and non-2 classes per cluster', () => {
  const families = parseExposition(renderPrometheus(sidecarStore(), ALL_STATS));
  const xx = families.get('envoy_cluster_upstream_rq_xx')?.samples.filter((s) => s.labels.envoy_cluster_name === 'bookstore/bookstore-v1|14001') ?? [];
  assert.deepEqual(xx.map((s) => s.labels.envoy_response_code_class).sort(), ['2', '4', '5']);
});

test('the strict parser rejects what a scraper would (so the tests above can fail)', () => {
  const bad: ReadonlyArray<[string, RegExp]> = [
    ['x 1\n', /before any TYPE/],
    ['# TYPE x counter\nx{a="1"} 1\n# TYPE y counter\ny 1\nx{a="2"} 1\n', /split/],
    ['# TYPE x counter\n# TYPE x counter\n', /second TYPE/],
    ['# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n', /repeated/],
    ['# TYPE x counter\nx{a="\\q"} 1\n', /bad escape/],
    ['# TYPE x counter\nx{a=1} 1\n', /double-quoted/],
    ['# TYPE x counter\nx 1 123\n', /timestamp/],
    ['# TYPE x-y counter\n', /bad metric name/],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /not cumulative/],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n', /!= _count/],
    ['# TYPE x counter\nx 1', /newline/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseExposition(text), message, text);
});
