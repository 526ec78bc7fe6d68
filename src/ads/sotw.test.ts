/**
 * State-of-the-world ADS over real loopback gRPC with mTLS: a scripted client that checks the
 * protocol while it talks (testing/protocol-check.ts), a fake provider, and pushes driven by a
 * manual clock. Each test is one story: publish, connect, request, assert what went over the
 * wire. Synchronisation is by hook events (a request's responses are all written before its
 * ACK or request event resolves a waiter), never by sleeping.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ResourceTypeUrl } from '../xds/proto.js';
import type { VersionedResource } from './snapshot.js';
import { startHarness, type Harness } from './testing/harness.js';
import { createTestPki, type TestPki } from './testing/pki.js';
import { cluster, endpoints, listener, routes, secret, snapshotOf } from './testing/resources.js';
import type { SotwClient, SotwResponse } from './testing/sotw-client.js';

const { listener: LDS, routeConfiguration: RDS, cluster: CDS, clusterLoadAssignment: EDS } = ResourceTypeUrl;
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.close());

/** Runs `body` against a fresh harness, then checks every client kept to the protocol. */
async function story(body: (h: Harness, connect: () => Promise<SotwClient>) => Promise<void>): Promise<void> {
  const h = await startHarness(pki);
  const clients: SotwClient[] = [];
  try {
    await body(h, async () => {
      const client = await h.sotw(UUID);
      clients.push(client);
      return client;
    });
    for (const c of clients) assert.deepEqual(c.check.violations, [], 'protocol violations seen by the client');
  } finally {
    await h.close();
  }
}

/** ACKs and waits until the server has processed the ACK (and sent whatever it caused). */
async function ack(h: Harness, client: SotwClient, response: SotwResponse): Promise<void> {
  client.ack(response);
  await h.hooks.waitFor('ack', (e) => e.nonce === response.nonce);
}

/** Sends a request and waits until the server has processed it. */
async function request(h: Harness, send: () => void): Promise<void> {
  const seen = h.hooks.ofKind('request').length;
  send();
  await h.hooks.waitForCount('request', seen + 1);
}

function responsesSent(h: Harness): number {
  return h.hooks.ofKind('response').length;
}

function typeStatus(h: Harness, type: string) {
  const status = h.server.registry.statusOf(UUID)[0]?.types.find((t) => t.type === type);
  assert.ok(status, `no ${type} status`);
  return status;
}

const base: VersionedResource[] = [
  listener('outbound-listener', 'rds-outbound.80'),
  routes('rds-outbound.80', 'shop/api|80'),
  cluster('shop/api|80'),
  endpoints('shop/api|80'),
  secret('service-cert:shop/api'),
];

test('the first LDS request gets the full listener state, and the registry shows it', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const client = await connect();
    client.subscribe(LDS, []);
    const lds = await client.next();
    assert.deepEqual([lds.typeUrl, lds.names, lds.version], [LDS, ['outbound-listener'], snapshotOf(base).typeVersions.get(LDS)]);
    const [status] = h.server.registry.list();
    assert.deepEqual(
      { key: status?.key, identity: status?.identity, uuid: status?.uuid, flavour: status?.flavour, protocol: status?.protocol, listener: status?.listener },
      { key: UUID, identity: 'bookstore/bookstore', uuid: UUID, flavour: 'envoy', protocol: 'sotw', listener: 'mtls' },
    );
    assert.deepEqual(status?.types.map((t) => [t.type, t.sent?.nonce, t.waitingForAck, t.wildcard, t.acked]), [['LDS', lds.nonce, true, true, null]]);
  }));

test('an ACK causes no resend, nor does a change announcement that changes nothing', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const client = await connect();
    client.subscribe(CDS, []);
    const cds = await client.next();
    const sent = responsesSent(h);
    await ack(h, client, cds);
    assert.equal(responsesSent(h), sent);
    h.provider.announce([UUID]);
    h.push();
    const push = await h.hooks.waitFor('push');
    assert.equal(push.push.responses, 0);
    assert.equal(responsesSent(h), sent);
    assert.equal(typeStatus(h, 'CDS').acked?.version, cds.version);
  }));

test('a NACK keeps the last ACKed version, is logged and counted, is not re-sent, and the next change is pushed', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const client = await connect();
    client.subscribe(CDS, []);
    const good = await client.next();
    await ack(h, client, good);

    h.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== CDS), cluster('shop/api|80', 2)]));
    h.push();
    const bad = await client.next();
    assert.notEqual(bad.version, good.version);
    const sent = responsesSent(h);
    client.nack(bad, 'cluster shop/api|80: connect_timeout too long');
    await h.hooks.waitFor('nack', (e) => e.nack.nonce === bad.nonce);

    const cds = typeStatus(h, 'CDS');
    assert.equal(cds.acked?.version, good.version);
    assert.deepEqual(
      { version: cds.lastNack?.version, nonce: cds.lastNack?.nonce, clientVersion: cds.lastNack?.clientVersion, message: cds.lastNack?.message },
      { version: bad.version, nonce: bad.nonce, clientVersion: good.version, message: 'cluster shop/api|80: connect_timeout too long' },
    );
    assert.equal(h.server.registry.counters().nacks, 1);
    const logged = h.logs.find((l) => l.event === 'xds.nack');
    assert.deepEqual([logged?.level, logged?.detail, logged?.type], ['warn', 'cluster shop/api|80: connect_timeout too long', 'CDS']);

    // No loop: the NACK, an unchanged snapshot and a repeated error_detail re-send nothing.
    h.provider.announce([UUID]);
    h.push();
    await request(h, () => client.subscribe(CDS, [], { nonce: bad.nonce, errorMessage: 'cluster shop/api|80: connect_timeout too long' }));
    assert.equal(responsesSent(h), sent);
    assert.equal(h.server.registry.counters().nacks, 1);

    h.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== CDS), cluster('shop/api|80', 3)]));
    h.push();
    const fixed = await client.next();
    assert.deepEqual(fixed.names, ['shop/api|80']);
    await ack(h, client, fixed);
    assert.equal(typeStatus(h, 'CDS').acked?.version, fixed.version);
  }));

test('a subscription change with a stale nonce is honoured, after the response in flight is ACKed', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf([...base, endpoints('shop/db|5432')]));
    const client = await connect();
    client.subscribe(EDS, ['shop/api|80']);
    const first = await client.next();
    await ack(h, client, first);

    h.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== EDS), endpoints('shop/api|80', [8080, 8081]), endpoints('shop/db|5432')]));
    h.push();
    const inFlight = await client.next();
    assert.deepEqual(inFlight.names, ['shop/api|80']);
    // The client has not seen `inFlight` yet: it names the older nonce, and repeats an old error.
    const sent = responsesSent(h);
    await request(h, () => client.subscribe(EDS, ['shop/api|80', 'shop/db|5432'], { nonce: first.nonce, errorMessage: 'old complaint' }));
    assert.equal(typeStatus(h, 'EDS').subscribedNames, 2);
    assert.equal(h.server.registry.counters().nacks, 0);
    assert.equal(responsesSent(h), sent, 'one response per type in flight: the new name waits for the ACK');

    await ack(h, client, inFlight);
    const added = await client.next();
    assert.deepEqual([added.typeUrl, added.names], [EDS, ['shop/db|5432']]);
  }));

test('wildcard and named subscriptions', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    const resources = [...base, listener('inbound-listener', 'rds-inbound.8080', 15003), cluster('shop/db|5432')];
    h.publish(UUID, snapshotOf(resources));
    const client = await connect();

    client.subscribe(LDS, []);
    const lds = await client.next();
    assert.deepEqual(lds.names, ['inbound-listener', 'outbound-listener'], 'legacy wildcard: every listener');
    await ack(h, client, lds);

    client.subscribe(CDS, ['shop/db|5432']);
    const named = await client.next();
    assert.deepEqual(named.names, ['shop/db|5432'], 'named: only that cluster');
    await ack(h, client, named);

    client.subscribe(CDS, ['*', 'shop/db|5432']);
    const both = await client.next();
    assert.deepEqual(both.names, ['shop/api|80', 'shop/db|5432'], 'explicit wildcard mixed with a name');
    await ack(h, client, both);

    // Dropping `*` unsubscribes from the wildcard; the client now ignores shop/api|80.
    await request(h, () => client.subscribe(CDS, ['shop/db|5432']));
    h.publish(UUID, snapshotOf([...resources.filter((r) => r.name !== 'shop/api|80' || r.typeUrl !== CDS), cluster('shop/api|80', 9)]));
    h.push();
    assert.equal((await h.hooks.waitForCount('push', 1), h.hooks.ofKind('push')[0]?.push.responses), 0, 'a change to an unsubscribed cluster is not sent');

    // Once a client has named listeners, an empty list means no interest, not the wildcard.
    await request(h, () => client.subscribe(LDS, ['outbound-listener']));
    await request(h, () => client.subscribe(LDS, []));
    assert.deepEqual([typeStatus(h, 'LDS').wildcard, typeStatus(h, 'LDS').subscribedNames], [false, 0]);
    h.publish(UUID, snapshotOf([...resources.filter((r) => r.typeUrl !== LDS), listener('outbound-listener', 'rds-outbound.81')]));
    h.push();
    assert.equal((await h.hooks.waitForCount('push', 2), h.hooks.ofKind('push')[1]?.push.responses), 0, 'no interest, no listeners');
  }));

test('LDS and CDS carry the full subscribed state; RDS and EDS only what changed', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    const two = [...base, cluster('shop/db|5432'), endpoints('shop/db|5432')];
    h.publish(UUID, snapshotOf(two));
    const client = await connect();
    client.subscribe(CDS, []);
    await ack(h, client, await client.next());
    client.subscribe(EDS, ['shop/api|80', 'shop/db|5432']);
    const eds = await client.next();
    assert.deepEqual(eds.names, ['shop/api|80', 'shop/db|5432']);
    await ack(h, client, eds);

    h.publish(UUID, snapshotOf([...two.filter((r) => r.name !== 'shop/db|5432'), cluster('shop/db|5432', 5), endpoints('shop/db|5432', [5433])]));
    h.push();
    const cds = await client.next();
    const edsChange = await client.next();
    assert.deepEqual([cds.typeUrl, cds.names], [CDS, ['shop/api|80', 'shop/db|5432']]);
    assert.deepEqual([edsChange.typeUrl, edsChange.names], [EDS, ['shop/db|5432']]);
  }));

test('a requested name that does not exist is pushed when it appears', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const client = await connect();
    client.subscribe(EDS, ['shop/api|80', 'shop/db|5432']);
    const eds = await client.next();
    assert.deepEqual(eds.names, ['shop/api|80']);
    await ack(h, client, eds);
    const sent = responsesSent(h);
    await request(h, () => client.subscribe(RDS, ['rds-inbound.8080']));
    assert.equal(responsesSent(h), sent, 'nothing to say about a missing route configuration');

    h.publish(UUID, snapshotOf([...base, endpoints('shop/db|5432'), routes('rds-inbound.8080', 'shop/db|5432')]));
    h.push();
    const appeared = [await client.next(), await client.next()];
    assert.deepEqual(appeared.map((r) => [r.typeUrl, r.names]), [[EDS, ['shop/db|5432']], [RDS, ['rds-inbound.8080']]]);
  }));

test('a proxy reconnecting with its last version is answered, with the same version and bytes', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const first = await connect();
    first.subscribe(LDS, []);
    const lds = await first.next();
    await ack(h, first, lds);
    first.close();
    await h.hooks.waitFor('close');
    assert.equal(h.server.registry.size, 0);
    assert.deepEqual(h.provider.released, [UUID]);

    const second = await connect();
    second.subscribe(LDS, [], { version: lds.version });
    const again = await second.next();
    assert.equal(again.version, lds.version);
    assert.deepEqual(again.message.resources.map((a) => a.value), lds.message.resources.map((a) => a.value));
    assert.equal(h.server.registry.statusOf(UUID).length, 1);
  }));

test('a name requested again is sent again, even unchanged', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const client = await connect();
    client.subscribe(RDS, ['rds-outbound.80']);
    const first = await client.next();
    await ack(h, client, first);
    await request(h, () => client.subscribe(RDS, []));
    client.subscribe(RDS, ['rds-outbound.80']);
    const again = await client.next();
    assert.deepEqual([again.names, again.version], [['rds-outbound.80'], first.version]);
    await ack(h, client, again);

    // Held through the wildcard, then named: a new request for it all the same.
    client.subscribe(EDS, ['*']);
    await ack(h, client, await client.next());
    client.subscribe(EDS, ['shop/api|80']);
    assert.deepEqual((await client.next()).names, ['shop/api|80']);
  }));

test('a proxy that vanishes is unregistered and released; closing the server ends streams with UNAVAILABLE', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    h.publish(UUID, snapshotOf(base));
    const gone = await connect();
    gone.subscribe(LDS, []);
    await gone.next();
    gone.cancel();
    const closed = await h.hooks.waitFor('close');
    assert.equal(closed.stream.key, UUID);
    assert.deepEqual([h.server.registry.size, h.provider.released], [0, [UUID]]);

    const stays = await connect();
    stays.subscribe(LDS, []);
    await stays.next();
    await h.server.close();
    const ended = await stays.status;
    assert.equal(ended.code, status.UNAVAILABLE);
    assert.deepEqual([h.server.registry.size, h.provider.released], [0, [UUID, UUID]]);
    assert.deepEqual(h.server.registry.counters().streamsOpened, 2);
  }));

test('a proxy that connects before its snapshot exists is answered when the snapshot is published, not before', { timeout: 10_000 }, () =>
  story(async (h, connect) => {
    const client = await connect();
    await request(h, () => client.subscribe(LDS, []));
    assert.equal(responsesSent(h), 0, 'an empty LDS answer would delete every listener of a reconnecting proxy');
    h.publish(UUID, snapshotOf(base));
    h.push();
    const lds = await client.next();
    assert.deepEqual(lds.names, ['outbound-listener']);
  }));
