import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import { isHeadlessService, type Service } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const realistic = `apiVersion: v1
kind: Service
metadata:
  name: bookstore
  namespace: bookstore
  labels: { app: bookstore }
spec:
  type: NodePort
  selector:
    app: bookstore
  clusterIP: 10.96.0.12
  clusterIPs: [10.96.0.12]
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }
  externalTrafficPolicy: Local
  internalTrafficPolicy: Cluster
  externalIPs: [192.0.2.10]
  publishNotReadyAddresses: false
  trafficDistribution: PreferClose
  ports:
  - name: http
    port: 14001
    targetPort: web
    appProtocol: http
    nodePort: 30001
  - name: metrics
    port: 9090
    protocol: TCP
  - name: dns
    port: 53
    targetPort: 5353
    protocol: UDP
status:
  loadBalancer: {}
`;

test('a realistic Service parses with no problems, with Kubernetes defaults applied', () => {
  const r = parseManifest(realistic, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const svc = r.objects[0]?.object as Service;
  assert.deepEqual(
    svc.spec.ports.map((p) => [p.name, p.port, p.targetPort, p.protocol]),
    [
      ['http', 14001, 'web', 'TCP'],
      ['metrics', 9090, 9090, 'TCP'],
      ['dns', 53, 5353, 'UDP'],
    ],
  );
  assert.equal(svc.spec.type, 'NodePort');
  assert.equal(isHeadlessService(svc), false);
});

test('a headless Service without ports parses, and is headless', () => {
  const r = parseManifest('apiVersion: v1\nkind: Service\nmetadata: { name: db }\nspec: { clusterIP: None, selector: { app: db } }\n', 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const svc = r.objects[0]?.object as Service;
  assert.deepEqual(svc.spec.ports, []);
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.equal(isHeadlessService(svc), true);
});

test('targetPort 0 or "" means the port, as Kubernetes defaults it', () => {
  const text = `apiVersion: v1
kind: Service
metadata: { name: s }
spec:
  ports:
  - { name: a, port: 80, targetPort: 0 }
  - { name: b, port: 81, targetPort: "" }
`;
  const r = parseManifest(text, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  assert.deepEqual((r.objects[0]?.object as Service).spec.ports.map((p) => p.targetPort), [80, 81]);
});

const header = 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: ns }\nspec:\n  ports:\n';
const portNameRule =
  "expected a port number 1-65535 or a port name (IANA_SVC_NAME: 1-15 characters of a-z, 0-9 and '-', at least one letter, no '-' at either end or next to another '-'), got";

const cases = [
  {
    name: 'an unnamed port of a multi-port Service',
    ports: '  - { name: http, port: 80 }\n  - port: 8080\n    targetPort: 8080\n',
    want: [{ code: 'E2101', field: 'spec.ports[1].name', message: 'name is required when a Service has more than one port', line: 7 }],
  },
  {
    name: 'every unnamed port is reported',
    ports: '  - port: 80\n  - port: 81\n',
    want: [
      { code: 'E2101', field: 'spec.ports[0].name', message: 'name is required when a Service has more than one port', line: 6 },
      { code: 'E2101', field: 'spec.ports[1].name', message: 'name is required when a Service has more than one port', line: 7 },
    ],
  },
  {
    name: 'a single port needs no name',
    ports: '  - port: 80\n',
    want: [],
  },
  {
    name: 'a port name used twice',
    ports: '  - name: http\n    port: 80\n  - name: http\n    port: 8080\n',
    want: [{ code: 'E2102', field: 'spec.ports[1].name', message: 'port name "http" is used more than once in this Service', line: 8 }],
  },
  {
    name: 'a targetPort number above 65535',
    ports: '  - port: 80\n    targetPort: 70000\n',
    want: [{ code: 'E2103', field: 'spec.ports[0].targetPort', message: `${portNameRule} number 70000`, line: 7 }],
  },
  {
    name: 'a targetPort name with capitals',
    ports: '  - port: 80\n    targetPort: HTTP\n',
    want: [{ code: 'E2103', field: 'spec.ports[0].targetPort', message: `${portNameRule} string "HTTP"`, line: 7 }],
  },
  {
    name: 'a targetPort name longer than 15 characters',
    ports: '  - port: 80\n    targetPort: bookstore-service\n',
    want: [{ code: 'E2103', field: 'spec.ports[0].targetPort', message: `${portNameRule} string "bookstore-service"`, line: 7 }],
  },
  {
    name: 'a targetPort written as a string of digits (no letter)',
    ports: '  - port: 80\n    targetPort: "8080"\n',
    want: [{ code: 'E2103', field: 'spec.ports[0].targetPort', message: `${portNameRule} string "8080"`, line: 7 }],
  },
  {
    name: 'a targetPort name with two hyphens together',
    ports: '  - port: 80\n    targetPort: web--alt\n',
    want: [{ code: 'E2103', field: 'spec.ports[0].targetPort', message: `${portNameRule} string "web--alt"`, line: 7 }],
  },
  {
    name: 'a valid targetPort name',
    ports: '  - port: 80\n    targetPort: web-alt2\n',
    want: [],
  },
  {
    name: 'port 0 is outside 1-65535',
    ports: '  - port: 0\n',
    want: [{ code: 'E2001', field: 'spec.ports[0].port', message: 'expected a value >= 1, got 0', line: 6 }],
  },
  {
    name: 'an unknown protocol',
    ports: '  - port: 80\n    protocol: HTTP\n',
    want: [{ code: 'E2001', field: 'spec.ports[0].protocol', message: 'expected one of "TCP", "UDP", "SCTP", got string "HTTP"', line: 7 }],
  },
];

for (const c of cases) {
  test(`Service: ${c.name}`, () => {
    const r = parseManifest(header + c.ports, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.want);
    assert.equal(r.objects.length, c.want.length === 0 ? 1 : 0);
  });
}

test('Service: an unknown type is rejected', () => {
  const r = parseManifest('apiVersion: v1\nkind: Service\nmetadata: { name: s }\nspec:\n  type: Headless\n', 'f.yaml', registry);
  assert.deepEqual(r.problems.map(brief), [
    {
      code: 'E2001',
      field: 'spec.type',
      message: 'expected one of "ClusterIP", "NodePort", "LoadBalancer", "ExternalName", got string "Headless"',
      line: 5,
    },
  ]);
});

test('Service: an unknown field is a warning and is dropped', () => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: ns }\nspec:\n  ports: [{ port: 80 }]\n  topologyKeyz: [x]\n';
  const r = parseManifest(text, 'f.yaml', registry);
  assert.deepEqual(r.problems.map((p) => ({ ...brief(p), severity: p.severity, object: p.object })), [
    {
      code: 'E2003',
      field: 'spec.topologyKeyz',
      message: 'unknown field, ignored',
      line: 6,
      severity: 'warning',
      object: { kind: 'Service', namespace: 'ns', name: 's' },
    },
  ]);
  const svc = r.objects[0]?.object as Service;
  assert.equal('topologyKeyz' in svc.spec, false);
});
