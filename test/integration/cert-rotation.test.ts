/**
 * Certificate rotation reaches the proxy: with a short `serviceCertValidityDuration`, the
 * controller renews the workload certificate before it expires and pushes the new one by SDS.
 */
import * as assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { identityOf } from '../../src/catalog/index.js';
import { defaultControllerOptions, startController } from '../../src/controller/controller.js';
import { createLogger } from '../../src/lib/logging.js';
import { SotwClient } from '../../src/ads/testing/sotw-client.js';
import { decode, ResourceTypeUrl, SecretSchema } from '../../src/xds/proto.js';

const UUID = '11111111-2222-4333-8444-555555555555';

test('a renewed workload certificate is pushed by SDS without reconnecting', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'osm-rotation-'));
  await writeFile(
    join(dir, 'mesh.yaml'),
    `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec: {certificate: {serviceCertValidityDuration: 4s}, observability: {osmLogLevel: error}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: shop, labels: {app: web, osm-proxy-uuid: "${UUID}"}}
spec: {serviceAccountName: web, containers: [{name: web, image: x}]}
status: {podIP: 10.1.0.2}
`,
  );
  const options = defaultControllerOptions(dir, join(dir, 'state'));
  options.adsAddress = '127.0.0.1:0';
  options.healthAddress = { host: '127.0.0.1', port: 0 };
  options.debugAddress = { host: '127.0.0.1', port: 0 };
  options.log = createLogger('test', { level: 'off' });
  const controller = await startController(options);
  const bootstrap = await controller.certs.issueProxyBootstrap({ uuid: UUID, identity: identityOf('shop', 'web') });
  const client = new SotwClient(
    {
      target: controller.adsAddress,
      credentials: credentials.createSsl(Buffer.from(controller.certs.rootCertificatePem()), Buffer.from(bootstrap.privateKeyPem), Buffer.from(bootstrap.certChainPem)),
      channelOptions: { 'grpc.ssl_target_name_override': 'ads.cluster.local' },
    },
    { id: `${UUID}.sidecar.web.shop.cluster.local` },
  );
  try {
    const serial = (pem: string) => new X509Certificate(pem).serialNumber;
    const certOf = (response: Awaited<ReturnType<SotwClient['next']>>) => {
      const any = response.message.resources.find((r) => decode(SecretSchema, r.value).name === 'service-cert:shop/web');
      assert.ok(any, 'the response carries the service certificate');
      const secret = decode(SecretSchema, any.value);
      assert.equal(secret.type.case, 'tlsCertificate');
      const chain = secret.type.value.certificateChain?.specifier;
      assert.equal(chain?.case, 'inlineString');
      return chain.value as string;
    };
    client.subscribe(ResourceTypeUrl.secret, ['service-cert:shop/web']);
    const first = await client.next(10_000);
    client.ack(first);
    const firstPem = certOf(first);
    // notBefore is backdated for clock skew, so look at how soon it expires.
    const expiresInMs = Date.parse(new X509Certificate(firstPem).validTo) - Date.now();
    assert.ok(expiresInMs <= 60_000, `the certificate follows serviceCertValidityDuration (expires in ${expiresInMs} ms)`);
    const renewed = await client.next(15_000);
    client.ack(renewed);
    assert.notEqual(serial(certOf(renewed)), serial(firstPem), 'a new certificate arrived on the same stream');
  } finally {
    client.close();
    await controller.close();
    await rm(dir, { recursive: true, force: true });
  }
});
