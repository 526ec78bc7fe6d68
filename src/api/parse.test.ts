import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProblem } from './problem.js';
import { parse, summary } from '../testing/manifests.js';

const sa = (name: string, ns = 'ns') => `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${name}, namespace: ${ns}}\n`;

test('reading problems name the file, line, object and field', async (t) => {
  const cases: Array<{ name: string; text: string; want: ReturnType<typeof summary>[] }> = [
    {
      name: 'invalid YAML',
      text: `${sa('a')}---\nkind: [unclosed\n`,
      want: [{ code: 'E1002', line: 6, message: 'invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]' }],
    },
    { name: 'a document that is not an object', text: '- a\n- b\n', want: [{ code: 'E1003', line: 1, message: 'expected an object with apiVersion and kind, got array' }] },
    { name: 'no apiVersion', text: 'kind: ServiceAccount\nmetadata: {name: a}\n', want: [{ code: 'E1004', field: 'apiVersion', line: 1, message: 'required field is missing (apiVersion)' }] },
    { name: 'no kind', text: 'apiVersion: v1\nmetadata: {name: a}\n', want: [{ code: 'E1004', field: 'kind', line: 1, message: 'required field is missing (kind)' }] },
    {
      name: 'a kind osm-ts does not read is reported, not dropped silently',
      text: 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: ns}\n',
      want: [{ code: 'E1005', line: 1, message: 'kind Ingress (networking.k8s.io/v1) is not read by osm-ts; skipped' }],
    },
    {
      name: 'an unknown kind in a group osm-ts reads',
      text: 'apiVersion: access.smi-spec.io/v1alpha3\nkind: IdentityBinding\nmetadata: {name: b, namespace: ns}\n',
      want: [{ code: 'E1007', field: 'kind', line: 1, message: 'kind IdentityBinding is not defined in API group access.smi-spec.io; known kinds: TrafficTarget' }],
    },
    {
      name: 'a namespace on a cluster-scoped kind',
      text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: other}\n',
      want: [{ code: 'E1009', field: 'metadata.namespace', line: 3, message: 'cluster-scoped Namespace must not set a namespace' }],
    },
    {
      name: 'a missing name',
      text: 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {namespace: ns}\n',
      want: [{ code: 'E2001', field: 'metadata.name', line: 3, message: 'required field is missing' }],
    },
    {
      name: 'an unknown field in a Kubernetes kind is a warning, and the object still loads',
      text: 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ns}\nsecretz: []\n',
      want: [{ code: 'E2003', field: 'secretz', line: 4, message: 'unknown field, ignored' }],
    },
  ];
  for (const c of cases) await t.test(c.name, () => assert.deepEqual(parse(c.text).problems.map(summary), c.want));
});

test('a problem prints as one line: file:line:col: severity: object: field: message [code]', () => {
  const [p] = parse('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ns}\nsecretz: []\n').problems;
  assert.ok(p);
  assert.equal(formatProblem(p), 'test.yaml:4:1: warning: ServiceAccount ns/a: secretz: unknown field, ignored [E2003]');
});

test('several documents, JSON and v1 List all load; a namespaced object without namespace is in default', () => {
  const yaml = parse(`${sa('a')}---\n${sa('b')}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: c}\n`);
  assert.deepEqual(yaml.objects.map((o) => `${o.object.metadata.namespace}/${o.object.metadata.name}:${o.source.line}`), ['ns/a:1', 'ns/b:5', 'default/c:9']);
  const json = parse(JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'j', namespace: 'ns' } }));
  assert.deepEqual(json.objects.map((o) => o.object.metadata.name), ['j']);
  const list = parse(`apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ServiceAccount, metadata: {name: x, namespace: ns}}\n- {apiVersion: v1, kind: ServiceAccount, metadata: {namespace: ns}}\n`);
  assert.deepEqual(list.objects.map((o) => o.object.metadata.name), ['x']);
  assert.deepEqual(list.problems.map(summary), [{ code: 'E2001', field: 'metadata.name', line: 5, message: 'required field is missing' }]);
});

test('an invalid document does not stop the valid ones around it', () => {
  const r = parse(`${sa('a')}---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: 5, namespace: ns}\n---\n${sa('c')}`);
  assert.deepEqual(r.objects.map((o) => o.object.metadata.name), ['a', 'c']);
  assert.deepEqual(r.problems.map((p) => p.code), ['E2001']);
});
