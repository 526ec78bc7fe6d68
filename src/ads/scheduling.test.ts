/**
 * Push scheduling: the debounce window and its cap, driven by a manual clock (no sleeping),
 * first on the scheduler alone, then end to end: ten provider changes in a burst reach a
 * connected proxy as one push carrying the last state.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ResourceTypeUrl } from '../xds/proto.js';
import { PushScheduler } from './scheduler.js';
import { startHarness } from './testing/harness.js';
import { ManualClock } from './testing/manual-clock.js';
import { createTestPki, type TestPki } from './testing/pki.js';
import { cluster, snapshotOf } from './testing/resources.js';

/** A change at `atMs` (from the start) for `keys`. */
type Mark = { atMs: number; keys: string[] };

const cases: { name: string; marks: Mark[]; runForMs: number; want: { atMs: number; keys: string[] }[] }[] = [
  { name: 'one change is pushed after the debounce window', marks: [{ atMs: 0, keys: ['a'] }], runForMs: 1_000, want: [{ atMs: 50, keys: ['a'] }] },
  {
    name: 'a burst coalesces into one push, each key once, after the last change plus the window',
    marks: [0, 10, 20, 30, 40].map((atMs, i) => ({ atMs, keys: i % 2 === 0 ? ['a'] : ['b', 'a'] })),
    runForMs: 1_000,
    want: [{ atMs: 90, keys: ['a', 'b'] }],
  },
  {
    name: 'a steady trickle is pushed at the cap, then the rest after its own window',
    marks: Array.from({ length: 20 }, (_, i) => ({ atMs: i * 40, keys: [`k${i}`] })),
    runForMs: 2_000,
    want: [
      { atMs: 500, keys: Array.from({ length: 13 }, (_, i) => `k${i}`) },
      { atMs: 810, keys: Array.from({ length: 7 }, (_, i) => `k${i + 13}`) },
    ],
  },
  { name: 'changes apart by more than the window are pushed apart', marks: [{ atMs: 0, keys: ['a'] }, { atMs: 200, keys: ['a'] }], runForMs: 1_000, want: [{ atMs: 50, keys: ['a'] }, { atMs: 250, keys: ['a'] }] },
];

for (const c of cases) {
  test(`scheduler: ${c.name}`, () => {
    const clock = new ManualClock(0);
    const flushed: { atMs: number; keys: string[] }[] = [];
    const scheduler = new PushScheduler({ debounceMs: 50, maxDelayMs: 500, clock, flush: (keys) => flushed.push({ atMs: clock.nowMs(), keys: [...keys] }) });
    for (const mark of c.marks) {
      clock.advance(mark.atMs - clock.nowMs());
      scheduler.mark(mark.keys);
    }
    clock.advance(c.runForMs - clock.nowMs());
    assert.deepEqual(flushed, c.want);
    assert.equal(clock.pendingTimers, 0);
  });
}

test('scheduler: close drops pending keys and disarms the timer', () => {
  const clock = new ManualClock(0);
  const flushed: string[][] = [];
  const scheduler = new PushScheduler({ debounceMs: 50, maxDelayMs: 500, clock, flush: (keys) => flushed.push([...keys]) });
  scheduler.mark(['a']);
  scheduler.close();
  scheduler.mark(['b']);
  clock.runAll();
  assert.deepEqual(flushed, []);
  assert.equal(clock.pendingTimers, 0);
});

const UUID = '16fd2706-8baf-433b-82eb-8c7fada847da';
let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.close());

test('a burst of ten provider changes becomes one push carrying the last state', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  try {
    h.publish(UUID, snapshotOf([cluster('shop/api|80', 1)]));
    const client = await h.sotw(UUID);
    client.subscribe(ResourceTypeUrl.cluster, []);
    const first = await client.next();
    client.ack(first);
    await h.hooks.waitFor('ack');

    for (let i = 2; i <= 11; i++) {
      h.publish(UUID, snapshotOf([cluster('shop/api|80', i)]));
      h.clock.advance(10);
    }
    assert.deepEqual(h.hooks.ofKind('push'), [], 'nothing is pushed inside the window');
    h.push();
    const pushes = h.hooks.ofKind('push');
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0]?.push.responses, 1);
    const last = await client.next();
    assert.equal(last.version, snapshotOf([cluster('shop/api|80', 11)]).typeVersions.get(ResourceTypeUrl.cluster));
    assert.equal(h.clock.pendingTimers, 0);
    assert.equal(h.server.registry.counters().pushes, 1);
    assert.deepEqual(client.check.violations, []);
  } finally {
    await h.close();
  }
});
