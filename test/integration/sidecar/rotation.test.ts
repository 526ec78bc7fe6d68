/**
 * Certificate rotation under load: with 5-second workload certificates the controller renews
 * them continually and pushes them by SDS; requests keep flowing through the sidecar pair with
 * none failing, and the server sidecar serves a new certificate afterwards.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLoopbackMesh } from '../../../src/testing/loopback-mesh.js';
import { httpVia, startHttpApp } from './apps.js';
import { addressPlan, meshYaml, OUT, sidecarSpecs } from './mesh.js';

const { ip: IP, app: APP } = addressPlan(50);

interface CertsDump {
  certificates: Array<{ cert_chain: Array<{ serial_number: string }> }>;
}

async function servingSerials(adminUrl: string): Promise<string[]> {
  const dump = (await (await fetch(`${adminUrl}/certs`)).json()) as CertsDump;
  return dump.certificates.flatMap((c) => c.cert_chain.map((e) => e.serial_number)).sort();
}

test('workload certificates rotate under load without a failed request', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'osm-rotation-'));
  const apps = [await startHttpApp(APP.v1, 8080, 'server-v1-1'), await startHttpApp(APP.v2, 8080, 'server-v2-1')];
  const specs = sidecarSpecs(addressPlan(50)).filter((s) => ['shop/client-1', 'shop/server-v1-1', 'shop/server-v2-1'].includes(s.pod));
  const mesh = await startLoopbackMesh({ dir, manifests: meshYaml({ certValidity: '5s' }, addressPlan(50)), sidecars: specs });
  try {
    const before = await servingSerials(mesh.sidecar('shop/server-v1-1').adminUrl);
    let failures = 0;
    let done = 0;
    const until = Date.now() + 12_000;
    const worker = async () => {
      while (Date.now() < until) {
        const res = await httpVia({ host: IP.client, port: OUT.server.bindPort }, 'server.shop', '/api/rotate').catch((e: Error) => ({ status: 0, body: e.message }));
        if (res.status !== 200) failures++;
        done++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const afterSerials = await servingSerials(mesh.sidecar('shop/server-v1-1').adminUrl);
    assert.ok(done > 100, `only ${done} requests ran`);
    assert.equal(failures, 0, `${failures} of ${done} requests failed during rotation`);
    assert.notDeepEqual(afterSerials, before, 'the server sidecar serves a renewed certificate');
  } finally {
    await mesh.stop();
    await Promise.all(apps.map((a) => a.close()));
    await rm(dir, { recursive: true, force: true });
  }
});
