import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityOf } from '../catalog/index.js';
import { CLOCK_SKEW_MS, MeshCA } from './ca.js';
import { CertError } from './errors.js';
import { adsServerTemplate, parseProxyCommonName, proxyBootstrapTemplate, proxyCommonNameOf, workloadTemplate, type ProxyCommonName } from './profiles.js';
import { describeCertificate, type CertificateFacts, type LeafTemplate } from './x509.js';

// Not on a whole second, to show the rounding X.509's second-precision times need.
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0) + 250;
const DAY_MS = 24 * 3_600_000;
const UUID = '6b7a1c3e-2f4d-4e5a-9b8c-0d1e2f3a4b5c';
const bookstore = identityOf('bookstore', 'bookstore-v1');

// Each row: a template and every field the issued certificate must have (serial aside).
const cases: Array<{ name: string; template: LeafTemplate; want: Omit<CertificateFacts, 'serialNumber' | 'issuer'> }> = [
  {
    name: 'workload certificate',
    template: workloadTemplate(bookstore, 'cluster.local', { nowMs: NOW, validityMs: DAY_MS }),
    want: {
      commonName: 'bookstore-v1.bookstore.cluster.local',
      organization: 'Open Service Mesh',
      subject: 'O=Open Service Mesh, CN=bookstore-v1.bookstore.cluster.local',
      notBeforeMs: NOW - 250 - CLOCK_SKEW_MS,
      notAfterMs: NOW - 250 + DAY_MS,
      isCa: false,
      dnsNames: ['bookstore-v1.bookstore.cluster.local'],
      uris: ['spiffe://cluster.local/ns/bookstore/sa/bookstore-v1'],
      ipAddresses: [],
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
    },
  },
  {
    name: 'workload certificate in another trust domain, 1h',
    template: workloadTemplate(identityOf('ns', 'default'), 'mesh.example', { nowMs: NOW, validityMs: 3_600_000 }),
    want: {
      commonName: 'default.ns.mesh.example',
      organization: 'Open Service Mesh',
      subject: 'O=Open Service Mesh, CN=default.ns.mesh.example',
      notBeforeMs: NOW - 250 - CLOCK_SKEW_MS,
      notAfterMs: NOW - 250 + 3_600_000,
      isCa: false,
      dnsNames: ['default.ns.mesh.example'],
      uris: ['spiffe://mesh.example/ns/ns/sa/default'],
      ipAddresses: [],
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['serverAuth', 'clientAuth'],
    },
  },
  {
    name: 'xDS server certificate with local SANs',
    template: adsServerTemplate('cluster.local', { nowMs: NOW, validityMs: DAY_MS }, ['localhost', '127.0.0.1', '::1', 'ads.cluster.local']),
    want: {
      commonName: 'ads.cluster.local',
      organization: 'Open Service Mesh',
      subject: 'O=Open Service Mesh, CN=ads.cluster.local',
      notBeforeMs: NOW - 250 - CLOCK_SKEW_MS,
      notAfterMs: NOW - 250 + DAY_MS,
      isCa: false,
      dnsNames: ['ads.cluster.local', 'localhost'],
      uris: [],
      ipAddresses: ['127.0.0.1', '::1'],
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['serverAuth'],
    },
  },
  {
    name: 'proxy bootstrap certificate',
    template: proxyBootstrapTemplate(UUID, bookstore, 'cluster.local', { nowMs: NOW, validityMs: DAY_MS }),
    want: {
      commonName: `${UUID}.sidecar.bookstore-v1.bookstore.cluster.local`,
      organization: 'Open Service Mesh',
      subject: `O=Open Service Mesh, CN=${UUID}.sidecar.bookstore-v1.bookstore.cluster.local`,
      notBeforeMs: NOW - 250 - CLOCK_SKEW_MS,
      notAfterMs: NOW - 250 + DAY_MS,
      isCa: false,
      dnsNames: [`${UUID}.sidecar.bookstore-v1.bookstore.cluster.local`],
      uris: [],
      ipAddresses: [],
      keyUsages: ['digitalSignature'],
      extendedKeyUsages: ['clientAuth'],
    },
  },
];

const ca = MeshCA.create({ nowMs: NOW });

for (const c of cases) {
  test(`${c.name}: exact subject, SANs, key usages and lifetime`, async () => {
    const issued = await (await ca).issue(c.template);
    const { serialNumber, issuer, ...facts } = describeCertificate(issued.certChainPem);
    assert.deepEqual(facts, c.want);
    assert.equal(issuer, 'C=US, L=CA, O=Open Service Mesh, CN=osm-ca.openservicemesh.io');
    assert.equal(serialNumber, issued.serialNumber);
    assert.match(serialNumber, /^[0-7][0-9a-f]{31}$/, 'positive 16-octet serial');
    assert.equal(issued.commonName, c.want.commonName);
    assert.equal(issued.notAfterMs, c.want.notAfterMs);
    assert.equal(issued.issuingCaPem, (await ca).rootCertificatePem);
  });
}

test('serial numbers differ between certificates', async () => {
  const template = workloadTemplate(bookstore, 'cluster.local', { nowMs: NOW, validityMs: DAY_MS });
  const serials = await Promise.all(Array.from({ length: 20 }, async () => (await (await ca).issue(template)).serialNumber));
  assert.equal(new Set(serials).size, serials.length);
});

const parsed: Array<{ name: string; cn: string; trustDomain?: string; want: ProxyCommonName }> = [
  {
    name: 'OSM form',
    cn: `${UUID}.sidecar.bookstore-v1.bookstore.cluster.local`,
    want: { uuid: UUID, kind: 'sidecar', serviceAccount: 'bookstore-v1', namespace: 'bookstore', trustDomain: 'cluster.local' },
  },
  {
    name: 'one-label trust domain',
    cn: `${UUID}.sidecar.sa.ns.mesh`,
    want: { uuid: UUID, kind: 'sidecar', serviceAccount: 'sa', namespace: 'ns', trustDomain: 'mesh' },
  },
  {
    name: 'dotted service account, given the trust domain',
    cn: `${UUID}.sidecar.build.bot.ci.cluster.local`,
    trustDomain: 'cluster.local',
    want: { uuid: UUID, kind: 'sidecar', serviceAccount: 'build.bot', namespace: 'ci', trustDomain: 'cluster.local' },
  },
];

for (const c of parsed) {
  test(`parseProxyCommonName: ${c.name}`, () => {
    assert.deepEqual(parseProxyCommonName(c.cn, c.trustDomain), c.want);
    // Round trip: the formatter gives back the same CN.
    assert.equal(proxyCommonNameOf(c.want.uuid, identityOf(c.want.namespace, c.want.serviceAccount), c.want.trustDomain), c.cn);
  });
}

const malformed: Array<{ name: string; cn: string; trustDomain?: string; mentions: string }> = [
  { name: 'too few labels', cn: `${UUID}.sidecar.sa.ns`, mentions: 'expected <uuid>' },
  { name: 'bad uuid', cn: 'not-a-uuid.sidecar.sa.ns.cluster.local', mentions: 'uuid "not-a-uuid"' },
  { name: 'unknown kind', cn: `${UUID}.gateway.sa.ns.cluster.local`, mentions: 'proxy kind "gateway"' },
  { name: 'bad namespace', cn: `${UUID}.sidecar.sa.Bad_NS.cluster.local`, mentions: 'namespace "Bad_NS"' },
  { name: 'empty service account', cn: `${UUID}.sidecar..ns.cluster.local`, mentions: 'service account ""' },
  { name: 'other trust domain', cn: `${UUID}.sidecar.sa.ns.other.local`, trustDomain: 'cluster.local', mentions: 'trust domain .cluster.local' },
  { name: 'nothing before the trust domain', cn: `${UUID}.sidecar.ns.cluster.local`, trustDomain: 'cluster.local', mentions: 'expected <uuid>' },
  { name: 'empty trust domain label', cn: `${UUID}.sidecar.sa.ns.cluster..local`, mentions: 'empty label' },
];

for (const c of malformed) {
  test(`parseProxyCommonName rejects ${c.name} (E6101)`, () => {
    assert.throws(
      () => parseProxyCommonName(c.cn, c.trustDomain),
      (error: unknown) => error instanceof CertError && error.code === 'E6101' && error.message.includes(c.mentions) && error.message.includes(JSON.stringify(c.cn)),
    );
  });
}

test('a bootstrap certificate needs a well-formed uuid', () => {
  assert.throws(
    () => proxyBootstrapTemplate('1234', bookstore, 'cluster.local', { nowMs: NOW, validityMs: DAY_MS }),
    (error: unknown) => error instanceof CertError && error.code === 'E6101',
  );
});
