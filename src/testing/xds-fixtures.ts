/**
 * Test helpers: the fixture meshes under testdata/xds/ and every proxy's Envoy resources built
 * from them, with fixed certificate material so outputs are stable. Used only by tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMeshModel, DEFAULT_CATALOG_OPTIONS, type MeshModel } from '../catalog/index.js';
import { objectsInput } from '../cli/objects-input.js';
import { buildEnvoyResources, type EnvoyResources } from '../xds/resources.js';
import { parseValid, repoRoot } from './manifests.js';

/** Where the fixture meshes and their golden outputs live. */
export const xdsTestdata = join(repoRoot, 'testdata', 'xds');

/** The fixture names (`bookstore`, `permissive`, ...). */
export const xdsFixtures = readdirSync(xdsTestdata)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

/** Stand-in PEM text: goldens must not change when a real CA would issue new certificates. */
export const testSecretMaterial = {
  rootCertificatePem: '-----BEGIN CERTIFICATE-----\n(test mesh root)\n-----END CERTIFICATE-----\n',
  workload: { certificateChainPem: '-----BEGIN CERTIFICATE-----\n(test workload)\n-----END CERTIFICATE-----\n', privateKeyPem: '(test key)' },
};

/** The mesh model of a fixture, as a running controller would build it. */
export function fixtureModel(fixture: string): MeshModel {
  const text = readFileSync(join(xdsTestdata, `${fixture}.yaml`), 'utf8');
  return buildMeshModel(objectsInput(parseValid(text).objects), DEFAULT_CATALOG_OPTIONS);
}

/** Every proxy's Envoy resources, by `namespace/pod`. */
export function fixtureResources(model: MeshModel): Map<string, EnvoyResources> {
  const ctx = { trustDomain: 'cluster.local', mesh: model.state.settings.spec, adminPort: 15000 };
  const out = new Map<string, EnvoyResources>();
  for (const [key, policy] of model.proxies) {
    const reachable = new Set(policy.outbound.services.map((s) => s.port.id));
    const denied = { ports: model.state.servicePorts.filter((p) => !reachable.has(p.id)) };
    out.set(key, buildEnvoyResources(policy, ctx, denied, testSecretMaterial));
  }
  return out;
}
