/**
 * `npm run bench:xds`: one controller (a child process, as in production) serving 1,000
 * simulated proxies over 500 services, each proxy an ADS stream over mTLS with its own
 * certificate that ACKs every response at once. Prints (a) the time from a policy change (a
 * manifest file written) to every affected proxy holding the new configuration, p50 and p99;
 * (b) the controller's RSS per connected proxy; (c) the controller CPU time of a full resync
 * (MeshConfig's minimum TLS version, which every proxy's clusters and listeners carry).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials } from '@grpc/grpc-js';
import { ScriptedCall } from '../src/ads/testing/scripted-call.js';
import { streamAggregatedResourcesMethod } from '../src/ads/service.js';
import { identityOf } from '../src/catalog/index.js';
import { CertificateManager, MeshCA, systemClock } from '../src/certs/index.js';
import { create, DiscoveryRequestSchema, ResourceTypeUrl, type DiscoveryRequest, type DiscoveryResponse } from '../src/xds/proto.js';
import { formatMs, spread } from './stats.js';
import { seededRandom } from './synthetic-mesh.js';

/** Override for quick runs: OSM_BENCH_PROXIES=100 npm run bench:xds. */
const PROXIES = Number(process.env.OSM_BENCH_PROXIES ?? 1000);
const SERVICES = PROXIES / 2;
const NAMESPACES = 25;
const TYPES = [ResourceTypeUrl.cluster, ResourceTypeUrl.clusterLoadAssignment, ResourceTypeUrl.listener, ResourceTypeUrl.routeConfiguration, ResourceTypeUrl.secret];

const uuidOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** `tlsMinimum` changes every proxy's clusters and inbound chains: the full resync of (c). */
function manifests(tlsMinimum: 'TLSv1_2' | 'TLSv1_3', random: () => number): { mesh: string; policy: (round: number) => string } {
  const docs: unknown[] = [
    {
      apiVersion: 'config.openservicemesh.io/v1alpha2',
      kind: 'MeshConfig',
      metadata: { name: 'osm-mesh-config', namespace: 'osm-system' },
      spec: { traffic: { enablePermissiveTrafficPolicyMode: false, enableEgress: false }, sidecar: { tlsMinProtocolVersion: tlsMinimum } },
    },
  ];
  for (let n = 0; n < NAMESPACES; n++) {
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, labels: { 'openservicemesh.io/monitored-by': 'osm' }, annotations: { 'openservicemesh.io/sidecar-injection': 'enabled' } } });
  }
  for (let s = 0; s < SERVICES; s++) {
    const ns = `ns-${s % NAMESPACES}`;
    docs.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace: ns }, spec: { selector: { app: `svc-${s}` }, clusterIP: `10.96.${Math.floor(s / 250)}.${s % 250}`, ports: [{ name: 'http', port: 8080 }] } });
  }
  for (let p = 0; p < PROXIES; p++) {
    const s = p % SERVICES;
    docs.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `svc-${s}-${Math.floor(p / SERVICES)}`, namespace: `ns-${s % NAMESPACES}`, labels: { app: `svc-${s}`, 'osm-proxy-uuid': uuidOf(p) } },
      spec: { serviceAccountName: `svc-${s}`, containers: [{ name: 'app', image: 'app', ports: [{ containerPort: 8080 }] }] },
      status: { podIP: `10.1.${Math.floor(p / 250)}.${(p % 250) + 1}` },
    });
  }
  const target = (name: string, dest: number, sources: number[]) => ({
    apiVersion: 'access.smi-spec.io/v1alpha3',
    kind: 'TrafficTarget',
    metadata: { name, namespace: `ns-${dest % NAMESPACES}` },
    spec: {
      destination: { kind: 'ServiceAccount', name: `svc-${dest}`, namespace: `ns-${dest % NAMESPACES}` },
      rules: [{ kind: 'TCPRoute', name: 'all-ports' }],
      sources: sources.map((s) => ({ kind: 'ServiceAccount', name: `svc-${s}`, namespace: `ns-${s % NAMESPACES}` })),
    },
  });
  for (let n = 0; n < NAMESPACES; n++) docs.push({ apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'TCPRoute', metadata: { name: 'all-ports', namespace: `ns-${n}` }, spec: { matches: { ports: [] } } });
  for (let t = 0; t < SERVICES; t++) docs.push(target(`tt-${t}`, t, [0, 1, 2].map(() => Math.floor(random() * SERVICES))));
  const mesh = docs.map((d) => JSON.stringify(d)).join('\n---\n');
  // The changing policy: one TrafficTarget whose source list changes every round.
  const policy = (round: number) => JSON.stringify(target('tt-changing', round % SERVICES, [(round * 7 + 1) % SERVICES, (round * 13 + 2) % SERVICES]));
  return { mesh, policy };
}

interface Proxy {
  call: ScriptedCall<DiscoveryRequest, DiscoveryResponse>;
  lastResponseAt: number;
  acked: Set<string>;
}

function openProxy(target: string, creds: ReturnType<typeof credentials.createSsl>, nodeId: string): Proxy {
  const proxy: Proxy = { lastResponseAt: 0, acked: new Set(), call: undefined as unknown as Proxy['call'] };
  let sentNode = false;
  const send = (typeUrl: string, versionInfo: string, responseNonce: string) => {
    proxy.call.write(
      create(DiscoveryRequestSchema, {
        typeUrl,
        versionInfo,
        responseNonce,
        resourceNames: ['*'],
        ...(sentNode ? {} : { node: { id: nodeId, cluster: 'bench', userAgentName: 'envoy' } }),
      }),
    );
    sentNode = true;
  };
  proxy.call = new ScriptedCall(
    { target, credentials: creds, channelOptions: { 'grpc.ssl_target_name_override': 'ads.cluster.local', 'grpc.use_local_subchannel_pool': 1 } },
    streamAggregatedResourcesMethod,
    (response) => {
      proxy.lastResponseAt = performance.now();
      proxy.acked.add(response.typeUrl);
      send(response.typeUrl, response.versionInfo, response.nonce);
    },
    () => undefined,
  );
  for (const t of TYPES) send(t, '', '');
  return proxy;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function procStat(pid: number): Promise<{ rssKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11] ?? 0) + Number(stat[12] ?? 0);
  return { rssKb, cpuMs: (ticks * 1000) / 100 };
}

/** Waits until the proxies whose last response came after `since` stay quiet, then returns their delays. */
async function settle(proxies: Proxy[], since: number, quietMs: number, timeoutMs: number): Promise<number[]> {
  const deadline = since + timeoutMs;
  let lastChange = performance.now();
  let count = -1;
  for (;;) {
    const affected = proxies.filter((p) => p.lastResponseAt > since);
    if (affected.length !== count) {
      count = affected.length;
      lastChange = performance.now();
    }
    const newest = Math.max(since, ...affected.map((p) => p.lastResponseAt));
    if (count > 0 && performance.now() - Math.max(newest, lastChange) > quietMs) return affected.map((p) => p.lastResponseAt - since);
    if (performance.now() > deadline) return affected.map((p) => p.lastResponseAt - since);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'osm-bench-xds-'));
  const manifestsDir = join(dir, 'manifests');
  const stateDir = join(dir, 'state');
  await mkdir(manifestsDir);
  const gen = manifests('TLSv1_2', seededRandom(7));
  await writeFile(join(manifestsDir, 'mesh.yaml'), gen.mesh);
  await writeFile(join(manifestsDir, 'policy.yaml'), gen.policy(0));
  const bin = new URL('../src/cli/bin.js', import.meta.url).pathname;
  const child: ChildProcess = spawn(process.execPath, [bin, 'controller', '--manifests', manifestsDir, '--state-dir', stateDir, '--ads-address', '127.0.0.1:0', '--health-port', '0', '--debug-port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env },
  });
  try {
    const adsAddress = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const m = /ADS on ([0-9.]+:\d+)/.exec(text);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`controller exited with ${code}: ${text.slice(-2000)}`)));
    });
    const pid = child.pid as number;
    const idle = await procStat(pid);
    const { ca } = await MeshCA.loadOrCreate(join(stateDir, 'ca'), { nowMs: systemClock.now() });
    const certs = new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock });
    const proxies: Proxy[] = [];
    const t0 = performance.now();
    for (let p = 0; p < PROXIES; p++) {
      const s = p % SERVICES;
      const identity = identityOf(`ns-${s % NAMESPACES}`, `svc-${s}`);
      const cert = await certs.issueProxyBootstrap({ uuid: uuidOf(p), identity });
      const creds = credentials.createSsl(Buffer.from(certs.rootCertificatePem()), Buffer.from(cert.privateKeyPem), Buffer.from(cert.certChainPem));
      proxies.push(openProxy(adsAddress, creds, `${uuidOf(p)}.sidecar.svc-${s}.ns-${s % NAMESPACES}.cluster.local`));
    }
    // Types with nothing in them (a proxy without routes) get no response: wait for LDS and CDS,
    // which always answer, then for the pushes to go quiet.
    await waitFor(() => proxies.every((p) => p.acked.has(ResourceTypeUrl.listener) && p.acked.has(ResourceTypeUrl.cluster)), 300_000, 'every proxy to receive its listeners and clusters');
    await settle(proxies, t0, 1000, 60_000);
    const connectMs = Math.max(...proxies.map((p) => p.lastResponseAt)) - t0;
    const loaded = await procStat(pid);

    const delays: number[] = [];
    let affectedPerRound = 0;
    const ROUNDS = 10;
    for (let round = 1; round <= ROUNDS; round++) {
      const since = performance.now();
      await writeFile(join(manifestsDir, 'policy.yaml'), gen.policy(round));
      const d = await settle(proxies, since, 400, 30_000);
      delays.push(...d);
      affectedPerRound = Math.max(affectedPerRound, d.length);
    }
    const before = await procStat(pid);
    const since = performance.now();
    await writeFile(join(manifestsDir, 'mesh.yaml'), manifests('TLSv1_3', seededRandom(7)).mesh);
    const full = await settle(proxies, since, 1000, 120_000);
    const afterFull = await procStat(pid);
    for (const p of proxies) p.call.close();
    certs.close();

    const d = spread(delays);
    const sorted = [...delays].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
    const fullSorted = [...full].sort((a, b) => a - b);
    console.log(`xds: ${PROXIES} proxies (mTLS ADS streams, state of the world, all five types) over ${SERVICES} services, one controller process`);
    console.log(`  all proxies connected and configured in ${formatMs(connectMs)} (includes issuing ${PROXIES} client certificates here)`);
    console.log(`  (a) policy change -> affected proxies hold it: p50 ${formatMs(d.median)}, p99 ${formatMs(p99)} (${delays.length} proxy updates over ${ROUNDS} changes, up to ${affectedPerRound} per change; includes the file watcher)   target p99 <= 1 s; OSM: 20-40 s to converge 200 pods`);
    console.log(`  (b) controller RSS: ${(idle.rssKb / 1024).toFixed(0)} MB idle, ${(loaded.rssKb / 1024).toFixed(0)} MB with ${PROXIES} proxies -> ${((loaded.rssKb - idle.rssKb) / 1024 / PROXIES).toFixed(3)} MB per proxy   target <= 0.5 MB`);
    console.log(`  (c) full resync (MeshConfig tlsMinProtocolVersion change, ${full.length} proxies updated): ${formatMs(afterFull.cpuMs - before.cpuMs)} controller CPU; last proxy updated after ${formatMs(fullSorted.at(-1) ?? 0)}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}
