/**
 * Golden tests: the full Envoy resources of every proxy in the fixture meshes under
 * testdata/xds/, as stable JSON a person can review. `UPDATE_GOLDEN=1 npm test -- src/xds/golden`
 * rewrites them; review the diff with `git diff testdata/xds` before committing.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildMeshModel, DEFAULT_CATALOG_OPTIONS } from '../catalog/index.js';
import { objectsInput } from '../cli/objects-input.js';
import { parseValid } from '../testing/manifests.js';
import { fixtureModel, fixtureResources, xdsFixtures, xdsTestdata } from '../testing/xds-fixtures.js';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  decode,
  encode,
  encodeJson,
  ListenerSchema,
  RouteConfigurationSchema,
  SecretSchema,
  type JsonValue,
} from './proto.js';
import { toSnapshot, type EnvoyResources } from './resources.js';

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, JsonValue>)[k] as JsonValue)]));
  }
  return value;
}

function stableJson(r: EnvoyResources): string {
  const json = {
    clusters: r.clusters.map((m) => encodeJson(ClusterSchema, m)),
    endpoints: r.endpoints.map((m) => encodeJson(ClusterLoadAssignmentSchema, m)),
    listeners: r.listeners.map((m) => encodeJson(ListenerSchema, m)),
    routes: r.routes.map((m) => encodeJson(RouteConfigurationSchema, m)),
    secrets: r.secrets.map((m) => encodeJson(SecretSchema, m)),
  };
  return `${JSON.stringify(sortKeys(json as unknown as JsonValue), null, 2)}\n`;
}

for (const fixture of xdsFixtures) {
  test(`golden xDS: ${fixture}`, async (t) => {
    const resources = fixtureResources(fixtureModel(fixture));
    assert.ok(resources.size > 0, 'the fixture has meshed pods');
    const dir = join(xdsTestdata, fixture);
    if (process.env.UPDATE_GOLDEN === '1') {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
    for (const [key, r] of resources) {
      await t.test(key, () => {
        const file = join(dir, `${key.replace('/', '__')}.json`);
        const actual = stableJson(r);
        if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, actual);
        assert.ok(existsSync(file), `no golden file ${file}: run UPDATE_GOLDEN=1 npm test -- src/xds/golden, review with git diff testdata/xds`);
        assert.equal(actual, readFileSync(file, 'utf8'), `${file} differs: run UPDATE_GOLDEN=1 npm test -- src/xds/golden and review the diff with git diff testdata/xds`);
        assert.doesNotThrow(() => toSnapshot(r), 'every resource passes the validate rules and the reference checks');
      });
    }
  });
}

test('the same mesh gives the same bytes, whatever the order of its objects', () => {
  const text = readFileSync(join(xdsTestdata, 'bookstore.yaml'), 'utf8');
  const objects = parseValid(text).objects;
  const a = fixtureResources(buildMeshModel(objectsInput(objects), DEFAULT_CATALOG_OPTIONS));
  const b = fixtureResources(buildMeshModel(objectsInput([...objects].reverse()), DEFAULT_CATALOG_OPTIONS));
  for (const [key, r] of a) {
    const other = b.get(key);
    assert.ok(other);
    const sa = toSnapshot(r);
    const sb = toSnapshot(other);
    assert.deepEqual([...sa.typeVersions], [...sb.typeVersions], key);
  }
});

test('every resource survives a protobuf encode/decode round trip byte for byte', () => {
  for (const r of fixtureResources(fixtureModel('bookstore')).values()) {
    for (const l of r.listeners) assert.deepEqual(encode(ListenerSchema, decode(ListenerSchema, encode(ListenerSchema, l))), encode(ListenerSchema, l));
    for (const c of r.clusters) assert.deepEqual(encode(ClusterSchema, decode(ClusterSchema, encode(ClusterSchema, c))), encode(ClusterSchema, c));
    for (const x of r.routes) assert.deepEqual(encode(RouteConfigurationSchema, decode(RouteConfigurationSchema, encode(RouteConfigurationSchema, x))), encode(RouteConfigurationSchema, x));
  }
});
