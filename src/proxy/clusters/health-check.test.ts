/**
 * Active HTTP health checks over real sockets and real mTLS, as OSM configures them
 * (GET /healthz/osm, Host = the service's FQDN, `x-osm-envoy-healthcheck: 1`), with intervals
 * driven by a manual clock: a failing host leaves balancing and comes back after enough
 * passes, network failures need the unhealthy threshold, and a pass returns an ejected host.
 */
import * as assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { IssuedCertificate } from '../../certs/index.js';
import type { HealthCheckConfig, OutlierDetectionConfig } from '../config/index.js';
import {
  certificateSecretOf,
  clusterConfig,
  createTestMesh,
  endpoints,
  meshTls,
  proxyConfig,
  startSilentServer,
  startUpstream,
  testManager,
  validationSecretOf,
  waitFor,
  type TestMesh,
  type TestUpstream,
} from './testing.js';
import type { Cluster } from './types.js';

const NAME = 'bookstore/bookstore|14001';
const FQDN = 'bookstore.bookstore.svc.cluster.local';

let mesh: TestMesh;
let serverCert: IssuedCertificate;
let clientCert: IssuedCertificate;

before(async () => {
  mesh = await createTestMesh();
  serverCert = await mesh.workload('bookstore', 'bookstore');
  clientCert = await mesh.workload('bookbuyer', 'bookbuyer');
});

after(() => mesh.close());

/** OSM's active health check (pkg/envoy/cds: enableHealthChecksOnCluster), `overrides` applied. */
function osmHealthCheck(overrides: Partial<HealthCheckConfig> = {}): HealthCheckConfig {
  return {
    timeoutMs: 1000,
    intervalMs: 10_000,
    noTrafficIntervalMs: 60_000,
    noTrafficHealthyIntervalMs: 60_000,
    unhealthyIntervalMs: 10_000,
    unhealthyEdgeIntervalMs: 10_000,
    healthyEdgeIntervalMs: 10_000,
    initialJitterMs: 0,
    intervalJitterMs: 0,
    intervalJitterPercent: 0,
    unhealthyThreshold: 3,
    healthyThreshold: 1,
    reuseConnection: true,
    http: { host: FQDN, path: '/healthz/osm', method: 'GET', requestHeadersToAdd: [{ name: 'x-osm-envoy-healthcheck', value: '1' }], expectedStatuses: [{ start: 200, end: 201 }], retriableStatuses: [] },
    ...overrides,
  };
}

function setup(upstreams: ReadonlyArray<{ address: string; port: number }>, hc: HealthCheckConfig, outlierDetection?: OutlierDetectionConfig) {
  const t = testManager();
  const config = clusterConfig(NAME, endpoints(NAME, upstreams), { tls: meshTls('cert', 'validation'), healthCheck: hc, outlierDetection });
  t.manager.update(proxyConfig([config], [certificateSecretOf('cert', clientCert), validationSecretOf('validation', mesh.rootPem, ['spiffe://cluster.local/ns/bookstore/sa/bookstore'])]));
  const cluster = t.manager.get(NAME);
  assert.ok(cluster);
  return { ...t, cluster };
}

function chosen(cluster: Cluster): Set<string> {
  return new Set(Array.from({ length: 20 }, () => cluster.chooseHost(undefined)?.id ?? 'none'));
}

const tlsUpstream = (address: string) => startUpstream({ address, tls: { cert: serverCert, ca: mesh.rootPem } });
const failHealthChecks = (u: TestUpstream, status: number) =>
  u.respond((req, res) => {
    res.statusCode = req.url === '/healthz/osm' ? status : 200;
    res.end();
  });

test('a host failing its health check leaves balancing, and returns after healthy_threshold passes', async (ctx) => {
  const good = await tlsUpstream('127.0.0.1');
  const bad = await tlsUpstream('127.0.0.2');
  ctx.after(() => good.close());
  ctx.after(() => bad.close());
  failHealthChecks(bad, 503);
  const t = setup([good, bad], osmHealthCheck({ healthyThreshold: 2 }));
  ctx.after(() => t.manager.close());
  const stat = (s: string) => t.counter(NAME, `health_check.${s}`);
  await waitFor(() => stat('success') + stat('failure') === 2, 'the first check of both hosts');
  assert.equal(stat('attempt'), 2);
  assert.equal(stat('failure'), 1, 'a 503 fails the host at once, whatever the threshold');
  assert.equal(t.gauge(NAME, 'health_check.healthy'), 1);
  assert.equal(t.gauge(NAME, 'membership_healthy'), 1);
  assert.deepEqual([...chosen(t.cluster)], [`127.0.0.1:${good.port}`]);
  assert.deepEqual(t.manager.describe()[0]?.hosts.map((h) => h.healthFlags), [['healthy'], ['failed_active_hc']]);

  const check = good.seen.requests[0];
  assert.equal(check?.method, 'GET');
  assert.equal(check?.url, '/healthz/osm');
  assert.equal(check?.headers.host, FQDN);
  assert.equal(check?.headers['user-agent'], 'Envoy/HC');
  assert.equal(check?.headers['x-osm-envoy-healthcheck'], '1');
  assert.equal(good.seen.handshakes, 1, 'checked over mTLS');

  failHealthChecks(bad, 200);
  // No traffic yet: the next round comes after no_traffic_interval.
  t.clock.advance(60_000);
  await waitFor(() => stat('success') === 3, 'the second round');
  assert.deepEqual([...chosen(t.cluster)], [`127.0.0.1:${good.port}`], 'one pass of two');
  t.clock.advance(60_000);
  await waitFor(() => stat('success') === 5, 'the third round');
  assert.equal(chosen(t.cluster).size, 2);
  assert.equal(t.gauge(NAME, 'health_check.healthy'), 2);
  assert.equal(good.seen.connections, 1, 'the checking connection is kept between checks');
});

test('network failures (refused, timed out) mark a healthy host unhealthy only at unhealthy_threshold', async (ctx) => {
  const silent = await startSilentServer();
  const good = await tlsUpstream('127.0.0.1');
  ctx.after(() => silent.close());
  ctx.after(() => good.close());
  const t = setup(
    [
      { address: '127.0.0.1', port: good.port },
      { address: '127.0.0.1', port: silent.port },
    ],
    osmHealthCheck({ unhealthyThreshold: 2 }),
  );
  ctx.after(() => t.manager.close());
  const stat = (s: string) => t.counter(NAME, `health_check.${s}`);
  const goodId = `127.0.0.1:${good.port}`;
  await waitFor(() => stat('success') === 1 && silent.accepted() === 1, 'both first checks under way');
  t.clock.advance(1000);
  assert.equal(stat('network_failure'), 1, 'the silent host timed out');
  assert.deepEqual([...chosen(t.cluster)], [goodId]);

  await good.close();
  t.clock.advance(59_000);
  await waitFor(() => stat('network_failure') === 2, 'the refused check');
  assert.deepEqual([...chosen(t.cluster)], [goodId], 'one network failure of two');
  t.clock.advance(60_000);
  await waitFor(() => t.logs.some((l) => l.event === 'cluster.host_unhealthy' && l.host === goodId), 'the second refused check');
  assert.equal(t.gauge(NAME, 'health_check.healthy'), 0);
  // Both hosts failing: the cluster panics and uses them all rather than none.
  assert.equal(chosen(t.cluster).size, 2);
});

test('a passing health check returns a host that outlier detection ejected', async (ctx) => {
  const a = await tlsUpstream('127.0.0.1');
  ctx.after(() => a.close());
  const od: OutlierDetectionConfig = {
    consecutive5xx: 1,
    enforcingConsecutive5xxPercent: 100,
    consecutiveGatewayFailure: 5,
    enforcingConsecutiveGatewayFailurePercent: 0,
    splitExternalLocalOriginErrors: false,
    consecutiveLocalOriginFailure: 5,
    enforcingConsecutiveLocalOriginFailurePercent: 100,
    intervalMs: 1_000_000,
    baseEjectionTimeMs: 1_000_000,
    maxEjectionTimeMs: 1_000_000,
    maxEjectionTimeJitterMs: 0,
    maxEjectionPercent: 100,
    alwaysEjectOneHost: false,
    successfulActiveHealthCheckUnejectHost: true,
    successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9, enforcingPercent: 100, enforcingLocalOriginPercent: 100 },
    failurePercentage: { thresholdPercent: 85, minimumHosts: 5, requestVolume: 50, enforcingPercent: 0, enforcingLocalOriginPercent: 0 },
  };
  const t = setup([a], osmHealthCheck(), od);
  ctx.after(() => t.manager.close());
  await waitFor(() => t.counter(NAME, 'health_check.success') === 1, 'the first check');
  const host = t.cluster.chooseHost(undefined);
  assert.ok(host);
  t.cluster.hostRequestStarted(host);
  t.cluster.hostRequestEnded(host, 'error5xx');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 1);
  t.clock.advance(60_000);
  await waitFor(() => t.counter(NAME, 'health_check.success') === 2, 'the next check');
  assert.equal(t.gauge(NAME, 'outlier_detection.ejections_active'), 0);
  assert.deepEqual(t.manager.describe()[0]?.hosts[0]?.healthFlags, ['healthy']);
});
