/**
 * `osm proxy bootstrap`, run as a user would: every format, signed by the CA in a state
 * directory, with the key file private and the Envoy bootstrap a valid v3 Bootstrap.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MeshCA, systemClock } from '../../src/certs/index.js';
import { BootstrapSchema, decodeJson, envoyRegistry, type JsonValue } from '../../src/xds/proto.js';
import { validateRules } from '../../src/xds/validate-rules.js';

const bin = new URL('../../src/cli/bin.js', import.meta.url).pathname;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osm-bootstrap-'));
  await MeshCA.loadOrCreate(join(dir, 'state', 'ca'), { nowMs: systemClock.now() });
});

after(() => rm(dir, { recursive: true, force: true }));

function bootstrap(format: string, extra: string[] = []) {
  const out = join(dir, format);
  const run = spawnSync(process.execPath, [bin, 'proxy', 'bootstrap', '--state-dir', join(dir, 'state'), '--namespace', 'shop', '--service-account', 'web', '--format', format, '--out', out, '--uuid', '11111111-2222-4333-8444-555555555555', ...extra], { encoding: 'utf8' });
  return { run, out };
}

test('the osm format names the proxy by its certificate CN and points at the files', async () => {
  const { run, out } = bootstrap('osm');
  assert.equal(run.status, 0, run.stderr);
  const doc = JSON.parse(await readFile(join(out, 'bootstrap.json'), 'utf8')) as { node: { id: string }; ads: { address: string; certificateFile: string } };
  assert.equal(doc.node.id, '11111111-2222-4333-8444-555555555555.sidecar.web.shop.cluster.local');
  assert.equal(doc.ads.address, '127.0.0.1:15128');
  const cert = new X509Certificate(await readFile(doc.ads.certificateFile));
  assert.match(cert.subject, /CN=11111111-2222-4333-8444-555555555555\.sidecar\.web\.shop\.cluster\.local/);
  const ca = new X509Certificate(await readFile(join(out, 'ca.crt')));
  assert.ok(cert.verify(ca.publicKey), 'signed by the mesh CA in the state directory');
  assert.equal((await stat(join(out, 'tls.key'))).mode & 0o777, 0o600);
});

test('the envoy format is a v3 Bootstrap that satisfies Envoy\'s validate rules', async () => {
  const { run, out } = bootstrap('envoy', ['--ads-address', 'osm-controller.osm-system.svc.cluster.local:15128']);
  assert.equal(run.status, 0, run.stderr);
  const json = JSON.parse(await readFile(join(out, 'bootstrap.json'), 'utf8')) as JsonValue;
  const message = decodeJson(BootstrapSchema, json);
  assert.deepEqual(validateRules(BootstrapSchema, message, { registry: envoyRegistry }), []);
  assert.equal(message.staticResources?.clusters[0]?.name, 'osm-controller');
});

test('the grpc format is grpc-js-xds\'s bootstrap with a file_watcher provider and the workload certificate', async () => {
  const { run, out } = bootstrap('grpc', ['--ads-address', '127.0.0.1:15129']);
  assert.equal(run.status, 0, run.stderr);
  const doc = JSON.parse(await readFile(join(out, 'bootstrap.json'), 'utf8')) as {
    xds_servers: Array<{ server_uri: string; channel_creds: Array<{ type: string }> }>;
    node: { locality: object };
    certificate_providers: { mesh: { plugin_name: string; config: { certificate_file: string; refresh_interval: string } } };
  };
  assert.deepEqual(doc.xds_servers[0]?.channel_creds, [{ type: 'insecure' }]);
  assert.deepEqual(doc.node.locality, {}, 'grpc-js-xds requires a locality');
  assert.equal(doc.certificate_providers.mesh.plugin_name, 'file_watcher');
  const cert = new X509Certificate(await readFile(doc.certificate_providers.mesh.config.certificate_file));
  assert.match(cert.subjectAltName ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/shop\/sa\/web/);
});

test('without a CA in the state directory it says to start the controller first', () => {
  const run = spawnSync(process.execPath, [bin, 'proxy', 'bootstrap', '--state-dir', join(dir, 'nowhere'), '--namespace', 'shop', '--service-account', 'web', '--out', join(dir, 'x')], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /no mesh CA in .*nowhere\/ca: start the controller with --state-dir/);
});
