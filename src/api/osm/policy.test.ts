import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import type { Egress, IngressBackend, Retry, UpstreamTrafficSetting } from './index.js';

const brief = (p: Problem) => ({ code: p.code, severity: p.severity, field: p.field, message: p.message, line: p.source?.line });

const UINT32_MAX = 4294967295;

// Shaped like OSM's guides (egress, ingress with nginx, retry, circuit breaking, rate limiting).
const valid: Array<{ name: string; text: string; spec: Egress['spec'] | IngressBackend['spec'] | Retry['spec'] | UpstreamTrafficSetting['spec'] }> = [
  {
    name: 'Egress with an HTTPRouteGroup and an UpstreamTrafficSetting; protocols in any case',
    text: `kind: Egress
apiVersion: policy.openservicemesh.io/v1alpha1
metadata:
  name: httpbin-external
  namespace: client
spec:
  sources:
  - kind: ServiceAccount
    name: default
    namespace: client
  hosts:
  - httpbin.org
  ports:
  - number: 80
    protocol: HTTP
  - number: 5432
    protocol: tcp-server-first
  matches:
  - apiGroup: specs.smi-spec.io/v1alpha4
    kind: HTTPRouteGroup
    name: httpbin-get
  - apiGroup: policy.openservicemesh.io/v1alpha1
    kind: UpstreamTrafficSetting
    name: httpbin-external
`,
    spec: {
      sources: [{ kind: 'ServiceAccount', name: 'default', namespace: 'client' }],
      hosts: ['httpbin.org'],
      ipAddresses: [],
      ports: [
        { number: 80, protocol: 'http' },
        { number: 5432, protocol: 'tcp-server-first' },
      ],
      matches: [
        { apiGroup: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', name: 'httpbin-get' },
        { apiGroup: 'policy.openservicemesh.io/v1alpha1', kind: 'UpstreamTrafficSetting', name: 'httpbin-external' },
      ],
    },
  },
  {
    name: 'Egress by IP range only',
    text: `kind: Egress
apiVersion: policy.openservicemesh.io/v1alpha1
metadata: { name: db, namespace: client }
spec:
  sources: [{ kind: ServiceAccount, name: api, namespace: client }]
  ipAddresses: [10.20.0.0/16]
  ports: [{ number: 5432, protocol: tcp }]
`,
    spec: {
      sources: [{ kind: 'ServiceAccount', name: 'api', namespace: 'client' }],
      hosts: [],
      ipAddresses: ['10.20.0.0/16'],
      ports: [{ number: 5432, protocol: 'tcp' }],
      matches: [],
    },
  },
  {
    name: 'IngressBackend: https with client certificate validation and every source kind',
    text: `kind: IngressBackend
apiVersion: policy.openservicemesh.io/v1alpha1
metadata:
  name: httpbin
  namespace: httpbin
spec:
  backends:
  - name: httpbin
    port:
      number: 14001
      protocol: HTTPS
    tls:
      skipClientCertValidation: false
      sniHosts: [httpbin.httpbin.svc.cluster.local]
  sources:
  - kind: Service
    namespace: ingress-nginx
    name: ingress-nginx-controller
  - kind: AuthenticatedPrincipal
    name: ingress-nginx.ingress-nginx.cluster.local
  - kind: IPRange
    name: 10.0.0.0/8
  - kind: IPRange
    name: fd00::/8
`,
    spec: {
      backends: [
        { name: 'httpbin', port: { number: 14001, protocol: 'https' }, tls: { skipClientCertValidation: false, sniHosts: ['httpbin.httpbin.svc.cluster.local'] } },
      ],
      sources: [
        { kind: 'Service', name: 'ingress-nginx-controller', namespace: 'ingress-nginx' },
        { kind: 'AuthenticatedPrincipal', name: 'ingress-nginx.ingress-nginx.cluster.local' },
        { kind: 'IPRange', name: '10.0.0.0/8' },
        { kind: 'IPRange', name: 'fd00::/8' },
      ],
      matches: [],
    },
  },
  {
    name: 'IngressBackend: http without tls, and https that skips client certificate validation',
    text: `kind: IngressBackend
apiVersion: policy.openservicemesh.io/v1alpha1
metadata: { name: web, namespace: web }
spec:
  backends:
  - { name: web, port: { number: 8080, protocol: http } }
  - { name: web, port: { number: 8443, protocol: https }, tls: { skipClientCertValidation: true } }
  sources: [{ kind: Service, name: ingress-nginx-controller, namespace: ingress-nginx }]
`,
    spec: {
      backends: [
        { name: 'web', port: { number: 8080, protocol: 'http' }, tls: { skipClientCertValidation: false, sniHosts: [] } },
        { name: 'web', port: { number: 8443, protocol: 'https' }, tls: { skipClientCertValidation: true, sniHosts: [] } },
      ],
      sources: [{ kind: 'Service', name: 'ingress-nginx-controller', namespace: 'ingress-nginx' }],
      matches: [],
    },
  },
  {
    name: 'Retry',
    text: `kind: Retry
apiVersion: policy.openservicemesh.io/v1alpha1
metadata:
  name: retry
  namespace: client
spec:
  source:
    kind: ServiceAccount
    name: client
    namespace: client
  destinations:
  - kind: Service
    name: httpbin
    namespace: httpbin
  retryPolicy:
    retryOn: "5xx"
    perTryTimeout: 1s
    numRetries: 5
    retryBackoffBaseInterval: 1s
`,
    spec: {
      source: { kind: 'ServiceAccount', name: 'client', namespace: 'client' },
      destinations: [{ kind: 'Service', name: 'httpbin', namespace: 'httpbin' }],
      retryPolicy: { retryOn: '5xx', perTryTimeout: '1s', numRetries: 5, retryBackoffBaseInterval: '1s' },
    },
  },
  {
    name: 'UpstreamTrafficSetting with circuit breaking and rate limits, defaults applied',
    text: `apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata:
  name: httpbin
  namespace: httpbin
spec:
  host: httpbin.httpbin.svc.cluster.local
  connectionSettings:
    tcp:
      maxConnections: 1
    http:
      maxPendingRequests: 1
      maxRequestsPerConnection: 1
  rateLimit:
    local:
      tcp: { connections: 100, unit: minute }
      http: { requests: 10, unit: second, responseHeadersToAdd: [{ name: x-limited, value: "yes" }] }
  httpRoutes:
  - path: /headers
    rateLimit:
      local: { requests: 1, unit: minute, burst: 2, responseStatusCode: 503 }
`,
    spec: {
      host: 'httpbin.httpbin.svc.cluster.local',
      connectionSettings: {
        tcp: { maxConnections: 1, connectTimeout: '5s' },
        http: { maxRequests: UINT32_MAX, maxRequestsPerConnection: 1, maxPendingRequests: 1, maxRetries: UINT32_MAX },
      },
      rateLimit: {
        local: {
          tcp: { connections: 100, unit: 'minute', burst: 0 },
          http: { requests: 10, unit: 'second', burst: 0, responseStatusCode: 429, responseHeadersToAdd: [{ name: 'x-limited', value: 'yes' }] },
        },
      },
      httpRoutes: [{ path: '/headers', rateLimit: { local: { requests: 1, unit: 'minute', burst: 2, responseStatusCode: 503, responseHeadersToAdd: [] } } }],
    },
  },
];

for (const c of valid) {
  test(`policy: ${c.name} parses with no problems`, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems, []);
    assert.equal(r.objects.length, 1);
    assert.deepEqual((r.objects[0]?.object as Egress | IngressBackend | Retry | UpstreamTrafficSetting).spec, c.spec);
  });
}

// Lines 1-6 are the header; the spec body starts on line 7.
const policy = (kind: string, namespace: string, body: string) =>
  `apiVersion: policy.openservicemesh.io/v1alpha1\nkind: ${kind}\nmetadata:\n  name: p\n  namespace: ${namespace}\nspec:\n${body}`;

const egress = (body: string) => policy('Egress', 'client', `  sources: [{ kind: ServiceAccount, name: default, namespace: client }]\n${body}`);
const egressPorts = '  ports: [{ number: 443, protocol: https }]\n';
const ingress = (backends: string, sources: string) => policy('IngressBackend', 'web', `  backends:\n${backends}  sources:\n${sources}`);
const httpBackend = '  - name: web\n    port: { number: 8080, protocol: http }\n';
const serviceSource = '  - { kind: Service, name: ingress-nginx-controller, namespace: ingress-nginx }\n';
const retry = (source: string, destination: string, retryPolicy: string) =>
  policy('Retry', 'client', `  source: ${source}\n  destinations:\n  - ${destination}\n  retryPolicy: ${retryPolicy}\n`);
const sa = '{ kind: ServiceAccount, name: client, namespace: client }';
const svc = '{ kind: Service, name: server, namespace: server }';
const retryPolicy = (fields: string) => `{ retryOn: 5xx, numRetries: 3, ${fields} }`;
const uts = (body: string, namespace = 'server') => policy('UpstreamTrafficSetting', namespace, body);
const host = '  host: server.server.svc.cluster.local\n';

const duration = (got: string) => `expected a Go duration such as "24h", "1m30s" or "250ms", got "${got}"`;
const ingressKinds = '"Service", "AuthenticatedPrincipal" or "IPRange"';

const cases: Array<{ name: string; text: string; want: Array<ReturnType<typeof brief>> }> = [
  {
    name: 'Egress: an unsupported port protocol',
    text: egress('  ports: [{ number: 21, protocol: FTP }]\n'),
    want: [{ code: 'E4010', severity: 'error', field: 'spec.ports[0].protocol', message: 'expected protocol "http", "https", "tcp" or "tcp-server-first" (any case), got "FTP"', line: 8 }],
  },
  {
    name: 'Egress: a port number of 0',
    text: egress('  ports: [{ number: 0, protocol: tcp }]\n'),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.ports[0].number', message: 'expected a value >= 1, got 0', line: 8 }],
  },
  {
    name: 'Egress: no ports',
    text: egress(''),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.ports', message: 'required field is missing', line: 6 }],
  },
  {
    name: 'Egress: an IP range that is not a CIDR',
    text: egress(`${egressPorts}  ipAddresses: [1.2.3.4/32, 300.0.0.0/8]\n`),
    want: [{ code: 'E4005', severity: 'error', field: 'spec.ipAddresses[1]', message: 'expected an IPv4 CIDR such as "10.0.0.0/8", got "300.0.0.0/8"', line: 9 }],
  },
  {
    name: 'Egress: a source that is not a ServiceAccount',
    text: policy('Egress', 'client', `  sources: [{ kind: Service, name: web, namespace: client }]\n${egressPorts}`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.sources[0].kind', message: 'expected one of "ServiceAccount", got string "Service"', line: 7 }],
  },
  {
    name: 'Egress: a match of another kind',
    text: egress(`${egressPorts}  matches:\n  - { apiGroup: specs.smi-spec.io/v1alpha4, kind: TCPRoute, name: r }\n`),
    want: [
      {
        code: 'E4011',
        severity: 'error',
        field: 'spec.matches[0]',
        message:
          'expected kind HTTPRouteGroup with apiGroup "specs.smi-spec.io/v1alpha4" or kind UpstreamTrafficSetting with apiGroup "policy.openservicemesh.io/v1alpha1", got kind "TCPRoute" with apiGroup "specs.smi-spec.io/v1alpha4"',
        line: 10,
      },
    ],
  },
  {
    name: 'Egress: a match whose apiGroup lacks the version OSM compares',
    text: egress(`${egressPorts}  matches:\n  - { apiGroup: specs.smi-spec.io, kind: HTTPRouteGroup, name: r }\n`),
    want: [
      {
        code: 'E4011',
        severity: 'error',
        field: 'spec.matches[0]',
        message:
          'expected kind HTTPRouteGroup with apiGroup "specs.smi-spec.io/v1alpha4" or kind UpstreamTrafficSetting with apiGroup "policy.openservicemesh.io/v1alpha1", got kind "HTTPRouteGroup" with apiGroup "specs.smi-spec.io"',
        line: 10,
      },
    ],
  },
  {
    name: 'Egress: two UpstreamTrafficSetting matches',
    text: egress(
      `${egressPorts}  matches:\n  - { apiGroup: policy.openservicemesh.io/v1alpha1, kind: UpstreamTrafficSetting, name: a }\n  - { apiGroup: policy.openservicemesh.io/v1alpha1, kind: UpstreamTrafficSetting, name: b }\n`,
    ),
    want: [{ code: 'E4012', severity: 'error', field: 'spec.matches[1]', message: 'expected at most one UpstreamTrafficSetting match; spec.matches[0] already names one', line: 11 }],
  },
  {
    name: 'Egress: an unknown field is an error',
    text: egress(`${egressPorts}  host: [httpbin.org]\n`),
    want: [{ code: 'E2002', severity: 'error', field: 'spec.host', message: 'unknown field', line: 9 }],
  },
  {
    name: 'IngressBackend: a protocol other than http or https',
    text: ingress('  - name: web\n    port: { number: 8080, protocol: grpc }\n', serviceSource),
    want: [{ code: 'E4010', severity: 'error', field: 'spec.backends[0].port.protocol', message: 'expected protocol "http" or "https" (any case), got "grpc"', line: 9 }],
  },
  {
    name: 'IngressBackend: https validating client certificates without an AuthenticatedPrincipal',
    text: ingress('  - name: web\n    port: { number: 8443, protocol: https }\n', serviceSource),
    want: [
      {
        code: 'E4013',
        severity: 'error',
        field: 'spec.backends[0]',
        message:
          'backend "web" uses https with client certificate validation, which needs at least one AuthenticatedPrincipal source; add one or set tls.skipClientCertValidation: true',
        line: 8,
      },
    ],
  },
  {
    name: 'IngressBackend: tls without skipClientCertValidation',
    text: ingress('  - name: web\n    port: { number: 8443, protocol: https }\n    tls: { sniHosts: [web] }\n', serviceSource),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.backends[0].tls.skipClientCertValidation', message: 'required field is missing', line: 10 }],
  },
  {
    name: 'IngressBackend: the same backend port twice',
    text: ingress(`${httpBackend}${httpBackend}`, serviceSource),
    want: [{ code: 'E4016', severity: 'error', field: 'spec.backends[1]', message: 'backend "web" port 8080 is listed more than once', line: 10 }],
  },
  {
    name: 'IngressBackend: a source of an unknown kind',
    text: ingress(httpBackend, '  - { kind: Pod, name: nginx, namespace: ingress }\n'),
    want: [{ code: 'E4014', severity: 'error', field: 'spec.sources[0].kind', message: `expected kind ${ingressKinds}, got "Pod"`, line: 11 }],
  },
  {
    name: 'IngressBackend: a Service source without a namespace',
    text: ingress(httpBackend, '  - kind: Service\n    name: ingress-nginx-controller\n'),
    want: [{ code: 'E4015', severity: 'error', field: 'spec.sources[0].namespace', message: 'required for a source of kind Service', line: 11 }],
  },
  {
    name: 'IngressBackend: a Service source with an empty name',
    text: ingress(httpBackend, '  - kind: Service\n    name: ""\n    namespace: ingress\n'),
    want: [{ code: 'E4015', severity: 'error', field: 'spec.sources[0].name', message: 'required for a source of kind Service', line: 12 }],
  },
  {
    name: 'IngressBackend: an AuthenticatedPrincipal source with an empty name',
    text: ingress(httpBackend, '  - kind: AuthenticatedPrincipal\n    name: ""\n'),
    want: [{ code: 'E4015', severity: 'error', field: 'spec.sources[0].name', message: 'required for a source of kind AuthenticatedPrincipal', line: 12 }],
  },
  {
    name: 'IngressBackend: an IPRange that is not a CIDR',
    text: ingress(httpBackend, '  - kind: IPRange\n    name: 10.0.0.0\n'),
    want: [{ code: 'E4006', severity: 'error', field: 'spec.sources[0].name', message: 'expected an IPv4 or IPv6 CIDR such as "10.0.0.0/8" or "fd00::/8", got "10.0.0.0"', line: 12 }],
  },
  {
    name: 'Retry: a source that is not a ServiceAccount',
    text: retry(svc, svc, retryPolicy('perTryTimeout: 1s, retryBackoffBaseInterval: 1s')),
    want: [{ code: 'E4014', severity: 'error', field: 'spec.source.kind', message: 'expected kind "ServiceAccount", got "Service"', line: 7 }],
  },
  {
    name: 'Retry: a destination that is not a Service',
    text: retry(sa, sa, retryPolicy('perTryTimeout: 1s, retryBackoffBaseInterval: 1s')),
    want: [
      {
        code: 'E4014',
        severity: 'error',
        field: 'spec.destinations[0].kind',
        message: 'expected kind "Service", got "ServiceAccount"; OSM skips such a destination and logs an error; osm-ts rejects the Retry so the mistake shows',
        line: 9,
      },
    ],
  },
  {
    name: 'Retry: a per-try timeout without a unit',
    text: retry(sa, svc, retryPolicy('perTryTimeout: "1", retryBackoffBaseInterval: 1s')),
    want: [{ code: 'E4002', severity: 'error', field: 'spec.retryPolicy.perTryTimeout', message: duration('1'), line: 10 }],
  },
  {
    name: 'Retry: a zero back-off interval',
    text: retry(sa, svc, retryPolicy('perTryTimeout: 1s, retryBackoffBaseInterval: 0s')),
    want: [{ code: 'E4004', severity: 'error', field: 'spec.retryPolicy.retryBackoffBaseInterval', message: 'expected a duration longer than 0s, got "0s"', line: 10 }],
  },
  {
    name: 'Retry: a negative retry count',
    text: retry(sa, svc, '{ retryOn: 5xx, numRetries: -1, perTryTimeout: 1s, retryBackoffBaseInterval: 1s }'),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.retryPolicy.numRetries', message: 'expected a value >= 0, got -1', line: 10 }],
  },
  {
    name: "Retry: the back-off field under the name OSM's Go type uses",
    text: retry(sa, svc, retryPolicy('perTryTimeout: 1s, retryBackoffInterval: 1s')),
    want: [
      { code: 'E2001', severity: 'error', field: 'spec.retryPolicy.retryBackoffBaseInterval', message: 'required field is missing', line: 10 },
      { code: 'E2002', severity: 'error', field: 'spec.retryPolicy.retryBackoffInterval', message: 'unknown field', line: 10 },
    ],
  },
  {
    name: "UpstreamTrafficSetting: a host in another namespace",
    text: uts('  host: server.other.svc.cluster.local\n'),
    want: [
      {
        code: 'E4017',
        severity: 'warning',
        field: 'spec.host',
        message: `"server.other.svc.cluster.local" is not <service>.server.svc.cluster.local (a Service in the UpstreamTrafficSetting's own namespace): the setting only applies where an Egress references it`,
        line: 7,
      },
    ],
  },
  {
    name: 'UpstreamTrafficSetting: a host that is not a service FQDN',
    text: uts('  host: server\n'),
    want: [
      {
        code: 'E4017',
        severity: 'warning',
        field: 'spec.host',
        message: `"server" is not <service>.server.svc.cluster.local (a Service in the UpstreamTrafficSetting's own namespace): the setting only applies where an Egress references it`,
        line: 7,
      },
    ],
  },
  {
    name: 'UpstreamTrafficSetting: a connect timeout without a unit',
    text: uts(`${host}  connectionSettings:\n    tcp:\n      connectTimeout: "5"\n`),
    want: [{ code: 'E4002', severity: 'error', field: 'spec.connectionSettings.tcp.connectTimeout', message: duration('5'), line: 10 }],
  },
  {
    name: 'UpstreamTrafficSetting: a zero connect timeout',
    text: uts(`${host}  connectionSettings:\n    tcp:\n      connectTimeout: 0s\n`),
    want: [{ code: 'E4004', severity: 'error', field: 'spec.connectionSettings.tcp.connectTimeout', message: 'expected a duration longer than 0s, got "0s"', line: 10 }],
  },
  {
    name: 'UpstreamTrafficSetting: a negative connection limit',
    text: uts(`${host}  connectionSettings:\n    http: { maxRequests: -5 }\n`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.connectionSettings.http.maxRequests', message: 'expected a value >= 0, got -5', line: 9 }],
  },
  {
    name: 'UpstreamTrafficSetting: a rate-limit unit of a day',
    text: uts(`${host}  rateLimit:\n    local:\n      tcp: { connections: 1, unit: day }\n`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.rateLimit.local.tcp.unit', message: 'expected one of "second", "minute", "hour", got string "day"', line: 10 }],
  },
  {
    name: 'UpstreamTrafficSetting: a rate limit of 0 requests',
    text: uts(`${host}  rateLimit:\n    local:\n      http: { requests: 0, unit: second }\n`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.rateLimit.local.http.requests', message: 'expected a value >= 1, got 0', line: 10 }],
  },
  {
    name: 'UpstreamTrafficSetting: a rate-limit status that is not an error',
    text: uts(`${host}  rateLimit:\n    local:\n      http: { requests: 1, unit: second, responseStatusCode: 200 }\n`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.rateLimit.local.http.responseStatusCode', message: 'expected a value >= 400, got 200', line: 10 }],
  },
  {
    name: 'UpstreamTrafficSetting: a route rate-limit status above 599',
    text: uts(`${host}  httpRoutes:\n  - path: /api\n    rateLimit:\n      local: { requests: 1, unit: minute, responseStatusCode: 600 }\n`),
    want: [{ code: 'E2001', severity: 'error', field: 'spec.httpRoutes[0].rateLimit.local.responseStatusCode', message: 'expected a value <= 599, got 600', line: 11 }],
  },
  {
    name: 'UpstreamTrafficSetting: a route path that is not RE2',
    text: uts(`${host}  httpRoutes:\n  - path: /api(?=/v1)\n`),
    want: [
      {
        code: 'E3001',
        severity: 'error',
        field: 'spec.httpRoutes[0].path',
        message: 'a lookahead "(?=...)" is not RE2 syntax (osm-ts accepts RE2 regular expressions only): "/api(?=/v1)"',
        line: 9,
      },
    ],
  },
  {
    name: "UpstreamTrafficSetting: a global rate limit (OSM's unreleased main only)",
    text: uts(`${host}  rateLimit:\n    global: {}\n`),
    want: [{ code: 'E2002', severity: 'error', field: 'spec.rateLimit.global', message: 'unknown field', line: 9 }],
  },
];

for (const c of cases) {
  test(`policy: ${c.name}`, () => {
    const r = parseManifest(c.text, 'f.yaml', registry);
    assert.deepEqual(r.problems.map(brief), c.want);
    assert.equal(r.objects.length, c.want.some((w) => w.severity === 'error') ? 0 : 1, 'an object with errors is not loaded; warnings alone do not stop it');
  });
}
