import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import { serviceNameOf, type EndpointSlice, type Endpoints } from './index.js';

const brief = (p: Problem) => ({ code: p.code, field: p.field, message: p.message, line: p.source?.line });

const endpoints = `apiVersion: v1
kind: Endpoints
metadata:
  name: bookstore
  namespace: bookstore
  annotations: { endpoints.kubernetes.io/last-change-trigger-time: "2024-01-01T00:00:00Z" }
subsets:
- addresses:
  - ip: 10.244.1.7
    nodeName: node-1
    targetRef: { kind: Pod, namespace: bookstore, name: bookstore-v1-5d9c7, uid: 6f1c2e0a-42, resourceVersion: "7" }
  - ip: 10.244.2.9
    hostname: bookstore-0
  notReadyAddresses:
  - ip: 10.244.3.1
    targetRef: { kind: Pod, namespace: bookstore, name: bookstore-v2-aaaaa }
  ports:
  - { name: bookstore-port, port: 14001, protocol: TCP, appProtocol: http }
  - { name: metrics, port: 9091 }
`;

const slice = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: bookstore-x7k2p
  namespace: bookstore
  labels:
    kubernetes.io/service-name: bookstore
    endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
  generateName: bookstore-
  ownerReferences:
  - { apiVersion: v1, kind: Service, name: bookstore, uid: 0b3c9e47-9, controller: true, blockOwnerDeletion: true }
addressType: IPv4
endpoints:
- addresses: [10.244.1.7]
  conditions: { ready: true, serving: true, terminating: false }
  nodeName: node-1
  zone: zone-a
  hostname: bookstore-0
  targetRef: { kind: Pod, namespace: bookstore, name: bookstore-v1-5d9c7, uid: 6f1c2e0a-42 }
  hints: { forZones: [{ name: zone-a }], forNodes: [{ name: node-1 }] }
  deprecatedTopology: { kubernetes.io/hostname: node-1 }
ports:
- { name: bookstore-port, port: 14001, protocol: TCP, appProtocol: http }
- { name: "", protocol: UDP }
`;

test('a realistic Endpoints parses with no problems', () => {
  const r = parseManifest(endpoints, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const ep = r.objects[0]?.object as Endpoints;
  assert.deepEqual(ep.subsets[0]?.addresses.map((a) => a.ip), ['10.244.1.7', '10.244.2.9']);
  assert.deepEqual(ep.subsets[0]?.ports.map((p) => p.protocol), ['TCP', 'TCP']);
});

test('an Endpoints without subsets has an empty list', () => {
  const r = parseManifest('apiVersion: v1\nkind: Endpoints\nmetadata: { name: e }\nsubsets:\n- ports: [{ port: 80 }]\n', 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  assert.deepEqual((r.objects[0]?.object as Endpoints).subsets, [{ addresses: [], notReadyAddresses: [], ports: [{ port: 80, protocol: 'TCP' }] }]);
});

test('a realistic EndpointSlice parses with no problems and names its Service', () => {
  const r = parseManifest(slice, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const es = r.objects[0]?.object as EndpointSlice;
  assert.equal(serviceNameOf(es), 'bookstore');
  assert.deepEqual(es.endpoints[0]?.conditions, { ready: true, serving: true, terminating: false });
});

test('an EndpointSlice with null endpoints and ports, as the API server writes them, has empty lists', () => {
  const r = parseManifest('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv6\nendpoints: null\nports: null\n', 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  const es = r.objects[0]?.object as EndpointSlice;
  assert.deepEqual([es.endpoints, es.ports, serviceNameOf(es)], [[], [], undefined]);
});

const cases = [
  {
    name: 'Endpoints: an address without an ip',
    text: 'apiVersion: v1\nkind: Endpoints\nmetadata: { name: e }\nsubsets:\n- addresses:\n  - nodeName: n\n',
    want: [{ code: 'E2001', field: 'subsets[0].addresses[0].ip', message: 'required field is missing', line: 6 }],
  },
  {
    name: 'Endpoints: a port above 65535',
    text: 'apiVersion: v1\nkind: Endpoints\nmetadata: { name: e }\nsubsets:\n- ports:\n  - port: 65536\n',
    want: [{ code: 'E2001', field: 'subsets[0].ports[0].port', message: 'expected a value <= 65535, got 65536', line: 6 }],
  },
  {
    name: 'EndpointSlice: an unknown address type',
    text: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IP\n',
    want: [{ code: 'E2001', field: 'addressType', message: 'expected one of "IPv4", "IPv6", "FQDN", got string "IP"', line: 4 }],
  },
  {
    name: 'EndpointSlice: an endpoint without addresses',
    text: 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4\nendpoints:\n- addresses: []\n',
    want: [{ code: 'E2001', field: 'endpoints[0].addresses', message: 'expected at least 1 item, got 0', line: 6 }],
  },
];

for (const c of cases) {
  test(c.name, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.want);
    assert.equal(r.objects.length, 0);
  });
}

test('EndpointSlice: an unknown endpoint field is a warning and is dropped', () => {
  const text = 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s }\naddressType: IPv4\nendpoints:\n- addresses: [10.0.0.1]\n  topology: { zone: a }\n';
  const r = parseManifest(text, 'f.yaml', registry);
  assert.deepEqual(r.problems.map((p) => ({ ...brief(p), severity: p.severity })), [
    { code: 'E2003', field: 'endpoints[0].topology', message: 'unknown field, ignored', line: 7, severity: 'warning' },
  ]);
  assert.deepEqual((r.objects[0]?.object as EndpointSlice).endpoints, [{ addresses: ['10.0.0.1'] }]);
});
