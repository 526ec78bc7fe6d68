import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrkOutput, parseWrkTime, wrkArgs } from './wrk.js';

// Captured from wrk 4.1.0 (Debian 12) on this machine.
const QUIET = `Running 3s test @ http://127.0.0.1:18080/
  1 threads and 1 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    32.89us   15.80us   0.96ms   95.17%
    Req/Sec    28.31k   262.85    28.80k    63.33%
  Latency Distribution
     50%   30.00us
     75%   30.00us
     90%   35.00us
     99%   79.00us
  84433 requests in 3.00s, 88.98MB read
Requests/sec:  28141.68
Transfer/sec:     29.66MB
`;

const FAILING = `Running 5s test @ http://127.0.30.1:40533/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    38.36ms   80.12ms   1.21s    92.01%
    Req/Sec     1.40k   300.00     2.00k    70.00%
  Latency Distribution
     50%   38.36ms
     75%   60.00ms
     90%  132.40ms
     99%    1.21s
  6920 requests in 5.00s, 7.30MB read
  Socket errors: connect 0, read 200, write 3, timeout 12
  Non-2xx or 3xx responses: 41
Requests/sec:   1384.00
Transfer/sec:      1.46MB
`;

const timeCases = [
  { text: '30.00us', ms: 0.03 },
  { text: '1.22ms', ms: 1.22 },
  { text: '1.21s', ms: 1210 },
  { text: '2.00m', ms: 120_000 },
];
for (const c of timeCases) test(`wrk time ${c.text} is ${c.ms} ms`, () => assert.ok(Math.abs(parseWrkTime(c.text) - c.ms) < 1e-9));

test('wrk time without a unit is an error', () => assert.throws(() => parseWrkTime('30.00'), /cannot read the time/));

test('a quiet wrk run: requests, rate and the percentiles in ms', () => {
  const r = parseWrkOutput(QUIET);
  assert.equal(r.requests, 84433);
  assert.equal(r.durationS, 3);
  assert.equal(r.rps, 28141.68);
  assert.ok(Math.abs(r.latency.p50Ms - 0.03) < 1e-9);
  assert.ok(Math.abs(r.latency.p90Ms - 0.035) < 1e-9);
  assert.ok(Math.abs(r.latency.p99Ms - 0.079) < 1e-9);
  assert.equal(r.errors, 0);
});

test('socket errors and non-2xx responses add up to errors', () => {
  const r = parseWrkOutput(FAILING);
  assert.equal(r.errors, 200 + 3 + 12 + 41);
  assert.equal(r.latency.p99Ms, 1210);
  assert.ok(Math.abs(r.latency.p90Ms - 132.4) < 1e-9);
});

test('output without --latency is refused, naming what is missing', () => {
  const withoutDistribution = QUIET.replace(/ {2}Latency Distribution[\s\S]*?99%.*\n/, '');
  assert.throws(() => parseWrkOutput(withoutDistribution), /50% latency line/);
});

test('one thread, the Host header and the URL', () => {
  assert.deepEqual(wrkArgs({ target: { host: '127.0.0.1', port: 80 }, authority: 'app.bench', connections: 64, durationS: 5, cpu: 0 }), [
    '-t1',
    '-c64',
    '-d5s',
    '--latency',
    '-H',
    'Host: app.bench',
    'http://127.0.0.1:80/',
  ]);
});
