/**
 * The connection manager on a mesh mTLS connection, as the inbound listener hands it over: a
 * TLS socket terminated with a certificate from our CA, the client's identity from its
 * certificate, RBAC by principal, and `x-forwarded-proto: https` towards the app.
 */
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import tls from 'node:tls';
import { identityOf } from '../../catalog/index.js';
import { CertificateManager, MeshCA, systemClock, type IssuedCertificate } from '../../certs/index.js';
import type { RbacRules } from '../config/index.js';
import type { DownstreamContext } from '../listeners/types.js';
import { peerSans } from '../tls/index.js';
import { startHttpConnection } from './connection-manager.js';
import { forward, hcmConfig, httpUpstream, route, routeConfig, TestClient, testRuntime, virtualHost } from './testing/harness.js';

// Real time: TLS checks validity against the wall clock.
const mesh = MeshCA.create({ nowMs: systemClock.now() }).then((ca) => new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock }));
after(async () => (await mesh).close());

const onlyBookbuyer: RbacRules = {
  action: 'allow',
  policies: [{ name: 'rbac-for-route', permissions: [{ kind: 'any' }], principals: [{ kind: 'authenticated', principalName: { kind: 'exact', value: 'bookbuyer.bookbuyer.cluster.local', ignoreCase: false } }] }],
};

async function call(port: number, ca: string, cert: IssuedCertificate): Promise<{ status: number; body: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'bookstore.bookstore.svc.cluster.local', ca, cert: cert.certChainPem, key: cert.privateKeyPem, checkServerIdentity: () => undefined });
  await once(socket, 'secureConnect');
  const client = TestClient.over(socket);
  client.send('GET /books HTTP/1.1\r\nHost: bookstore.bookstore:14001\r\n\r\n');
  const res = await client.response();
  client.close();
  return { status: res.status, body: res.body };
}

test('over mesh mTLS: the peer certificate decides RBAC; the app sees https', async () => {
  const manager = await mesh;
  const ca = manager.rootCertificatePem();
  const serverCert = await manager.issueWorkload(identityOf('bookstore', 'bookstore'));
  const app = await httpUpstream((req, res) => res.end(String(req.headers['x-forwarded-proto'])));
  const runtime = testRuntime([{ name: 'local', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
  const hcm = hcmConfig(
    routeConfig([virtualHost('in', ['*'], [route(forward('local'), { perFilter: { rbac: { filterName: 'rbac', rules: onlyBookbuyer } } })])]),
    { filters: [{ kind: 'rbac', name: 'rbac', rules: undefined }], accessLog: true },
  );
  const server = tls.createServer({ cert: serverCert.certChainPem, key: serverCert.privateKeyPem, ca, requestCert: true, rejectUnauthorized: true }, (socket) => {
    const ctx: DownstreamContext = {
      socket,
      prefetched: Buffer.alloc(0),
      peer: peerSans(socket.getPeerX509Certificate()),
      tls: true,
      destination: { address: '127.0.0.1', port: socket.localPort ?? 0 },
      source: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      serverName: typeof socket.servername === 'string' ? socket.servername : undefined,
      listenerName: 'inbound-listener',
      direction: 'inbound',
      filterChainName: 'inbound_bookstore/bookstore_14001_http',
    };
    startHttpConnection(ctx, hcm, runtime);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    const allowed = await call(port, ca, await manager.issueWorkload(identityOf('bookbuyer', 'bookbuyer')));
    assert.deepEqual(allowed, { status: 200, body: 'https' });
    const denied = await call(port, ca, await manager.issueWorkload(identityOf('bookthief', 'bookthief')));
    assert.deepEqual(denied, { status: 403, body: 'RBAC: access denied' });
    assert.equal(runtime.logs[0]?.requested_server_name, 'bookstore.bookstore.svc.cluster.local');
    assert.equal(runtime.stats.value('http.test.rbac.allowed'), 1);
    assert.equal(runtime.stats.value('http.test.rbac.denied'), 1);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    runtime.clusters.close();
    await app.close();
  }
});
