import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelOf } from '../testing/manifests.js';

const mesh = (flags: string) => `
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec:
  traffic: {enablePermissiveTrafficPolicyMode: true, enableEgress: false}
  featureFlags: {${flags}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: shop, labels: {app: api}}
spec: {serviceAccountName: api, containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: web}
spec: {serviceAccountName: web, containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.2}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api, namespace: shop, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  host: api.shop.svc.cluster.local
  connectionSettings:
    tcp: {maxConnections: 100, connectTimeout: 2s}
    http: {maxRequests: 50, maxPendingRequests: 10}
  rateLimit:
    local:
      http: {requests: 20, unit: second, burst: 5}
  httpRoutes:
  - path: /books
    rateLimit: {local: {requests: 1, unit: minute}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: api-again, namespace: shop, creationTimestamp: "2024-02-01T00:00:00Z"}
spec: {host: api.shop.svc.cluster.local, connectionSettings: {tcp: {maxConnections: 1}}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {name: web-to-api, namespace: web}
spec:
  source: {kind: ServiceAccount, name: web, namespace: web}
  destinations: [{kind: Service, name: api, namespace: shop}]
  retryPolicy: {retryOn: 5xx, perTryTimeout: 1s, numRetries: 5, retryBackoffBaseInterval: 100ms}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Egress
metadata: {name: out, namespace: web}
spec:
  sources: [{kind: ServiceAccount, name: web, namespace: web}]
  hosts: [httpbin.org]
  ports: [{number: 443, protocol: https}]
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: IngressBackend
metadata: {name: ingress, namespace: shop}
spec:
  backends: [{name: api, port: {number: 8080, protocol: http}}]
  sources: [{kind: IPRange, name: 10.1.0.0/16}]
`;

test('UpstreamTrafficSetting: circuit breakers on the client, rate limits on the server; the older one wins a host', () => {
  const m = modelOf(mesh('enableRetryPolicy: true'));
  const web = m.proxies.get('web/web-1');
  const api = web?.outbound.services.find((s) => s.port.id === 'shop/api:80');
  assert.deepEqual(api?.routes[0]?.backends[0]?.cluster.connection, {
    setBy: { kind: 'UpstreamTrafficSetting', namespace: 'shop', name: 'api' },
    maxConnections: 100,
    connectTimeoutMs: 2000,
    maxRequests: 50,
    maxPendingRequests: 10,
    maxRetries: 4294967295,
  });
  const inbound = m.proxies.get('shop/api-1')?.inbound.ports[0];
  assert.equal(inbound?.port, 8080);
  assert.deepEqual(inbound?.rateLimits.get('shop/api:80'), {
    setBy: { kind: 'UpstreamTrafficSetting', namespace: 'shop', name: 'api' },
    http: { tokens: 20, fillIntervalMs: 1000, burst: 5, responseStatusCode: 429, responseHeadersToAdd: [] },
    routes: [{ pathRegex: '/books', http: { tokens: 1, fillIntervalMs: 60000, burst: 0, responseStatusCode: 429, responseHeadersToAdd: [] } }],
  });
  const conflict = m.problems.find((p) => p.code === 'E5040');
  assert.equal(conflict?.object?.name, 'api-again');
});

test('Retry applies to the source identity\'s routes only when enableRetryPolicy is on', () => {
  const on = modelOf(mesh('enableRetryPolicy: true'));
  assert.deepEqual(on.proxies.get('web/web-1')?.outbound.services.find((s) => s.port.id === 'shop/api:80')?.retry, {
    setBy: { kind: 'Retry', namespace: 'web', name: 'web-to-api' },
    retryOn: '5xx',
    numRetries: 5,
    perTryTimeoutMs: 1000,
    retryBackoffBaseIntervalMs: 100,
  });
  assert.equal(on.proxies.get('shop/api-1')?.outbound.services.find((s) => s.port.id === 'shop/api:80')?.retry, undefined, 'another identity gets no retry');
  const off = modelOf(mesh('enableRetryPolicy: false'));
  assert.equal(off.proxies.get('web/web-1')?.outbound.services.find((s) => s.port.id === 'shop/api:80')?.retry, undefined);
});

test('Egress rules reach their sources; IngressBackends reach the backend port', () => {
  const m = modelOf(mesh('enableEgressPolicy: true'));
  const web = m.proxies.get('web/web-1');
  assert.equal(web?.outbound.egressPassthrough, false);
  assert.deepEqual(
    web?.outbound.egress.map((e) => ({ egress: e.egress.name, hosts: e.hosts, ports: e.ports })),
    [{ egress: 'out', hosts: ['httpbin.org'], ports: [{ number: 443, protocol: 'https' }] }],
  );
  assert.deepEqual(m.proxies.get('shop/api-1')?.outbound.egress, []);
  assert.deepEqual(m.proxies.get('shop/api-1')?.inbound.ports[0]?.ingress, [
    {
      ingressBackend: { kind: 'IngressBackend', namespace: 'shop', name: 'ingress' },
      protocol: 'http',
      sourceCidrs: ['10.1.0.0/16'],
      principals: [],
      skipClientCertValidation: false,
      sniHosts: [],
    },
  ]);
  const noPolicy = modelOf(mesh('enableEgressPolicy: false, enableIngressBackendPolicy: false'));
  assert.deepEqual(noPolicy.proxies.get('web/web-1')?.outbound.egress, []);
  assert.deepEqual(noPolicy.proxies.get('shop/api-1')?.inbound.ports[0]?.ingress, []);
});
