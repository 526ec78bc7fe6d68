/**
 * Passive outlier detection through a cluster, time driven by a manual clock: consecutive
 * errors eject, hosts return after base ejection time x back-off, the ejection cap holds,
 * local-origin errors count apart when split, success-rate ejection, and connect failures
 * (a real refused port) count as 503s.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutlierDetectionConfig } from '../config/index.js';
import { closedPort, clusterConfig, connect, endpoints, proxyConfig, testManager } from './testing.js';
import type { Cluster, UpstreamOutcome } from './types.js';

const NAME = 'bookstore/bookstore|14001';

/** Envoy's defaults, `overrides` applied. */
function outlier(overrides: Partial<OutlierDetectionConfig> = {}): OutlierDetectionConfig {
  return {
    consecutive5xx: 5,
    enforcingConsecutive5xxPercent: 100,
    consecutiveGatewayFailure: 5,
    enforcingConsecutiveGatewayFailurePercent: 0,
    splitExternalLocalOriginErrors: false,
    consecutiveLocalOriginFailure: 5,
    enforcingConsecutiveLocalOriginFailurePercent: 100,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionTimeJitterMs: 0,
    maxEjectionPercent: 10,
    alwaysEjectOneHost: false,
    successfulActiveHealthCheckUnejectHost: true,
    successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9, enforcingPercent: 100, enforcingLocalOriginPercent: 100 },
    failurePercentage: { thresholdPercent: 85, minimumHosts: 5, requestVolume: 50, enforcingPercent: 0, enforcingLocalOriginPercent: 0 },
    ...overrides,
  };
}

function setup(hostCount: number, od: Partial<OutlierDetectionConfig>) {
  const t = testManager();
  const hosts = Array.from({ length: hostCount }, (_, i) => ({ address: `127.0.1.${i + 1}`, port: 8080 }));
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, hosts), { outlierDetection: outlier(od) })]));
  const cluster = t.manager.get(NAME);
  assert.ok(cluster);
  return { ...t, cluster };
}

/** Ends `n` requests on the host with `id` with `outcome`. */
function report(cluster: Cluster, id: string, outcome: UpstreamOutcome, n: number): void {
  const host = hostWithId(cluster, id);
  for (let i = 0; i < n; i++) {
    cluster.hostRequestStarted(host);
    cluster.hostRequestEnded(host, outcome);
  }
}

function hostWithId(cluster: Cluster, id: string) {
  for (let i = 0; i < 50; i++) {
    const h = cluster.chooseHost(undefined);
    if (h?.id === id) return h;
  }
  throw new Error(`${id} is never chosen`);
}

function chosen(cluster: Cluster, picks = 30): Set<string> {
  return new Set(Array.from({ length: picks }, () => cluster.chooseHost(undefined)?.id ?? 'none'));
}

const A = '127.0.1.1:8080';

test('consecutive 5xx eject a host; it returns after the base ejection time, then after twice that', (ctx) => {
  const t = setup(3, { consecutive5xx: 3, maxEjectionPercent: 50 });
  ctx.after(() => t.manager.close());
  report(t.cluster, A, 'error5xx', 2);
  report(t.cluster, A, 'success', 1);
  report(t.cluster, A, 'error5xx', 2);
  assert.ok(chosen(t.cluster).has(A), 'a success in between resets the count');
  report(t.cluster, A, 'error5xx', 1);
  assert.equal(chosen(t.cluster).has(A), false, 'ejected after three 5xx in a row');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_total'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_consecutive_5xx'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_detected_consecutive_5xx'), 1);
  assert.equal(t.gauge(NAME, 'membership_healthy'), 2);
  assert.deepEqual(t.manager.describe()[0]?.hosts.find((h) => h.id === A)?.healthFlags, ['failed_outlier_check']);
  assert.ok(t.logs.some((l) => l.event === 'cluster.outlier_ejected' && l.host === A));

  t.clock.advance(29_999);
  assert.equal(chosen(t.cluster).has(A), false, 'still out before 30 s');
  t.clock.advance(1);
  assert.ok(chosen(t.cluster).has(A), 'back at the 30 s sweep');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 0);

  report(t.cluster, A, 'error5xx', 3);
  assert.equal(chosen(t.cluster).has(A), false, 'ejected again at once');
  t.clock.advance(50_000);
  assert.equal(chosen(t.cluster).has(A), false, 'the second ejection lasts 60 s');
  t.clock.advance(10_000);
  assert.ok(chosen(t.cluster).has(A));
});

test('max_ejection_percent: no ejection that would take too much of the cluster out', (ctx) => {
  const t = setup(3, { consecutive5xx: 2 });
  ctx.after(() => t.manager.close());
  report(t.cluster, A, 'error5xx', 2);
  assert.ok(chosen(t.cluster).has(A), 'one of three is 33% > 10%');
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_overflow'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_detected_consecutive_5xx'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_total'), 0);
});

test('split local-origin errors: they do not count as 5xx, and connect failures eject on their own count', async (ctx) => {
  const t = setup(2, { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 3, consecutive5xx: 3, maxEjectionPercent: 50 });
  ctx.after(() => t.manager.close());
  report(t.cluster, A, 'localReset', 3);
  report(t.cluster, A, 'timeout', 3);
  assert.ok(chosen(t.cluster).has(A), 'resets and timeouts are neither 5xx nor consecutive local-origin failures');
  report(t.cluster, A, 'error5xx', 3);
  assert.equal(chosen(t.cluster).has(A), false, 'real 5xx still eject');
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_consecutive_5xx'), 1);

  const port = await closedPort();
  const u = testManager();
  ctx.after(() => u.manager.close());
  const od = outlier({ splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailure: 3, consecutive5xx: 1, maxEjectionPercent: 100 });
  u.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port }]), { outlierDetection: od })]));
  for (let i = 0; i < 3; i++) assert.equal((await connect(u.manager, NAME)).error?.kind, 'connectFailure');
  assert.equal(u.counter(NAME, 'outlier_detection.ejections_enforced_consecutive_local_origin_failure'), 1);
  assert.equal(u.counter(NAME, 'outlier_detection.ejections_enforced_consecutive_5xx'), 0, 'a connect failure is no 5xx when split');
});

test('gateway failures are detected but, by Envoy default, not enforced', (ctx) => {
  const t = setup(2, { consecutive5xx: 100, consecutiveGatewayFailure: 2, maxEjectionPercent: 50 });
  ctx.after(() => t.manager.close());
  report(t.cluster, A, 'gatewayError', 2);
  assert.ok(chosen(t.cluster).has(A));
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_detected_consecutive_gateway_failure'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_total'), 0);
});

test('success rate: a host far below the others is ejected at the interval', (ctx) => {
  const t = setup(5, { maxEjectionPercent: 20, successRate: { minimumHosts: 5, requestVolume: 10, stdevFactor: 1.9, enforcingPercent: 100, enforcingLocalOriginPercent: 100 } });
  ctx.after(() => t.manager.close());
  for (let i = 2; i <= 5; i++) report(t.cluster, `127.0.1.${i}:8080`, 'success', 10);
  for (let i = 0; i < 5; i++) {
    report(t.cluster, A, 'error5xx', 1);
    report(t.cluster, A, 'success', 1);
  }
  assert.ok(chosen(t.cluster).has(A), 'rates are judged at the interval, not per request');
  // 50% against 100%: mean 90, stdev 20, threshold 90 - 1.9 x 20 = 52.
  t.clock.advance(10_000);
  assert.equal(chosen(t.cluster, 50).has(A), false);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_detected_success_rate'), 1);
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_enforced_success_rate'), 1);
});

test('success rate needs the request volume: too few requests judge nobody', (ctx) => {
  const t = setup(5, { maxEjectionPercent: 20, successRate: { minimumHosts: 5, requestVolume: 10, stdevFactor: 1.9, enforcingPercent: 100, enforcingLocalOriginPercent: 100 } });
  ctx.after(() => t.manager.close());
  for (let i = 2; i <= 5; i++) report(t.cluster, `127.0.1.${i}:8080`, 'success', 10);
  report(t.cluster, A, 'error5xx', 4);
  t.clock.advance(10_000);
  assert.ok(chosen(t.cluster).has(A));
  assert.equal(t.counter(NAME, 'outlier_detection.ejections_detected_success_rate'), 0);
});

test('connect failures count as 503s; with every host ejected the cluster panics rather than fail', async (ctx) => {
  const port = await closedPort();
  const t = testManager();
  ctx.after(() => t.manager.close());
  t.manager.update(proxyConfig([clusterConfig(NAME, endpoints(NAME, [{ address: '127.0.0.1', port }]), { outlierDetection: outlier({ consecutive5xx: 2, maxEjectionPercent: 100 }) })]));
  for (let i = 0; i < 2; i++) assert.equal((await connect(t.manager, NAME)).error?.kind, 'connectFailure');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 1);
  assert.equal(t.manager.get(NAME)?.chooseHost(undefined)?.id, `127.0.0.1:${port}`, 'panic: an ejected host beats no host');
  assert.equal(t.counter(NAME, 'lb_healthy_panic'), 1);
});
