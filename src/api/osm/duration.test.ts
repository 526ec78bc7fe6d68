import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoDuration } from './duration.js';

// Expectations are what Go's time.ParseDuration returns, in milliseconds.
const cases: Array<{ text: string; want: number | undefined }> = [
  { text: '24h', want: 86_400_000 },
  { text: '1m30s', want: 90_000 },
  { text: '0s', want: 0 },
  { text: '0', want: 0 },
  { text: '-0', want: 0 },
  { text: '30s', want: 30_000 },
  { text: '250ms', want: 250 },
  { text: '2h45m', want: 9_900_000 },
  { text: '1h0m0s', want: 3_600_000 },
  { text: '1.5h', want: 5_400_000 },
  { text: '.5s', want: 500 },
  { text: '1.s', want: 1_000 },
  { text: '+5m', want: 300_000 },
  { text: '-1.5s', want: -1_500 },
  { text: '1us', want: 0.001 },
  { text: '1\u00b5s', want: 0.001 },
  { text: '1\u03bcs', want: 0.001 },
  { text: '1500ns', want: 0.0015 },
  { text: '1.0000000001s', want: 1_000 },
  { text: '9223372036854775807ns', want: 9_223_372_036_854.775 },
  { text: '-9223372036854775808ns', want: -9_223_372_036_854.775 },
  { text: '9223372036854775808ns', want: undefined },
  { text: '3000000h', want: undefined },
  { text: '', want: undefined },
  { text: '5', want: undefined },
  { text: '-', want: undefined },
  { text: '.s', want: undefined },
  { text: 's', want: undefined },
  { text: '1d', want: undefined },
  { text: '5 s', want: undefined },
  { text: ' 5s', want: undefined },
  { text: '5sec', want: undefined },
  { text: '5S', want: undefined },
  { text: '1.2.3s', want: undefined },
  { text: '1h30', want: undefined },
  { text: '--1s', want: undefined },
];

for (const c of cases) {
  test(`parseGoDuration(${JSON.stringify(c.text)}) is ${String(c.want)}`, () => {
    assert.equal(parseGoDuration(c.text), c.want);
  });
}
