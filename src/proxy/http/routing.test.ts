/**
 * The connection manager end to end over loopback: route selection, direct responses, the RBAC
 * and local rate limit filters with their per-route overrides, weighted clusters, the headers
 * the proxy adds and removes, the access log and OSM's request metrics.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpFilterConfig, HttpLocalRateLimitConfig, RbacRules } from '../config/index.js';
import { parseSubjectAltName } from '../tls/index.js';
import {
  forward, hcmConfig, headerIs, httpUpstream, request, route, routeConfig, startProxy, TEST_WORKLOAD, TestClient, testRuntime, virtualHost,
  type RunningServer, type Upstream,
} from './testing/harness.js';

/** An upstream that names itself in its body and echoes what it received. */
async function namedUpstream(name: string): Promise<Upstream> {
  return httpUpstream((req, res, body) => {
    res.setHeader('x-upstream', name);
    res.setHeader('server', 'app-server');
    res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
  });
}

interface Echo {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const principal = (name: string): RbacRules => ({
  action: 'allow',
  policies: [{ name: 'rbac-for-route', permissions: [{ kind: 'any' }], principals: [{ kind: 'authenticated', principalName: { kind: 'exact', value: name, ignoreCase: false } }] }],
});

const DENY_ALL: RbacRules = { action: 'allow', policies: [] };

describe('routing', () => {
  let a: Upstream;
  let b: Upstream;
  before(async () => {
    a = await namedUpstream('a');
    b = await namedUpstream('b');
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const clusters = (): Parameters<typeof testRuntime>[0] => [
    { name: 'a', endpoints: [{ address: '127.0.0.1', port: a.port }] },
    { name: 'b', endpoints: [{ address: '127.0.0.1', port: b.port }] },
  ];

  test('by host, path, method and header; no route is 404 NR; a direct response answers locally', async () => {
    const rc = routeConfig([
      virtualHost('books', ['books.test', 'books.test:80'], [
        route(forward('b'), { path: '/exact' }),
        route(forward('b'), { prefix: '/', headers: [headerIs(':method', 'POST')] }),
        route(forward('b'), { prefix: '/', headers: [headerIs('x-canary', 'yes')] }),
        route({ kind: 'directResponse', status: 403, body: 'denied by mesh' }, { prefix: '/denied' }),
        route(forward('a'), { prefix: '/api' }),
      ]),
      virtualHost('other', ['*.other.test'], [route(forward('b'))]),
    ]);
    const runtime = testRuntime(clusters());
    const hcm = hcmConfig(rc, { accessLog: true });
    const proxy = await startProxy(hcm, runtime);
    try {
      const cases: Array<{ name: string; req: Parameters<typeof request>[1]; status: number; upstream?: string; body?: string }> = [
        { name: 'prefix', req: { host: 'books.test', path: '/api/books?x=1' }, status: 200, upstream: 'a' },
        { name: 'exact path wins before prefix', req: { host: 'books.test', path: '/exact' }, status: 200, upstream: 'b' },
        { name: 'exact path ignores the query', req: { host: 'books.test', path: '/exact?q=1' }, status: 200, upstream: 'b' },
        { name: 'method', req: { host: 'books.test', path: '/api', method: 'POST', body: 'x' }, status: 200, upstream: 'b' },
        { name: 'header', req: { host: 'books.test', path: '/api', headers: { 'X-Canary': 'yes' } }, status: 200, upstream: 'b' },
        { name: 'host with port', req: { host: 'books.test:80', path: '/api' }, status: 200, upstream: 'a' },
        { name: 'wildcard host', req: { host: 'x.other.test', path: '/' }, status: 200, upstream: 'b' },
        { name: 'no virtual host', req: { host: 'nowhere.test', path: '/' }, status: 404, body: '' },
        { name: 'no route in the host', req: { host: 'books.test', path: '/none' }, status: 404, body: '' },
        { name: 'direct response', req: { host: 'books.test', path: '/denied' }, status: 403, body: 'denied by mesh' },
      ];
      for (const c of cases) {
        const res = await request(proxy.port, c.req);
        assert.equal(res.status, c.status, c.name);
        if (c.upstream !== undefined) assert.equal((JSON.parse(res.body) as Echo).name, c.upstream, c.name);
        if (c.body !== undefined) assert.equal(res.body, c.body, c.name);
      }
      assert.equal(runtime.stats.value('http.test.no_route'), 2);
      assert.equal(runtime.stats.value('http.test.rq_direct_response'), 1);
      assert.equal(runtime.stats.value('http.test.downstream_rq_total'), cases.length);
      assert.equal(runtime.stats.value('http.test.downstream_rq_2xx'), 7);
      assert.equal(runtime.stats.value('http.test.downstream_rq_4xx'), 3);
      assert.equal(runtime.stats.value('http.test.downstream_rq_active'), 0);
      const flags = runtime.logs.map((l) => l.response_flags);
      assert.deepEqual(flags.filter((f) => f === 'NR').length, 2);
      assert.equal(runtime.logs.find((l) => l.path === '/denied')?.response_code_details, 'direct_response');
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  });

  test('the request upstream: hop-by-hop fields removed, Host and framing rewritten, x-request-id and x-forwarded-proto set', async () => {
    const rc = routeConfig([virtualHost('books', ['*'], [route(forward('a', { timeoutMs: 5000 }))])]);
    const runtime = testRuntime(clusters());
    const proxy = await startProxy(hcmConfig(rc), runtime, { direction: 'unspecified' });
    try {
      const res = await request(proxy.port, {
        path: '/p',
        headers: {
          Connection: 'keep-alive, x-drop',
          'Keep-Alive': 'timeout=5',
          'Proxy-Connection': 'keep-alive',
          TE: 'gzip',
          'X-Envoy-Retry-On': '5xx',
          'X-Forwarded-Client-Cert': 'By=spoofed',
          'X-Forwarded-For': '10.0.0.9',
          'X-Custom': 'kept',
        },
        body: 'hello',
      });
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.body) as Echo;
      for (const h of ['keep-alive', 'proxy-connection', 'te', 'x-envoy-retry-on', 'x-forwarded-client-cert']) assert.equal(echo.headers[h], undefined, h);
      assert.equal(echo.headers['x-custom'], 'kept');
      assert.equal(echo.headers['x-forwarded-for'], '10.0.0.9', 'XFF passes unchanged for a sidecar');
      assert.equal(echo.headers['x-forwarded-proto'], 'http');
      assert.match(echo.headers['x-request-id'] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(echo.headers['x-envoy-expected-rq-timeout-ms'], '5000');
      assert.equal(echo.headers.host, 'svc.test');
      assert.equal(echo.headers['content-length'], '5');
      assert.equal(echo.body, 'hello');
      assert.equal(res.headers.get('server'), 'envoy');
      assert.match(res.headers.get('x-envoy-upstream-service-time') ?? '', /^\d+$/);
      assert.equal(res.headers.get('x-upstream'), 'a');

      const kept = await request(proxy.port, { path: '/p', headers: { 'X-Request-Id': 'given-id', 'X-Forwarded-Proto': 'https', TE: 'trailers' } });
      const echo2 = JSON.parse(kept.body) as Echo;
      assert.equal(echo2.headers['x-request-id'], 'given-id');
      assert.equal(echo2.headers['x-forwarded-proto'], 'https');
      assert.equal(echo2.headers.te, 'trailers');
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  });

  test('absolute-form targets route on their authority and go upstream in origin-form; prefix_rewrite sets x-envoy-original-path', async () => {
    const rc = routeConfig([
      virtualHost('books', ['books.test'], [route(forward('a', { prefixRewrite: '/v2/' }), { prefix: '/v1/' }), route(forward('a'))]),
    ]);
    const runtime = testRuntime(clusters());
    const proxy = await startProxy(hcmConfig(rc, { accessLog: true }), runtime);
    try {
      const res = await request(proxy.port, { path: 'http://books.test/x?y=1', host: 'ignored.test' });
      assert.equal(res.status, 200);
      const echo = JSON.parse(res.body) as Echo;
      assert.equal(echo.url, '/x?y=1');
      assert.equal(echo.headers.host, 'books.test');
      const rewritten = JSON.parse((await request(proxy.port, { path: '/v1/books?q=2', host: 'books.test' })).body) as Echo;
      assert.equal(rewritten.url, '/v2/books?q=2');
      assert.equal(rewritten.headers['x-envoy-original-path'], '/v1/books?q=2');
      assert.equal(runtime.logs.at(-1)?.path, '/v1/books?q=2');
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  });

  test('weighted clusters split by weight', async () => {
    const rc = routeConfig([virtualHost('split', ['*'], [route(forward([{ name: 'a', weight: 50 }, { name: 'b', weight: 50 }]))])]);
    const runtime = testRuntime(clusters());
    const proxy = await startProxy(hcmConfig(rc), runtime);
    try {
      const counts = { a: 0, b: 0 };
      const n = 1000;
      // One keep-alive connection, requests in sequence: 1,000 picks from Math.random.
      const client = await TestClient.connect(proxy.port);
      for (let i = 0; i < n; i++) {
        client.send('GET / HTTP/1.1\r\nHost: split.test\r\n\r\n');
        const res = await client.response();
        counts[res.headers.get('x-upstream') as 'a' | 'b']++;
      }
      client.close();
      // Binomial(1000, 0.5): 400..600 is more than 6 standard deviations wide.
      assert.ok(counts.a >= 400 && counts.a <= 600, `a got ${counts.a} of ${n}`);
      assert.equal(counts.a + counts.b, n);
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  });

  test('weighted picks follow the injected random source', async () => {
    const rc = routeConfig([virtualHost('split', ['*'], [route(forward([{ name: 'a', weight: 30 }, { name: 'b', weight: 70 }]))])]);
    const runtime = testRuntime(clusters());
    const picks = [0.0, 0.29, 0.3, 0.99];
    let k = 0;
    const proxy = await startProxy(hcmConfig(rc), runtime, { options: { random: () => picks[k++ % picks.length]! } });
    try {
      const got: string[] = [];
      for (let i = 0; i < picks.length; i++) got.push((await request(proxy.port)).headers.get('x-upstream') ?? '');
      assert.deepEqual(got, ['a', 'a', 'b', 'b']);
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  });
});

describe('filters', () => {
  let app: Upstream;
  before(async () => {
    app = await namedUpstream('app');
  });
  after(async () => app.close());

  const rbacFilter: HttpFilterConfig = { kind: 'rbac', name: 'envoy.filters.http.rbac', rules: undefined };
  const perRoute = (rules: RbacRules | undefined) => ({ rbac: { filterName: 'envoy.filters.http.rbac', rules } });
  const bookbuyer = parseSubjectAltName('DNS:bookbuyer.bookbuyer.cluster.local, URI:spiffe://cluster.local/ns/bookbuyer/sa/bookbuyer');
  const bookthief = parseSubjectAltName('DNS:bookthief.bookthief.cluster.local');

  async function withProxy(filters: HttpFilterConfig[], rc: ReturnType<typeof routeConfig>, opts: Parameters<typeof startProxy>[2], run: (proxy: RunningServer, runtime: ReturnType<typeof testRuntime>) => Promise<void>): Promise<void> {
    const runtime = testRuntime([
      { name: 'app', endpoints: [{ address: '127.0.0.1', port: app.port }] },
      { name: 'app-v2', endpoints: [{ address: '127.0.0.1', port: app.port }] },
    ]);
    const proxy = await startProxy(hcmConfig(rc, { filters, accessLog: true }), runtime, opts);
    try {
      await run(proxy, runtime);
    } finally {
      await proxy.close();
      runtime.clusters.close();
    }
  }

  test('RBAC per route: the allowed principal passes, another gets 403 "RBAC: access denied"', async () => {
    const rc = routeConfig([
      virtualHost('books', ['*'], [
        route(forward('app'), { prefix: '/open', perFilter: perRoute(undefined) }),
        route(forward('app'), { prefix: '/', perFilter: perRoute(principal('bookbuyer.bookbuyer.cluster.local')) }),
      ]),
    ]);
    for (const [peer, path, status] of [
      [bookbuyer, '/books', 200],
      [bookthief, '/books', 403],
      [undefined, '/books', 403],
      [bookthief, '/open', 200],
    ] as const) {
      await withProxy([rbacFilter], rc, { peer, direction: 'inbound' }, async (proxy, runtime) => {
        const seenBefore = app.requests.length;
        const res = await request(proxy.port, { path });
        assert.equal(res.status, status, `${path} as ${peer?.dns[0] ?? 'no certificate'}`);
        if (status === 403) {
          assert.equal(res.body, 'RBAC: access denied');
          assert.equal(runtime.stats.value('http.test.rbac.denied'), 1);
          assert.equal(runtime.logs[0]?.response_code_details, 'rbac_access_denied_matched_policy[none]');
          assert.equal(app.requests.length, seenBefore, 'a denied request never reaches the app');
        } else if (path === '/books') {
          assert.equal(runtime.stats.value('http.test.rbac.allowed'), 1);
        } else {
          assert.equal(runtime.stats.value('http.test.rbac.allowed'), 0, 'a route with RBAC turned off counts nothing');
        }
      });
    }
  });

  test('RBAC: the filter rules apply without overrides, a virtual host override beats them, a route override beats the host', async () => {
    const rc = routeConfig([
      virtualHost('deny-host', ['deny.test'], [route(forward('app'), { prefix: '/allowed', perFilter: perRoute(principal('bookbuyer.bookbuyer.cluster.local')) }), route(forward('app'))], perRoute(DENY_ALL)),
      virtualHost('plain', ['*'], [route(forward('app'))]),
    ]);
    const filter: HttpFilterConfig = { kind: 'rbac', name: 'envoy.filters.http.rbac', rules: principal('bookthief.bookthief.cluster.local') };
    await withProxy([filter], rc, { peer: bookbuyer }, async (proxy) => {
      assert.equal((await request(proxy.port, { host: 'plain.test' })).status, 403, 'filter-level rules: only bookthief');
      assert.equal((await request(proxy.port, { host: 'deny.test', path: '/x' })).status, 403, 'virtual host denies all');
      assert.equal((await request(proxy.port, { host: 'deny.test', path: '/allowed' })).status, 200, 'the route allows bookbuyer');
    });
  });

  test('RBAC on a weighted cluster is checked after the pick', async () => {
    const rc = routeConfig([
      virtualHost('split', ['*'], [
        route(forward([{ name: 'app', weight: 1 }, { name: 'app-v2', weight: 1, perFilter: perRoute(DENY_ALL) }]), { perFilter: perRoute(principal('bookbuyer.bookbuyer.cluster.local')) }),
      ]),
    ]);
    const picks = [0.1, 0.9];
    let k = 0;
    await withProxy([rbacFilter], rc, { peer: bookbuyer, options: { random: () => picks[k++ % 2]! } }, async (proxy, runtime) => {
      assert.equal((await request(proxy.port)).status, 200, 'app: the route allows bookbuyer');
      const denied = await request(proxy.port);
      assert.equal(denied.status, 403, 'app-v2: its own rules deny everyone');
      assert.equal(denied.body, 'RBAC: access denied');
      assert.equal(runtime.stats.value('cluster.app-v2.upstream_rq_total'), 0);
    });
  });

  const limit = (maxTokens: number, extra: Partial<HttpLocalRateLimitConfig> = {}): HttpLocalRateLimitConfig => ({
    statPrefix: 'http_local_rate_limiter',
    tokenBucket: { maxTokens, tokensPerFill: maxTokens, fillIntervalMs: 3_600_000 },
    statusCode: 429,
    enabledPercent: 100,
    enforcedPercent: 100,
    responseHeadersToAdd: [],
    ...extra,
  });

  test('local rate limit: 429 local_rate_limited with x-envoy-ratelimited once the bucket is empty; per-route buckets are their own', async () => {
    const filter: HttpFilterConfig = { kind: 'localRateLimit', name: 'envoy.filters.http.local_ratelimit', limit: { ...limit(0), tokenBucket: undefined } };
    const byRoute = { localRateLimit: { filterName: 'envoy.filters.http.local_ratelimit', limit: limit(2, { responseHeadersToAdd: [{ name: 'x-limited-by', value: 'route' }] }) } };
    const byHost = { localRateLimit: { filterName: 'envoy.filters.http.local_ratelimit', limit: limit(1) } };
    const rc = routeConfig([
      virtualHost('limited', ['limited.test'], [route(forward('app'), { prefix: '/route', perFilter: byRoute }), route(forward('app'))], byHost),
      virtualHost('free', ['*'], [route(forward('app'))]),
    ]);
    await withProxy([filter], rc, {}, async (proxy, runtime) => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(proxy.port, { host: 'limited.test', path: '/route' })).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      const limited = await request(proxy.port, { host: 'limited.test', path: '/route' });
      assert.equal(limited.body, 'local_rate_limited');
      assert.equal(limited.headers.get('x-envoy-ratelimited'), 'true');
      assert.equal(limited.headers.get('x-limited-by'), 'route');
      assert.equal((await request(proxy.port, { host: 'limited.test', path: '/other' })).status, 200, 'the host bucket has its own token');
      assert.equal((await request(proxy.port, { host: 'limited.test', path: '/other' })).status, 429);
      for (let i = 0; i < 3; i++) assert.equal((await request(proxy.port, { host: 'free.test' })).status, 200, 'no bucket without a config');
      const s = (name: string) => runtime.stats.value(`http_local_rate_limiter.http_local_rate_limit.${name}`);
      assert.deepEqual([s('enabled'), s('ok'), s('rate_limited'), s('enforced')], [6, 3, 3, 3]);
      assert.equal(runtime.logs.filter((l) => l.response_flags === 'RL').length, 3);
    });
  });

  test('local rate limit not enforced: counted but let through', async () => {
    const filter: HttpFilterConfig = { kind: 'localRateLimit', name: 'rl', limit: limit(1, { enforcedPercent: 0 }) };
    await withProxy([filter], routeConfig([virtualHost('all', ['*'], [route(forward('app'))])]), {}, async (proxy, runtime) => {
      assert.equal((await request(proxy.port)).status, 200);
      assert.equal((await request(proxy.port)).status, 200);
      assert.equal(runtime.stats.value('http_local_rate_limiter.http_local_rate_limit.rate_limited'), 1);
      assert.equal(runtime.stats.value('http_local_rate_limiter.http_local_rate_limit.enforced'), 0);
    });
  });
});

describe('OSM request metrics and the access log', () => {
  test('the outbound side adds osm-stats-* from its workload; the inbound side reads them, strips them and counts the request', async () => {
    const app = await httpUpstream((_req, res) => {
      res.statusCode = 201;
      res.end('made');
    });
    const serverWorkload = { namespace: 'bookstore', kind: 'Deployment', name: 'bookstore-v1', pod: 'bookstore-v1-abc' };
    const inboundRuntime = testRuntime([{ name: 'bookstore|14001|local', endpoints: [{ address: '127.0.0.1', port: app.port }] }], serverWorkload);
    const inbound = await startProxy(hcmConfig(routeConfig([virtualHost('in', ['*'], [route(forward('bookstore|14001|local'))])]), { accessLog: true }), inboundRuntime, { direction: 'inbound' });
    const outboundRuntime = testRuntime([{ name: 'bookstore|14001', endpoints: [{ address: '127.0.0.1', port: inbound.port }] }]);
    const outbound = await startProxy(hcmConfig(routeConfig([virtualHost('out', ['*'], [route(forward('bookstore|14001'))])]), { accessLog: true }), outboundRuntime, { direction: 'outbound' });
    try {
      const res = await request(outbound.port, { path: '/books-bought', host: 'bookstore.bookstore:14001', headers: { 'osm-stats-pod': 'spoofed', 'User-Agent': 'bookbuyer-test' } });
      assert.equal(res.status, 201);
      assert.equal(res.body, 'made');
      const seen = app.requests[0]!;
      for (const h of ['osm-stats-namespace', 'osm-stats-kind', 'osm-stats-name', 'osm-stats-pod']) assert.equal(seen.headers[h], undefined, `${h} reached the app`);
      assert.deepEqual(inboundRuntime.stats.osmRequests.map((r) => [r.labels, r.responseCode]), [
        [
          {
            sourceNamespace: TEST_WORKLOAD.namespace, sourceKind: TEST_WORKLOAD.kind, sourceName: TEST_WORKLOAD.name, sourcePod: TEST_WORKLOAD.pod,
            destinationNamespace: 'bookstore', destinationKind: 'Deployment', destinationName: 'bookstore-v1', destinationPod: 'bookstore-v1-abc',
          },
          201,
        ],
      ]);
      assert.equal(outboundRuntime.stats.osmRequests.length, 0, 'the outbound side does not count');

      // Both hops log one line each; the request id is the same on both.
      const out = outboundRuntime.logs[0]!;
      const inn = inboundRuntime.logs[0]!;
      assert.equal(out.request_id, inn.request_id);
      assert.equal(seen.headers['x-request-id'], out.request_id);
      const { start_time: startTime, duration, time_to_first_byte: ttfb, upstream_service_time: ust, request_id: id, upstream_host: host, ...rest } = out;
      assert.match(String(startTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(typeof duration, 'number');
      assert.equal(typeof ttfb, 'number');
      assert.match(String(ust), /^\d+$/);
      assert.equal(typeof id, 'string');
      assert.equal(host, `127.0.0.1:${inbound.port}`);
      assert.deepEqual(rest, {
        method: 'GET', path: '/books-bought', protocol: 'HTTP/1.1', response_code: 201, response_code_details: 'via_upstream',
        upstream_cluster: 'bookstore|14001', response_flags: '-', bytes_received: 0, bytes_sent: 4, x_forwarded_for: null,
        user_agent: 'bookbuyer-test', requested_server_name: null, authority: 'bookstore.bookstore:14001',
      });
    } finally {
      await outbound.close();
      await inbound.close();
      await app.close();
      inboundRuntime.clusters.close();
      outboundRuntime.clusters.close();
    }
  });

  test('an inbound request without osm-stats-* is counted with source "unknown"', async () => {
    const app = await httpUpstream((_req, res) => res.end());
    const runtime = testRuntime([{ name: 'local', endpoints: [{ address: '127.0.0.1', port: app.port }] }]);
    const proxy = await startProxy(hcmConfig(routeConfig([virtualHost('in', ['*'], [route(forward('local'))])])), runtime, { direction: 'inbound' });
    try {
      assert.equal((await request(proxy.port)).status, 200);
      const labels = runtime.stats.osmRequests[0]?.labels;
      assert.deepEqual([labels?.sourceNamespace, labels?.sourceKind, labels?.sourceName, labels?.sourcePod], ['unknown', 'unknown', 'unknown', 'unknown']);
    } finally {
      await proxy.close();
      await app.close();
      runtime.clusters.close();
    }
  });
});
