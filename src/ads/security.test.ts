/**
 * Who may open an ADS stream: mTLS with a mesh-CA-signed proxy certificate, then the
 * provider's admission; and the plaintext listener for proxyless gRPC, loopback unless forced.
 * Real gRPC over loopback, certificates minted per test file.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { identityOf } from '../catalog/index.js';
import { ResourceTypeUrl } from '../xds/proto.js';
import { AdsError } from './errors.js';
import { isLoopback, parseListenAddress } from './listen-address.js';
import { flavourOf, proxyCertificateOf } from './peer.js';
import { startAdsServer } from './server.js';
import { FakeProvider } from './testing/fake-provider.js';
import { startHarness, type Harness } from './testing/harness.js';
import { createTestPki, type TestPki } from './testing/pki.js';
import { listener, snapshotOf } from './testing/resources.js';

const UUID = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';

let pki: TestPki;
let foreign: TestPki;
before(async () => {
  [pki, foreign] = await Promise.all([createTestPki(), createTestPki()]);
});
after(() => {
  pki.close();
  foreign.close();
});

async function withHarness(body: (h: Harness) => Promise<void>, options: Parameters<typeof startHarness>[1] = {}): Promise<void> {
  const h = await startHarness(pki, options);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

test('a client certificate from another CA is refused during the TLS handshake', { timeout: 10_000 }, () =>
  withHarness(async (h) => {
    const cert = await foreign.proxyCertificate(UUID, 'bookstore', 'bookstore');
    // The client trusts our server; only its own certificate is foreign.
    const creds = credentials.createSsl(Buffer.from(pki.serverTls.caPem), Buffer.from(cert.privateKeyPem), Buffer.from(cert.certChainPem));
    const client = h.sotwWith(creds, { id: 'intruder' });
    client.subscribe(ResourceTypeUrl.listener, []);
    const ended = await client.status;
    assert.equal(ended.code, status.UNAVAILABLE);
    assert.deepEqual(h.provider.admitted, [], 'the server never saw a stream');
    assert.equal(h.server.registry.size, 0);
  }));

test('a mesh certificate that names no proxy (a workload certificate) is UNAUTHENTICATED', { timeout: 10_000 }, () =>
  withHarness(async (h) => {
    const cert = await pki.manager.issueWorkload(identityOf('bookstore', 'bookstore'));
    const client = h.sotwWith(pki.clientCredentials(cert), { id: 'workload' });
    client.subscribe(ResourceTypeUrl.listener, []);
    const ended = await client.status;
    assert.equal(ended.code, status.UNAUTHENTICATED);
    assert.match(ended.details, /E7112/);
    const refused = await h.hooks.waitFor('refused');
    assert.equal(refused.refusal.status, 'UNAUTHENTICATED');
    assert.equal(h.server.registry.counters().refusedUnauthenticated, 1);
    assert.ok(h.logs.some((l) => l.event === 'ads.stream.refused' && l.level === 'warn'));
    assert.deepEqual(h.provider.admitted, []);
  }));

test('a proxy the provider refuses is PERMISSION_DENIED, counted, and never registered', { timeout: 10_000 }, () =>
  withHarness(async (h) => {
    h.provider.refuseWith = 'no pod with osm-proxy-uuid label';
    const client = await h.sotw(UUID);
    client.subscribe(ResourceTypeUrl.listener, []);
    const ended = await client.status;
    assert.equal(ended.code, status.PERMISSION_DENIED);
    assert.match(ended.details, /no pod with osm-proxy-uuid label/);
    assert.equal(h.provider.admitted[0]?.certificate?.uuid, UUID);
    assert.equal(h.server.registry.counters().refusedPermissionDenied, 1);
    assert.equal(h.server.registry.size, 0);
    assert.deepEqual(h.provider.released, []);
  }));

test('a first request without node is INVALID_ARGUMENT', { timeout: 10_000 }, () =>
  withHarness(async (h) => {
    const cert = await pki.proxyCertificate(UUID, 'bookstore', 'bookstore');
    const client = h.sotwWith(pki.clientCredentials(cert), { id: 'x', omitNode: true });
    client.subscribe(ResourceTypeUrl.listener, []);
    assert.equal((await client.status).code, status.INVALID_ARGUMENT);
    assert.equal(h.server.registry.counters().refusedInvalid, 1);
  }));

test('the plaintext listener refuses a non-loopback address unless forced', { timeout: 10_000 }, async () => {
  const options = { provider: new FakeProvider(), address: '127.0.0.1:0', tls: pki.serverTls };
  await assert.rejects(startAdsServer({ ...options, plaintext: { address: '0.0.0.0:0' } }), (e: unknown) => e instanceof AdsError && e.code === 'E7102');
  const forced = await startAdsServer({ ...options, plaintext: { address: '0.0.0.0:0', force: true } });
  try {
    assert.match(forced.plaintextAddress ?? '', /^0\.0\.0\.0:[1-9][0-9]*$/);
  } finally {
    await forced.close();
  }
});

test('a proxyless gRPC client on the loopback plaintext listener is admitted by the provider alone', { timeout: 10_000 }, () =>
  withHarness(
    async (h) => {
      h.publish('grpc-client-1', snapshotOf([listener('echo.test', 'echo-routes')]));
      const client = h.sotwWith(credentials.createInsecure(), { id: 'grpc-client-1', userAgentName: 'gRPC Node Pure JS' }, h.server.plaintextAddress);
      client.subscribe(ResourceTypeUrl.listener, ['echo.test']);
      const lds = await client.next();
      assert.deepEqual(lds.names, ['echo.test']);
      const [admitted] = h.provider.admitted;
      assert.equal(admitted?.certificate, undefined);
      assert.equal(admitted?.flavour, 'grpc');
      assert.deepEqual(h.server.registry.list().map((s) => [s.listener, s.flavour, s.uuid]), [['plaintext', 'grpc', null]]);
    },
    { plaintext: { address: '127.0.0.1:0' } },
  ));

const addresses: { address: string; loopback: boolean }[] = [
  { address: '127.0.0.1:15128', loopback: true },
  { address: '127.8.9.10:0', loopback: true },
  { address: 'localhost:15129', loopback: true },
  { address: '[::1]:15129', loopback: true },
  { address: 'unix:/run/osm/ads.sock', loopback: true },
  { address: '0.0.0.0:15129', loopback: false },
  { address: '[::]:15129', loopback: false },
  { address: '10.0.0.7:15129', loopback: false },
  { address: 'osm-controller.osm-system:15129', loopback: false },
];
for (const c of addresses) {
  test(`listen address ${c.address} is ${c.loopback ? '' : 'not '}loopback`, () => assert.equal(isLoopback(parseListenAddress(c.address, 'address')), c.loopback));
}

for (const bad of ['15128', ':15128', '[zz]:1', 'host:99999', '127.0.0.1:']) {
  test(`listen address ${JSON.stringify(bad)} is rejected with E7101`, () =>
    assert.throws(() => parseListenAddress(bad, 'address'), (e: unknown) => e instanceof AdsError && e.code === 'E7101'));
}

const agents: [string, string][] = [['envoy', 'envoy'], ['osm-ts', 'envoy'], ['gRPC Node Pure JS', 'grpc'], ['gRPC Go', 'grpc'], ['', 'envoy']];
for (const [agent, flavour] of agents) {
  test(`user agent ${JSON.stringify(agent)} gets the ${flavour} flavour`, () => assert.equal(flavourOf(agent), flavour));
}

test('no peer certificate in the auth context is E7111', () => {
  const result = proxyCertificateOf({}, 'cluster.local');
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, 'E7111');
});
