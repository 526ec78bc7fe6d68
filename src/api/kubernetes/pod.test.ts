import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import { serviceAccountOf, type Pod } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const realistic = `apiVersion: v1
kind: Pod
metadata:
  name: bookstore-v1-5d9c7
  namespace: bookstore
  labels: { app: bookstore, version: v1 }
  ownerReferences:
  - { apiVersion: apps/v1, kind: ReplicaSet, name: bookstore-v1, uid: 5a0e7c1d-1234, controller: true }
spec:
  serviceAccountName: bookstore
  hostNetwork: false
  nodeSelector: { kubernetes.io/os: linux }
  restartPolicy: Always
  terminationGracePeriodSeconds: 30
  dnsPolicy: ClusterFirst
  securityContext: { runAsNonRoot: true, fsGroup: 2000 }
  tolerations: [{ key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300 }]
  affinity: { podAntiAffinity: {} }
  topologySpreadConstraints: []
  priority: 0
  enableServiceLinks: true
  preemptionPolicy: PreemptLowerPriority
  volumes:
  - name: certs
    secret: { secretName: bookstore-certs }
  initContainers:
  - name: osm-init
    image: openservicemesh/init:v1.2.0
    command: [/bin/sh, -c]
    args: [iptables-restore --noflush]
    securityContext: { capabilities: { add: [NET_ADMIN] } }
    restartPolicy: Always
  containers:
  - name: bookstore
    image: openservicemesh/bookstore:v1.2.0
    imagePullPolicy: IfNotPresent
    workingDir: /
    command: [/bookstore]
    args: [--port, "14001"]
    env:
    - name: IDENTITY
      value: bookstore-v1
    - name: POD_NAME
      valueFrom: { fieldRef: { fieldPath: metadata.name } }
    envFrom: [{ configMapRef: { name: bookstore-env } }]
    ports:
    - { name: web, containerPort: 14001 }
    - { containerPort: 9000, protocol: UDP, hostPort: 9000, hostIP: 0.0.0.0 }
    resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { memory: 128Mi } }
    volumeMounts: [{ name: certs, mountPath: /certs, readOnly: true }]
    livenessProbe:
      httpGet:
        path: /liveness
        port: web
        scheme: HTTP
        httpHeaders: [{ name: X-Probe, value: liveness }]
      initialDelaySeconds: 3
    readinessProbe:
      tcpSocket: { port: 14001 }
      periodSeconds: 5
      failureThreshold: 1
    startupProbe:
      grpc: { port: 9090, service: health }
    lifecycle: { preStop: { exec: { command: [sleep, "5"] } } }
    terminationMessagePolicy: FallbackToLogsOnError
    stdin: false
    tty: false
  - name: sidecar
    image: envoyproxy/envoy:v1.27.0
    livenessProbe:
      exec: { command: [cat, /tmp/healthy] }
status:
  phase: Running
  podIP: 10.244.1.7
  podIPs: [{ ip: 10.244.1.7 }, { ip: "fd00::7" }]
  hostIP: 172.18.0.2
  startTime: "2024-01-01T00:00:00Z"
  qosClass: Burstable
  conditions: [{ type: Ready, status: "True" }]
  containerStatuses: [{ name: bookstore, ready: true, restartCount: 0, image: x, imageID: y }]
`;

test('a realistic Pod parses with no problems, with probe defaults applied', () => {
  const r = parseManifest(realistic, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const pod = r.objects[0]?.object as Pod;
  assert.equal(serviceAccountOf(pod.spec), 'bookstore');
  assert.equal(pod.status?.podIP, '10.244.1.7');
  assert.deepEqual(pod.status?.podIPs, [{ ip: '10.244.1.7' }, { ip: 'fd00::7' }]);
  const [app] = pod.spec.containers;
  assert.deepEqual(app?.ports, [
    { name: 'web', containerPort: 14001, protocol: 'TCP' },
    { containerPort: 9000, protocol: 'UDP', hostPort: 9000, hostIP: '0.0.0.0' },
  ]);
  assert.deepEqual(app?.readinessProbe, { tcpSocket: { port: 14001 }, timeoutSeconds: 1, periodSeconds: 5, successThreshold: 1, failureThreshold: 1 });
  assert.deepEqual(app?.livenessProbe?.httpGet?.path, '/liveness');
});

const serviceAccounts = [
  { name: 'serviceAccountName wins', spec: 'serviceAccountName: a\n  serviceAccount: b\n', want: 'a' },
  { name: 'the deprecated serviceAccount is honoured', spec: 'serviceAccount: b\n', want: 'b' },
  { name: 'no service account means default', spec: '', want: 'default' },
];
for (const c of serviceAccounts) {
  test(`Pod service account: ${c.name}`, () => {
    const text = `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  ${c.spec}  containers: [{ name: c }]\n`;
    const r = parseManifest(text, 'f.yaml', registry);
    assert.deepEqual(r.problems, []);
    assert.equal(serviceAccountOf((r.objects[0]?.object as Pod).spec), c.want);
  });
}

const portNameRule =
  "expected a port number 1-65535 or a port name (IANA_SVC_NAME: 1-15 characters of a-z, 0-9 and '-', at least one letter, no '-' at either end or next to another '-'), got";
const pod = (container: string) => `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n  - name: c\n${container}`;

const cases = [
  {
    name: 'an httpGet probe port that is not a port name',
    text: pod('    readinessProbe:\n      httpGet: { port: Metrics }\n'),
    want: [{ code: 'E2103', field: 'spec.containers[0].readinessProbe.httpGet.port', message: `${portNameRule} string "Metrics"`, line: 8 }],
  },
  {
    name: 'a tcpSocket probe port out of range, in an init container',
    text: `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  initContainers:\n  - name: i\n    startupProbe:\n      tcpSocket:\n        port: 0\n  containers: [{ name: c }]\n`,
    want: [{ code: 'E2103', field: 'spec.initContainers[0].startupProbe.tcpSocket.port', message: `${portNameRule} number 0`, line: 9 }],
  },
  {
    name: 'an unknown probe scheme',
    text: pod('    livenessProbe:\n      httpGet: { port: 80, scheme: TCP }\n'),
    want: [{ code: 'E2001', field: 'spec.containers[0].livenessProbe.httpGet.scheme', message: 'expected one of "HTTP", "HTTPS", got string "TCP"', line: 8 }],
  },
  {
    name: 'a container port above 65535',
    text: pod('    ports: [{ containerPort: 80000 }]\n'),
    want: [{ code: 'E2001', field: 'spec.containers[0].ports[0].containerPort', message: 'expected a value <= 65535, got 80000', line: 7 }],
  },
  {
    name: 'an unknown phase',
    text: 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: c }]\nstatus:\n  phase: Starting\n',
    want: [{ code: 'E2001', field: 'status.phase', message: 'expected one of "Pending", "Running", "Succeeded", "Failed", "Unknown", got string "Starting"', line: 7 }],
  },
  {
    name: 'a pod without containers',
    text: 'apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: []\n',
    want: [{ code: 'E2001', field: 'spec.containers', message: 'expected at least 1 item, got 0', line: 5 }],
  },
];

for (const c of cases) {
  test(`Pod: ${c.name}`, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.want);
    assert.equal(r.objects.length, 0);
  });
}

test('Pod: an unknown container field is a warning and is dropped', () => {
  const r = parseManifest(pod('    imagePullPolicys: Always\n'), 'f.yaml', registry);
  assert.deepEqual(r.problems.map((p) => ({ ...brief(p), severity: p.severity })), [
    { code: 'E2003', field: 'spec.containers[0].imagePullPolicys', message: 'unknown field, ignored', line: 7, severity: 'warning' },
  ]);
  const [c] = (r.objects[0]?.object as Pod).spec.containers;
  assert.deepEqual(c, { name: 'c' });
});
