/** Envoy's retry conditions and jittered exponential back-off, without sockets. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RetryPolicyConfig } from '../config/index.js';
import { RetryBackOff, RetryRules } from './retry.js';

const rules = (retryOn: string[]): RetryRules => new RetryRules({ retryOn, numRetries: 1, perTryTimeoutMs: undefined, backOffBaseMs: undefined } satisfies RetryPolicyConfig);

const responseCases: Array<{ on: string[]; status: number; rateLimited?: boolean; grpc?: string; want: boolean }> = [
  { on: ['5xx'], status: 500, want: true },
  { on: ['5xx'], status: 503, want: true },
  { on: ['5xx'], status: 499, want: false },
  { on: ['gateway-error'], status: 502, want: true },
  { on: ['gateway-error'], status: 504, want: true },
  { on: ['gateway-error'], status: 500, want: false },
  { on: ['retriable-4xx'], status: 409, want: true },
  { on: ['retriable-4xx'], status: 404, want: false },
  { on: ['envoy-ratelimited'], status: 429, rateLimited: true, want: true },
  { on: ['envoy-ratelimited'], status: 429, want: false },
  { on: ['unavailable'], status: 200, grpc: '14', want: true },
  { on: ['unavailable', 'cancelled'], status: 200, grpc: '1', want: true },
  { on: ['unavailable'], status: 200, grpc: '13', want: false },
  { on: ['reset', 'connect-failure'], status: 503, want: false },
  { on: ['retriable-status-codes'], status: 503, want: false },
];
for (const c of responseCases) {
  test(`retry_on ${c.on.join(',')}: ${c.status}${c.grpc ? ` grpc-status ${c.grpc}` : ''}${c.rateLimited ? ' rate limited' : ''} -> ${c.want}`, () => {
    assert.equal(rules(c.on).retriesResponse(c.status, c.rateLimited ?? false, c.grpc), c.want);
  });
}

const resetCases: Array<{ on: string[]; reason: Parameters<RetryRules['retriesReset']>[0]; want: boolean }> = [
  { on: ['5xx'], reason: 'connectionTermination', want: true },
  { on: ['gateway-error'], reason: 'perTryTimeout', want: true },
  { on: ['reset'], reason: 'protocolError', want: true },
  { on: ['connect-failure'], reason: 'connectFailure', want: true },
  { on: ['connect-failure'], reason: 'connectionTermination', want: false },
  { on: ['connect-failure'], reason: 'perTryTimeout', want: false },
  { on: ['5xx', 'reset'], reason: 'overflow', want: false },
  { on: ['5xx'], reason: 'noHealthyUpstream', want: false },
  { on: ['retriable-4xx'], reason: 'connectFailure', want: false },
];
for (const c of resetCases) {
  test(`retry_on ${c.on.join(',')}: ${c.reason} -> ${c.want}`, () => assert.equal(rules(c.on).retriesReset(c.reason), c.want));
}

test('back-off: uniform in [0, (2^n - 1) x base), capped at 10 x base', () => {
  const top = (): number => 0.999999;
  const b = new RetryBackOff(25, top);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.nextMs()), [24, 74, 174, 250, 250, 250]);
  const zero = new RetryBackOff(25, () => 0);
  assert.deepEqual([1, 2, 3].map(() => zero.nextMs()), [0, 0, 0]);
  const half = new RetryBackOff(100, () => 0.5);
  assert.deepEqual([1, 2, 3, 4].map(() => half.nextMs()), [50, 150, 350, 750]);
});

test('the default back-off base is 25 ms; num_retries and per_try_timeout are kept', () => {
  const r = new RetryRules({ retryOn: ['5xx'], numRetries: 4, perTryTimeoutMs: 250, backOffBaseMs: undefined });
  assert.equal(r.backOffBaseMs, 25);
  assert.equal(r.numRetries, 4);
  assert.equal(r.perTryTimeoutMs, 250);
});
