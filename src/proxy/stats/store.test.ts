/** The stats store: stat identity, counter/gauge/histogram behaviour, quantiles, and OSM's request series. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { cumulativeBuckets, DEFAULT_BUCKETS, quantile } from './histogram.js';
import { StatsStore } from './store.js';
import type { OsmRequestLabels } from './types.js';

test('a name gives the same counter every time, starting at 0', () => {
  const store = new StatsStore();
  const a = store.counter('cluster.c.upstream_rq_total');
  assert.equal(a.value, 0);
  a.inc();
  a.inc(4);
  assert.equal(store.counter('cluster.c.upstream_rq_total'), a);
  assert.equal(store.counter('cluster.c.upstream_rq_total').value, 5);
});

test('counters, gauges and histograms of one name are distinct stats', () => {
  const store = new StatsStore();
  store.counter('x').inc();
  store.gauge('x').set(7);
  store.histogram('x', 'ms').record(3);
  assert.deepEqual(
    store.counters().map((c) => [c.name, c.value]),
    [['x', 1]],
  );
  assert.deepEqual(
    store.gauges().map((g) => [g.name, g.value]),
    [
      ['server.live', 1],
      ['x', 7],
    ],
  );
  assert.equal(store.histograms()[0]?.cumulative.count, 1);
});

test('a gauge goes up and down and counts as used once touched, even back at 0', () => {
  const store = new StatsStore();
  const g = store.gauge('cluster.c.upstream_cx_active');
  const view = () => store.gauges().find((v) => v.name === 'cluster.c.upstream_cx_active');
  assert.equal(view()?.used, false);
  g.add(2);
  g.add(-2);
  assert.equal(view()?.value, 0);
  assert.equal(view()?.used, true);
  g.set(5);
  assert.equal(view()?.value, 5);
});

test('a counter is used once it moved', () => {
  const store = new StatsStore();
  const c = store.counter('c');
  assert.equal(store.counters()[0]?.used, false);
  c.inc();
  assert.equal(store.counters()[0]?.used, true);
});

test('server.live starts at 1 (Envoy: 1 unless draining)', () => {
  const store = new StatsStore();
  assert.deepEqual(
    store.gauges().map((g) => [g.name, g.value, g.used]),
    [['server.live', 1, true]],
  );
});

test('stats are listed sorted by name, whatever the creation order', () => {
  const store = new StatsStore();
  for (const n of ['listener.b', 'cluster.z.x', 'cluster.a.x', 'http.m.y']) store.counter(n);
  assert.deepEqual(
    store.counters().map((c) => c.name),
    ['cluster.a.x', 'cluster.z.x', 'http.m.y', 'listener.b'],
  );
});

test('histogram buckets are "less or equal": a value on a bound counts in that bucket', () => {
  const store = new StatsStore();
  const h = store.histogram('h', 'ms');
  for (const v of [0, 0.5, 0.6, 1, 5, 3600000, 3600001]) h.record(v);
  const view = store.histograms()[0]!;
  const cumulative = cumulativeBuckets(view.cumulative);
  assert.equal(cumulative.length, DEFAULT_BUCKETS.length);
  assert.equal(cumulative[0], 2); // le=0.5: 0 and 0.5
  assert.equal(cumulative[1], 4); // le=1: + 0.6 and 1
  assert.equal(cumulative[2], 5); // le=5
  assert.equal(cumulative.at(-1), 6); // le=3600000; 3600001 only in +Inf
  assert.equal(view.cumulative.count, 7);
  assert.equal(view.cumulative.sum, 0 + 0.5 + 0.6 + 1 + 5 + 3600000 + 3600001);
});

test('quantiles interpolate inside the bucket, narrowed to the observed min and max', () => {
  const store = new StatsStore();
  const h = store.histogram('h', 'ms');
  h.record(2);
  h.record(4);
  const s = store.histograms()[0]!.cumulative;
  assert.equal(quantile(s, 0), 2);
  assert.equal(quantile(s, 0.5), 3);
  assert.equal(quantile(s, 1), 4);
  const one = new StatsStore();
  for (let i = 0; i < 10; i++) one.histogram('h', 'ms').record(3);
  for (const q of [0, 0.25, 0.99, 1]) assert.equal(quantile(one.histograms()[0]!.cumulative, q), 3);
});

test('quantiles across buckets stay inside the bucket that holds the rank', () => {
  const store = new StatsStore();
  const h = store.histogram('h', 'ms');
  for (let v = 1; v <= 100; v++) h.record(v);
  const s = store.histograms()[0]!.cumulative;
  const p50 = quantile(s, 0.5);
  const p90 = quantile(s, 0.9);
  assert.ok(p50 > 25 && p50 <= 50, `p50 ${p50} in (25, 50]`);
  assert.ok(p90 > 50 && p90 <= 100, `p90 ${p90} in (50, 100]`);
  assert.ok(quantile(s, 0.25) <= p50 && p50 <= p90, 'quantiles are monotonic');
});

test('an empty histogram has NaN quantiles', () => {
  const store = new StatsStore();
  store.histogram('h', 'ms');
  const view = store.histograms()[0]!;
  assert.equal(view.used, false);
  assert.ok(Number.isNaN(quantile(view.cumulative, 0.5)));
});

test('flushInterval closes an interval: the last one is kept, cumulative keeps everything', () => {
  const store = new StatsStore();
  const h = store.histogram('h', 'ms');
  h.record(10);
  assert.equal(store.histograms()[0]!.interval, undefined);
  store.flushInterval();
  h.record(20);
  h.record(30);
  assert.equal(store.histograms()[0]!.interval?.count, 1);
  store.flushInterval();
  assert.equal(store.histograms()[0]!.interval?.count, 2);
  store.flushInterval();
  assert.equal(store.histograms()[0]!.interval?.count, 0);
  assert.equal(store.histograms()[0]!.cumulative.count, 3);
});

const labels = (over: Partial<OsmRequestLabels> = {}): OsmRequestLabels => ({
  sourceNamespace: 'bookbuyer',
  sourceKind: 'Deployment',
  sourceName: 'bookbuyer',
  sourcePod: 'bookbuyer-5d7f8c6b4-x2x7q',
  destinationNamespace: 'bookstore',
  destinationKind: 'Deployment',
  destinationName: 'bookstore-v1',
  destinationPod: 'bookstore-v1-7c9d8-abcde',
  ...over,
});

test('OSM requests group by label set and response code, with a duration histogram per label set', () => {
  const store = new StatsStore();
  store.osmRequest(labels(), 200, 3);
  store.osmRequest(labels(), 200, 5);
  store.osmRequest(labels(), 503, 1);
  store.osmRequest(labels({ destinationName: 'bookstore-v2', destinationPod: 'bookstore-v2-1' }), 200, 2);
  const series = store.osmRequestSeries();
  assert.equal(series.length, 2);
  const v1 = series.find((s) => s.labels.some(([k, v]) => k === 'destination_name' && v === 'bookstore_v1'))!;
  assert.deepEqual([...v1.responses.entries()].sort(), [
    [200, 2],
    [503, 1],
  ]);
  assert.equal(v1.duration.count, 3);
  assert.equal(v1.duration.sum, 9);
});

test("OSM label values read as OSM's Prometheus saw them: '-' and '.' become '_'", () => {
  const store = new StatsStore();
  store.osmRequest(labels({ sourcePod: 'bookbuyer-5d7f8c6b4-x2x7q', destinationNamespace: 'team.a' }), 200, 1);
  assert.deepEqual(store.osmRequestSeries()[0]?.labels, [
    ['source_namespace', 'bookbuyer'],
    ['source_kind', 'Deployment'],
    ['source_name', 'bookbuyer'],
    ['source_pod', 'bookbuyer_5d7f8c6b4_x2x7q'],
    ['destination_namespace', 'team_a'],
    ['destination_kind', 'Deployment'],
    ['destination_name', 'bookstore_v1'],
    ['destination_pod', 'bookstore_v1_7c9d8_abcde'],
  ]);
});

test('label sets that differ only in rewritten characters are one series, never two identical ones', () => {
  const store = new StatsStore();
  store.osmRequest(labels({ destinationPod: 'a-b' }), 200, 1);
  store.osmRequest(labels({ destinationPod: 'a.b' }), 200, 1);
  assert.equal(store.osmRequestSeries().length, 1);
  assert.equal(store.osmRequestSeries()[0]?.responses.get(200), 2);
});
