/**
 * Incremental ADS over real loopback gRPC with mTLS: subscribe and unsubscribe, per-resource
 * versions, `removed_resources`, `initial_resource_versions`, the wildcard, ACK/NACK by nonce,
 * and make-before-break removals. The scripted client keeps its own view of what it holds and
 * checks the protocol while it talks.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ResourceTypeUrl } from '../xds/proto.js';
import type { VersionedResource } from './snapshot.js';
import type { DeltaClient, DeltaResponse } from './testing/delta-client.js';
import { startHarness, type Harness } from './testing/harness.js';
import { createTestPki, type TestPki } from './testing/pki.js';
import { cluster, endpoints, listener, routes, snapshotOf } from './testing/resources.js';

const { routeConfiguration: RDS, cluster: CDS, clusterLoadAssignment: EDS, listener: LDS } = ResourceTypeUrl;
const UUID = '9b2e4c5d-1a3f-4e6b-8c7d-0e1f2a3b4c5d';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.close());

async function story(body: (h: Harness, client: DeltaClient) => Promise<void>): Promise<void> {
  const h = await startHarness(pki);
  try {
    const client = await h.delta(UUID);
    await body(h, client);
    assert.deepEqual(client.check.violations, [], 'protocol violations seen by the client');
  } finally {
    await h.close();
  }
}

async function ack(h: Harness, client: DeltaClient, response: DeltaResponse): Promise<void> {
  client.ack(response);
  await h.hooks.waitFor('ack', (e) => e.nonce === response.nonce);
}

async function request(h: Harness, send: () => void): Promise<void> {
  const seen = h.hooks.ofKind('request').length;
  send();
  await h.hooks.waitForCount('request', seen + 1);
}

const responses = (h: Harness) => h.hooks.ofKind('response').length;
const versionsOf = (resources: VersionedResource[]) => new Map(resources.map((r) => [r.name, r.version]));
const ab = [endpoints('a'), endpoints('b')];

test('subscribe gets each resource with its own version; an ACK sends nothing more', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf(ab));
    client.request(EDS, { subscribe: ['a', 'b'] });
    const first = await client.next();
    assert.deepEqual(first.resources, versionsOf(ab));
    assert.deepEqual(first.removed, []);
    assert.equal(first.message.systemVersionInfo, snapshotOf(ab).typeVersions.get(EDS));
    const sent = responses(h);
    await ack(h, client, first);
    assert.equal(responses(h), sent);
    assert.deepEqual(client.held(EDS), versionsOf(ab));
  }));

test('unsubscribing needs no answer, and later changes to the name are not sent', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf(ab));
    client.request(EDS, { subscribe: ['a', 'b'] });
    await ack(h, client, await client.next());
    const sent = responses(h);
    await request(h, () => client.request(EDS, { unsubscribe: ['b', 'never-subscribed'] }));
    assert.equal(responses(h), sent, 'no answer to an unsubscribe, phantom names tolerated');

    h.publish(UUID, snapshotOf([endpoints('a', [9090]), endpoints('b', [9090])]));
    h.push();
    const change = await client.next();
    assert.deepEqual([...change.resources.keys()], ['a']);
    assert.deepEqual(change.removed, []);
  }));

test('initial_resource_versions: what the client holds at the current version is not resent; what is gone is removed', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    const now = [cluster('a'), cluster('b', 2), cluster('c')];
    h.publish(UUID, snapshotOf(now));
    const held = { a: cluster('a').version, b: cluster('b', 1).version, gone: cluster('gone').version };
    client.request(CDS, { subscribe: ['*'], initialResourceVersions: held });
    const first = await client.next();
    assert.deepEqual(first.resources, new Map([['b', cluster('b', 2).version], ['c', cluster('c').version]]));
    assert.deepEqual(first.removed, ['gone']);
    await ack(h, client, first);
    assert.deepEqual(client.held(CDS), versionsOf(now));
  }));

test('a subscribed name that does not exist is reported removed once, and sent when it appears', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf([routes('r1', 'a')]));
    client.request(RDS, { subscribe: ['r1', 'r2'] });
    const first = await client.next();
    assert.deepEqual([[...first.resources.keys()], first.removed], [['r1'], ['r2']]);
    await ack(h, client, first);

    h.publish(UUID, snapshotOf([routes('r1', 'b')]));
    h.push();
    const change = await client.next();
    assert.deepEqual([[...change.resources.keys()], change.removed], [['r1'], []], 'r2 is not reported again');
    await ack(h, client, change);

    h.publish(UUID, snapshotOf([routes('r1', 'b'), routes('r2', 'a')]));
    h.push();
    const appeared = await client.next();
    assert.deepEqual([[...appeared.resources.keys()], appeared.removed], [['r2'], []]);
  }));

test('wildcard: deletions are removed; an explicit name unsubscribed under the wildcard is sent again', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf([cluster('a'), cluster('b')]));
    client.request(CDS, {});
    const first = await client.next();
    assert.deepEqual([...first.resources.keys()], ['a', 'b'], 'an empty first CDS request is the legacy wildcard');
    await ack(h, client, first);

    h.publish(UUID, snapshotOf([cluster('a')]));
    h.push();
    const deletion = await client.next();
    assert.deepEqual([[...deletion.resources.keys()], deletion.removed], [[], ['b']]);
    await ack(h, client, deletion);

    await request(h, () => client.request(CDS, { subscribe: ['a'] }));
    const explicit = await client.next();
    assert.deepEqual([...explicit.resources.keys()], ['a'], 'subscribing to a held name sends it again');
    await ack(h, client, explicit);
    client.request(CDS, { unsubscribe: ['a'] });
    const again = await client.next();
    assert.deepEqual([...again.resources.keys()], ['a'], 'still covered by the wildcard');
  }));

test('a NACK keeps the last ACKed version and is not re-sent; the next change is pushed', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf(ab));
    client.request(EDS, { subscribe: ['a', 'b'] });
    const good = await client.next();
    await ack(h, client, good);
    h.publish(UUID, snapshotOf([endpoints('a', [1]), endpoints('b')]));
    h.push();
    const bad = await client.next();
    const sent = responses(h);
    client.nack(bad, 'endpoint port 1 is reserved');
    await h.hooks.waitFor('nack');
    const eds = h.server.registry.statusOf(UUID)[0]?.types.find((t) => t.type === 'EDS');
    assert.deepEqual([eds?.acked?.version, eds?.lastNack?.version, eds?.lastNack?.message], [good.message.systemVersionInfo, bad.message.systemVersionInfo, 'endpoint port 1 is reserved']);

    h.provider.announce([UUID]);
    h.push();
    assert.equal(responses(h), sent, 'the rejected version is not sent again');

    h.publish(UUID, snapshotOf([endpoints('a', [2]), endpoints('b')]));
    h.push();
    const fixed = await client.next();
    assert.deepEqual([...fixed.resources.keys()], ['a']);
    assert.equal(fixed.resources.get('a'), endpoints('a', [2]).version);
  }));

test('make-before-break: a deleted cluster and its endpoints are removed after the routes that used them are ACKed', { timeout: 10_000 }, () =>
  story(async (h, client) => {
    h.publish(UUID, snapshotOf([cluster('a'), cluster('b'), endpoints('a'), endpoints('b'), listener('l', 'r'), routes('r', 'a')]));
    for (const [typeUrl, subscribe] of [[CDS, ['*']], [EDS, ['a', 'b']], [LDS, ['*']], [RDS, ['r']]] as const) {
      client.request(typeUrl, { subscribe: [...subscribe] });
      await ack(h, client, await client.next());
    }
    h.publish(UUID, snapshotOf([cluster('b'), endpoints('b'), listener('l', 'r'), routes('r', 'b')]));
    h.push();
    const rds = await client.next();
    assert.deepEqual([rds.typeUrl, [...rds.resources.keys()]], [RDS, ['r']], 'nothing is removed before the routes move');
    await ack(h, client, rds);
    const cds = await client.next();
    assert.deepEqual([cds.typeUrl, cds.removed], [CDS, ['a']]);
    await ack(h, client, cds);
    const eds = await client.next();
    assert.deepEqual([eds.typeUrl, eds.removed], [EDS, ['a']], 'endpoints go after their cluster (and are reported, a was subscribed)');
  }));
