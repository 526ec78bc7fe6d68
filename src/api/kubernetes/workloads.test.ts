import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import type { Workload } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const template = `  template:
    metadata:
      labels: { app: web, version: v1 }
      annotations: { openservicemesh.io/sidecar-injection: enabled }
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: example/web:1
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe:
          httpGet: { path: /healthz, port: http }
`;

const kinds = [
  {
    kind: 'Deployment',
    spec: '  replicas: 3\n  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 25%, maxUnavailable: 1 } }\n  revisionHistoryLimit: 5\n  progressDeadlineSeconds: 600\n  minReadySeconds: 5\n  paused: false\n',
    replicas: 3,
  },
  {
    kind: 'StatefulSet',
    spec: '  serviceName: web\n  podManagementPolicy: Parallel\n  updateStrategy: { type: RollingUpdate }\n  persistentVolumeClaimRetentionPolicy: { whenDeleted: Retain }\n  ordinals: { start: 0 }\n  volumeClaimTemplates:\n  - metadata: { name: data }\n    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }\n',
    replicas: 1,
  },
  { kind: 'DaemonSet', spec: '  updateStrategy: { type: OnDelete }\n  revisionHistoryLimit: 3\n', replicas: undefined },
  { kind: 'ReplicaSet', spec: '  replicas: 0\n  minReadySeconds: 1\n', replicas: 0 },
];

for (const c of kinds) {
  test(`a realistic ${c.kind} parses with no problems`, () => {
    const text = `apiVersion: apps/v1\nkind: ${c.kind}\nmetadata: { name: web, namespace: shop }\nspec:\n  selector:\n    matchLabels: { app: web }\n${c.spec}${template}status:\n  observedGeneration: 2\n`;
    const r = parseManifest(text, 'f.yaml', registry);
    assert.deepEqual(r.problems, []);
    const w = r.objects[0]?.object as Workload;
    assert.equal(w.kind, c.kind);
    assert.equal('replicas' in w.spec ? w.spec.replicas : undefined, c.replicas);
    assert.equal(w.spec.template.spec.serviceAccountName, 'web');
  });
}

const selectorRule = (selector: string, reason: string, kind = 'Deployment') =>
  `must satisfy the selector ${JSON.stringify(selector)} (spec.selector): ${reason}; Kubernetes rejects a ${kind} whose selector does not select its own pods`;

const doc = (kind: string, selector: string, meta: string) =>
  `apiVersion: apps/v1
kind: ${kind}
metadata: { name: web, namespace: shop }
spec:
  selector:
${selector}
  template:
${meta}    spec:
      containers: [{ name: web }]
`;

const labels = '    metadata:\n      labels: { app: web, version: v1 }\n';

const cases = [
  {
    name: 'a matchLabels value the template does not have',
    text: doc('Deployment', '    matchLabels: { app: web, version: v2 }', labels),
    want: [{ code: 'E2104', field: 'spec.template.metadata.labels', message: selectorRule('app=web,version=v2', 'label "version" is "v1", the selector wants "v2"'), line: 9 }],
  },
  {
    name: 'a matchLabels key the template lacks',
    text: doc('Deployment', '    matchLabels: { app: web, tier: front }', labels),
    want: [{ code: 'E2104', field: 'spec.template.metadata.labels', message: selectorRule('app=web,tier=front', 'label "tier" is missing'), line: 9 }],
  },
  {
    name: 'a template with no labels points at the template',
    text: doc('StatefulSet', '    matchLabels: { app: web }', ''),
    want: [{ code: 'E2104', field: 'spec.template.metadata.labels', message: selectorRule('app=web', 'label "app" is missing', 'StatefulSet'), line: 7 }],
  },
  {
    name: 'a matchExpressions requirement that does not hold',
    text: doc('DaemonSet', '    matchExpressions: [{ key: version, operator: NotIn, values: [v1, v0] }]', labels),
    want: [{ code: 'E2104', field: 'spec.template.metadata.labels', message: selectorRule('version notin (v1,v0)', 'requirement version notin (v1,v0) does not hold', 'DaemonSet'), line: 9 }],
  },
  {
    name: 'a DoesNotExist requirement on a label the template has',
    text: doc('ReplicaSet', '    matchExpressions: [{ key: app, operator: DoesNotExist }]', labels),
    want: [{ code: 'E2104', field: 'spec.template.metadata.labels', message: selectorRule('!app', 'requirement !app does not hold', 'ReplicaSet'), line: 9 }],
  },
  {
    name: 'matchLabels and matchExpressions that all hold',
    text: doc('Deployment', '    matchLabels: { app: web }\n    matchExpressions: [{ key: version, operator: In, values: [v1, v2] }, { key: version, operator: Exists }]', labels),
    want: [],
  },
  {
    name: 'an empty selector',
    text: doc('Deployment', '    {}', labels).replace('  selector:\n    {}', '  selector: {}'),
    want: [{ code: 'E2105', field: 'spec.selector', message: 'must name at least one label: Kubernetes rejects an empty Deployment selector, which would select every pod in the namespace', line: 5 }],
  },
  {
    name: 'an unknown selector operator',
    text: doc('Deployment', '    matchExpressions: [{ key: app, operator: Equals, values: [web] }]', labels),
    want: [{ code: 'E2001', field: 'spec.selector.matchExpressions[0].operator', message: 'expected one of "In", "NotIn", "Exists", "DoesNotExist", got string "Equals"', line: 6 }],
  },
  {
    name: 'a missing template',
    text: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  selector: { matchLabels: { app: web } }\n',
    want: [{ code: 'E2001', field: 'spec.template', message: 'required field is missing', line: 4 }],
  },
  {
    name: 'a named probe port checked in the template',
    text: doc('Deployment', '    matchLabels: { app: web }', labels).replace(
      '[{ name: web }]',
      '[{ name: web, livenessProbe: { tcpSocket: { port: admin_port } } }]',
    ),
    want: [
      {
        code: 'E2103',
        field: 'spec.template.spec.containers[0].livenessProbe.tcpSocket.port',
        message:
          "expected a port number 1-65535 or a port name (IANA_SVC_NAME: 1-15 characters of a-z, 0-9 and '-', at least one letter, no '-' at either end or next to another '-'), got string \"admin_port\"",
        line: 11,
      },
    ],
  },
];

for (const c of cases) {
  test(`workload: ${c.name}`, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.want);
    assert.equal(r.objects.length, c.want.length === 0 ? 1 : 0);
  });
}

test('workload: an unknown field is a warning and is dropped', () => {
  const text = doc('Deployment', '    matchLabels: { app: web }', labels).replace('  template:', '  replica: 2\n  template:');
  const r = parseManifest(text, 'f.yaml', registry);
  assert.deepEqual(r.problems.map((p) => ({ ...brief(p), severity: p.severity })), [
    { code: 'E2003', field: 'spec.replica', message: 'unknown field, ignored', line: 7, severity: 'warning' },
  ]);
  const w = r.objects[0]?.object as Workload;
  assert.equal('replica' in w.spec, false);
  assert.equal('replicas' in w.spec && w.spec.replicas, 1);
});
