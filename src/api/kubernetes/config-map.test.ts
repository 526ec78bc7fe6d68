import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import type { ConfigMap } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const cases = [
  {
    name: 'a ConfigMap with every field parses with no problems',
    text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: preset-mesh-config, namespace: osm-system }\nimmutable: false\ndata:\n  preset-mesh-config.json: "{}"\nbinaryData:\n  blob: AAEC\n',
    problems: [],
    data: { 'preset-mesh-config.json': '{}' },
  },
  {
    name: 'a ConfigMap value must be a string',
    text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata:\n  port: 8080\n',
    problems: [{ code: 'E2001', field: 'data.port', message: 'expected a string, got number 8080', line: 5 }],
    data: undefined,
  },
  {
    name: 'an unknown ConfigMap field is a warning and is dropped',
    text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\ndata: { a: b }\nbinarydata: { c: AA== }\n',
    problems: [{ code: 'E2003', field: 'binarydata', message: 'unknown field, ignored', line: 5 }],
    data: { a: 'b' },
  },
];

for (const c of cases) {
  test(c.name, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.problems);
    const cm = r.objects[0]?.object as ConfigMap | undefined;
    assert.deepEqual(cm?.data, c.data);
    if (cm) assert.equal('binarydata' in cm, false);
  });
}
