/**
 * Every golden proxy's resources (built as src/xds/golden.test.ts builds them, from the
 * testdata/xds/*.yaml meshes) go through the wire, decode with no errors and assemble into a
 * complete config: what the control plane sends, the sidecar accepts.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureModel, fixtureResources, xdsFixtures } from '../../testing/xds-fixtures.js';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  decode,
  encode,
  ListenerSchema,
  RouteConfigurationSchema,
  SecretSchema,
  type DescMessage,
  type MessageShape,
} from '../../xds/proto.js';
import { decodeCluster } from './decode-cluster.js';
import { decodeClusterLoadAssignment } from './decode-endpoints.js';
import { decodeListener } from './decode-listener.js';
import { decodeRouteConfiguration } from './decode-route.js';
import { decodeSecret } from './decode-secret.js';
import type { Decoded } from './model.js';
import { assembleConfig } from './snapshot.js';

/** Sends a message through bytes, as the sidecar receives it, then decodes it; fails with every issue. */
function wire<Desc extends DescMessage, T>(schema: Desc, message: MessageShape<Desc>, decodeFn: (m: MessageShape<Desc>) => Decoded<T>, label: string): T {
  const result = decodeFn(decode(schema, encode(schema, message)));
  if (!result.ok) assert.fail(`${label}: ${result.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return result.value;
}

for (const fixture of xdsFixtures) {
  test(`golden proxies decode and assemble: ${fixture}`, async (t) => {
    const all = fixtureResources(fixtureModel(fixture));
    assert.ok(all.size > 0);
    for (const [key, r] of all) {
      await t.test(key, () => {
        const decoded = {
          listeners: r.listeners.map((m) => wire(ListenerSchema, m, decodeListener, `Listener ${m.name}`)),
          routeConfigs: r.routes.map((m) => wire(RouteConfigurationSchema, m, decodeRouteConfiguration, `RouteConfiguration ${m.name}`)),
          clusters: r.clusters.map((m) => wire(ClusterSchema, m, decodeCluster, `Cluster ${m.name}`)),
          endpoints: r.endpoints.map((m) => wire(ClusterLoadAssignmentSchema, m, decodeClusterLoadAssignment, `ClusterLoadAssignment ${m.clusterName}`)),
          secrets: r.secrets.map((m) => wire(SecretSchema, m, decodeSecret, `Secret ${m.name}`)),
        };
        const assembled = assembleConfig(decoded);
        if (!assembled.ok) assert.fail(`incomplete: ${JSON.stringify(assembled)}`);
        const config = assembled.config;
        assert.equal(config.listeners.size, r.listeners.length);
        assert.equal(config.clusters.size, r.clusters.length);
        assert.ok(Object.isFrozen(config) && Object.isFrozen([...config.listeners.values()][0]));
        assert.throws(() => (config.listeners as Map<string, unknown>).set('x', 1), TypeError);
        // Without its endpoints and secrets the same config is not complete: the proxy waits.
        const partial = assembleConfig({ ...decoded, endpoints: [], secrets: [] });
        assert.equal(partial.ok, decoded.endpoints.length === 0 && decoded.secrets.length === 0);
      });
    }
  });
}

test('a proxy waits for what its listeners and clusters name, and lists who needs it', () => {
  const [, r] = [...fixtureResources(fixtureModel('bookstore'))].find(([k]) => k.startsWith('bookbuyer/')) ?? assert.fail('no bookbuyer proxy');
  const ok = <T>(d: Decoded<T>): T => (d.ok ? d.value : assert.fail(JSON.stringify(d.errors)));
  const result = assembleConfig({
    listeners: r.listeners.map((m) => ok(decodeListener(m))),
    routeConfigs: [],
    clusters: r.clusters.map((m) => ok(decodeCluster(m))),
    endpoints: [],
    secrets: r.secrets.map((m) => ok(decodeSecret(m))),
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.errors, []);
  const kinds = new Set(result.missing.map((m) => m.kind));
  assert.deepEqual([...kinds].sort(), ['ClusterLoadAssignment', 'RouteConfiguration']);
  const eds = result.missing.find((m) => m.kind === 'ClusterLoadAssignment');
  assert.ok(eds && eds.neededBy.length === 1 && eds.neededBy[0] === `Cluster ${eds.name}`);
});
