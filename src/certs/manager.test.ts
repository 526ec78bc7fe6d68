import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { identityOf, type Identity } from '../catalog/index.js';
import { MeshCA, type IssuedCertificate } from './ca.js';
import { systemClock, type Clock } from './clock.js';
import { CertError } from './errors.js';
import { CertificateManager, type CertificateAuthority, type CertificateManagerOptions } from './manager.js';
import { parseProxyCommonName } from './profiles.js';
import { describeCertificate } from './x509.js';

const START = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR_MS = 3_600_000;
const web = identityOf('shop', 'web');
const api = identityOf('shop', 'api');

/** A clock that moves only when told to, firing due timers in time order. */
class FakeClock implements Clock {
  nowMs = START;
  readonly delays: number[] = [];
  #timers: Array<{ atMs: number; callback: () => void }> = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer = { atMs: this.nowMs + delayMs, callback };
    this.delays.push(delayMs);
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing each timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.atMs <= target).sort((a, b) => a.atMs - b.atMs)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.nowMs = due.atMs;
      due.callback();
    }
    this.nowMs = target;
  }
}

const meshCa = MeshCA.create({ nowMs: START });

async function setup(options: Partial<CertificateManagerOptions> = {}) {
  const clock = new FakeClock();
  const errors: CertError[] = [];
  const manager = new CertificateManager({
    ca: await meshCa,
    trustDomain: 'cluster.local',
    clock,
    serviceCertValidityMs: HOUR_MS,
    renewJitterFraction: 0,
    onError: (e) => errors.push(e),
    ...options,
  });
  return { clock, manager, errors };
}

/** The next rotation's arguments; fails after a (real-time) deadline rather than hanging. */
function nextRotation(manager: CertificateManager, deadlineMs = 5000): Promise<{ identity: Identity; cert: IssuedCertificate }> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      stop();
      reject(new Error(`no rotation within ${deadlineMs} ms`));
    }, deadlineMs);
    const stop = manager.onRotated((identity, cert) => {
      clearTimeout(deadline);
      stop();
      resolve({ identity, cert });
    });
  });
}

test('issueWorkload caches per identity and concurrent calls share one issuance', async () => {
  const { manager } = await setup();
  const [a, b] = await Promise.all([manager.issueWorkload(web), manager.issueWorkload(web)]);
  assert.equal(a, b);
  assert.equal(await manager.issueWorkload(web), a);
  assert.equal(manager.getWorkload(web), a);
  const other = await manager.issueWorkload(api);
  assert.notEqual(other.serialNumber, a.serialNumber);
  assert.equal(manager.getWorkload(identityOf('shop', 'nobody')), undefined);
  manager.close();
});

test('a workload certificate is renewed before expiry and subscribers are told', async () => {
  const { clock, manager, errors } = await setup({ renewBeforeFraction: 0.3 });
  const first = await manager.issueWorkload(web);
  assert.equal(first.notAfterMs, START + HOUR_MS);

  clock.advance(0.7 * HOUR_MS - 1000);
  assert.equal(manager.getWorkload(web), first, 'not renewed while more than 30% of the lifetime remains');

  const rotation = nextRotation(manager);
  clock.advance(1000);
  const { identity, cert } = await rotation;
  assert.equal(identity, web);
  assert.notEqual(cert.serialNumber, first.serialNumber);
  assert.equal(manager.getWorkload(web), cert);
  // Renewed while the old certificate still had 30% of its life left.
  assert.equal(clock.now(), START + 0.7 * HOUR_MS);
  assert.ok(clock.now() < first.notAfterMs);
  assert.equal(cert.notAfterMs, START + 0.7 * HOUR_MS + HOUR_MS);
  assert.equal(describeCertificate(cert.certChainPem).commonName, 'web.shop.cluster.local');
  assert.deepEqual(manager.inventory(), [
    {
      identity: web,
      commonName: 'web.shop.cluster.local',
      serialNumber: cert.serialNumber,
      notBefore: new Date(cert.notBeforeMs).toISOString(),
      notAfter: new Date(cert.notAfterMs).toISOString(),
      renewAt: new Date(START + 1.4 * HOUR_MS).toISOString(),
    },
  ]);
  assert.deepEqual(errors, []);
  manager.close();
});

test('jitter moves renewal earlier by up to renewJitterFraction of the lifetime', async () => {
  const { clock, manager } = await setup({ renewBeforeFraction: 0.3, renewJitterFraction: 0.1, random: () => 0.5 });
  await manager.issueWorkload(web);
  assert.deepEqual(clock.delays, [0.65 * HOUR_MS]);
  manager.close();
});

test('a certificate found due when asked is re-issued then, and announced as a rotation', async () => {
  const { clock, manager } = await setup();
  const first = await manager.issueWorkload(web);
  // The clock jumps (a suspended laptop) without the renewal timer having run.
  clock.nowMs += 0.8 * HOUR_MS;
  const rotation = nextRotation(manager);
  const second = await manager.issueWorkload(web);
  assert.notEqual(second.serialNumber, first.serialNumber);
  assert.equal((await rotation).cert, second);
  manager.close();
});

test('long lifetimes wait in steps Node setTimeout can take, and still renew on time', async () => {
  const YEAR_MS = 365 * 24 * HOUR_MS;
  const { clock, manager } = await setup({ serviceCertValidityMs: YEAR_MS });
  const first = await manager.issueWorkload(web);
  assert.ok(clock.delays.every((d) => d <= 2 ** 31 - 1));
  const rotation = nextRotation(manager);
  clock.advance(0.7 * YEAR_MS);
  const { cert } = await rotation;
  assert.notEqual(cert.serialNumber, first.serialNumber);
  assert.equal(clock.now(), START + 0.7 * YEAR_MS);
  assert.ok(clock.delays.length > 10, 'woke up several times on the way');
  manager.close();
});

test('a failed renewal is reported, the old certificate kept, and retried', async () => {
  const ca = await meshCa;
  let failNext = false;
  const flaky: CertificateAuthority = {
    rootCertificatePem: ca.rootCertificatePem,
    issue: (template) => (failNext ? Promise.reject(new Error('HSM unavailable')) : ca.issue(template)),
    verify: (chain, options) => ca.verify(chain, options),
  };
  const { clock, manager, errors } = await setup({ ca: flaky, retryDelayMs: 30_000 });
  const first = await manager.issueWorkload(web);
  failNext = true;
  clock.advance(0.7 * HOUR_MS);
  await waitFor(() => errors.length === 1);
  assert.equal(errors[0]?.code, 'E6301');
  assert.ok(errors[0]?.message.includes('shop/web'));
  assert.equal(manager.getWorkload(web), first);

  failNext = false;
  const rotation = nextRotation(manager);
  clock.advance(30_000);
  assert.notEqual((await rotation).cert.serialNumber, first.serialNumber);
  manager.close();
});

test('a subscriber that throws is reported and does not stop the others', async () => {
  const { clock, manager, errors } = await setup();
  manager.onRotated(() => {
    throw new Error('subscriber bug');
  });
  const unsubscribed = mock.fn();
  manager.onRotated(unsubscribed)();
  const rotation = nextRotation(manager);
  await manager.issueWorkload(web);
  clock.advance(0.7 * HOUR_MS);
  await rotation;
  assert.deepEqual(
    errors.map((e) => e.code),
    ['E6302'],
  );
  assert.equal(unsubscribed.mock.callCount(), 0);
  manager.close();
});

test('releaseWorkload and close cancel renewals; close is idempotent and later issues fail', async () => {
  const { clock, manager } = await setup();
  await manager.issueWorkload(web);
  await manager.issueWorkload(api);
  assert.equal(clock.pending, 2);
  manager.releaseWorkload(web);
  assert.equal(clock.pending, 1);
  assert.equal(manager.getWorkload(web), undefined);
  assert.deepEqual(
    manager.inventory().map((e) => e.identity),
    [api],
  );
  manager.close();
  manager.close();
  assert.equal(clock.pending, 0);
  await assert.rejects(manager.issueWorkload(web), (e: unknown) => e instanceof CertError && e.code === 'E6303');
});

test('a release during issuance hands the certificate to the caller without caching it', async () => {
  const { clock, manager } = await setup();
  const pending = manager.issueWorkload(web);
  manager.releaseWorkload(web);
  const cert = await pending;
  assert.equal(cert.commonName, 'web.shop.cluster.local');
  assert.equal(manager.getWorkload(web), undefined);
  assert.equal(clock.pending, 0);
  manager.close();
});

test('inventory is sorted by identity and carries no PEM', async () => {
  const { manager } = await setup();
  await manager.issueWorkload(web);
  await manager.issueWorkload(api);
  const inventory = manager.inventory();
  assert.deepEqual(
    inventory.map((e) => e.identity),
    [api, web],
  );
  assert.ok(!JSON.stringify(inventory).includes('BEGIN'));
  manager.close();
});

test('setServiceCertValidity applies to the next issuance', async () => {
  const { manager } = await setup();
  manager.setServiceCertValidity(2 * HOUR_MS);
  assert.equal((await manager.issueWorkload(web)).notAfterMs, START + 2 * HOUR_MS);
  assert.throws(() => manager.setServiceCertValidity(0), (e: unknown) => e instanceof CertError && e.code === 'E6005');
  manager.close();
});

test('xDS server and proxy bootstrap certificates use the internal lifetime', async () => {
  const { manager } = await setup({ internalCertValidityMs: 48 * HOUR_MS });
  const ads = await manager.issueAdsServerCert({ extraSans: ['localhost', '127.0.0.1'] });
  assert.deepEqual(describeCertificate(ads.certChainPem).dnsNames, ['ads.cluster.local', 'localhost']);
  assert.equal(ads.notAfterMs, START + 48 * HOUR_MS);
  const uuid = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const bootstrap = await manager.issueProxyBootstrap({ uuid, identity: web });
  const verified = await manager.verify(bootstrap.certChainPem, { usage: 'clientAuth' });
  assert.deepEqual(parseProxyCommonName(verified.commonName ?? '', 'cluster.local'), {
    uuid,
    kind: 'sidecar',
    serviceAccount: 'web',
    namespace: 'shop',
    trustDomain: 'cluster.local',
  });
  assert.equal(manager.inventory().length, 0, 'neither is cached');
  manager.close();
});

const badOptions: Array<{ name: string; options: Partial<CertificateManagerOptions>; mentions: string }> = [
  { name: 'empty trust domain', options: { trustDomain: '' }, mentions: 'trustDomain' },
  { name: 'trust domain with a slash', options: { trustDomain: 'a/b' }, mentions: 'trustDomain' },
  { name: 'zero validity', options: { serviceCertValidityMs: 0 }, mentions: 'serviceCertValidityMs' },
  { name: 'renew fraction 1', options: { renewBeforeFraction: 1 }, mentions: 'renewBeforeFraction' },
  { name: 'fractions summing to 1', options: { renewBeforeFraction: 0.5, renewJitterFraction: 0.5 }, mentions: 'renewBeforeFraction' },
];

for (const c of badOptions) {
  test(`the manager rejects ${c.name} (E6005)`, async () => {
    await assert.rejects(setup(c.options), (e: unknown) => e instanceof CertError && e.code === 'E6005' && e.message.includes(c.mentions));
  });
}

test('systemClock drives renewal under node:test mock timers', { timeout: 10_000 }, async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: START });
  const manager = new CertificateManager({ ca: await meshCa, trustDomain: 'cluster.local', clock: systemClock, serviceCertValidityMs: HOUR_MS, renewJitterFraction: 0 });
  const first = await manager.issueWorkload(web);
  const rotated = new Promise<IssuedCertificate>((resolve) => manager.onRotated((_id, cert) => resolve(cert)));
  t.mock.timers.tick(0.7 * HOUR_MS);
  assert.notEqual((await rotated).serialNumber, first.serialNumber);
  manager.close();
});

/** Waits (real time, polling each turn of the event loop) for a condition, with a deadline. */
async function waitFor(condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const until = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > until) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
