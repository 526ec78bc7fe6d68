/**
 * The sidecar in-process against our real ADS server with scripted snapshots: traffic flows
 * through an explicit listener, a malformed resource is NACKed while the last good config
 * keeps serving, and the admin port answers.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startHarness } from '../ads/testing/harness.js';
import { createTestPki, type TestPki } from '../ads/testing/pki.js';
import { cluster, endpoints, listener, routes, snapshotOf } from '../ads/testing/resources.js';
import { createLogger, type LogFields } from '../lib/logging.js';
import { AnySchema, create, ListenerSchema, packAny, ResourceTypeUrl } from '../xds/proto.js';
import { startSidecar } from './sidecar.js';

const UUID = '7e1c7f3a-2b7d-4c0e-9a51-0d3f5e2a8b12';
const ENTRY = { address: '127.0.30.1', port: 0 };

let pki: TestPki;
let app: Server;
let appPort: number;
before(async () => {
  pki = await createTestPki();
  app = createServer((req, res) => res.end(`app saw ${req.url}`));
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appPort = (app.address() as AddressInfo).port;
});
after(() => {
  pki.close();
  app.close();
});

/** A free port on the entry address (explicit listeners need a fixed one). */
async function freePort(host: string): Promise<number> {
  const s = createServer();
  s.listen(0, host);
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

test('a malformed listener is NACKed while the last good config keeps serving', { timeout: 30_000 }, async () => {
  const h = await startHarness(pki);
  let harnessOpen = true;
  const good = [listener('outbound-listener', 'rds-outbound.80'), routes('rds-outbound.80', 'shop/api|80'), cluster('shop/api|80'), endpoints('shop/api|80', [appPort])];
  h.publish(UUID, snapshotOf(good));
  const cert = await pki.proxyCertificate(UUID, 'shop', 'web');
  const logs: LogFields[] = [];
  const logger = createLogger('proxy', { level: 'info', sink: { write: (line) => logs.push(JSON.parse(line) as LogFields), now: () => new Date() } });
  const port = await freePort(ENTRY.address);
  const sidecar = await startSidecar({
    bootstrap: {
      node: { id: `sidecar~${UUID}`, cluster: 'web.shop', metadata: { namespace: 'shop', serviceAccount: 'web' } },
      ads: { address: h.server.address, serverName: 'ads.cluster.local', certificateChainPem: Buffer.from(cert.certChainPem), privateKeyPem: Buffer.from(cert.privateKeyPem), caPem: Buffer.from(pki.manager.rootCertificatePem()) },
      admin: { address: '127.0.0.1', port: 0 },
    },
    logger,
    explicit: new Map([['outbound-listener', [{ bind: { address: ENTRY.address, port } }]]]),
    accessLog: () => undefined,
  });
  try {
    const admin = `http://127.0.0.1:${sidecar.adminAddress.port}`;
    assert.equal((await fetch(`${admin}/ready`)).status, 503, 'not ready before the first config');
    await sidecar.ready;
    assert.equal((await fetch(`${admin}/ready`)).status, 200);
    const call = async () => {
      const res = await fetch(`http://${ENTRY.address}:${port}/books`, { headers: { host: 'api.shop' } });
      return `${res.status} ${await res.text()}`;
    };
    assert.equal(await call(), '200 app saw /books');

    const mongo = create(AnySchema, { typeUrl: 'type.googleapis.com/envoy.extensions.filters.network.mongo_proxy.v3.MongoProxy', value: new Uint8Array() });
    const bad = create(ListenerSchema, {
      name: 'outbound-listener',
      address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 15001 } } } },
      filterChains: [{ filters: [{ name: 'mongo', configType: { case: 'typedConfig', value: mongo } }] }],
    });
    h.publish(UUID, snapshotOf([{ name: 'outbound-listener', typeUrl: ResourceTypeUrl.listener, version: 'bad', resource: packAny(ListenerSchema, bad) }, ...good.slice(1)]));
    h.push();
    const deadline = Date.now() + 10_000;
    while (!logs.some((l) => l.event === 'xds_nack') && Date.now() < deadline) {
      assert.equal(await call(), '200 app saw /books', 'traffic keeps flowing while the bad listener is refused');
      await new Promise((r) => setTimeout(r, 50));
    }
    const nack = logs.find((l) => l.event === 'xds_nack');
    assert.ok(nack, 'the sidecar NACKed');
    assert.match(String(nack.msg), /outbound-listener.*filter_chains\[0\]\.filters\[0\]\.typed_config.*mongo_proxy/);
    assert.equal(await call(), '200 app saw /books');
    const dump = (await (await fetch(`${admin}/config_dump`)).json()) as { configs: Array<Record<string, unknown>> };
    assert.ok(JSON.stringify(dump).includes('outbound-listener'));

    await h.close();
    harnessOpen = false;
    for (let i = 0; i < 5; i++) assert.equal(await call(), '200 app saw /books', 'the controller is gone: the last config still serves');
  } finally {
    await sidecar.close();
    if (harnessOpen) await h.close();
  }
});
