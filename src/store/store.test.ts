import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/kind.js';
import type { ObjectRef } from '../api/meta.js';
import { Store, type StoreChange, type StoreWrite } from './store.js';

/** A minimal namespaced object; `extra` lands beside metadata, standing in for a spec. */
function obj(kind: string, namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { kind, metadata: { name, namespace }, ...extra };
}

function put(object: KubeObject, apiVersion = 'v1'): StoreWrite {
  return { type: 'put', object, apiVersion };
}

function del(kind: string, namespace: string, name: string): StoreWrite {
  return { type: 'delete', ref: { kind, namespace, name } };
}

function ref(kind: string, namespace: string, name: string): ObjectRef {
  return { kind, namespace, name };
}

/** A store that records every change event it emits. */
function recordingStore(): { store: Store; events: StoreChange[] } {
  const store = new Store();
  const events: StoreChange[] = [];
  store.subscribe((c) => events.push(c));
  return { store, events };
}

function resourceVersion(store: Store, r: ObjectRef): string {
  const stored = store.snapshot().stored(r);
  assert.ok(stored, `${r.kind} ${r.namespace}/${r.name} is stored`);
  return stored.resourceVersion;
}

test('a resource version moves only for the object written, and increases with each write', () => {
  const store = new Store();
  const a = ref('Service', 'shop', 'a');
  const b = ref('Service', 'shop', 'b');
  store.apply([put(obj('Service', 'shop', 'a'))]);
  const a1 = resourceVersion(store, a);
  store.apply([put(obj('Service', 'shop', 'b'))]);
  const b1 = resourceVersion(store, b);
  assert.equal(resourceVersion(store, a), a1, 'writing b leaves a alone');
  assert.notEqual(b1, a1);

  store.apply([put(obj('Service', 'shop', 'a', { spec: { port: 81 } }))]);
  const a2 = resourceVersion(store, a);
  assert.equal(resourceVersion(store, b), b1, 'writing a leaves b alone');
  // The field doc promises an increase with every write; the versions are decimal strings.
  assert.ok(Number(a1) < Number(b1) && Number(b1) < Number(a2), `versions ${a1}, ${b1}, ${a2} increase`);
});

test('a batch applies atomically: one event, one new snapshot version, one resource version', () => {
  const { store, events } = recordingStore();
  store.apply([put(obj('Service', 'shop', 'gone'))]);
  const before = store.snapshot();
  events.length = 0;

  const change = store.apply([put(obj('Service', 'shop', 'a')), put(obj('ServiceAccount', 'shop', 'a')), del('Service', 'shop', 'gone')]);

  assert.equal(events.length, 1);
  assert.equal(events[0], change);
  assert.equal(change.version, before.version + 1);
  assert.equal(store.snapshot().version, before.version + 1);
  assert.deepEqual(
    change.changes.map((c) => `${c.ref.kind} ${c.ref.name}: ${c.before ? 'had' : 'new'} -> ${c.after ? 'has' : 'gone'}`).sort(),
    ['Service a: new -> has', 'Service gone: had -> gone', 'ServiceAccount a: new -> has'],
  );
  const versions = new Set([resourceVersion(store, ref('Service', 'shop', 'a')), resourceVersion(store, ref('ServiceAccount', 'shop', 'a'))]);
  assert.equal(versions.size, 1, 'every object written in one batch carries the same resource version');
});

test('a batch that puts and deletes the same new object changes nothing', () => {
  const { store, events } = recordingStore();
  const change = store.apply([put(obj('Service', 'shop', 'a')), del('Service', 'shop', 'a')]);
  assert.deepEqual(change.changes, []);
  assert.equal(events.length, 0);
  assert.equal(store.snapshot().version, 0);
});

test('a snapshot taken before a write never changes afterwards', () => {
  const store = new Store();
  store.apply([put(obj('Service', 'shop', 'a', { spec: { port: 80 } })), put(obj('Service', 'shop', 'b'))]);
  const old = store.snapshot();
  const oldList = old.list('Service');
  const oldA = old.stored(ref('Service', 'shop', 'a'));

  store.apply([put(obj('Service', 'shop', 'a', { spec: { port: 81 } })), del('Service', 'shop', 'b'), put(obj('Service', 'shop', 'c'))]);
  store.apply([put(obj('ServiceAccount', 'shop', 'a'))]);

  assert.equal(old.version, 1);
  assert.deepEqual(old.list('Service'), oldList);
  assert.deepEqual(
    old.list('Service').map((o) => o.metadata.name),
    ['a', 'b'],
  );
  assert.equal(old.stored(ref('Service', 'shop', 'a')), oldA);
  assert.deepEqual(old.get('Service', 'shop', 'a'), obj('Service', 'shop', 'a', { spec: { port: 80 } }));
  assert.equal(old.get('Service', 'shop', 'c'), undefined);
  assert.deepEqual(old.list('ServiceAccount'), []);
  // And the new snapshot does see the writes.
  assert.deepEqual(
    store.snapshot().list('Service').map((o) => o.metadata.name),
    ['a', 'c'],
  );
});

const noChangeCases: Array<{ name: string; existing: KubeObject[]; write: StoreWrite }> = [
  {
    name: 'putting an equal object',
    existing: [obj('Service', 'shop', 'a', { spec: { port: 80 } })],
    write: put(obj('Service', 'shop', 'a', { spec: { port: 80 } })),
  },
  {
    name: 'putting an equal object whose keys are in another order',
    existing: [{ kind: 'Service', metadata: { name: 'a', namespace: 'shop', labels: { app: 'a', tier: 'web' } } }],
    write: put({ kind: 'Service', metadata: { namespace: 'shop', labels: { tier: 'web', app: 'a' }, name: 'a' } }),
  },
  { name: 'deleting a missing object', existing: [obj('Service', 'shop', 'a')], write: del('Service', 'shop', 'missing') },
  { name: 'deleting from a kind never written', existing: [], write: del('Service', 'shop', 'a') },
];

for (const c of noChangeCases) {
  test(`${c.name} is no change: no event, same version`, () => {
    const { store, events } = recordingStore();
    if (c.existing.length > 0) store.apply(c.existing.map((o) => put(o)));
    const snapshot = store.snapshot();
    events.length = 0;

    const change = store.apply([c.write]);

    assert.deepEqual(change.changes, []);
    assert.equal(change.version, snapshot.version);
    assert.equal(events.length, 0);
    assert.equal(store.snapshot(), snapshot, 'the current snapshot is kept');
  });
}

test('putting an equal object in another apiVersion is a change', () => {
  const { store, events } = recordingStore();
  store.apply([put(obj('TrafficSplit', 'shop', 's'), 'split.smi-spec.io/v1alpha2')]);
  events.length = 0;
  store.apply([put(obj('TrafficSplit', 'shop', 's'), 'split.smi-spec.io/v1alpha4')]);
  assert.equal(events.length, 1);
  assert.equal(store.snapshot().stored(ref('TrafficSplit', 'shop', 's'))?.apiVersion, 'split.smi-spec.io/v1alpha4');
});

const listCases: Array<{ name: string; refs: Array<[string | undefined, string]>; want: string[] }> = [
  {
    name: 'by namespace, then by name',
    refs: [['b', 'a'], ['a', 'z'], ['a', 'b'], ['b', '0']],
    want: ['a/b', 'a/z', 'b/0', 'b/a'],
  },
  {
    // Namespaces are DNS labels: '-' sorts before '/', so comparing "ns/name" strings would put
    // shop-v2 first.
    name: 'a namespace before the longer namespaces it prefixes',
    refs: [['shop-v2', 'a'], ['shop', 'b'], ['shop', 'a']],
    want: ['shop/a', 'shop/b', 'shop-v2/a'],
  },
  {
    name: 'names with dots and dashes within one namespace',
    refs: [['shop', 'api.v2'], ['shop', 'api-v2'], ['shop', 'api']],
    want: ['shop/api', 'shop/api-v2', 'shop/api.v2'],
  },
  {
    name: 'cluster-scoped objects by name',
    refs: [[undefined, 'osm'], [undefined, 'bookstore'], [undefined, 'bookbuyer']],
    want: ['/bookbuyer', '/bookstore', '/osm'],
  },
];

for (const c of listCases) {
  test(`list sorts ${c.name}, whatever the write order`, () => {
    const objects = c.refs.map(([namespace, name]): KubeObject => ({ kind: 'Namespace', metadata: namespace === undefined ? { name } : { name, namespace } }));
    for (const order of [objects, [...objects].reverse()]) {
      const store = new Store();
      for (const o of order) store.apply([put(o)]);
      assert.deepEqual(
        store.snapshot().list('Namespace').map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`),
        c.want,
      );
    }
  });
}

test('list returns the same array for a kind no batch touched since, a new one for a kind that changed', () => {
  const store = new Store();
  store.apply([put(obj('Service', 'shop', 'a')), put(obj('ServiceAccount', 'shop', 'a'))]);
  const first = store.snapshot();
  store.apply([put(obj('Service', 'shop', 'b'))]);
  const second = store.snapshot();
  assert.equal(second.list('ServiceAccount'), first.list('ServiceAccount'));
  assert.notEqual(second.list('Service'), first.list('Service'));
  assert.equal(second.list('Service'), second.list('Service'));
});

test('list of a kind never written is empty', () => {
  assert.deepEqual(new Store().snapshot().list('Service'), []);
});

test('subscribers hear every changing batch until they unsubscribe', () => {
  const store = new Store();
  const first: number[] = [];
  const second: number[] = [];
  const unsubscribeFirst = store.subscribe((c) => first.push(c.version));
  const unsubscribeSecond = store.subscribe((c) => second.push(c.version));

  store.apply([put(obj('Service', 'shop', 'a'))]);
  store.apply([put(obj('Service', 'shop', 'a'))]); // no change: no event
  store.apply([put(obj('Service', 'shop', 'b'))]);
  unsubscribeFirst();
  store.apply([del('Service', 'shop', 'a')]);
  unsubscribeFirst(); // a second call is harmless
  unsubscribeSecond();
  store.apply([del('Service', 'shop', 'b')]);

  assert.deepEqual(first, [1, 2]);
  assert.deepEqual(second, [1, 2, 3]);
  assert.equal(store.snapshot().version, 4);
});

test('a change event carries the state before the batch and after its last write', () => {
  const { store, events } = recordingStore();
  store.apply([put(obj('Service', 'shop', 'a', { spec: { port: 80 } }))]);
  events.length = 0;
  store.apply([put(obj('Service', 'shop', 'a', { spec: { port: 81 } })), put(obj('Service', 'shop', 'a', { spec: { port: 82 } }))]);
  assert.equal(events.length, 1);
  const [only] = events[0]?.changes ?? [];
  assert.deepEqual(only?.before?.object, obj('Service', 'shop', 'a', { spec: { port: 80 } }));
  assert.deepEqual(only?.after?.object, obj('Service', 'shop', 'a', { spec: { port: 82 } }));
  assert.equal(events[0]?.changes.length, 1);
});
