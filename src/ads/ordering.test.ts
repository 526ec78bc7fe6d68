/**
 * Make-before-break over the wire (reference/xds.md 3.1 #11, resource-order.ts): in one push
 * additions go out SDS, CDS, EDS, LDS, RDS; a cluster that routes stop using leaves CDS only
 * after the client ACKed the routes that no longer name it. SotW, real gRPC with mTLS.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ResourceTypeUrl } from '../xds/proto.js';
import { RETAINED_VERSION_SUFFIX } from './sotw-stream.js';
import { startHarness, type Harness } from './testing/harness.js';
import { createTestPki, type TestPki } from './testing/pki.js';
import { cluster, endpoints, listener, routes, secret, snapshotOf } from './testing/resources.js';
import type { SotwClient, SotwResponse } from './testing/sotw-client.js';

const { listener: LDS, routeConfiguration: RDS, cluster: CDS, clusterLoadAssignment: EDS, secret: SDS } = ResourceTypeUrl;
const UUID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.close());

async function ack(h: Harness, client: SotwClient, response: SotwResponse): Promise<void> {
  client.ack(response);
  await h.hooks.waitFor('ack', (e) => e.nonce === response.nonce);
}

/** Subscribes to every type as Envoy would, and ACKs the initial responses. */
async function connectAndSync(h: Harness, subscriptions: [string, string[]][]): Promise<SotwClient> {
  const client = await h.sotw(UUID);
  for (const [typeUrl, names] of subscriptions) {
    client.subscribe(typeUrl, names);
    await ack(h, client, await client.next());
  }
  return client;
}

const short = new Map<string, string>([[SDS, 'SDS'], [CDS, 'CDS'], [EDS, 'EDS'], [LDS, 'LDS'], [RDS, 'RDS']]);
const kinds = (responses: SotwResponse[]) => responses.map((r) => short.get(r.typeUrl));

test('an update adding a secret, a cluster, its endpoints, a listener and a route goes out SDS, CDS, EDS, LDS, RDS', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  try {
    const before = [secret('s-a'), cluster('a'), endpoints('a'), listener('outbound-listener', 'rds-outbound.80'), routes('rds-outbound.80', 'a')];
    h.publish(UUID, snapshotOf(before));
    // Subscribed ahead to names that do not exist yet (as after an earlier change), so each type has something to send.
    const client = await connectAndSync(h, [
      [SDS, ['s-a', 's-b']],
      [CDS, []],
      [EDS, ['a', 'b']],
      [LDS, []],
      [RDS, ['rds-outbound.80']],
    ]);

    const next = [secret('s-a'), secret('s-b'), cluster('a'), cluster('b'), endpoints('a'), endpoints('b'), listener('outbound-listener', 'rds-outbound.80'), listener('inbound-listener', 'rds-inbound.80', 15003), routes('rds-outbound.80', 'b')];
    h.publish(UUID, snapshotOf(next));
    h.push();
    const wire = [await client.next(), await client.next(), await client.next(), await client.next(), await client.next()];
    assert.deepEqual(kinds(wire), ['SDS', 'CDS', 'EDS', 'LDS', 'RDS']);
    assert.deepEqual(wire.map((r) => r.names), [['s-b'], ['a', 'b'], ['b'], ['inbound-listener', 'outbound-listener'], ['rds-outbound.80']]);
    assert.deepEqual(client.check.violations, []);
  } finally {
    await h.close();
  }
});

test('a cluster the routes stop using is removed only after the new routes are ACKed', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  try {
    h.publish(UUID, snapshotOf([cluster('a'), endpoints('a'), listener('outbound-listener', 'rds-outbound.80'), routes('rds-outbound.80', 'a')]));
    const client = await connectAndSync(h, [[CDS, []], [EDS, ['a']], [LDS, []], [RDS, ['rds-outbound.80']]]);

    // One change: the route moves from a to a new cluster b, and a goes away.
    h.publish(UUID, snapshotOf([cluster('b'), endpoints('b'), listener('outbound-listener', 'rds-outbound.80'), routes('rds-outbound.80', 'b')]));
    h.push();
    const cds = await client.next();
    const rds = await client.next();
    assert.deepEqual([cds.typeUrl, cds.names], [CDS, ['a', 'b']], 'b added, a kept while routes still name it');
    assert.ok(cds.version.endsWith(RETAINED_VERSION_SUFFIX));
    assert.deepEqual([rds.typeUrl, rds.names], [RDS, ['rds-outbound.80']]);
    await ack(h, client, cds);
    const beforeRoutesAcked = h.hooks.ofKind('response').length;
    client.subscribe(EDS, ['a', 'b']);
    assert.equal((await client.next()).names.join(), 'b');
    assert.equal(h.hooks.ofKind('response').length, beforeRoutesAcked + 1, 'only the endpoints of b went out; a is still there');

    await ack(h, client, rds);
    const removal = await client.next();
    assert.deepEqual([removal.typeUrl, removal.names], [CDS, ['b']]);
    assert.ok(!removal.version.endsWith(RETAINED_VERSION_SUFFIX));
    await ack(h, client, removal);
    const status = h.server.registry.statusOf(UUID)[0]?.types.find((t) => t.type === 'CDS');
    assert.equal(status?.acked?.version, removal.version);
    assert.deepEqual(client.check.violations, []);
  } finally {
    await h.close();
  }
});

test('a removal waits while the routes that replaced it are NACKed', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  try {
    h.publish(UUID, snapshotOf([cluster('a'), cluster('b'), routes('rds-outbound.80', 'a')]));
    const client = await connectAndSync(h, [[CDS, []], [RDS, ['rds-outbound.80']]]);
    h.publish(UUID, snapshotOf([cluster('b'), routes('rds-outbound.80', 'b')]));
    h.push();
    const rds = await client.next();
    assert.equal(rds.typeUrl, RDS, 'CDS has nothing to add, and its removal waits');
    const sent = h.hooks.ofKind('response').length;
    client.nack(rds, 'route rejected');
    await h.hooks.waitFor('nack');
    assert.equal(h.hooks.ofKind('response').length, sent, 'the client still routes to a: a stays');

    const requests = h.hooks.ofKind('request').length;
    client.subscribe(RDS, ['rds-outbound.80', 'rds-outbound.81']);
    await h.hooks.waitForCount('request', requests + 1);
    assert.equal(h.hooks.ofKind('response').length, sent, 'a new name that does not exist yet sends nothing');
    h.publish(UUID, snapshotOf([cluster('b'), routes('rds-outbound.80', 'b'), routes('rds-outbound.81', 'b')]));
    h.push();
    const fixed = await client.next();
    assert.deepEqual([fixed.typeUrl, fixed.names], [RDS, ['rds-outbound.80', 'rds-outbound.81']]);
    await ack(h, client, fixed);
    const removal = await client.next();
    assert.deepEqual([removal.typeUrl, removal.names], [CDS, ['b']]);
    assert.deepEqual(client.check.violations, []);
  } finally {
    await h.close();
  }
});
