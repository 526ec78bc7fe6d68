/**
 * Listeners with real sockets and real mesh TLS: an inbound chain that terminates TLS (client
 * certificate required, ALPN `osm`), checks the peer with network RBAC and proxies TCP to a
 * server-first app. Config updates swap what new connections get and leave open ones alone.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, test } from 'node:test';
import type { IssuedCertificate } from '../../certs/index.js';
import { createLogger } from '../../lib/logging.js';
import { certificateSecretOf, clusterConfig, createTestMesh, endpoints, testManager, type TestMesh } from '../clusters/testing.js';
import type { FilterChainConfig, ListenerConfig, ProxyConfig, RbacRules, SecretConfig } from '../config/index.js';
import { TlsContextCache } from '../tls/index.js';
import { ListenerManager } from './manager.js';
import type { ProxyRuntime } from './types.js';

const ENTRY = '127.0.40.1';
const APP = '127.0.40.2';
const PORT = 14001;

let mesh: TestMesh;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;
let thiefCert: IssuedCertificate;
let app: Server;

before(async () => {
  mesh = await createTestMesh();
  serverCert = await mesh.workload('shop', 'server');
  clientCert = await mesh.workload('shop', 'client');
  thiefCert = await mesh.workload('shop', 'thief');
  app = createServer((s) => {
    s.on('error', () => undefined);
    s.write('hello\n');
    s.pipe(s);
  });
  app.listen(PORT, APP);
  await once(app, 'listening');
});
after(() => {
  mesh.close();
  app.close();
});

const allow = (...sas: string[]): RbacRules => ({
  action: 'allow',
  policies: [{ name: 'allowed-principals', permissions: [{ kind: 'any' }], principals: sas.map((sa) => ({ kind: 'authenticated' as const, principalName: { kind: 'exact' as const, value: `spiffe://cluster.local/ns/shop/sa/${sa}`, ignoreCase: false } })) }],
});

function inboundListener(rules: RbacRules): ListenerConfig {
  const chain: FilterChainConfig = {
    name: 'inbound_shop/server_14001_tcp',
    match: { destinationPort: PORT, prefixRanges: [], serverNames: [], transportProtocol: 'tls', applicationProtocols: ['osm'] },
    tls: { certificateSecret: 'service-cert:shop/server', validationSecret: 'root-cert-for-mtls-inbound:shop/server', requireClientCertificate: true, alpn: ['osm'], params: { minVersion: 'TLSv1_2', maxVersion: 'TLSv1_3', cipherSuites: [], ecdhCurves: [] } },
    filters: [
      { kind: 'rbac', name: 'envoy.filters.network.rbac', statPrefix: 'network-inbound.', rules },
      { kind: 'tcpProxy', name: 'envoy.filters.network.tcp_proxy', statPrefix: 'inbound-mesh-tcp-proxy', target: { kind: 'cluster', cluster: 'shop/server|14001|local' } },
    ],
  };
  return { name: 'inbound-listener', bindAddress: '0.0.0.0', port: 15003, direction: 'inbound', originalDestination: true, tlsInspector: true, filterChains: [chain], defaultFilterChain: undefined };
}

function configWith(listener: ListenerConfig): ProxyConfig {
  const local = clusterConfig('shop/server|14001|local', endpoints('shop/server|14001|local', [{ address: APP, port: PORT }]));
  const secrets: SecretConfig[] = [
    certificateSecretOf('service-cert:shop/server', serverCert),
    { name: 'root-cert-for-mtls-inbound:shop/server', kind: 'validation', trustedCaPem: mesh.rootPem, sanMatchers: [] },
  ];
  return {
    listeners: new Map([[listener.name, listener]]),
    routeConfigs: new Map(),
    clusters: new Map([[local.name, local]]),
    endpoints: new Map([[local.name, local.discovery.kind === 'static' ? local.discovery.endpoints : endpoints(local.name, [])]]),
    secrets: new Map(secrets.map((s) => [s.name, s])),
  };
}

async function setup(rules: RbacRules) {
  const { manager, stats } = testManager();
  let current = configWith(inboundListener(rules));
  manager.update(current);
  const runtime: ProxyRuntime = { config: () => current, clusters: manager, stats, workload: { namespace: 'shop', kind: 'Pod', name: 'server-1', pod: 'server-1' }, accessLog: () => undefined, now: () => performance.now() };
  const listeners = new ListenerManager({
    runtime,
    tls: new TlsContextCache(),
    logger: createLogger('test', { level: 'off' }),
    explicit: new Map([['inbound-listener', [{ bind: { address: ENTRY, port: PORT } }]]]),
    originalDestination: () => undefined,
  });
  assert.deepEqual(await listeners.update(current), []);
  return {
    stats,
    listeners,
    async apply(next: ProxyConfig) {
      manager.update(next);
      current = next;
      assert.deepEqual(await listeners.update(next), []);
    },
    async close() {
      listeners.close(true);
      manager.close();
    },
  };
}

/** Opens mesh TLS as a client sidecar would, with `cert` (or none), and collects what arrives. */
async function meshClient(cert: IssuedCertificate | undefined, session?: Buffer): Promise<{ socket: TLSSocket; received: () => string; closed: Promise<void>; session: () => Buffer | undefined }> {
  const socket = tlsConnect({
    host: ENTRY,
    port: PORT,
    servername: 'server.shop.svc.cluster.local',
    ALPNProtocols: ['osm'],
    ca: mesh.rootPem,
    ...(cert ? { cert: cert.certChainPem, key: cert.privateKeyPem } : {}),
    ...(session ? { session } : {}),
    checkServerIdentity: () => undefined,
  });
  let data = '';
  let last: Buffer | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (data += d));
  socket.on('session', (s: Buffer) => (last = s));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => data, closed, session: () => last };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('mesh TLS with an allowed client certificate reaches the server-first app, also on a resumed session', async () => {
  const s = await setup(allow('client'));
  try {
    const first = await meshClient(clientCert);
    await until(() => first.received() === 'hello\n', 'the greeting');
    first.socket.write('ping\n');
    await until(() => first.received() === 'hello\nping\n', 'the echo');
    await until(() => first.session() !== undefined, 'a session ticket');
    first.socket.end();
    await first.closed;
    const resumed = await meshClient(clientCert, first.session());
    await until(() => resumed.received() === 'hello\n', 'the greeting on the resumed session');
    assert.ok(resumed.socket.isSessionReused(), 'the session was resumed');
    resumed.socket.destroy();
    assert.equal(s.stats.counter('network-inbound.rbac.allowed').value, 2);
  } finally {
    await s.close();
  }
});

test('a peer RBAC does not allow, a client without a certificate and plain TCP are all disconnected', async () => {
  const s = await setup(allow('client'));
  try {
    const thief = await meshClient(thiefCert);
    await thief.closed;
    assert.equal(thief.received(), '');
    assert.equal(s.stats.counter('network-inbound.rbac.denied').value, 1);
    const anonymous = await meshClient(undefined);
    await anonymous.closed;
    assert.equal(anonymous.received(), '');
    const plain = netConnect(PORT, ENTRY);
    let got = '';
    plain.on('data', (d) => (got += String(d)));
    plain.on('error', () => undefined);
    plain.write('GET / HTTP/1.1\r\n\r\n');
    await once(plain, 'close');
    assert.equal(got, '');
    assert.equal(s.stats.counter(`listener.${ENTRY}_${PORT}.no_filter_chain_match`).value, 1);
  } finally {
    await s.close();
  }
});

test('a new listener config applies to new connections while open ones keep going', async () => {
  const s = await setup(allow('client'));
  try {
    const open = await meshClient(clientCert);
    await until(() => open.received() === 'hello\n', 'the greeting');
    await s.apply(configWith(inboundListener(allow('thief'))));
    open.socket.write('still here\n');
    await until(() => open.received() === 'hello\nstill here\n', 'the echo on the connection opened before the update');
    const thief = await meshClient(thiefCert);
    await until(() => thief.received() === 'hello\n', 'the newly allowed thief');
    const client = await meshClient(clientCert);
    await client.closed;
    assert.equal(client.received(), '', 'the client is no longer allowed on new connections');
    open.socket.destroy();
    thief.socket.destroy();
  } finally {
    await s.close();
  }
});
