import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import type { Secret } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const cases = [
  {
    name: 'a Secret with every field',
    text: 'apiVersion: v1\nkind: Secret\nmetadata: { name: osm-ca-bundle, namespace: osm-system }\ntype: kubernetes.io/tls\nimmutable: true\ndata:\n  tls.crt: Y2VydA==\n  tls.key: a2V5\nstringData:\n  ca.crt: plain\n',
    want: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'osm-ca-bundle', namespace: 'osm-system' },
      type: 'kubernetes.io/tls',
      immutable: true,
      data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' },
      stringData: { 'ca.crt': 'plain' },
    },
  },
  {
    name: 'a Secret without a type, which is Opaque',
    text: 'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\ndata: { token: dG9r }\n',
    want: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', data: { token: 'dG9r' } },
  },
];

for (const c of cases) {
  test(`${c.name} parses with no problems`, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.objects[0]?.object, c.want);
  });
}

test('an unknown Secret field is a warning and is dropped', () => {
  const r = parseManifest('apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringdata: { a: b }\n', 'f.yaml', registry);
  assert.deepEqual(r.problems.map((p) => ({ ...brief(p), severity: p.severity })), [
    { code: 'E2003', field: 'stringdata', message: 'unknown field, ignored', line: 4, severity: 'warning' },
  ]);
  assert.equal('stringdata' in (r.objects[0]?.object as Secret), false);
});
