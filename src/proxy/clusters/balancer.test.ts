/**
 * Balancing on host snapshots, no sockets: round robin and least request distributions,
 * Envoy's priority spill-over and panic threshold, and retries' `exclude`.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { Balancer, type BalancingPolicy } from './balancer.js';
import { Host } from './host.js';

/** A deterministic PRNG (mulberry32), so statistical assertions cannot flake. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function host(n: number, opts: { weight?: number; priority?: number; unhealthy?: boolean; degraded?: boolean; active?: number } = {}): Host {
  const h = new Host({ address: `10.0.0.${n}`, port: 80, weight: opts.weight ?? 1, health: opts.degraded ? 'degraded' : 'healthy' }, opts.priority ?? 0);
  if (opts.unhealthy) h.failedActiveHc = true;
  h.activeRequests = opts.active ?? 0;
  return h;
}

function counts(b: Balancer, picks: number, exclude?: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const p = b.choose(exclude);
    assert.ok(p, 'a host is chosen');
    out.set(p.host.id, (out.get(p.host.id) ?? 0) + 1);
  }
  return out;
}

const distributions: Array<{ name: string; policy: BalancingPolicy; hosts: Host[]; picks: number; want: Record<string, number> }> = [
  {
    name: 'round robin, equal weights: each host in turn',
    policy: 'roundRobin',
    hosts: [host(1), host(2), host(3)],
    picks: 300,
    want: { '10.0.0.1:80': 100, '10.0.0.2:80': 100, '10.0.0.3:80': 100 },
  },
  {
    name: 'round robin, weights 1:2:3: picks in proportion',
    policy: 'roundRobin',
    hosts: [host(1, { weight: 1 }), host(2, { weight: 2 }), host(3, { weight: 3 })],
    picks: 600,
    want: { '10.0.0.1:80': 100, '10.0.0.2:80': 200, '10.0.0.3:80': 300 },
  },
  {
    name: 'least request, unequal weights and no load: EDF by weight',
    policy: 'leastRequest',
    hosts: [host(1, { weight: 1 }), host(2, { weight: 3 })],
    picks: 400,
    want: { '10.0.0.1:80': 100, '10.0.0.2:80': 300 },
  },
  {
    name: 'least request, unequal weights: load divides the weight (1/(3+1) vs 1)',
    policy: 'leastRequest',
    hosts: [host(1, { weight: 1, active: 3 }), host(2, { weight: 1 + 1e-9 })],
    picks: 500,
    want: { '10.0.0.1:80': 100, '10.0.0.2:80': 400 },
  },
];

for (const c of distributions) {
  test(`balancing: ${c.name}`, () => {
    const b = new Balancer(c.hosts, c.policy, seededRandom(1));
    const got = Object.fromEntries([...counts(b, c.picks)].sort());
    for (const [id, want] of Object.entries(c.want)) {
      // EDF interleaves exactly but may start mid-cycle: allow one pick either way.
      assert.ok(Math.abs((got[id] ?? 0) - want) <= 1, `${id}: ${got[id]} picks, want ${want} (${JSON.stringify(got)})`);
    }
  });
}

test('round robin rotates: no host twice before every host once', () => {
  const b = new Balancer([host(1), host(2), host(3)], 'roundRobin', seededRandom(7));
  const order = Array.from({ length: 6 }, () => b.choose(undefined)?.host.id);
  assert.deepEqual(new Set(order.slice(0, 3)).size, 3);
  assert.deepEqual(order.slice(3), order.slice(0, 3));
});

test('least request (P2C) sends little to the busy host', () => {
  const busy = host(1, { active: 10 });
  const b = new Balancer([busy, host(2), host(3)], 'leastRequest', seededRandom(42));
  const got = counts(b, 9000);
  // The busy host wins only when both random choices land on it: about 1 in 9.
  const share = (got.get(busy.id) ?? 0) / 9000;
  assert.ok(share > 0.07 && share < 0.15, `busy host got ${share}`);
  assert.ok((got.get('10.0.0.2:80') ?? 0) > 3500 && (got.get('10.0.0.3:80') ?? 0) > 3500, JSON.stringify([...got]));
});

const priorityCases: Array<{ name: string; hosts: Host[]; healthy: number[]; degraded: number[]; panic: boolean[] }> = [
  { name: 'healthy priority 0 takes everything', hosts: [host(1), host(2), host(3, { priority: 1 })], healthy: [100, 0], degraded: [0, 0], panic: [false, false] },
  // Envoy's table: P0 at 50% healthy has health 70 (x1.4), the rest spills to P1.
  { name: 'half of priority 0 unhealthy: 70/30', hosts: [host(1), host(2, { unhealthy: true }), host(3, { priority: 1 }), host(4, { priority: 1 })], healthy: [70, 30], degraded: [0, 0], panic: [false, false] },
  { name: 'priority 0 all down: priority 1 takes everything', hosts: [host(1, { unhealthy: true }), host(2, { priority: 1 })], healthy: [0, 100], degraded: [0, 0], panic: [false, false] },
  { name: 'degraded hosts take what healthy ones cannot', hosts: [host(1), host(2, { degraded: true }), host(3, { degraded: true })], healthy: [46], degraded: [54], panic: [false] },
  { name: 'one of three healthy: panic, all hosts used', hosts: [host(1), host(2, { unhealthy: true }), host(3, { unhealthy: true })], healthy: [100], degraded: [0], panic: [true] },
  { name: 'every level in panic: load by host count', hosts: [host(1, { unhealthy: true }), host(2, { priority: 1, unhealthy: true }), host(3, { priority: 1, unhealthy: true }), host(4, { priority: 1, unhealthy: true })], healthy: [25, 75], degraded: [0, 0], panic: [true, true] },
];

for (const c of priorityCases) {
  test(`priorities: ${c.name}`, () => {
    const loads = new Balancer(c.hosts, 'roundRobin', seededRandom(3)).loads;
    assert.deepEqual({ healthy: [...loads.healthy], degraded: [...loads.degraded], panic: [...loads.panic] }, { healthy: c.healthy, degraded: c.degraded, panic: c.panic });
  });
}

test('outside panic unhealthy hosts get nothing; in panic they share the load', () => {
  const calm = new Balancer([host(1), host(2), host(3, { unhealthy: true })], 'roundRobin', seededRandom(5));
  assert.equal(counts(calm, 90).get('10.0.0.3:80'), undefined);
  const panicking = new Balancer([host(1), host(2, { unhealthy: true }), host(3, { unhealthy: true })], 'roundRobin', seededRandom(5));
  const got = counts(panicking, 90);
  assert.deepEqual([...got.values()], [30, 30, 30]);
  assert.equal(panicking.choose(undefined)?.panic, true);
});

test('exclude: another host when one is usable, the excluded one when nothing else is', () => {
  const b = new Balancer([host(1), host(2), host(3)], 'roundRobin', seededRandom(9));
  const got = counts(b, 60, new Set(['10.0.0.1:80', '10.0.0.2:80']));
  assert.deepEqual([...got.keys()], ['10.0.0.3:80']);
  const lone = new Balancer([host(1)], 'leastRequest', seededRandom(9));
  assert.equal(lone.choose(new Set(['10.0.0.1:80']))?.host.id, '10.0.0.1:80');
});

test('exclude reaches a healthy host of another priority before repeating an excluded one', () => {
  const b = new Balancer([host(1), host(2, { priority: 1 })], 'roundRobin', seededRandom(9));
  assert.equal(b.choose(new Set(['10.0.0.1:80']))?.host.id, '10.0.0.2:80');
});

test('no hosts, no choice', () => {
  assert.equal(new Balancer([], 'roundRobin', seededRandom(1)).choose(undefined), undefined);
});
