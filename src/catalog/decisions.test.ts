/**
 * One or more tests for every row of reference/smi-decisions.md, through the evaluator and
 * the per-proxy policy. Row ids are in the test names.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelOf } from '../testing/manifests.js';
import { checkRequest, type RequestCheck } from './check.js';
import { identityOf, serviceKeyOf } from './identity.js';
import type { MeshModel } from './catalog.js';

/** A server `api` in namespace shop (SA api, port 80 -> pod port 8080) and a tcp `db`. */
const base = `
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      containers: [{name: api, image: x, ports: [{containerPort: 8080, name: http}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp-db, port: 5432}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      serviceAccountName: db
      containers: [{name: db, image: x}]
`;

const tt = (name: string, dest: string, sources: string[], rules: string) => `
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: ${name}, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: ${dest}, namespace: shop}
  sources: [${sources.map((s) => `{kind: ServiceAccount, name: ${s.split('/')[1]}, namespace: ${s.split('/')[0]}}`).join(', ')}]
  rules: ${rules}
`;

const routes = (name: string, matches: string) => `
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: ${name}, namespace: shop}
spec:
  matches: ${matches}
`;

const tcpRoute = (name: string, ports: number[]) => `
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: ${name}, namespace: shop}
spec: {matches: {ports: [${ports.join(', ')}]}}
`;

interface Req {
  from?: string;
  to?: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  authority?: string;
  tcp?: boolean;
}

function verdicts(model: MeshModel, req: Req) {
  const [sns = '', ssa = ''] = (req.from ?? 'web/web').split('/');
  const [tns = '', rest = ''] = (req.to ?? 'shop/api:80').split('/');
  const [svc = '', port = ''] = rest.split(':');
  const check: RequestCheck = {
    source: identityOf(sns, ssa),
    service: serviceKeyOf(tns, svc),
    port: Number(port),
    http: { method: req.method ?? 'GET', path: req.path ?? '/', headers: req.headers ?? {}, ...(req.authority ? { authority: req.authority } : {}) },
  };
  if (req.tcp) check.tcp = true;
  return checkRequest(model.state, check).destinations;
}

function allowed(model: MeshModel, req: Req): boolean {
  const d = verdicts(model, req);
  assert.ok(d.length > 0, 'the request has a destination');
  return d.every((v) => v.allowed);
}

const codes = (model: MeshModel) => model.problems.map((p) => p.code);

test('A1: pathRegex matches the whole path', () => {
  const m = modelOf(base + routes('r', '[{name: books, pathRegex: /books}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r, matches: [books]}]'));
  assert.equal(allowed(m, { path: '/books' }), true);
  assert.equal(allowed(m, { path: '/books/1' }), false);
  assert.equal(allowed(m, { path: '/booksx' }), false);
  assert.equal(allowed(m, { path: '/x/books' }), false);
});

test('A2: the query string is not part of the path', () => {
  const m = modelOf(base + routes('r', '[{name: books, pathRegex: /books}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  assert.equal(allowed(m, { path: '/books?page=2' }), true);
  assert.equal(allowed(m, { path: '/books#top' }), true);
});

test('A3: RE2 matching is linear: a pattern that backtracks exponentially in JavaScript is evaluated', () => {
  const m = modelOf(base + routes('r', '[{name: m, pathRegex: "(a|aa)*b"}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  assert.equal(allowed(m, { path: 'a'.repeat(5000) }), false);
  assert.equal(allowed(m, { path: `${'a'.repeat(50)}b` }), true);
});

test('A4: the map and list forms of headers mean the same', () => {
  const asMap = modelOf(base + routes('r', '[{name: m, headers: {x-user: "alice"}}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  const asList = modelOf(base + routes('r', '[{name: m, headers: [{x-user: "alice"}]}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  for (const m of [asMap, asList]) {
    assert.equal(allowed(m, { headers: { 'x-user': 'alice' } }), true);
    assert.equal(allowed(m, { headers: { 'x-user': 'bob' } }), false);
  }
});

test('A5: header values match whole, names ignore case, host matches the authority, missing fails', async (t) => {
  const m = modelOf(
    base +
      routes('r', '[{name: m, headers: [{X-User: "ali.*"}, {host: "api\\\\.shop(:80)?"}]}]') +
      tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'),
  );
  const cases: Array<{ name: string; req: Req; want: boolean }> = [
    { name: 'all conditions hold', req: { headers: { 'x-user': 'alice' }, authority: 'api.shop:80' }, want: true },
    { name: 'value must match whole', req: { headers: { 'x-user': 'xalice' }, authority: 'api.shop' }, want: false },
    { name: 'missing header fails', req: { headers: {}, authority: 'api.shop' }, want: false },
    { name: 'host is the authority', req: { headers: { 'x-user': 'alice' }, authority: 'other' }, want: false },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(allowed(m, c.req), c.want));
});

test('A6: a rule without matches covers every match of the group, with a warning', () => {
  const m = modelOf(
    base + routes('r', '[{name: a, pathRegex: /a}, {name: b, pathRegex: /b}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'),
  );
  assert.equal(allowed(m, { path: '/a' }), true);
  assert.equal(allowed(m, { path: '/b' }), true);
  assert.equal(allowed(m, { path: '/c' }), false);
  assert.ok(codes(m).includes('E5004'));
});

test('A7: a match without pathRegex or methods means any path and method; without any condition, a warning', () => {
  const headerOnly = modelOf(base + routes('r', '[{name: m, headers: {x-a: "1"}}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  assert.equal(allowed(headerOnly, { method: 'DELETE', path: '/any/where', headers: { 'x-a': '1' } }), true);
  const nameOnly = modelOf(base + routes('r', '[{name: m}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  assert.equal(allowed(nameOnly, { method: 'PATCH', path: '/x' }), true);
  assert.ok(codes(nameOnly).includes('E5006'));
});

test('A8: TCPRoute rules limit ports, HTTPRouteGroup rules limit requests', async (t) => {
  const both = modelOf(
    base + tcpRoute('p', [8080]) + routes('r', '[{name: m, pathRegex: /metrics, methods: [GET]}]') +
      tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}, {kind: HTTPRouteGroup, name: r, matches: [m]}]'),
  );
  const otherPort = modelOf(
    base + tcpRoute('p', [9999]) + routes('r', '[{name: m, pathRegex: /metrics}]') +
      tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}, {kind: HTTPRouteGroup, name: r}]'),
  );
  const tcpOnly = modelOf(base + tcpRoute('p', []) + tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}]'));
  const httpOnly = modelOf(base + routes('r', '[{name: m}]') + tt('t', 'db', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'));
  const cases: Array<{ name: string; model: MeshModel; req: Req; want: boolean }> = [
    { name: 'port and request both fit', model: both, req: { path: '/metrics' }, want: true },
    { name: 'port fits, request does not', model: both, req: { path: '/api' }, want: false },
    { name: 'request fits, port does not', model: otherPort, req: { path: '/metrics' }, want: false },
    { name: 'only a TCPRoute: every HTTP request on covered ports (the conformance suite case)', model: tcpOnly, req: { method: 'POST', path: '/x' }, want: true },
    { name: 'only an HTTPRouteGroup does not open a tcp port (unlike OSM)', model: httpOnly, req: { to: 'shop/db:5432' }, want: false },
  ];
  for (const c of cases) await t.test(c.name, () => assert.equal(allowed(c.model, c.req), c.want));
});

test('A9: TCPRoute ports are pod ports, not Service ports', () => {
  const podPort = modelOf(base + tcpRoute('p', [8080]) + tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}]'));
  const servicePort = modelOf(base + tcpRoute('p', [80]) + tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}]'));
  assert.equal(allowed(podPort, {}), true);
  assert.equal(allowed(servicePort, {}), false);
});

test('A12: a TrafficTarget whose rules all name unsupported kinds grants nothing', () => {
  const m = modelOf(base + tt('t', 'api', ['web/web'], '[{kind: UDPRoute, name: u}]'));
  assert.equal(allowed(m, {}), false);
  assert.ok(codes(m).includes('E5007'));
});

test('A13: an unsupported rule is ignored alone, with a warning', () => {
  const m = modelOf(base + tcpRoute('p', []) + tt('t', 'db', ['web/web'], '[{kind: UDPRoute, name: u}, {kind: TCPRoute, name: p}]'));
  assert.equal(allowed(m, { to: 'shop/db:5432' }), true);
  assert.ok(codes(m).includes('E5005'));
});

test('A14: specs are looked up in the TrafficTarget namespace; a missing one grants nothing and never widens', async (t) => {
  const elsewhere = modelOf(
    base +
      routes('r', '[{name: m}]').replace('namespace: shop', 'namespace: other') +
      tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]'),
  );
  const missingHttp = modelOf(base + tcpRoute('p', []) + tt('t', 'api', ['web/web'], '[{kind: TCPRoute, name: p}, {kind: HTTPRouteGroup, name: gone}]'));
  const missingOne = modelOf(
    base + routes('r', '[{name: m, pathRegex: /ok}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: gone}, {kind: HTTPRouteGroup, name: r}]'),
  );
  const missingMatch = modelOf(base + routes('r', '[{name: m}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r, matches: [nope]}]'));
  await t.test('a group in another namespace is not found', () => {
    assert.equal(allowed(elsewhere, {}), false);
    assert.ok(codes(elsewhere).includes('E5002'));
  });
  await t.test('a missing HTTPRouteGroup does not turn a TCPRoute rule into "every request"', () => assert.equal(allowed(missingHttp, {}), false));
  await t.test('the other rules still apply', () => assert.equal(allowed(missingOne, { path: '/ok' }), true));
  await t.test('a missing match name grants nothing', () => {
    assert.equal(allowed(missingMatch, {}), false);
    assert.ok(codes(missingMatch).includes('E5003'));
  });
});

test('A15: a denial names its reason; services a client may not reach are left out of its outbound policy', () => {
  const m = modelOf(
    base + routes('r', '[{name: m, pathRegex: /ok}]') + tt('t', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: r}]') +
      `---\napiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: web}\nspec: {serviceAccountName: web, containers: [{name: c, image: x}]}\nstatus: {podIP: 10.0.0.9}\n` +
      `---\napiVersion: v1\nkind: Pod\nmetadata: {name: thief-1, namespace: thief}\nspec: {serviceAccountName: thief, containers: [{name: c, image: x}]}\nstatus: {podIP: 10.0.0.8}\n`,
  );
  const [denied] = verdicts(m, { path: '/nope' });
  assert.equal(denied?.allowed, false);
  assert.match(denied?.reason ?? '', /has no match for GET \/nope \(m: path "\/nope" does not match "\/ok"\)/);
  const [stranger] = verdicts(m, { from: 'thief/thief' });
  assert.equal(stranger?.reason, 'no TrafficTarget lets ServiceAccount thief/thief reach ServiceAccount shop/api (TrafficTargets for that destination: t)');
  const web = m.proxies.get('web/web-1');
  const thief = m.proxies.get('thief/thief-1');
  assert.deepEqual(web?.outbound.services.map((s) => s.port.id), ['shop/api:80']);
  assert.deepEqual(thief?.outbound.services, []);
});

test('A16: access is the union of every TrafficTarget, whatever the order', () => {
  const a = tt('a', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: ra}]') + routes('ra', '[{name: get-a, pathRegex: /a, methods: [GET]}]');
  const b = tt('b', 'api', ['web/web'], '[{kind: HTTPRouteGroup, name: rb}]') + routes('rb', '[{name: post-any, pathRegex: "/.*", methods: [POST]}]');
  for (const m of [modelOf(base + a + b), modelOf(base + b + a)]) {
    assert.equal(allowed(m, { method: 'GET', path: '/a' }), true);
    assert.equal(allowed(m, { method: 'POST', path: '/a' }), true);
    assert.equal(allowed(m, { method: 'PUT', path: '/a' }), false);
  }
});

/** v1 and v2 of `api`, each with its own ServiceAccount, and a split over them. */
const versions = `
---
apiVersion: v1
kind: Service
metadata: {name: api-v1, namespace: shop}
spec: {selector: {app: api, version: v1}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-v2, namespace: shop}
spec: {selector: {app: api, version: v2}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: api, version: v2}}
  template:
    metadata: {labels: {app: api, version: v2}}
    spec: {serviceAccountName: api-v2, containers: [{name: api, image: x}]}
`;

const baseV1 = base.replace('metadata: {labels: {app: api}}', 'metadata: {labels: {app: api, version: v1}}');
const split = (name: string, service: string, backends: Array<[string, number]>, extra = '', created?: string) => `
---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: ${name}, namespace: shop${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
  service: ${service}
  backends: [${backends.map(([s, w]) => `{service: ${s}, weight: ${w}}`).join(', ')}]
${extra}`;
const allowBoth = tt('t1', 'api', ['web/web'], '[{kind: TCPRoute, name: all}]') + tt('t2', 'api-v2', ['web/web'], '[{kind: TCPRoute, name: all}]') + tcpRoute('all', []);

/** One line per destination: `service identity weight ALLOW|DENY`. */
const weights = (m: MeshModel, req: Req = {}) => verdicts(m, req).map((d) => `${d.service} ${d.identity ?? '-'} ${d.weight} ${d.allowed ? 'ALLOW' : 'DENY'}`);

test('A17: the root service may be written in every Service form of its own namespace', () => {
  for (const form of ['api', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster', 'api.shop.svc.cluster.local']) {
    const m = modelOf(baseV1 + versions + allowBoth + split('s', form, [['api-v1', 10], ['api-v2', 90]]));
    assert.deepEqual(weights(m), ['shop/api-v1 shop/api 10 ALLOW', 'shop/api-v2 shop/api-v2 90 ALLOW'], form);
  }
});

test('A19: the root needs no selector: routing uses the backends only', () => {
  const m = modelOf(
    baseV1.replace('spec:\n  selector: {app: api}\n  ports', 'spec:\n  ports') + versions + allowBoth + split('s', 'api', [['api-v1', 1], ['api-v2', 1]]),
  );
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 1 ALLOW', 'shop/api-v2 shop/api-v2 1 ALLOW']);
});

test('A20: split v1alpha1 quantities keep their ratios', () => {
  const m = modelOf(
    baseV1 + versions + allowBoth +
      '---\napiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\nmetadata: {name: s, namespace: shop}\nspec: {service: api, backends: [{service: api-v1, weight: 250m}, {service: api-v2, weight: 750m}]}\n',
  );
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 250 ALLOW', 'shop/api-v2 shop/api-v2 750 ALLOW']);
});

test('A21: a backend without endpoints loses its share while another has endpoints', () => {
  const pod = `---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-1, namespace: shop, labels: {app: api, version: v1}}\nspec: {serviceAccountName: api, containers: [{name: c, image: x, ports: [{containerPort: 8080}]}]}\nstatus: {podIP: 10.0.0.1}\n`;
  const m = modelOf(baseV1 + versions + allowBoth + pod + split('s', 'api', [['api-v1', 50], ['api-v2', 50]]));
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 50 ALLOW']);
  assert.ok(codes(m).includes('E5014'));
  const none = modelOf(baseV1 + versions + allowBoth + split('s', 'api', [['api-v1', 50], ['api-v2', 50]]));
  assert.deepEqual(weights(none), ['shop/api-v1 shop/api 50 ALLOW', 'shop/api-v2 shop/api-v2 50 ALLOW'], 'with no endpoints anywhere, weights stay as written');
});

test('A22: a backend without the root port is left out for that port', () => {
  const m = modelOf(baseV1 + versions.replace('port: 80, targetPort: 8080}]}\n---\napiVersion: apps/v1', 'port: 81, targetPort: 8080}]}\n---\napiVersion: apps/v1') + allowBoth + split('s', 'api', [['api-v1', 1], ['api-v2', 1]]));
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 1 ALLOW']);
  assert.ok(codes(m).includes('E5013'));
});

test('A23: of several splits for one root, the oldest wins and the others are reported', () => {
  const m = modelOf(
    baseV1 + versions + allowBoth +
      split('newer', 'api', [['api-v2', 1]], '', '2024-02-01T00:00:00Z') +
      split('older', 'api', [['api-v1', 1]], '', '2024-01-01T00:00:00Z'),
  );
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 1 ALLOW']);
  const conflict = m.problems.find((p) => p.code === 'E5010');
  assert.equal(conflict?.object?.name, 'newer');
});

test('A24: nested splits are not followed; a self-reference goes to the root\'s own endpoints', () => {
  const nested = modelOf(baseV1 + versions + allowBoth + split('outer', 'api', [['api-v2', 1]]) + split('inner', 'api-v2', [['api-v1', 1]]));
  assert.deepEqual(weights(nested), ['shop/api-v2 shop/api-v2 1 ALLOW']);
  assert.ok(codes(nested).includes('E5017'));
  const self = modelOf(baseV1 + versions + allowBoth + split('s', 'api', [['api', 1], ['api-v2', 1]]));
  assert.deepEqual(weights(self), ['shop/api shop/api 1 ALLOW', 'shop/api shop/api-v2 1 ALLOW', 'shop/api-v2 shop/api-v2 1 ALLOW']);
  assert.ok(codes(self).includes('E5016'));
});

test('A25: a header-matched split splits matching requests; the rest go to the root', () => {
  const m = modelOf(
    baseV1 + versions + allowBoth + routes('canary', '[{name: insiders, headers: {cookie: ".*insider.*"}}]') +
      split('s', 'api', [['api-v2', 1]], '  matches: [{kind: HTTPRouteGroup, name: canary}]'),
  );
  assert.deepEqual(weights(m, { headers: { cookie: 'type=insider' } }), ['shop/api-v2 shop/api-v2 1 ALLOW']);
  assert.deepEqual(weights(m, { headers: {} }), ['shop/api shop/api 1 ALLOW', 'shop/api shop/api-v2 1 ALLOW']);
});

test('A26: a split grants nothing: each backend needs its own TrafficTarget', () => {
  const m = modelOf(baseV1 + versions + tt('t1', 'api', ['web/web'], '[{kind: TCPRoute, name: all}]') + tcpRoute('all', []) + split('s', 'api', [['api-v1', 1], ['api-v2', 1]]));
  assert.deepEqual(weights(m), ['shop/api-v1 shop/api 1 ALLOW', 'shop/api-v2 shop/api-v2 1 DENY']);
});

test('permissive mode allows every meshed client, and says which object set it', () => {
  const meshConfig = '---\napiVersion: config.openservicemesh.io/v1alpha2\nkind: MeshConfig\nmetadata: {name: osm-mesh-config, namespace: osm-system}\nspec: {traffic: {enablePermissiveTrafficPolicyMode: true}}\n';
  const m = modelOf(base + meshConfig);
  const [v] = verdicts(m, { from: 'any/one', method: 'DELETE' });
  assert.equal(v?.allowed, true);
  assert.equal(v?.reason, 'permissive traffic policy mode is on (MeshConfig osm-system/osm-mesh-config spec.traffic.enablePermissiveTrafficPolicyMode): every meshed client may reach every meshed service');
});

test('without a MeshConfig the mesh is in SMI mode: default deny', () => {
  assert.equal(allowed(modelOf(base), {}), false);
});
