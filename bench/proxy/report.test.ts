import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultScenarios, type RunMeasurement } from './measure.js';
import type { PairName } from './pair.js';
import { evaluateTargets, formatTable, summarize, type TargetResult } from './report.js';

const scenarios = defaultScenarios(1000);

/** A run with defaults a test overrides. */
function run(pair: PairName, scenario: string, round: number, over: Partial<RunMeasurement> = {}): RunMeasurement {
  return {
    pair,
    scenario,
    round,
    requests: 10_000,
    rps: 1000,
    latency: { p50Ms: 0.1, p90Ms: 0.2, p99Ms: 1 },
    errors: 0,
    cpuUsPerRequestPerProxy: pair === 'direct' ? undefined : 50,
    proxyPeakRssKiB: pair === 'direct' ? undefined : 30 * 1024,
    otherCpuPct: 0,
    irqCpuPct: 0,
    stealCpuPct: 0,
    ...over,
  };
}

/** Every scenario for every pair, three rounds, with per-pair figures. */
function fullRuns(figures: Record<PairName, Partial<RunMeasurement>>): RunMeasurement[] {
  const out: RunMeasurement[] = [];
  for (const s of scenarios) for (const pair of ['direct', 'haproxy', 'osm'] as const) for (const round of [1, 2, 3]) out.push(run(pair, s.id, round, figures[pair]));
  return out;
}

test('rows take the median of the rounds for each figure', () => {
  const runs = [1, 2, 3].map((round) =>
    run('haproxy', 'http-c1', round, { rps: [9000, 1000, 5000][round - 1]!, latency: { p50Ms: [0.3, 0.1, 0.2][round - 1]!, p90Ms: 1, p99Ms: [9, 2, 3][round - 1]! } }),
  );
  const [row] = summarize(runs, scenarios, new Map());
  assert.equal(row?.runs, 3);
  assert.equal(row?.rps, 5000);
  assert.equal(row?.p50Ms, 0.2);
  assert.equal(row?.p99Ms, 3);
});

test('added latency is against direct in the same scenario, and only where latency is per request', () => {
  const runs = fullRuns({
    direct: { latency: { p50Ms: 0.05, p90Ms: 0.1, p99Ms: 0.5 } },
    haproxy: { latency: { p50Ms: 0.2, p90Ms: 0.4, p99Ms: 1.5 } },
    osm: { latency: { p50Ms: 0.3, p90Ms: 0.6, p99Ms: 2.5 } },
  });
  const rows = summarize(runs, scenarios, new Map());
  const at = (pair: PairName, scenario: string) => rows.find((r) => r.pair === pair && r.scenario === scenario);
  assert.ok(Math.abs((at('osm', 'http-1000rps')?.addedP50Ms ?? NaN) - 0.25) < 1e-9);
  assert.ok(Math.abs((at('osm', 'http-c1')?.addedP99Ms ?? NaN) - 2) < 1e-9);
  assert.equal(at('direct', 'http-c1')?.addedP50Ms, 0);
  assert.equal(at('osm', 'http-c64')?.addedP50Ms, undefined, 'c=64 latency is queueing, not added latency');
});

test('ratios are to the haproxy row of the same scenario', () => {
  const runs = fullRuns({ direct: { rps: 40_000 }, haproxy: { rps: 10_000, cpuUsPerRequestPerProxy: 40 }, osm: { rps: 4_000, cpuUsPerRequestPerProxy: 100 } });
  const osm = summarize(runs, scenarios, new Map()).find((r) => r.pair === 'osm' && r.scenario === 'http-c64');
  assert.equal(osm?.rpsVsHaproxy, 0.4);
  assert.equal(osm?.cpuVsHaproxy, 2.5);
});

test('without a haproxy or direct row there are no ratios and no added latency', () => {
  const rows = summarize([run('osm', 'http-c1', 1)], scenarios, new Map());
  assert.equal(rows[0]?.rpsVsHaproxy, undefined);
  assert.equal(rows[0]?.addedP50Ms, undefined);
});

test('RSS: idle as given, peak the largest VmHWM over the runs, in MiB', () => {
  const runs = [run('osm', 'http-c1', 1, { proxyPeakRssKiB: 50 * 1024 }), run('osm', 'http-c1', 2, { proxyPeakRssKiB: 70 * 1024 })];
  const [row] = summarize(runs, scenarios, new Map([['osm', 40 * 1024]]));
  assert.equal(row?.idleRssMiB, 40);
  assert.equal(row?.peakRssMiB, 70);
});

test('medians are over the quiet runs when there are any', () => {
  const runs = [
    run('haproxy', 'http-c1', 1, { rps: 2000, otherCpuPct: 150 }),
    run('haproxy', 'http-c1', 2, { rps: 9000, otherCpuPct: 5 }),
    run('haproxy', 'http-c1', 3, { rps: 3000, otherCpuPct: 90, errors: 2 }),
  ];
  const [row] = summarize(runs, scenarios, new Map());
  assert.deepEqual([row?.runs, row?.noisy, row?.rps, row?.maxOtherCpuPct, row?.errors], [1, false, 9000, 5, 2]);
});

test('with no quiet run, every run counts and the row is noisy', () => {
  const runs = [run('haproxy', 'http-c1', 1, { rps: 2000, otherCpuPct: 150 }), run('haproxy', 'http-c1', 2, { rps: 4000, otherCpuPct: 30 })];
  const [row] = summarize(runs, scenarios, new Map());
  assert.deepEqual([row?.runs, row?.noisy, row?.rps, row?.maxOtherCpuPct], [2, true, 3000, 150]);
});

test('the table marks rows without a quiet run and shows errors', () => {
  const runs = [run('haproxy', 'http-c1', 1, { otherCpuPct: 35 }), run('osm', 'http-c1', 1, { errors: 17 })];
  const table = formatTable(summarize(runs, scenarios, new Map()));
  assert.match(table, /\| http-c1 \| haproxy \| 1\* \|/);
  assert.match(table, /\| http-c1 \| osm \| 1 \|.* \| 17 \|$/m);
});

const verdicts = (targets: readonly TargetResult[]) => Object.fromEntries(targets.map((t) => [t.target, t.met]));

test('targets are met at their limits', () => {
  const runs = fullRuns({
    direct: { rps: 30_000, latency: { p50Ms: 0.05, p90Ms: 0.1, p99Ms: 0.5 } },
    haproxy: { rps: 10_000, cpuUsPerRequestPerProxy: 40 },
    osm: { rps: 9_000, latency: { p50Ms: 0.35, p90Ms: 0.6, p99Ms: 2 }, cpuUsPerRequestPerProxy: 120, proxyPeakRssKiB: 60 * 1024 },
  });
  const targets = evaluateTargets(summarize(runs, scenarios, new Map()), 'http-1000rps');
  assert.equal(targets.length, 8);
  assert.deepEqual(
    targets.filter((t) => t.met !== true).map((t) => t.target),
    [],
  );
});

test('targets are missed just past their limits', () => {
  const runs = fullRuns({
    direct: { rps: 30_000, latency: { p50Ms: 0.05, p90Ms: 0.1, p99Ms: 0.5 } },
    haproxy: { rps: 10_000, cpuUsPerRequestPerProxy: 40 },
    osm: { rps: 4_900, latency: { p50Ms: 0.36, p90Ms: 0.6, p99Ms: 2.1 }, cpuUsPerRequestPerProxy: 121, proxyPeakRssKiB: 61 * 1024 },
  });
  const targets = evaluateTargets(summarize(runs, scenarios, new Map()), 'http-1000rps');
  assert.deepEqual(
    targets.filter((t) => t.met !== false).map((t) => t.target),
    [],
  );
  assert.match(targets.find((t) => t.target.startsWith('L7 max throughput') && t.target.includes('http-c64'))?.figure ?? '', /^0\.49x \(4900 vs 10000 RPS\)$/);
});

test('a row with failed requests cannot meet a target', () => {
  const runs = fullRuns({ direct: {}, haproxy: { rps: 1000 }, osm: { rps: 2000 } }).map((r) => (r.pair === 'osm' && r.scenario === 'tcp-c64' ? { ...r, errors: 5 } : r));
  const v = verdicts(evaluateTargets(summarize(runs, scenarios, new Map()), 'http-1000rps'));
  assert.equal(v['TCP throughput at parity with haproxy, >= 0.9x (tcp-c64)'], false);
  assert.equal(v['TCP throughput at parity with haproxy, >= 0.9x (tcp-c1)'], true);
});

test('targets whose rows did not run are not judged', () => {
  const runs = fullRuns({ direct: {}, haproxy: {}, osm: {} }).filter((r) => r.pair !== 'osm');
  const targets = evaluateTargets(summarize(runs, scenarios, new Map()), 'http-1000rps');
  assert.ok(targets.every((t) => t.met === undefined && t.figure.startsWith('not measured')));
});
