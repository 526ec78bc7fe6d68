/**
 * The controller as a process would run it: a manifest folder, a state directory, real mTLS ADS
 * on loopback, the HTTP endpoints. A scripted ADS client stands in for a sidecar.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { identityOf } from '../../src/catalog/index.js';
import { startController, defaultControllerOptions, type Controller } from '../../src/controller/controller.js';
import { createLogger } from '../../src/lib/logging.js';
import { SotwClient } from '../../src/ads/testing/sotw-client.js';
import { ResourceTypeUrl } from '../../src/xds/proto.js';

const UUID = '11111111-2222-4333-8444-555555555555';
const OTHER_UUID = '99999999-2222-4333-8444-555555555555';

const mesh = (extra = '') => `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, clusterIP: 10.96.0.1, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec: {serviceAccountName: api, containers: [{name: api, image: x}]}
status: {podIP: 10.1.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, osm-proxy-uuid: "${UUID}"}}
spec: {serviceAccountName: web, containers: [{name: web, image: x}]}
status: {podIP: 10.1.0.2}
${extra}`;

const allowWeb = `
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: all, namespace: shop}
spec: {matches: [{name: everything, pathRegex: "/.*"}]}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: web-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop}
  rules: [{kind: HTTPRouteGroup, name: all}]
  sources: [{kind: ServiceAccount, name: web, namespace: shop}]
`;

let dir: string;
let controller: Controller;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osm-controller-'));
  await writeFile(join(dir, 'mesh.yaml'), mesh());
  const options = defaultControllerOptions(dir, join(dir, 'state'));
  options.adsAddress = '127.0.0.1:0';
  options.healthAddress = { host: '127.0.0.1', port: 0 };
  options.debugAddress = { host: '127.0.0.1', port: 0 };
  options.log = createLogger('test', { level: 'off' });
  controller = await startController(options);
});

after(async () => {
  await controller.close();
  await rm(dir, { recursive: true, force: true });
});

async function clientFor(uuid: string, sa: string) {
  const cert = await controller.certs.issueProxyBootstrap({ uuid, identity: identityOf('shop', sa) });
  const creds = credentials.createSsl(Buffer.from(controller.certs.rootCertificatePem()), Buffer.from(cert.privateKeyPem), Buffer.from(cert.certChainPem));
  return new SotwClient(
    { target: controller.adsAddress, credentials: creds, channelOptions: { 'grpc.ssl_target_name_override': 'ads.cluster.local' } },
    { id: `${uuid}.sidecar.${sa}.shop.cluster.local` },
  );
}

const get = async (port: number, path: string) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
};

test('health, version and SMI versions answer as OSM\'s did', async () => {
  assert.equal((await get(controller.healthPort, '/health/ready')).status, 200);
  assert.equal((await get(controller.healthPort, '/health/alive')).status, 200);
  assert.match((await get(controller.healthPort, '/version')).text, /"version": "0\.1\.0"/);
  const smi = JSON.parse((await get(controller.healthPort, '/smi/version')).text) as Record<string, string[]>;
  assert.ok(smi.TrafficSplit?.includes('split.smi-spec.io/v1alpha4'));
});

test('a sidecar of a known pod gets its configuration, and a policy change is pushed', async () => {
  const client = await clientFor(UUID, 'web');
  try {
    client.subscribe(ResourceTypeUrl.cluster, []);
    const first = await client.next();
    client.ack(first);
    assert.deepEqual(first.names, ['passthrough-outbound'], 'SMI mode with no TrafficTarget: nothing to reach but egress');
    await writeFile(join(dir, 'mesh.yaml'), mesh(allowWeb));
    const pushed = await client.next(10_000);
    assert.deepEqual(pushed.names, ['passthrough-outbound', 'shop/api|8080']);
    client.ack(pushed);
    const status = JSON.parse((await get(controller.debugPort, '/debug/proxy')).text) as Array<{ key: string; identity: string }>;
    assert.deepEqual(status.map((s) => [s.key, s.identity]), [['envoy:shop/web-1', 'shop/web']]);
    const metrics = (await get(controller.healthPort, '/metrics')).text;
    assert.match(metrics, /^osm_proxy_connect_count 1$/m);
    assert.match(metrics, /^osm_cert_issued_count [1-9]\d*$/m);
    assert.match(metrics, /^osm_proxy_xds_ack_count\{type="CDS"\} [1-9]\d*$/m);
  } finally {
    client.close();
  }
});

test('a proxy whose certificate claims another ServiceAccount than its pod is refused', async () => {
  const client = await clientFor(UUID, 'api');
  client.subscribe(ResourceTypeUrl.cluster, []);
  const status = await client.status;
  assert.equal(status.code, 7, `PERMISSION_DENIED expected, got ${status.code} ${status.details}`);
  assert.match(status.details, /claims ServiceAccount shop\/api but pod shop\/web-1 runs as shop\/web/);
  client.close();
});

test('a proxy no pod names joins by hand with its identity\'s outbound policy', async () => {
  const client = await clientFor(OTHER_UUID, 'web');
  try {
    client.subscribe(ResourceTypeUrl.cluster, []);
    const response = await client.next(10_000);
    assert.deepEqual(response.names, ['passthrough-outbound', 'shop/api|8080']);
  } finally {
    client.close();
  }
});
