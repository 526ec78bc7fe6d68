// Reads OSM's published manifests in place (../shared/data/osm beside the checkout; never copied).
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../parse.js';
import { formatProblem } from '../problem.js';
import { registry } from '../registry.js';
import { kubernetesKinds } from './index.js';

// This file runs as dist/src/api/kubernetes/osm-manifests.test.js; five levels up is the
// checkout's parent, which holds shared/.
const manifests = fileURLToPath(new URL('../../../../../shared/data/osm/manifests/', import.meta.url));
const ours = new Set(kubernetesKinds.map((d) => d.kind));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

test("OSM's manifests: every Kubernetes object parses with no problems", () => {
  const files = yamlFiles(manifests);
  assert.ok(files.length > 0, `no manifests under ${manifests}`);
  const counts = new Map<string, number>();
  const problems: string[] = [];
  for (const file of files) {
    const r = parseManifest(readFileSync(file, 'utf8'), file, registry);
    // SMI and OSM kinds are checked by their own tests; a problem with no object is a file we could not read.
    for (const p of r.problems) if (p.object === undefined || ours.has(p.object.kind)) problems.push(formatProblem(p));
    for (const { object } of r.objects) if (ours.has(object.kind)) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(Object.fromEntries([...counts].sort()), { Deployment: 10, Service: 10, ServiceAccount: 10, StatefulSet: 1 });
});
