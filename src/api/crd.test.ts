import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { crdFor, isCustomResource } from './crd.js';
import { allKinds } from './registry.js';

type Node = Record<string, unknown>;

/** Kubernetes' structural-schema rule: every node says its type or opts out explicitly. */
function nonStructural(node: Node, path: string): string[] {
  const out: string[] = [];
  if (node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true) {
    if (node.type === undefined) return out;
  }
  if (typeof node.type !== 'string') out.push(`${path}: no type`);
  if (node.properties && node.additionalProperties) out.push(`${path}: properties and additionalProperties together`);
  for (const [k, v] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) out.push(...nonStructural(v, `${path}.${k}`));
  if (node.items) out.push(...nonStructural(node.items as Node, `${path}[]`));
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    out.push(...nonStructural(node.additionalProperties as Node, `${path}{}`));
  }
  return out;
}

const crds = allKinds.filter(isCustomResource).map((def) => ({ def, crd: crdFor(def) as { metadata: Node; spec: Node } }));

test('every SMI and OSM kind has a CRD and no built-in kind does', () => {
  assert.deepEqual(crds.map((c) => c.crd.metadata.name).sort(), [
    'egresses.policy.openservicemesh.io',
    'httproutegroups.specs.smi-spec.io',
    'ingressbackends.policy.openservicemesh.io',
    'meshconfigs.config.openservicemesh.io',
    'retries.policy.openservicemesh.io',
    'tcproutes.specs.smi-spec.io',
    'trafficsplits.split.smi-spec.io',
    'traffictargets.access.smi-spec.io',
    'udproutes.specs.smi-spec.io',
    'upstreamtrafficsettings.policy.openservicemesh.io',
  ]);
});

test('CRD schemas are structural and mark exactly one storage version', async (t) => {
  for (const { def, crd } of crds) {
    await t.test(def.kind, () => {
      const versions = crd.spec.versions as Array<{ name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Node } }>;
      assert.deepEqual(versions.filter((v) => v.storage).map((v) => v.name), [def.storageVersion]);
      assert.deepEqual(versions.filter((v) => v.served).map((v) => v.name), [def.storageVersion], 'without a conversion webhook only the storage version is served');
      for (const v of versions) assert.deepEqual(nonStructural(v.schema.openAPIV3Schema, `${def.kind}/${v.name}`), []);
    });
  }
});

test('the CRD carries the decoder\'s constraints', () => {
  const split = crds.find((c) => c.def.kind === 'TrafficSplit')?.crd.spec.versions as Array<{ name: string; schema: { openAPIV3Schema: Node } }>;
  const v4 = split.find((v) => v.name === 'v1alpha4')?.schema.openAPIV3Schema as Node;
  const spec = (v4.properties as Record<string, Node>).spec as Node;
  assert.deepEqual(spec.required, ['service', 'backends']);
  const backends = (spec.properties as Record<string, Node>).backends as Node;
  assert.equal(backends.minItems, 1);
  const tt = crds.find((c) => c.def.kind === 'TrafficTarget')?.crd.spec as Node;
  assert.equal(tt.scope, 'Namespaced');
  assert.deepEqual((tt.names as Node).shortNames, ['tt']);
  const rules = (((((tt.versions as Array<{ name: string; schema: { openAPIV3Schema: Node } }>).find((v) => v.name === 'v1alpha3')?.schema.openAPIV3Schema as Node).properties as Record<string, Node>).spec as Node).properties as Record<string, Node>).rules as Node;
  assert.deepEqual(((rules.items as Node).properties as Record<string, Node>).kind, { type: 'string', enum: ['HTTPRouteGroup', 'TCPRoute', 'UDPRoute'] });
});

test('with a conversion webhook every version is served', () => {
  const def = crds.find((c) => c.def.kind === 'TrafficSplit')?.def;
  assert.ok(def);
  const crd = crdFor(def, { service: { namespace: 'osm-system', name: 'osm-controller', path: '/convert', port: 9443 }, caBundle: 'Q0E=' }) as { spec: Node };
  assert.deepEqual((crd.spec.versions as Array<{ served: boolean }>).map((v) => v.served), [true, true, true, true]);
  assert.equal((crd.spec.conversion as Node).strategy, 'Webhook');
});
