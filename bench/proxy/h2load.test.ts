import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH2loadFailures, parseH2loadLog } from './h2load.js';
import { nearestRank, percentilesOfMicros } from './latency.js';

test('the per-request log gives durations and counts non-2xx statuses', () => {
  const log = '1795625213561218\t200\t271\n1795625213561646\t200\t84\n1795625213561216\t503\t522\n';
  assert.deepEqual(parseH2loadLog(log), { durationsUs: [271, 84, 522], non2xx: 1 });
});

test('an unreadable log line is an error that quotes it', () => {
  assert.throws(() => parseH2loadLog('1795625213561218\t200\n'), /cannot read the line "1795625213561218\\t200"/);
});

test('failed, errored and timed-out requests from the summary', () => {
  const out = `finished in 4.00s, 1000.33 req/s, 1.05MB/s
requests: 3001 total, 3001 started, 2990 done, 2980 succeeded, 21 failed, 11 errored, 4 timeout
status codes: 2980 2xx, 0 3xx, 0 4xx, 10 5xx
`;
  assert.equal(parseH2loadFailures(out), 21 + 11 + 4);
  assert.throws(() => parseH2loadFailures('finished in 4.00s'), /no "requests:" summary line/);
});

const rankCases = [
  { name: 'median of an odd count is the middle sample', sorted: [1, 2, 3, 4, 5], q: 0.5, want: 3 },
  { name: 'median of an even count is the lower middle (nearest rank)', sorted: [1, 2, 3, 4], q: 0.5, want: 2 },
  { name: 'p99 of 100 samples is the 99th', sorted: Array.from({ length: 100 }, (_, i) => i + 1), q: 0.99, want: 99 },
  { name: 'p99 of 10 samples is the largest', sorted: Array.from({ length: 10 }, (_, i) => i + 1), q: 0.99, want: 10 },
  { name: 'one sample is every percentile', sorted: [7], q: 0.9, want: 7 },
];
for (const c of rankCases) test(c.name, () => assert.equal(nearestRank(c.sorted, c.q), c.want));

test('no samples has no percentile', () => assert.throws(() => nearestRank([], 0.5), /no samples/));

test('percentiles of unsorted microseconds, in ms', () => {
  const micros = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000 + 1); // 1..1000, shuffled
  assert.deepEqual(percentilesOfMicros(micros), { p50Ms: 0.5, p90Ms: 0.9, p99Ms: 0.99 });
});
