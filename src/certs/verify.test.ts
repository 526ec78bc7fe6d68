import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { identityOf } from '../catalog/index.js';
import { MeshCA } from './ca.js';
import { CertError, type CertErrorCode } from './errors.js';
import { adsServerTemplate, proxyBootstrapTemplate, workloadTemplate } from './profiles.js';
import type { ExtendedKeyUsage } from './x509.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR_MS = 3_600_000;
const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const web = identityOf('shop', 'web');

const mesh = MeshCA.create({ nowMs: NOW });
const foreign = MeshCA.create({ nowMs: NOW });

test('verify accepts a mesh-signed workload certificate and reports its names', async () => {
  const ca = await mesh;
  const cert = await ca.issue(workloadTemplate(web, 'cluster.local', { nowMs: NOW, validityMs: HOUR_MS }));
  const verified = await ca.verify(cert.certChainPem, { nowMs: NOW + 1000, usage: 'clientAuth' });
  assert.deepEqual(verified, {
    commonName: 'web.shop.cluster.local',
    serialNumber: cert.serialNumber,
    dnsNames: ['web.shop.cluster.local'],
    uris: ['spiffe://cluster.local/ns/shop/sa/web'],
    ipAddresses: [],
    extendedKeyUsages: ['serverAuth', 'clientAuth'],
    notBeforeMs: cert.notBeforeMs,
    notAfterMs: cert.notAfterMs,
  });
  // DER, as TLSSocket.getPeerCertificate().raw gives it, works the same.
  const der = new X509Certificate(cert.certChainPem).raw;
  assert.equal((await ca.verify(der, { nowMs: NOW })).serialNumber, cert.serialNumber);
});

// Each row: a certificate to present, when, for what, and the error code expected.
const rejections: Array<{
  name: string;
  issue: () => Promise<string>;
  atMs: number;
  usage?: ExtendedKeyUsage;
  code: CertErrorCode;
  mentions: string;
}> = [
  {
    name: 'a certificate from another CA with the same subject names',
    issue: async () => (await (await foreign).issue(workloadTemplate(web, 'cluster.local', { nowMs: NOW, validityMs: HOUR_MS }))).certChainPem,
    atMs: NOW,
    code: 'E6202',
    mentions: 'not signed by the mesh CA',
  },
  {
    name: 'an expired certificate',
    issue: async () => (await (await mesh).issue(workloadTemplate(web, 'cluster.local', { nowMs: NOW, validityMs: HOUR_MS }))).certChainPem,
    atMs: NOW + HOUR_MS + 1000,
    code: 'E6203',
    mentions: 'is not valid at 2025-01-15T13:00:01.000Z',
  },
  {
    name: 'a certificate that is not valid yet',
    issue: async () => (await (await mesh).issue(workloadTemplate(web, 'cluster.local', { nowMs: NOW + HOUR_MS, validityMs: HOUR_MS }))).certChainPem,
    atMs: NOW,
    code: 'E6203',
    mentions: 'valid from 2025-01-15T12:55:00.000Z',
  },
  {
    name: 'a client-only bootstrap certificate used as a server',
    issue: async () => (await (await mesh).issue(proxyBootstrapTemplate(UUID, web, 'cluster.local', { nowMs: NOW, validityMs: HOUR_MS }))).certChainPem,
    atMs: NOW,
    usage: 'serverAuth',
    code: 'E6204',
    mentions: 'does not allow serverAuth',
  },
  {
    name: 'the xDS server certificate used as a client',
    issue: async () => (await (await mesh).issue(adsServerTemplate('cluster.local', { nowMs: NOW, validityMs: HOUR_MS }))).certChainPem,
    atMs: NOW,
    usage: 'clientAuth',
    code: 'E6204',
    mentions: 'does not allow clientAuth',
  },
  {
    name: 'the mesh root itself',
    issue: async () => (await mesh).rootCertificatePem,
    atMs: NOW,
    code: 'E6204',
    mentions: 'is a CA certificate',
  },
  { name: 'text that is not PEM', issue: () => Promise.resolve('hello'), atMs: NOW, code: 'E6201', mentions: 'cannot be parsed' },
];

for (const c of rejections) {
  test(`verify rejects ${c.name} (${c.code})`, async () => {
    const pem = await c.issue();
    await assert.rejects((await mesh).verify(pem, { nowMs: c.atMs, ...(c.usage ? { usage: c.usage } : {}) }), (error: unknown) => {
      assert.ok(error instanceof CertError);
      assert.equal(error.code, c.code, error.message);
      assert.ok(error.message.includes(c.mentions), error.message);
      assert.ok(!error.message.includes('BEGIN'), 'no PEM in errors');
      return true;
    });
  });
}
