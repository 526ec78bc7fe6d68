import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { identityOf } from '../catalog/index.js';
import { MeshCA, TEN_YEARS_MS } from './ca.js';
import { CA_CERT_FILE, CA_KEY_FILE } from './ca-store.js';
import { CertError, type CertErrorCode } from './errors.js';
import { workloadTemplate } from './profiles.js';
import { describeCertificate } from './x509.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const dirs: string[] = [];

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'osm-ts-ca-'));
  dirs.push(dir);
  return join(dir, 'state');
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function isCertError(code: CertErrorCode, ...mentions: string[]) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof CertError, `expected a CertError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const m of mentions) assert.ok(error.message.includes(m), `${JSON.stringify(error.message)} should mention ${m}`);
    assert.ok(!error.message.includes('BEGIN'), 'no PEM in error messages');
    return true;
  };
}

const leafFor = (sa: string) => workloadTemplate(identityOf('ns', sa), 'cluster.local', { nowMs: NOW, validityMs: 3_600_000 });

test('a new CA is written to the state dir (key 0600) and reloaded with the same key', async () => {
  const dir = await stateDir();
  const first = await MeshCA.loadOrCreate(dir, { nowMs: NOW });
  assert.equal(first.created, true);
  assert.equal((await stat(join(dir, CA_KEY_FILE))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, CA_CERT_FILE))).mode & 0o777, 0o644);
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.equal(await readFile(join(dir, CA_CERT_FILE), 'utf8'), first.ca.rootCertificatePem);

  const second = await MeshCA.loadOrCreate(dir, { nowMs: NOW + 1000 });
  assert.equal(second.created, false);
  assert.equal(second.ca.rootCertificatePem, first.ca.rootCertificatePem);
  // Same key: what the reloaded CA signs, the first one accepts, and the reverse.
  const fromSecond = await second.ca.issue(leafFor('a'));
  const fromFirst = await first.ca.issue(leafFor('b'));
  await first.ca.verify(fromSecond.certChainPem, { nowMs: NOW });
  await second.ca.verify(fromFirst.certChainPem, { nowMs: NOW });
});

test('the root looks like OSM tresor root: CA, keyCertSign+cRLSign, ten years, ECDSA P-256 by default', async () => {
  const ca = await MeshCA.create({ nowMs: NOW });
  const root = describeCertificate(ca.rootCertificatePem);
  assert.equal(root.subject, 'C=US, L=CA, O=Open Service Mesh, CN=osm-ca.openservicemesh.io');
  assert.equal(root.issuer, root.subject);
  assert.equal(root.isCa, true);
  assert.deepEqual(root.keyUsages, ['keyCertSign', 'cRLSign']);
  assert.equal(root.notAfterMs - NOW, TEN_YEARS_MS);
  assert.match(root.serialNumber, /^[0-7][0-9a-f]{31}$/);
  const key = new X509Certificate(ca.rootCertificatePem).publicKey;
  assert.equal(key.asymmetricKeyType, 'ec');
  assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(ca.rootSummary.keyAlgorithm, 'ECDSA P-256');
});

test('RSA option: an RSA 2048 root signs RSA 2048 leaves that verify', async () => {
  const ca = await MeshCA.create({ nowMs: NOW, keyAlgorithm: { type: 'rsa', modulusBits: 2048 } });
  const root = new X509Certificate(ca.rootCertificatePem);
  assert.equal(root.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(root.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const leaf = await ca.issue(leafFor('rsa'));
  assert.equal(createPrivateKey(leaf.privateKeyPem).asymmetricKeyDetails?.modulusLength, 2048);
  assert.ok(new X509Certificate(leaf.certChainPem).verify(root.publicKey));
  const verified = await ca.verify(leaf.certChainPem, { nowMs: NOW });
  assert.equal(verified.commonName, 'rsa.ns.cluster.local');
  // RSA leaves keep OSM's key usage; ECDSA ones drop keyEncipherment (profiles.test.ts).
  assert.deepEqual(describeCertificate(leaf.certChainPem).keyUsages, ['digitalSignature', 'keyEncipherment']);
});

for (const bad of [1024, 2047, 8192, 2048.5]) {
  test(`RSA modulusBits ${bad} is rejected (E6005)`, async () => {
    await assert.rejects(MeshCA.create({ nowMs: NOW, keyAlgorithm: { type: 'rsa', modulusBits: bad } }), isCertError('E6005', 'keyAlgorithm'));
  });
}

test('an RSA root stored as PKCS#1, as OSM wrote osm-ca-bundle, is loaded', async () => {
  const dir = await stateDir();
  const { ca } = await MeshCA.loadOrCreate(dir, { nowMs: NOW, keyAlgorithm: { type: 'rsa', modulusBits: 2048 } });
  const keyFile = join(dir, CA_KEY_FILE);
  const pkcs1 = createPrivateKey(await readFile(keyFile, 'utf8')).export({ type: 'pkcs1', format: 'pem' });
  await writeFile(keyFile, pkcs1);
  const reloaded = await MeshCA.loadOrCreate(dir, { nowMs: NOW });
  assert.equal(reloaded.created, false);
  await ca.verify((await reloaded.ca.issue(leafFor('x'))).certChainPem, { nowMs: NOW });
});

// Each case damages a freshly created state dir; loading must fail with the code and name the file.
const damage: Array<{ name: string; code: CertErrorCode; file: string; apply: (dir: string) => Promise<void> }> = [
  { name: 'corrupt certificate', code: 'E6001', file: CA_CERT_FILE, apply: (d) => writeFile(join(d, CA_CERT_FILE), 'not a certificate\n') },
  {
    name: 'truncated certificate',
    code: 'E6001',
    file: CA_CERT_FILE,
    apply: async (d) => {
      const pem = await readFile(join(d, CA_CERT_FILE), 'utf8');
      await writeFile(join(d, CA_CERT_FILE), pem.slice(0, 200) + '\n-----END CERTIFICATE-----\n');
    },
  },
  { name: 'corrupt key', code: 'E6001', file: CA_KEY_FILE, apply: (d) => writeFile(join(d, CA_KEY_FILE), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n') },
  {
    name: 'key of another CA',
    code: 'E6002',
    file: CA_KEY_FILE,
    apply: async (d) => {
      const other = await stateDir();
      await MeshCA.loadOrCreate(other, { nowMs: NOW });
      await writeFile(join(d, CA_KEY_FILE), await readFile(join(other, CA_KEY_FILE)));
    },
  },
  { name: 'key file missing', code: 'E6003', file: CA_KEY_FILE, apply: (d) => rm(join(d, CA_KEY_FILE)) },
  { name: 'certificate file missing', code: 'E6003', file: CA_CERT_FILE, apply: (d) => rm(join(d, CA_CERT_FILE)) },
  {
    name: 'leaf in place of the root',
    code: 'E6004',
    file: CA_CERT_FILE,
    apply: async (d) => {
      // A leaf with its own key is a matched pair but not a CA.
      const ca = await MeshCA.create({ nowMs: NOW });
      const leaf = await ca.issue(leafFor('not-a-ca'));
      await writeFile(join(d, CA_CERT_FILE), leaf.certChainPem);
      await writeFile(join(d, CA_KEY_FILE), leaf.privateKeyPem);
    },
  },
];

for (const c of damage) {
  test(`loading a state dir with a ${c.name} fails with ${c.code} naming ${c.file}, and leaves the files alone`, async () => {
    const dir = await stateDir();
    await MeshCA.loadOrCreate(dir, { nowMs: NOW });
    await c.apply(dir);
    const before = await Promise.all([CA_CERT_FILE, CA_KEY_FILE].map((f) => readFile(join(dir, f), 'utf8').catch(() => undefined)));
    await assert.rejects(MeshCA.loadOrCreate(dir, { nowMs: NOW }), isCertError(c.code, join(dir, c.file)));
    const afterwards = await Promise.all([CA_CERT_FILE, CA_KEY_FILE].map((f) => readFile(join(dir, f), 'utf8').catch(() => undefined)));
    assert.deepEqual(afterwards, before);
  });
}

test('an expired root is refused (E6004) and not replaced', async () => {
  const dir = await stateDir();
  const { ca } = await MeshCA.loadOrCreate(dir, { nowMs: NOW, rootValidityMs: 3_600_000 });
  await assert.rejects(MeshCA.loadOrCreate(dir, { nowMs: NOW + 2 * 3_600_000 }), isCertError('E6004', join(dir, CA_CERT_FILE), 'expired'));
  assert.equal(await readFile(join(dir, CA_CERT_FILE), 'utf8'), ca.rootCertificatePem);
});

test('a state dir that cannot be written is E6006 naming the path', { skip: process.getuid?.() === 0 ? 'root ignores file permissions' : false }, async () => {
  const parent = await stateDir();
  await mkdir(parent, { mode: 0o500 });
  try {
    await assert.rejects(MeshCA.loadOrCreate(join(parent, 'state'), { nowMs: NOW }), isCertError('E6006', join(parent, 'state')));
  } finally {
    await chmod(parent, 0o700);
  }
});

test('issued certificates print without their private key', async () => {
  const ca = await MeshCA.create({ nowMs: NOW });
  const cert = await ca.issue(leafFor('quiet'));
  const { inspect } = await import('node:util');
  for (const text of [JSON.stringify(cert), inspect(cert), String(inspect({ nested: cert }))]) {
    assert.ok(!text.includes('PRIVATE KEY'), text);
    assert.ok(text.includes(cert.serialNumber), text);
  }
  assert.match(cert.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
});
