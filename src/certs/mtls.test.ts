/**
 * Real mutual TLS over loopback with node:tls and mesh-issued certificates: what the proxies
 * and the xDS server will do. The server trusts only the mesh root and requires a client
 * certificate; the story is connect, handshake, see who the peer is.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import tls from 'node:tls';
import { identityOf } from '../catalog/index.js';
import { MeshCA, type IssuedCertificate } from './ca.js';
import { systemClock } from './clock.js';
import { CertificateManager } from './manager.js';
import { parseProxyCommonName } from './profiles.js';

const bookstore = identityOf('bookstore', 'bookstore-v1');
const bookbuyer = identityOf('bookbuyer', 'bookbuyer');
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';

// Real time: TLS checks validity against the wall clock, so certificates must be current.
const mesh = MeshCA.create({ nowMs: systemClock.now() }).then((ca) => new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock }));
const foreign = MeshCA.create({ nowMs: systemClock.now() }).then((ca) => new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock }));

after(async () => {
  (await mesh).close();
  (await foreign).close();
});

/** What the server learnt about one client: the TLS peer certificate's names, or the handshake error. */
type ServerView = { ok: true; subjectaltname: string; cn: string; spiffe: string[] } | { ok: false; code: string };

/**
 * Starts a server with `serverCert`, connects once as a client with `clientCert`, and returns
 * what each side saw. Both sides trust only the mesh root.
 */
async function handshake(
  serverCert: IssuedCertificate,
  clientCert: IssuedCertificate,
  connect: { host: string; servername?: string },
  managerOrDefault?: CertificateManager,
) {
  const manager = managerOrDefault ?? (await mesh);
  const ca = manager.rootCertificatePem();
  const server = tls.createServer({
    cert: serverCert.certChainPem,
    key: serverCert.privateKeyPem,
    ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  });
  const seen = new Promise<ServerView>((resolve) => {
    server.on('secureConnection', (socket) => {
      const peer = socket.getPeerCertificate();
      // The mesh's own check, as the xDS server does it, on the DER node:tls hands over.
      void manager.verify(peer.raw, { usage: 'clientAuth' }).then(
        (verified) => {
          resolve({ ok: true, subjectaltname: peer.subjectaltname ?? '', cn: String(peer.subject.CN), spiffe: verified.uris });
          socket.end('hello');
        },
        (error: unknown) => resolve({ ok: false, code: String(error) }),
      );
    });
    server.on('tlsClientError', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const client = tls.connect({ port, ...connect, cert: clientCert.certChainPem, key: clientCert.privateKeyPem, ca });
  // TLS 1.3 finishes the client's side before the server has judged the client certificate,
  // so the client learns of a rejection as a later error or close; either ends the read.
  const clientSide = new Promise<{ authorized: boolean; data: string; error?: string }>((resolve) => {
    let data = '';
    let authorized = false;
    client.on('secureConnect', () => (authorized = client.authorized));
    client.on('data', (chunk: Buffer) => (data += chunk.toString()));
    client.on('error', (error: NodeJS.ErrnoException) => resolve({ authorized, data, error: error.code ?? error.message }));
    client.on('close', () => resolve({ authorized, data }));
  });
  try {
    return { server: await seen, client: await clientSide };
  } finally {
    client.destroy();
    server.close();
  }
}

test('mutual TLS between two workloads: the server sees the client SPIFFE ID and DNS SAN', { timeout: 10_000 }, async () => {
  const manager = await mesh;
  const serverCert = await manager.issueWorkload(bookstore);
  const clientCert = await manager.issueWorkload(bookbuyer);
  // The client checks the server's DNS SAN against the name it dials, as Envoy's SAN match would.
  const { server, client } = await handshake(serverCert, clientCert, { host: '127.0.0.1', servername: 'bookstore-v1.bookstore.cluster.local' });
  assert.deepEqual(server, {
    ok: true,
    subjectaltname: 'DNS:bookbuyer.bookbuyer.cluster.local, URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer',
    cn: 'bookbuyer.bookbuyer.cluster.local',
    spiffe: ['spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer'],
  });
  assert.deepEqual(client, { authorized: true, data: 'hello' });
});

test('a proxy bootstrap certificate authenticates to the xDS server certificate on 127.0.0.1', { timeout: 10_000 }, async () => {
  const manager = await mesh;
  const serverCert = await manager.issueAdsServerCert({ extraSans: ['localhost', '127.0.0.1'] });
  const clientCert = await manager.issueProxyBootstrap({ uuid: UUID, identity: bookbuyer });
  // No servername: Node then checks the IP SAN against 127.0.0.1.
  const { server, client } = await handshake(serverCert, clientCert, { host: '127.0.0.1' });
  assert.equal(server.ok, true);
  assert.ok(server.ok && parseProxyCommonName(server.cn, 'cluster.local').namespace === 'bookbuyer');
  assert.deepEqual(client, { authorized: true, data: 'hello' });
});

test('mutual TLS with an RSA 2048 mesh CA and RSA leaves', { timeout: 20_000 }, async () => {
  const ca = await MeshCA.create({ nowMs: systemClock.now(), keyAlgorithm: { type: 'rsa', modulusBits: 2048 } });
  const manager = new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock });
  try {
    const [serverCert, clientCert] = await Promise.all([manager.issueWorkload(bookstore), manager.issueWorkload(bookbuyer)]);
    const { server, client } = await handshake(serverCert, clientCert, { host: '127.0.0.1', servername: 'bookstore-v1.bookstore.cluster.local' }, manager);
    assert.ok(server.ok && server.spiffe[0] === 'spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer', JSON.stringify(server));
    assert.deepEqual(client, { authorized: true, data: 'hello' });
  } finally {
    manager.close();
  }
});

test('a client certificate from another CA is rejected by the server', { timeout: 10_000 }, async () => {
  const serverCert = await (await mesh).issueWorkload(bookstore);
  // Same names, different CA: only the signature tells them apart.
  const intruder = await (await foreign).issueWorkload(bookbuyer);
  const { server, client } = await handshake(serverCert, intruder, { host: '127.0.0.1', servername: 'bookstore-v1.bookstore.cluster.local' });
  // Node's server checks the client certificate after the handshake and, with
  // rejectUnauthorized, destroys the socket without an alert: no 'secureConnection', and
  // 'tlsClientError' reports the hang-up. The first test is the control with a mesh client.
  assert.deepEqual(server, { ok: false, code: 'ECONNRESET' });
  assert.equal(client.data, '', 'the intruder received nothing');
});

test('a server certificate from another CA is rejected by the client', { timeout: 10_000 }, async () => {
  const impostor = await (await foreign).issueWorkload(bookstore);
  const clientCert = await (await mesh).issueWorkload(bookbuyer);
  const { client } = await handshake(impostor, clientCert, { host: '127.0.0.1', servername: 'bookstore-v1.bookstore.cluster.local' });
  assert.equal(client.authorized, false);
  assert.equal(client.data, '');
  assert.match(client.error ?? '', /UNABLE_TO_GET_ISSUER_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
});
