/**
 * `osm policy check`, run as a user runs it: ALLOW/DENY lines, the exact `-o json` shape,
 * errors and usage errors; and OSM's documented outcomes for its bookstore demo, with OSM's
 * own manifests read in place.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { osmManifests } from '../../src/testing/manifests.js';
import { linesOf, runOsm, writeFixtures } from './run-osm.js';

interface Destination {
  service: string;
  identity: string | null;
  weight: number;
  allowed: boolean;
  reason: string;
}

const DESTINATION_FIELDS = ['service', 'identity', 'weight', 'allowed', 'reason'];

/** Parses `-o json` and checks it is exactly `{"destinations":[{service, identity, weight, allowed, reason}]}`. */
function parseDestinations(stdout: string): Destination[] {
  assert.equal(stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout, JSON.stringify(JSON.parse(stdout)), 'one line of compact JSON');
  const parsed: unknown = JSON.parse(stdout);
  assert.ok(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed));
  assert.deepEqual(Object.keys(parsed), ['destinations']);
  const { destinations } = parsed as { destinations: unknown };
  assert.ok(Array.isArray(destinations));
  for (const d of destinations) {
    assert.ok(typeof d === 'object' && d !== null);
    assert.deepEqual(Object.keys(d), DESTINATION_FIELDS);
    const { service, identity, weight, allowed, reason } = d as Record<string, unknown>;
    assert.match(String(service), /^[a-z0-9.-]+\/[a-z0-9.-]+$/);
    assert.ok(identity === null || /^[a-z0-9.-]+\/[a-z0-9.-]+$/.test(String(identity)), `identity ${String(identity)}`);
    assert.ok(Number.isInteger(weight) && Number(weight) >= 0, `weight ${String(weight)}`);
    assert.equal(typeof allowed, 'boolean');
    assert.ok(typeof reason === 'string' && reason !== '');
  }
  return destinations as Destination[];
}

/** `ALLOW service S identity I weight N: reason` (DENY is padded to ALLOW's width). */
const VERDICT = /^(ALLOW|DENY) +service (\S+) identity (\S+) weight (\d+): (.+)$/;

/** Namespace shop: `api` (HTTP, routes /items and /admin with header x-user) and `db` (TCP). */
const mesh = `apiVersion: v1
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
      containers: [{name: api, image: api, ports: [{containerPort: 8080, name: http}]}]
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
      containers: [{name: db, image: db}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api-routes, namespace: shop}
spec:
  matches:
  - name: read-items
    pathRegex: /items
    methods: [GET]
  - name: admin
    pathRegex: /admin
    methods: [GET]
    headers:
    - x-user: "^alice$"
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-api, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: api, namespace: shop}
  sources: [{kind: ServiceAccount, name: client, namespace: shop}]
  rules: [{kind: HTTPRouteGroup, name: api-routes, matches: [read-items, admin]}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: db, namespace: shop}
spec:
  matches: {ports: [5432]}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: api-to-db, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: db, namespace: shop}
  sources: [{kind: ServiceAccount, name: api, namespace: shop}]
  rules: [{kind: TCPRoute, name: db}]
`;

const negativeWeight = `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: split, namespace: shop}
spec:
  service: api
  backends: [{service: api, weight: -1}]
`;

describe('osm policy check on fixture manifests', { concurrency: 4 }, () => {
  let dir = '';
  let remove = async (): Promise<void> => {};
  before(async () => {
    ({ dir, remove } = await writeFixtures({ 'mesh.yaml': mesh, 'bad.yaml': negativeWeight }));
  });
  after(() => remove());
  const check = (args: string[]) => runOsm(['policy', 'check', '-f', join(dir, 'mesh.yaml'), ...args]);

  /** Each row: the request, the first line, and the verdict lines as `VERDICT service identity weight`. */
  const cases: Array<{ name: string; args: string[]; heading: string; verdicts: string[] }> = [
    {
      name: 'a granted GET',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--path', '/items'],
      heading: 'GET /items from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['ALLOW shop/api shop/api 1'],
    },
    {
      name: 'a source no TrafficTarget names',
      args: ['--from', 'shop/other', '--to', 'shop/api:80', '--path', '/items'],
      heading: 'GET /items from ServiceAccount shop/other to Service shop/api port 80',
      verdicts: ['DENY shop/api shop/api 1'],
    },
    {
      name: 'a method the route does not list (any case)',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--path', '/items', '--method', 'post'],
      heading: 'POST /items from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['DENY shop/api shop/api 1'],
    },
    {
      name: '--header with the matching value (header names ignore case)',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--path', '/admin', '--header', 'X-User=alice'],
      heading: 'GET /admin from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['ALLOW shop/api shop/api 1'],
    },
    {
      name: '--header with another value',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--path', '/admin', '--header', 'x-user=bob'],
      heading: 'GET /admin from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['DENY shop/api shop/api 1'],
    },
    {
      name: 'without the header the route needs',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--path', '/admin'],
      heading: 'GET /admin from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['DENY shop/api shop/api 1'],
    },
    {
      name: '--tcp to an HTTP port that only HTTP rules grant',
      args: ['--from', 'shop/client', '--to', 'shop/api:80', '--tcp'],
      heading: 'TCP connection from ServiceAccount shop/client to Service shop/api port 80',
      verdicts: ['DENY shop/api shop/api 1'],
    },
    {
      name: 'a TCP port granted by a TCPRoute',
      args: ['--from', 'shop/api', '--to', 'shop/db:5432'],
      heading: 'TCP connection from ServiceAccount shop/api to Service shop/db port 5432',
      verdicts: ['ALLOW shop/db shop/db 1'],
    },
    {
      name: '--tcp to that TCP port',
      args: ['--from', 'shop/api', '--to', 'shop/db:5432', '--tcp'],
      heading: 'TCP connection from ServiceAccount shop/api to Service shop/db port 5432',
      verdicts: ['ALLOW shop/db shop/db 1'],
    },
    {
      name: 'a TCP port from a source the TrafficTarget does not name',
      args: ['--from', 'shop/client', '--to', 'shop/db:5432', '--tcp'],
      heading: 'TCP connection from ServiceAccount shop/client to Service shop/db port 5432',
      verdicts: ['DENY shop/db shop/db 1'],
    },
  ];

  for (const c of cases) {
    test(`${c.name}: ${c.verdicts.join(', ')}`, async () => {
      const [text, json] = await Promise.all([check(c.args), check([...c.args, '-o', 'json'])]);
      assert.equal(text.status, 0, text.stderr);
      assert.equal(json.status, 0, json.stderr);
      const lines = linesOf(text.stdout);
      assert.equal(lines[0], c.heading);
      const verdicts = lines.filter((l) => /^(ALLOW|DENY) /.test(l));
      assert.deepEqual(
        verdicts.map((l) => {
          const m = VERDICT.exec(l);
          assert.ok(m, `verdict line: ${l}`);
          return `${m[1]} ${m[2]} ${m[3]} ${m[4]}`;
        }),
        c.verdicts,
      );
      // The JSON form says the same thing, with the same reasons.
      const destinations = parseDestinations(json.stdout);
      assert.deepEqual(
        destinations.map((d) => `${d.allowed ? 'ALLOW' : 'DENY'} ${d.service} ${d.identity ?? '(none)'} ${d.weight}`),
        c.verdicts,
      );
      assert.deepEqual(
        destinations.map((d) => d.reason),
        verdicts.map((l) => VERDICT.exec(l)?.[5]),
      );
    });
  }

  test('-o json prints exactly {"destinations":[{service, identity, weight, allowed, reason}]}', async () => {
    const run = await check(['--from', 'shop/api', '--to', 'shop/db:5432', '-o', 'json']);
    assert.equal(run.status, 0, run.stderr);
    const parsed: unknown = JSON.parse(run.stdout);
    assert.deepEqual(parsed, {
      destinations: [{ service: 'shop/db', identity: 'shop/db', weight: 1, allowed: true, reason: parseDestinations(run.stdout)[0]?.reason }],
    });
    assert.match(parseDestinations(run.stdout)[0]?.reason ?? '', /TrafficTarget shop\/api-to-db/);
  });

  const unknownCases: Array<{ name: string; to: string; names: RegExp }> = [
    { name: 'a Service the manifests do not define', to: 'shop/nothere:80', names: /shop\/nothere/ },
    { name: 'a namespace the manifests do not mention', to: 'elsewhere/api:80', names: /elsewhere\/api/ },
    { name: 'a port the Service does not have', to: 'shop/api:81', names: /shop\/api.*\b81\b/ },
  ];
  for (const c of unknownCases) {
    test(`${c.name} is an error (exit 1) that names it`, async () => {
      const run = await check(['--from', 'shop/client', '--to', c.to]);
      assert.equal(run.status, 1, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, c.names);
      assert.match(run.stderr, /error/);
    });
  }

  test('manifests with errors are refused (exit 1) with their problems', async () => {
    const run = await runOsm(['policy', 'check', '-f', join(dir, 'mesh.yaml'), '-f', join(dir, 'bad.yaml'), '--from', 'shop/client', '--to', 'shop/api:80']);
    assert.equal(run.status, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /\[E3009\]/);
  });

  const usageCases: Array<{ name: string; args: string[] }> = [
    { name: 'no --from', args: ['--to', 'shop/api:80'] },
    { name: '--from without a namespace', args: ['--from', 'client', '--to', 'shop/api:80'] },
    { name: '--from in capitals', args: ['--from', 'Shop/Client', '--to', 'shop/api:80'] },
    { name: 'no --to', args: ['--from', 'shop/client'] },
    { name: '--to without a port', args: ['--from', 'shop/client', '--to', 'shop/api'] },
    { name: '--to port 0', args: ['--from', 'shop/client', '--to', 'shop/api:0'] },
    { name: '--to port above 65535', args: ['--from', 'shop/client', '--to', 'shop/api:70000'] },
    { name: '--to with a port name', args: ['--from', 'shop/client', '--to', 'shop/api:http'] },
    { name: '--header without =', args: ['--from', 'shop/client', '--to', 'shop/api:80', '--header', 'x-user'] },
    { name: 'an unknown output format', args: ['--from', 'shop/client', '--to', 'shop/api:80', '-o', 'yaml'] },
  ];
  for (const c of usageCases) {
    test(`usage error, exit 2: ${c.name}`, async () => {
      const run = await check(c.args);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /usage: osm policy check/);
    });
  }

  test('usage error, exit 2: no -f', async () => {
    const run = await runOsm(['policy', 'check', '--from', 'shop/client', '--to', 'shop/api:80']);
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /usage: osm policy check/);
  });
});

/** OSM's bookstore demo, as its getting-started guides describe the outcomes. */
describe("osm policy check on OSM's published manifests", { concurrency: 4 }, () => {
  const m = (path: string): string => join(osmManifests, path);
  const apps = ['-f', m('apps')];
  const accessV1 = [...apps, '-f', m('access/traffic-access-v1.yaml')];
  const allowBookthief = [...apps, '-f', m('access/traffic-access-v1-allow-bookthief.yaml')];
  const buyABook = ['--to', 'bookstore/bookstore:14001', '--path', '/buy-a-book/new', '--header', 'user-agent=Go-http-client/1.1'];

  /** Each row: files and request, and the verdicts as `ALLOW|DENY service identity weight`. */
  const cases: Array<{ name: string; args: string[]; verdicts: string[] }> = [
    {
      // apps/ holds bookstore v1 and v2, both behind the root Service; each version's
      // TrafficTarget lets bookbuyer in.
      name: 'bookbuyer buys a book',
      args: [...accessV1, '--from', 'bookbuyer/bookbuyer', ...buyABook],
      verdicts: ['ALLOW bookstore/bookstore bookstore/bookstore 1', 'ALLOW bookstore/bookstore bookstore/bookstore-v2 1'],
    },
    {
      name: 'bookbuyer reads books-bought with the headers the route needs',
      args: [...accessV1, '--from', 'bookbuyer/bookbuyer', '--to', 'bookstore/bookstore:14001', '--path', '/books-bought', '--header', 'user-agent=Go-http-client/1.1', '--header', 'client-app=bookbuyer'],
      verdicts: ['ALLOW bookstore/bookstore bookstore/bookstore 1', 'ALLOW bookstore/bookstore bookstore/bookstore-v2 1'],
    },
    {
      name: 'bookbuyer reads books-bought without client-app',
      args: [...accessV1, '--from', 'bookbuyer/bookbuyer', '--to', 'bookstore/bookstore:14001', '--path', '/books-bought', '--header', 'user-agent=Go-http-client/1.1'],
      verdicts: ['DENY bookstore/bookstore bookstore/bookstore 1', 'DENY bookstore/bookstore bookstore/bookstore-v2 1'],
    },
    {
      name: 'bookthief is denied',
      args: [...accessV1, '--from', 'bookthief/bookthief', ...buyABook],
      verdicts: ['DENY bookstore/bookstore bookstore/bookstore 1', 'DENY bookstore/bookstore bookstore/bookstore-v2 1'],
    },
    {
      name: 'bookthief is allowed to bookstore v1 once the TrafficTarget names it',
      args: [...allowBookthief, '--from', 'bookthief/bookthief', ...buyABook],
      verdicts: ['ALLOW bookstore/bookstore bookstore/bookstore 1', 'DENY bookstore/bookstore bookstore/bookstore-v2 1'],
    },
    {
      name: 'split v1: all traffic to bookstore-v1',
      args: [...accessV1, '-f', m('split/traffic-split-v1.yaml'), '--from', 'bookbuyer/bookbuyer', ...buyABook],
      verdicts: ['ALLOW bookstore/bookstore-v1 bookstore/bookstore 100'],
    },
    {
      name: 'split 50-50',
      args: [...accessV1, '-f', m('split/traffic-split-50-50.yaml'), '--from', 'bookbuyer/bookbuyer', ...buyABook],
      verdicts: ['ALLOW bookstore/bookstore-v1 bookstore/bookstore 50', 'ALLOW bookstore/bookstore-v2 bookstore/bookstore-v2 50'],
    },
    {
      name: 'split v2: v1 weight 0, v2 weight 100',
      args: [...accessV1, '-f', m('split/traffic-split-v2.yaml'), '--from', 'bookbuyer/bookbuyer', ...buyABook],
      verdicts: ['ALLOW bookstore/bookstore-v1 bookstore/bookstore 0', 'ALLOW bookstore/bookstore-v2 bookstore/bookstore-v2 100'],
    },
    {
      name: 'bookstore restocks from bookwarehouse with POST',
      args: [...accessV1, '--from', 'bookstore/bookstore', '--to', 'bookwarehouse/bookwarehouse:14001', '--method', 'POST', '--path', '/restock-books'],
      verdicts: ['ALLOW bookwarehouse/bookwarehouse bookwarehouse/bookwarehouse 1'],
    },
    {
      name: 'bookstore may not GET from bookwarehouse',
      args: [...accessV1, '--from', 'bookstore/bookstore', '--to', 'bookwarehouse/bookwarehouse:14001', '--method', 'GET', '--path', '/restock-books'],
      verdicts: ['DENY bookwarehouse/bookwarehouse bookwarehouse/bookwarehouse 1'],
    },
    {
      name: 'bookwarehouse connects to mysql on 3306',
      args: [...accessV1, '--from', 'bookwarehouse/bookwarehouse', '--to', 'bookwarehouse/mysql:3306'],
      verdicts: ['ALLOW bookwarehouse/mysql bookwarehouse/mysql 1'],
    },
    {
      name: 'bookbuyer may not connect to mysql',
      args: [...accessV1, '--from', 'bookbuyer/bookbuyer', '--to', 'bookwarehouse/mysql:3306'],
      verdicts: ['DENY bookwarehouse/mysql bookwarehouse/mysql 1'],
    },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const run = await runOsm(['policy', 'check', ...c.args, '-o', 'json']);
      assert.equal(run.status, 0, run.stderr);
      const destinations = parseDestinations(run.stdout);
      assert.deepEqual(
        destinations.map((d) => `${d.allowed ? 'ALLOW' : 'DENY'} ${d.service} ${d.identity ?? '(none)'} ${d.weight}`),
        c.verdicts,
      );
    });
  }

  test('mysql on 3306 is checked as a TCP connection', async () => {
    const run = await runOsm(['policy', 'check', ...accessV1, '--from', 'bookwarehouse/bookwarehouse', '--to', 'bookwarehouse/mysql:3306']);
    assert.equal(run.status, 0, run.stderr);
    const lines = linesOf(run.stdout);
    assert.equal(lines[0], 'TCP connection from ServiceAccount bookwarehouse/bookwarehouse to Service bookwarehouse/mysql port 3306');
    assert.match(lines.at(-1) ?? '', /^ALLOW +service bookwarehouse\/mysql identity bookwarehouse\/mysql weight 1: .*TCPRoute mysql/);
  });
});
