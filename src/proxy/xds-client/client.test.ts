/**
 * The sidecar's ADS client against our real ADS server (fake provider, real mTLS certificates
 * minted per file). Each test is a story: publish, start the client, change the snapshot,
 * assert what the client published and what the server recorded. Synchronisation is by
 * client events and server hooks with deadlines; back-off runs on a manual clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { VersionedResource } from '../../ads/index.js';
import { startHarness, type Harness } from '../../ads/testing/harness.js';
import { ManualClock } from '../../ads/testing/manual-clock.js';
import { createTestPki, type TestPki } from '../../ads/testing/pki.js';
import { cluster, endpoints, listener, routes, snapshotOf } from '../../ads/testing/resources.js';
import { AnySchema, Cluster_DiscoveryType, ClusterSchema, create, ListenerSchema, packAny, ResourceTypeUrl } from '../../xds/proto.js';
import type { ProxyConfig } from '../config/index.js';
import { XdsClient, type XdsClientEvent } from './index.js';

const { listener: LDS, cluster: CDS } = ResourceTypeUrl;
const UUID = '6e1c7f3a-2b7d-4c0e-9a51-0d3f5e2a8b11';

const base: VersionedResource[] = [
  listener('outbound-listener', 'rds-outbound.80'),
  routes('rds-outbound.80', 'shop/api|80'),
  cluster('shop/api|80'),
  endpoints('shop/api|80'),
];

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});
after(() => pki.close());

/** Client events in order, with a way to wait for one (from a mark) instead of sleeping. */
class EventLog {
  readonly events: XdsClientEvent[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(client: XdsClient) {
    client.onEvent((e) => {
      this.events.push(e);
      for (const wake of [...this.#waiters]) wake();
    });
  }

  /** The index of the next event, to wait for something that happens after now. */
  mark(): number {
    return this.events.length;
  }

  waitFor<K extends XdsClientEvent['kind']>(kind: K, predicate: (e: Extract<XdsClientEvent, { kind: K }>) => boolean = () => true, from = 0, timeoutMs = 5_000): Promise<Extract<XdsClientEvent, { kind: K }>> {
    const find = () => this.events.slice(from).find((e): e is Extract<XdsClientEvent, { kind: K }> => e.kind === kind && predicate(e as Extract<XdsClientEvent, { kind: K }>));
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found === undefined) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${kind} client event within ${timeoutMs} ms; saw ${this.events.slice(from).map((e) => e.kind).join(', ')}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

async function connect(h: Harness, clock: ManualClock, address = h.server.address, protocol: 'sotw' | 'delta' = 'sotw'): Promise<{ client: XdsClient; log: EventLog }> {
  const cert = await pki.proxyCertificate(UUID, 'bookstore', 'bookstore');
  const client = new XdsClient({
    address,
    serverName: 'ads.cluster.local',
    tls: { certificateChainPem: Buffer.from(cert.certChainPem), privateKeyPem: Buffer.from(cert.privateKeyPem), caPem: Buffer.from(pki.manager.rootCertificatePem()) },
    node: { id: `sidecar~${UUID}`, cluster: 'bookstore.bookstore' },
    backoff: { initialMs: 100, maxMs: 1_000 },
    timer: clock,
    random: () => 1,
    protocol,
  });
  // Listen before connecting: the first requests are written (and reported) synchronously.
  const log = new EventLog(client);
  client.connect();
  return { client, log };
}

function typeStatus(h: Harness, type: string) {
  const status = h.server.registry.statusOf(UUID)[0]?.types.find((t) => t.type === type);
  assert.ok(status, `no ${type} status`);
  return status;
}

/** Every EDS cluster in a published config has its endpoints: the client never publishes half a set. */
function assertComplete(config: ProxyConfig): void {
  for (const c of config.clusters.values()) assert.ok(config.endpoints.has(c.name), `cluster ${c.name} published without endpoints`);
}

test('the first complete config is published and the client becomes ready', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf(base));
  const { client, log } = await connect(h, new ManualClock());
  try {
    assert.equal(client.ready, false);
    const seen: ProxyConfig[] = [];
    const stop = client.onConfig((c) => seen.push(c));
    const { config } = await log.waitFor('config');
    assert.equal(client.ready, true);
    assert.equal(client.config, config);
    assert.deepEqual([...config.listeners.keys(), ...config.routeConfigs.keys(), ...config.clusters.keys(), ...config.endpoints.keys()], ['outbound-listener', 'rds-outbound.80', 'shop/api|80', 'shop/api|80']);
    assert.deepEqual(seen, [config]);
    assert.ok(log.events.every((e) => e.kind !== 'config' || e.config.listeners.size > 0), 'no config is published before LDS has answered');
    const opening = log.events.filter((e) => e.kind === 'request').slice(0, 2).map((e) => e.kind === 'request' && [e.typeUrl, e.names.length]);
    assert.deepEqual(opening, [[CDS, 0], [LDS, 0]], 'CDS then LDS, both by (legacy) wildcard');
    assert.ok(Object.isFrozen(config));
    // The route name came from the accepted listener, the EDS name from the accepted cluster.
    // (later requests of a type, its ACKs, repeat the same names)
    const named = log.events.filter((e) => e.kind === 'request' && e.names.length > 0 && e.nonce === '').map((e) => e.kind === 'request' && [e.typeUrl, e.names]);
    assert.deepEqual(named, [
      [ResourceTypeUrl.clusterLoadAssignment, ['shop/api|80']],
      [ResourceTypeUrl.routeConfiguration, ['rds-outbound.80']],
    ]);
    stop();
    assert.equal(typeStatus(h, 'CDS').acked?.version, h.provider.snapshotFor(UUID)?.typeVersions.get(CDS));
  } finally {
    client.close();
    await h.close();
  }
});

test('an invalid listener is NACKed with its field path and the previous config stays current', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf(base));
  const { client, log } = await connect(h, new ManualClock());
  try {
    const { config: good } = await log.waitFor('config');
    const goodLds = typeStatus(h, 'LDS').acked?.version;

    const mongo = create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy', value: new Uint8Array() });
    const bad = create(ListenerSchema, {
      name: 'outbound-listener',
      address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } } } },
      filterChains: [{ filters: [{ name: 'mongo', configType: { case: 'typedConfig', value: mongo } }] }],
    });
    const badResource: VersionedResource = { name: 'outbound-listener', typeUrl: LDS, version: 'bad', resource: packAny(ListenerSchema, bad) };
    h.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== LDS), badResource]));
    h.push();
    const nack = await h.hooks.waitFor('nack', (e) => e.nack.typeUrl === LDS);

    const want = 'Listener outbound-listener: filter_chains[0].filters[0].typed_config: the network filter type envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy is not supported by the sidecar';
    const lds = typeStatus(h, 'LDS');
    assert.equal(lds.lastNack?.message, want);
    assert.equal(lds.lastNack?.clientVersion, goodLds, 'a NACK carries the last accepted version');
    assert.equal(lds.lastNack?.nonce, nack.nack.nonce);
    assert.equal(client.config, good);
    assert.equal(log.events.filter((e) => e.kind === 'config').length, 1);
  } finally {
    client.close();
    await h.close();
  }
});

test('a new cluster is subscribed to by EDS and its endpoints arrive before the new config is published', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf(base));
  const { client, log } = await connect(h, new ManualClock());
  try {
    await log.waitFor('config');
    client.onConfig(assertComplete);
    const mark = log.mark();
    h.publish(UUID, snapshotOf([...base, cluster('shop/books|80'), endpoints('shop/books|80', [9090])]));
    h.push();
    const { config } = await log.waitFor('config', () => true, mark);
    assertComplete(config);
    assert.deepEqual([...config.clusters.keys()], ['shop/api|80', 'shop/books|80']);
    const after = log.events.slice(mark);
    const edsRequest = after.findIndex((e) => e.kind === 'request' && e.typeUrl === ResourceTypeUrl.clusterLoadAssignment && e.names.includes('shop/books|80'));
    const published = after.findIndex((e) => e.kind === 'config');
    assert.ok(edsRequest >= 0 && edsRequest < published, 'EDS for the new cluster was requested before the config was published');
    assert.ok(after.some((e) => e.kind === 'incomplete' && e.missing.some((m) => m.name === 'shop/books|80')), 'the half set (cluster without endpoints) was held back');
  } finally {
    client.close();
    await h.close();
  }
});

test('the last config stays current while the server is away; the client reconnects and resyncs from its versions', { timeout: 15_000 }, async () => {
  const first = await startHarness(pki);
  first.publish(UUID, snapshotOf(base));
  const clock = new ManualClock();
  const { client, log } = await connect(first, clock);
  let second: Harness | undefined;
  try {
    const { config } = await log.waitFor('config');
    const versions = { lds: typeStatus(first, 'LDS').acked?.version, cds: typeStatus(first, 'CDS').acked?.version };
    const address = first.server.address;

    const down = log.mark();
    await first.close();
    const gone = await log.waitFor('disconnected', () => true, down);
    assert.equal(gone.retryInMs, 100);
    assert.equal(clock.nextDueInMs(), 100);
    assert.equal(client.config, config);
    assert.equal(client.ready, true);

    second = await startHarness(pki, { address });
    second.publish(UUID, snapshotOf(base));
    const back = log.mark();
    clock.advance(100);
    await second.hooks.waitFor('ack', (e) => e.typeUrl === ResourceTypeUrl.routeConfiguration);
    const firstRequests = new Map<string, string>();
    for (const e of log.events.slice(back)) if (e.kind === 'request' && !firstRequests.has(e.typeUrl)) firstRequests.set(e.typeUrl, e.versionInfo);
    assert.equal(firstRequests.get(LDS), versions.lds, 'the first LDS request carries the last accepted version');
    assert.equal(firstRequests.get(CDS), versions.cds, 'the first CDS request carries the last accepted version');
    assert.equal(client.config, config, 'the same resources again publish nothing');

    const change = log.mark();
    second.publish(UUID, snapshotOf([...base.filter((r) => r.name !== 'shop/api|80' || r.typeUrl !== ResourceTypeUrl.clusterLoadAssignment), endpoints('shop/api|80', [8080, 8081])]));
    second.push();
    const { config: next } = await log.waitFor('config', () => true, change);
    assert.equal(next.endpoints.get('shop/api|80')?.localities[0]?.endpoints.length, 2);
  } finally {
    client.close();
    await second?.close();
  }
});

test('delta: after a reconnect the first requests carry the versions held, and the config stays current', { timeout: 15_000 }, async () => {
  const first = await startHarness(pki);
  first.publish(UUID, snapshotOf(base));
  const clock = new ManualClock();
  const { client, log } = await connect(first, clock, first.server.address, 'delta');
  let second: Harness | undefined;
  try {
    const { config } = await log.waitFor('config');
    const address = first.server.address;
    const down = log.mark();
    await first.close();
    await log.waitFor('disconnected', () => true, down);
    assert.equal(client.config, config, 'the last config keeps serving');

    second = await startHarness(pki, { address });
    second.publish(UUID, snapshotOf(base));
    const back = log.mark();
    clock.advance(100);
    // The server knows what the client holds, so nothing unchanged is sent again: wait for the client's opening requests.
    await log.waitFor('request', (e) => e.typeUrl === ResourceTypeUrl.routeConfiguration, back);
    const firstRequests = new Map<string, Readonly<Record<string, string>>>();
    for (const e of log.events.slice(back)) if (e.kind === 'request' && !firstRequests.has(e.typeUrl)) firstRequests.set(e.typeUrl, e.initialResourceVersions ?? {});
    const versionOf = (r: VersionedResource) => r.version;
    assert.deepEqual(firstRequests.get(LDS), { 'outbound-listener': versionOf(base[0]!) });
    assert.deepEqual(firstRequests.get(CDS), { 'shop/api|80': versionOf(base[2]!) });
    assert.deepEqual(firstRequests.get(ResourceTypeUrl.clusterLoadAssignment), { 'shop/api|80': versionOf(base[3]!) });
    assert.equal(client.config, config, 'the same resources again publish nothing');

    const change = log.mark();
    second.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== ResourceTypeUrl.clusterLoadAssignment), endpoints('shop/api|80', [8080, 8081])]));
    second.push();
    const { config: next } = await log.waitFor('config', () => true, change);
    assert.equal(next.endpoints.get('shop/api|80')?.localities[0]?.endpoints.length, 2);
  } finally {
    client.close();
    await second?.close();
  }
});

test('with only static clusters, no config is published before LDS has answered', { timeout: 10_000 }, async () => {
  // A static cluster needs no EDS, so the CDS response alone would assemble into a complete but listener-less config.
  const staticCluster = create(ClusterSchema, {
    name: 'shop/api|80',
    connectTimeout: { seconds: 1n },
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    loadAssignment: {
      clusterName: 'shop/api|80',
      endpoints: [{ lbEndpoints: [{ hostIdentifier: { case: 'endpoint', value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: 8080 } } } } } } }] }],
    },
  });
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf([listener('outbound-listener', 'rds-outbound.80'), routes('rds-outbound.80', 'shop/api|80'), { name: 'shop/api|80', typeUrl: CDS, version: 'static-1', resource: packAny(ClusterSchema, staticCluster) }]));
  const { client, log } = await connect(h, new ManualClock());
  try {
    const { config } = await log.waitFor('config');
    assert.deepEqual([...config.listeners.keys()], ['outbound-listener'], 'the first config already has the listener');
    assert.ok(client.ready);
  } finally {
    client.close();
    await h.close();
  }
});

function badListener(): VersionedResource {
  const mongo = create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy', value: new Uint8Array() });
  const bad = create(ListenerSchema, {
    name: 'outbound-listener',
    address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } } } },
    filterChains: [{ filters: [{ name: 'mongo', configType: { case: 'typedConfig', value: mongo } }] }],
  });
  return { name: 'outbound-listener', typeUrl: LDS, version: 'bad', resource: packAny(ListenerSchema, bad) };
}

test('delta: the first complete config is published from wildcard and named subscriptions', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf(base));
  const { client, log } = await connect(h, new ManualClock(), h.server.address, 'delta');
  try {
    const { config } = await log.waitFor('config');
    assert.equal(client.ready, true);
    assert.equal(client.config, config);
    assert.deepEqual([...config.listeners.keys(), ...config.routeConfigs.keys(), ...config.clusters.keys(), ...config.endpoints.keys()], ['outbound-listener', 'rds-outbound.80', 'shop/api|80', 'shop/api|80']);
    const subscribes = log.events.filter((e) => e.kind === 'request' && (e.subscribe?.length ?? 0) > 0).map((e) => e.kind === 'request' && [e.typeUrl, e.subscribe, e.nonce]);
    assert.deepEqual(subscribes, [
      [CDS, ['*'], ''],
      [LDS, ['*'], ''],
      [ResourceTypeUrl.clusterLoadAssignment, ['shop/api|80'], ''],
      [ResourceTypeUrl.routeConfiguration, ['rds-outbound.80'], ''],
    ]);
    // Every response was ACKed by its nonce, with no version.
    const responses = log.events.filter((e) => e.kind === 'response').map((e) => e.kind === 'response' && e.nonce);
    const acks = log.events.filter((e) => e.kind === 'request' && e.nonce !== '').map((e) => e.kind === 'request' && [e.nonce, e.versionInfo, e.errorDetail]);
    assert.deepEqual(acks, responses.map((n) => [n, '', undefined]));
    await h.hooks.waitFor('ack', (e) => e.typeUrl === ResourceTypeUrl.routeConfiguration);
    assert.equal(typeStatus(h, 'CDS').acked?.version, h.provider.snapshotFor(UUID)?.typeVersions.get(CDS));
  } finally {
    client.close();
    await h.close();
  }
});

test('delta: an invalid listener is NACKed by nonce and the previous config stays current', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf(base));
  const { client, log } = await connect(h, new ManualClock(), h.server.address, 'delta');
  try {
    const { config: good } = await log.waitFor('config');
    const mark = log.mark();
    h.publish(UUID, snapshotOf([...base.filter((r) => r.typeUrl !== LDS), badListener()]));
    h.push();
    const nack = await h.hooks.waitFor('nack', (e) => e.nack.typeUrl === LDS);

    const want = 'Listener outbound-listener: filter_chains[0].filters[0].typed_config: the network filter type envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy is not supported by the sidecar';
    const lds = typeStatus(h, 'LDS');
    assert.equal(lds.lastNack?.message, want);
    assert.equal(lds.lastNack?.nonce, nack.nack.nonce);
    const sent = log.events.slice(mark).find((e) => e.kind === 'request' && e.errorDetail !== undefined);
    assert.ok(sent?.kind === 'request');
    assert.equal(sent.nonce, nack.nack.nonce);
    assert.equal(sent.versionInfo, '');
    assert.equal(client.config, good);
    assert.equal(log.events.filter((e) => e.kind === 'config').length, 1);
  } finally {
    client.close();
    await h.close();
  }
});

test('delta: a removed cluster disappears from the published config and its endpoints are unsubscribed', { timeout: 10_000 }, async () => {
  const h = await startHarness(pki);
  h.publish(UUID, snapshotOf([...base, cluster('shop/books|80'), endpoints('shop/books|80', [9090])]));
  const { client, log } = await connect(h, new ManualClock(), h.server.address, 'delta');
  try {
    const { config: both } = await log.waitFor('config', (e) => e.config.endpoints.has('shop/books|80'));
    assert.deepEqual([...both.clusters.keys()], ['shop/api|80', 'shop/books|80']);
    const mark = log.mark();
    h.publish(UUID, snapshotOf(base));
    h.push();
    const { config } = await log.waitFor('config', () => true, mark);
    assert.deepEqual([...config.clusters.keys()], ['shop/api|80']);
    assert.deepEqual([...config.endpoints.keys()], ['shop/api|80']);
    const unsubscribed = log.events.slice(mark).find((e) => e.kind === 'request' && e.typeUrl === ResourceTypeUrl.clusterLoadAssignment && (e.unsubscribe?.length ?? 0) > 0);
    assert.ok(unsubscribed?.kind === 'request');
    assert.deepEqual(unsubscribed.unsubscribe, ['shop/books|80']);
  } finally {
    client.close();
    await h.close();
  }
});
