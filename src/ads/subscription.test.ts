/**
 * Subscription semantics (reference/xds.md 3.1 #7, 3.2), one row per rule: the legacy
 * wildcard for LDS/CDS only and only before the client names anything, `*` mixed with names,
 * and what each update reports as added and removed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResourceTypeUrl } from '../xds/proto.js';
import { Subscription } from './subscription.js';

const { listener: LDS, cluster: CDS, clusterLoadAssignment: EDS, routeConfiguration: RDS } = ResourceTypeUrl;

type Want = { wildcard: boolean; names: string[]; added: string[]; removed: string[] };

const sotw: { name: string; typeUrl: string; requests: string[][]; want: Want }[] = [
  { name: 'an empty first LDS request is the legacy wildcard', typeUrl: LDS, requests: [[]], want: { wildcard: true, names: [], added: ['*'], removed: [] } },
  { name: 'an empty first CDS request is the legacy wildcard', typeUrl: CDS, requests: [[]], want: { wildcard: true, names: [], added: ['*'], removed: [] } },
  { name: 'an empty EDS request is no interest', typeUrl: EDS, requests: [[]], want: { wildcard: false, names: [], added: [], removed: [] } },
  { name: 'an empty RDS request is no interest', typeUrl: RDS, requests: [[]], want: { wildcard: false, names: [], added: [], removed: [] } },
  { name: 'ACKs that keep the list empty keep the legacy wildcard', typeUrl: LDS, requests: [[], [], []], want: { wildcard: true, names: [], added: [], removed: [] } },
  { name: 'after naming a listener, an empty list is no interest', typeUrl: LDS, requests: [['a'], []], want: { wildcard: false, names: [], added: [], removed: ['a'] } },
  { name: 'naming after the legacy wildcard drops it', typeUrl: CDS, requests: [[], ['a']], want: { wildcard: false, names: ['a'], added: ['a'], removed: ['*'] } },
  { name: '* mixed with names, for any type', typeUrl: EDS, requests: [['*', 'a']], want: { wildcard: true, names: ['a'], added: ['a', '*'], removed: [] } },
  { name: 'dropping * keeps the names', typeUrl: EDS, requests: [['*', 'a'], ['a']], want: { wildcard: false, names: ['a'], added: [], removed: ['*'] } },
  { name: 'a replaced list reports both sides', typeUrl: RDS, requests: [['a', 'b'], ['b', 'c']], want: { wildcard: false, names: ['b', 'c'], added: ['c'], removed: ['a'] } },
];

for (const c of sotw) {
  test(`SotW: ${c.name}`, () => {
    const s = new Subscription(c.typeUrl);
    let change = { added: [] as string[], removed: [] as string[] };
    for (const names of c.requests) change = s.replace(names);
    assert.deepEqual({ wildcard: s.isWildcard, names: [...s.names].sort(), added: change.added, removed: change.removed }, c.want);
  });
}

const delta: { name: string; typeUrl: string; requests: { subscribe?: string[]; unsubscribe?: string[] }[]; want: Want }[] = [
  { name: 'an empty first LDS request is the legacy wildcard', typeUrl: LDS, requests: [{}], want: { wildcard: true, names: [], added: ['*'], removed: [] } },
  { name: 'an empty first EDS request subscribes to nothing', typeUrl: EDS, requests: [{}], want: { wildcard: false, names: [], added: [], removed: [] } },
  { name: 'an empty later CDS request changes nothing', typeUrl: CDS, requests: [{ subscribe: ['a'] }, {}], want: { wildcard: false, names: ['a'], added: [], removed: [] } },
  { name: 'subscribe adds to what is there', typeUrl: EDS, requests: [{ subscribe: ['a'] }, { subscribe: ['b'] }], want: { wildcard: false, names: ['a', 'b'], added: ['b'], removed: [] } },
  { name: 'unsubscribe of a name never subscribed is tolerated', typeUrl: EDS, requests: [{ subscribe: ['a'] }, { unsubscribe: ['zzz'] }], want: { wildcard: false, names: ['a'], added: [], removed: [] } },
  { name: 'unsubscribing * ends the wildcard', typeUrl: CDS, requests: [{ subscribe: ['*', 'a'] }, { unsubscribe: ['*'] }], want: { wildcard: false, names: ['a'], added: [], removed: ['*'] } },
];

for (const c of delta) {
  test(`delta: ${c.name}`, () => {
    const s = new Subscription(c.typeUrl);
    let change = { added: [] as string[], removed: [] as string[] };
    c.requests.forEach((r, i) => (change = s.update(r.subscribe ?? [], r.unsubscribe ?? [], i === 0)));
    assert.deepEqual({ wildcard: s.isWildcard, names: [...s.names].sort(), added: change.added, removed: change.removed }, c.want);
  });
}
