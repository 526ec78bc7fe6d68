/**
 * The control plane with an independent xDS client: @grpc/grpc-js-xds, configured only by our
 * controller over its plaintext ADS listener, from bootstraps `osm proxy bootstrap --format grpc`
 * writes. The story: start the controller on a manifest folder, start echo servers (plain
 * grpc-js with mesh mTLS) on their pods' loopback IPs, run gRPC clients and an xDS-enabled gRPC
 * server in child processes (grpc-js-xds reads its bootstrap once per process), call, count.
 *
 * The last tests are regressions for the grpc-js-xds defects the gRPC flavour works around
 * (reference/xds.md 1.9), each named after its defect.
 */
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { identityOf } from '../../src/catalog/index.js';
import { startController, defaultControllerOptions, type Controller } from '../../src/controller/controller.js';
import { proxyBootstrap } from '../../src/cli/proxy-bootstrap.js';
import { createLogger } from '../../src/lib/logging.js';
import { SotwClient } from '../../src/ads/testing/sotw-client.js';
import { decode, HttpConnectionManagerSchema, HttpRbacSchema, ListenerSchema, ResourceTypeUrl, unpackAny, type Listener } from '../../src/xds/proto.js';
import { ECHO_METHOD, echoHandlers, echoService, OTHER_METHOD } from './grpc/echo.js';
import type { BatchResult, ClientSpec, Outcome } from './grpc/xds-client.js';

const NS = 'demo';
const PORT = 50051;
const V1_IP = '127.0.0.11';
const V2_IP = '127.0.0.12';
const GUARDED_IP = '127.0.0.21';
const GUARDED_UUID = '6b0d3a52-5a8e-4c55-9d2e-1f7f0c0a2121';
const GUARDED_NODE = `${GUARDED_UUID}.sidecar.guarded.${NS}.cluster.local`;
const GRPC_USER_AGENT = 'gRPC Node Pure JS';
const OK = 0;
const UNAVAILABLE = 14;
const PERMISSION_DENIED = 7;

const cli = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));
const helper = (name: string) => fileURLToPath(new URL(`./grpc/${name}.js`, import.meta.url));
const target = (svc: string, form: 'fqdn' | 'short' = 'fqdn') => `xds:///${form === 'fqdn' ? `${svc}.${NS}.svc.cluster.local` : `${svc}.${NS}`}:${PORT}`;

const base = `
apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec:
  traffic: {enablePermissiveTrafficPolicyMode: false, enableEgress: false}
  observability: {osmLogLevel: error}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
${['client', 'client-b', 'echo-v1', 'echo-v2', 'guarded', 'intruder'].map((sa) => `---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ${sa}, namespace: ${NS}}\n`).join('')}`;

const service = (name: string, selector: string, ip: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${NS}}
spec: {selector: ${selector}, clusterIP: ${ip}, ports: [{name: grpc, port: ${PORT}, targetPort: grpc, appProtocol: grpc}]}
`;
const pod = (name: string, labels: string, sa: string, ip: string, port: number) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: ${labels}}
spec: {serviceAccountName: ${sa}, containers: [{name: app, image: x, ports: [{name: grpc, containerPort: ${port}}]}]}
status: {podIP: ${ip}}
`;
const trafficTarget = (name: string, destination: string, sources: string[], matches: string) => `---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: ${name}, namespace: ${NS}}
spec:
  destination: {kind: ServiceAccount, name: ${destination}, namespace: ${NS}}
  rules: [{kind: HTTPRouteGroup, name: echo-routes, matches: [${matches}]}]
  sources: [${sources.map((s) => `{kind: ServiceAccount, name: ${s}, namespace: ${NS}}`).join(', ')}]
`;
const split = (v1: number, v2: number) => `---
apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata: {name: echo-split, namespace: ${NS}}
spec:
  service: echo.${NS}
  backends: [{service: echo-v1, weight: ${v1}}, {service: echo-v2, weight: ${v2}}]
`;

function meshYaml(ports: { v1: number; v2: number; guarded: number }): string {
  return [
    service('echo', '{app: echo}', '10.96.0.10'),
    service('echo-v1', '{app: echo, version: v1}', '10.96.0.11'),
    service('echo-v2', '{app: echo, version: v2}', '10.96.0.12'),
    service('guarded', '{app: guarded}', '10.96.0.21'),
    pod('echo-v1-1', '{app: echo, version: v1}', 'echo-v1', V1_IP, ports.v1),
    pod('echo-v2-1', '{app: echo, version: v2}', 'echo-v2', V2_IP, ports.v2),
    pod('guarded-1', `{app: guarded, osm-proxy-uuid: "${GUARDED_UUID}"}`, 'guarded', GUARDED_IP, ports.guarded),
    `---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: echo-routes, namespace: ${NS}}
spec:
  matches:
  - {name: echo, pathRegex: "/test\\\\.Echo/Echo", methods: [POST]}
  - {name: any-method, pathRegex: "/test\\\\.Echo/.*", methods: [POST]}
`,
    trafficTarget('client-to-v1', 'echo-v1', ['client'], 'any-method'),
    trafficTarget('client-to-v2', 'echo-v2', ['client'], 'any-method'),
    trafficTarget('client-to-guarded', 'guarded', ['client'], 'echo'),
  ].join('');
}

// --- child processes ----------------------------------------------------------------------------

interface ChildEvent {
  event: string;
  [key: string]: unknown;
}

/** A helper script in a child process, speaking JSON lines on stdout. */
class Child {
  readonly events: ChildEvent[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #wake: Array<() => void> = [];

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let buffered = '';
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        if (line.trim()) this.events.push(JSON.parse(line) as ChildEvent);
      }
      this.#notify();
    });
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => {
      resolve(code);
      this.#notify();
    }));
    proc.stdin.on('error', () => undefined);
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** The first event named `name` (in arrival order, seen or not); fails on exit or after the deadline. */
  async event(name: string, timeoutMs: number): Promise<ChildEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find((e) => e.event === name);
      if (found) return found;
      if (this.proc.exitCode !== null) throw new Error(`child exited ${this.proc.exitCode} before '${name}'; events ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${name}' from child within ${timeoutMs} ms; events ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(line: string) {
    this.proc.stdin.write(`${line}\n`);
  }

  /** Ends stdin, waits for the exit; kills after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

const children = new Set<Child>();

function spawnHelper(script: string, arg: object, bootstrapDir: string, env: Record<string, string> = {}): Child {
  // The child is not a test file: keep node:test's context variables out of its environment.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_TEST')));
  const proc = spawn(process.execPath, [helper(script), JSON.stringify(arg)], {
    env: { ...inherited, GRPC_XDS_BOOTSTRAP: join(bootstrapDir, 'bootstrap.json'), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const child = new Child(proc);
  children.add(child);
  return child;
}

/** Runs an xDS client to completion and returns its batch results. */
async function runClient(bootstrapDir: string, spec: ClientSpec, timeoutMs = 20_000): Promise<BatchResult[]> {
  const child = spawnHelper('xds-client', spec, bootstrapDir);
  try {
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
    const code = await child.exited;
    clearTimeout(timer);
    assert.equal(code, 0, `client exited ${code}: ${child.stderr.slice(-2000)}`);
    return child.events.filter((e) => e.event === 'batch') as unknown as BatchResult[];
  } finally {
    children.delete(child);
  }
}

/**
 * `osm proxy bootstrap --format grpc`: bootstrap.json plus the workload certificate files. Run as
 * a user would (the CLI process) when `viaCli`, else the same command in this process (the CLI
 * takes over a second to start, on the 2 cores this file is budgeted for).
 */
async function bootstrap(name: string, serviceAccount: string, options: { uuid?: string; viaCli?: boolean } = {}): Promise<string> {
  const out = join(dir, 'bootstrap', name);
  const args = ['proxy', 'bootstrap', '--state-dir', stateDir, '--namespace', NS, '--service-account', serviceAccount, '--format', 'grpc'];
  args.push('--ads-address', controller.plaintextAdsAddress ?? '', '--out', out, ...(options.uuid ? ['--uuid', options.uuid] : []));
  if (options.viaCli) await promisify(execFile)(process.execPath, [cli, ...args]);
  else {
    let stderr = '';
    const status = await proxyBootstrap(args.slice(2), { stdout: () => undefined, stderr: (text) => (stderr += text) });
    assert.equal(status, 0, stderr);
  }
  return out;
}

// --- the mesh -----------------------------------------------------------------------------------

let dir: string;
let stateDir: string;
let manifests: string;
let controller: Controller;
const servers: Server[] = [];
let guardedPort: number;
let guardedServer: Child;
let bootstraps: { client: string; clientB: string; guarded: string; intruder: string };

/** A plain grpc-js echo server with the mesh workload certificate of `sa`, requiring client certificates. */
async function echoServer(id: string, ip: string, sa: string): Promise<number> {
  const cert = await controller.certs.issueWorkload(identityOf(NS, sa));
  const creds = ServerCredentials.createSsl(Buffer.from(controller.certs.rootCertificatePem()), [{ cert_chain: Buffer.from(cert.certChainPem), private_key: Buffer.from(cert.privateKeyPem) }], true);
  const server = new Server();
  server.addService(echoService, echoHandlers(id));
  servers.push(server);
  return promisify(server.bindAsync.bind(server))(`${ip}:0`, creds);
}

/** A port free on every interface (XdsServer binds dual-stack whatever host it is given: xds.md 1.9 #3b). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const nodeIdOf = async (bootstrapDir: string) => (JSON.parse(await readFile(join(bootstrapDir, 'bootstrap.json'), 'utf8')) as { node: { id: string } }).node.id;

const XDS_TYPES = [ResourceTypeUrl.listener, ResourceTypeUrl.cluster, ResourceTypeUrl.clusterLoadAssignment];

/**
 * What the controller serves a gRPC node: every resource of the types, by name, as bytes. (EDS
 * is not answered at all while the node has no cluster: ask only for types it has.)
 */
async function served(nodeId: string, types: readonly string[] = XDS_TYPES): Promise<Map<string, Map<string, Uint8Array>>> {
  const client = new SotwClient({ target: controller.plaintextAdsAddress ?? '', credentials: credentials.createInsecure() }, { id: nodeId, userAgentName: GRPC_USER_AGENT });
  try {
    const out = new Map<string, Map<string, Uint8Array>>();
    for (const type of types) {
      client.subscribe(type, ['*']);
      let response = await client.next();
      while (response.typeUrl !== type) response = await client.next();
      client.ack(response);
      out.set(type, new Map(response.message.resources.map((any, i) => [response.names[i] ?? '', any.value])));
    }
    return out;
  } finally {
    client.close();
  }
}

const guardedListener = () => `grpc/server?xds.resource.listening_address=${GUARDED_IP}:${guardedPort}`;
const counts = (r: BatchResult | undefined) => JSON.stringify(r);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'osm-grpc-xds-'));
  manifests = join(dir, 'manifests');
  stateDir = join(dir, 'state');
  await mkdir(manifests, { recursive: true });
  await writeFile(join(manifests, 'base.yaml'), base);
  const options = defaultControllerOptions(manifests, stateDir);
  options.adsAddress = '127.0.0.1:0';
  options.plaintextAds = { address: '127.0.0.1:0', force: false };
  options.healthAddress = { host: '127.0.0.1', port: 0 };
  options.debugAddress = { host: '127.0.0.1', port: 0 };
  options.log = createLogger('test', { level: 'off' });
  controller = await startController(options);

  const [v1, v2, guarded] = await Promise.all([echoServer('v1', V1_IP, 'echo-v1'), echoServer('v2', V2_IP, 'echo-v2'), freePort()]);
  guardedPort = guarded;
  await writeFile(join(manifests, 'mesh.yaml'), meshYaml({ v1, v2, guarded }));
  await writeFile(join(manifests, 'split.yaml'), split(80, 20));
  await writeFile(join(manifests, 'client-b.yaml'), trafficTarget('client-b-to-v1', 'echo-v1', ['client-b'], 'any-method'));
  await until('the pods and the split in the mesh model', () => {
    const state = controller.model()?.state;
    return (state?.workloads.all.filter((w) => w.isPod).length ?? 0) === 3 && (state?.splits.size ?? 0) === 1 && (controller.model()?.proxies.size ?? 0) === 3;
  });

  const [client, clientB, guardedDir, intruder] = await Promise.all([
    bootstrap('client', 'client', { viaCli: true }),
    bootstrap('client-b', 'client-b'),
    bootstrap('guarded', 'guarded', { uuid: GUARDED_UUID }),
    bootstrap('intruder', 'client'),
  ]);
  // The intruder gets a client's configuration but presents a certificate for an identity no TrafficTarget names.
  const intruderCert = await controller.certs.issueWorkload(identityOf(NS, 'intruder'));
  await writeFile(join(intruder, 'tls.crt'), intruderCert.certChainPem);
  await writeFile(join(intruder, 'tls.key'), intruderCert.privateKeyPem);
  bootstraps = { client, clientB, guarded: guardedDir, intruder };
  guardedServer = spawnHelper('xds-server', { address: `${GUARDED_IP}:${guardedPort}`, id: 'guarded' }, guardedDir, { GRPC_XDS_EXPERIMENTAL_RBAC: 'true' });
});

after(async () => {
  await Promise.all([...children].map((c) => c.stop()));
  for (const s of servers) s.forceShutdown();
  await controller?.close();
  await rm(dir, { recursive: true, force: true });
});

// --- the cases ----------------------------------------------------------------------------------

test('(a) a grpc-js-xds client configured only by the control plane reaches a service by both host forms', async () => {
  const [fqdn, short] = await runClient(bootstraps.client, {
    batches: [
      { target: target('echo-v1', 'fqdn'), method: ECHO_METHOD, calls: 5 },
      { target: target('echo-v2', 'short'), method: ECHO_METHOD, calls: 5 },
    ],
  });
  console.log(`(a) first call answered ${fqdn?.firstMs} ms after the client's first call (LDS, CDS, EDS fetched meanwhile); short form ${short?.firstMs} ms`);
  assert.deepEqual(fqdn?.servers, { v1: 5 }, counts(fqdn));
  assert.deepEqual(short?.servers, { v2: 5 }, counts(short));
});

test('(b) an 80/20 TrafficSplit splits 1000 calls 80/20 within 5 standard deviations', async () => {
  const calls = 1000;
  const [result] = await runClient(bootstraps.client, { batches: [{ target: target('echo'), method: ECHO_METHOD, calls, concurrency: 20 }] });
  assert.deepEqual(result?.codes, { [OK]: calls }, counts(result));
  // v2's count is Binomial(1000, 0.2): mean 200, sd sqrt(1000 * 0.2 * 0.8) = 12.6; 5 sd = 63,
  // so a correct split fails this test with probability below 1e-6.
  const v2 = result?.servers.v2 ?? 0;
  const sd = Math.sqrt(calls * 0.2 * 0.8);
  console.log(`(b) 80/20 split over ${calls} calls: v1 ${result?.servers.v1 ?? 0}, v2 ${v2} (${((100 * v2) / calls).toFixed(1)} % on v2; accepted ${Math.ceil(200 - 5 * sd)}..${Math.floor(200 + 5 * sd)})`);
  assert.ok(Math.abs(v2 - calls * 0.2) <= 5 * sd, `v2 got ${v2} of ${calls} calls, outside 200 ± ${(5 * sd).toFixed(0)}`);
  assert.equal((result?.servers.v1 ?? 0) + v2, calls);
});

/** Starts a watching client, waits for its first outcome, makes a change, waits for the new outcome. */
async function changeAndWait(bootstrapDir: string, watch: Omit<NonNullable<ClientSpec['watch']>, 'deadlineMs'>, change: () => Promise<void>) {
  const child = spawnHelper('xds-client', { watch: { ...watch, deadlineMs: 10_000 } } satisfies ClientSpec, bootstrapDir);
  try {
    const ready = await child.event('ready', 15_000);
    child.send('mark');
    await change();
    const changed = await child.event('changed', 15_000);
    return {
      first: ready.outcome as Outcome,
      changed: changed.first as Outcome,
      delayMs: changed.delayMs as number,
      callsAfterMark: changed.callsAfterMark as number,
      before: changed.before as Record<string, number>,
    };
  } finally {
    await child.stop();
    children.delete(child);
  }
}

test('(c) removing the TrafficTarget cuts a client off: its Listener goes and calls fail UNAVAILABLE', async () => {
  const result = await changeAndWait(bootstraps.clientB, { target: target('echo-v1'), method: ECHO_METHOD, until: { code: UNAVAILABLE }, consecutive: 3 }, () => writeFile(join(manifests, 'client-b.yaml'), ''));
  assert.equal(result.first.server, 'v1', `before the change client-b reaches v1: ${JSON.stringify(result.first)}`);
  console.log(`(c) TrafficTarget removed: calls failed UNAVAILABLE ${result.delayMs} ms after the manifest was rewritten (${result.callsAfterMark} calls; "${result.changed.details}")`);
  const listeners = (await served(await nodeIdOf(bootstraps.clientB), [ResourceTypeUrl.listener])).get(ResourceTypeUrl.listener);
  assert.deepEqual([...(listeners?.keys() ?? [])], [], 'client-b may reach nothing now');
});

test('(d) an XdsServer with mesh mTLS and RBAC serves the client a TrafficTarget allows and refuses the rest', async () => {
  await guardedServer.event('serving', 20_000);
  const [allowed, otherMethod] = await runClient(bootstraps.client, {
    batches: [
      { target: target('guarded'), method: ECHO_METHOD, calls: 5 },
      { target: target('guarded'), method: OTHER_METHOD, calls: 5 },
    ],
  });
  assert.deepEqual(allowed?.servers, { guarded: 5 }, counts(allowed));
  assert.deepEqual(otherMethod?.codes, { [PERMISSION_DENIED]: 5 }, `the TrafficTarget allows only ${ECHO_METHOD}: ${counts(otherMethod)}`);
  const [intruder] = await runClient(bootstraps.intruder, { batches: [{ target: target('guarded'), method: ECHO_METHOD, calls: 5 }] });
  assert.deepEqual(intruder?.codes, { [PERMISSION_DENIED]: 5 }, `no TrafficTarget names demo/intruder: ${counts(intruder)}`);
  assert.match(intruder?.errors[0] ?? '', /Unauthorized RPC rejected/);
});

test('xds.md 1.9 #1: a Listener-only change (80/20 -> 0/100) is applied at once, since routes are inline', async () => {
  const nodeId = await nodeIdOf(bootstraps.client);
  const before = await served(nodeId);
  const result = await changeAndWait(bootstraps.client, { target: target('echo'), method: ECHO_METHOD, until: { server: 'v2' }, consecutive: 20 }, () =>
    writeFile(join(manifests, 'split.yaml'), split(0, 100)),
  );
  console.log(`#1 split 80/20 -> 0/100: all calls on v2 ${result.delayMs} ms after the manifest was rewritten (${result.callsAfterMark} calls; before: ${JSON.stringify(result.before)})`);
  const after = await served(nodeId);
  // Only Listeners changed. Were routes in RDS, a Listener-only change would wait for some other RDS/CDS/EDS change.
  const listener = `echo.${NS}.svc.cluster.local:${PORT}`;
  assert.notDeepEqual(after.get(ResourceTypeUrl.listener)?.get(listener), before.get(ResourceTypeUrl.listener)?.get(listener));
  assert.deepEqual(after.get(ResourceTypeUrl.cluster), before.get(ResourceTypeUrl.cluster), 'clusters unchanged');
  assert.deepEqual(after.get(ResourceTypeUrl.clusterLoadAssignment), before.get(ResourceTypeUrl.clusterLoadAssignment), 'endpoints unchanged');
  for (const [name, bytes] of after.get(ResourceTypeUrl.listener) ?? []) {
    const api = decode(ListenerSchema, bytes).apiListener?.apiListener;
    const hcm = api && unpackAny(api, HttpConnectionManagerSchema);
    assert.equal(hcm?.ok && hcm.message.routeSpecifier.case, 'routeConfig', `${name} carries its routes inline, not through RDS`);
  }
});

/** The names of the RBAC policies of a gRPC server Listener (our generator: one filter chain, RBAC first). */
function rbacPolicyNames(listenerBytes: Uint8Array | undefined): string[] {
  assert.ok(listenerBytes, 'the server Listener is served');
  const filter = decode(ListenerSchema, listenerBytes).filterChains[0]?.filters[0];
  assert.ok(filter?.configType.case === 'typedConfig');
  const hcm = unpackAny(filter.configType.value, HttpConnectionManagerSchema);
  assert.ok(hcm.ok);
  const rbac = hcm.message.httpFilters[0];
  assert.ok(rbac?.configType.case === 'typedConfig');
  const rules = unpackAny(rbac.configType.value, HttpRbacSchema);
  assert.ok(rules.ok);
  return Object.keys(rules.message.rules?.policies ?? {}).sort();
}

test('xds.md 1.9 #2: a policy added to the server RBAC (a map gaining an entry) is applied', async () => {
  await guardedServer.event('serving', 20_000);
  const serverListeners = async () => (await served(GUARDED_NODE, [ResourceTypeUrl.listener])).get(ResourceTypeUrl.listener)?.get(guardedListener());
  const before = rbacPolicyNames(await serverListeners());
  // A TrafficTarget with another match than the existing one: a new RBAC policy, not a longer principal list.
  const result = await changeAndWait(bootstraps.intruder, { target: target('guarded'), method: ECHO_METHOD, until: { code: OK, server: 'guarded' }, consecutive: 3 }, () =>
    writeFile(join(manifests, 'intruder.yaml'), trafficTarget('intruder-to-guarded', 'guarded', ['intruder'], 'any-method')),
  );
  assert.equal(result.first.code, PERMISSION_DENIED, JSON.stringify(result.first));
  console.log(`#2 TrafficTarget for the intruder added: served ${result.delayMs} ms after the manifest was written (${result.callsAfterMark} calls)`);
  const after = rbacPolicyNames(await serverListeners());
  assert.deepEqual([before.length, after.length, after.some((p) => p.endsWith('#any-method'))], [1, 2, true], `policies before ${before.join(', ')}; after ${after.join(', ')}`);
});

test('xds.md 1.9 #3a/#3b: the server filter chain matches transport_protocol raw_buffer and no IP prefix, and serves', async () => {
  const name = guardedListener();
  const listeners = (await served(GUARDED_NODE, [ResourceTypeUrl.listener])).get(ResourceTypeUrl.listener);
  const bytes = listeners?.get(name);
  assert.ok(bytes, `server Listener ${name} among ${[...(listeners?.keys() ?? [])].join(', ')}`);
  const listener: Listener = decode(ListenerSchema, bytes);
  const address = listener.address?.address.case === 'socketAddress' ? listener.address.address.value : undefined;
  assert.deepEqual([address?.address, address?.portSpecifier.value], [GUARDED_IP, guardedPort]);
  assert.equal(listener.filterChains.length, 1);
  const match = listener.filterChains[0]?.filterChainMatch;
  assert.equal(match?.transportProtocol, 'raw_buffer');
  assert.deepEqual([match?.prefixRanges.length, match?.sourcePrefixRanges.length, match?.destinationPort, match?.serverNames.length], [0, 0, undefined, 0]);
  await guardedServer.event('serving', 20_000);
  const [served_] = await runClient(bootstraps.client, { batches: [{ target: target('guarded'), method: ECHO_METHOD, calls: 1 }] });
  assert.deepEqual(served_?.servers, { guarded: 1 }, counts(served_));
});

test('grpc-js-xds NACKed nothing the control plane sent', async () => {
  const metrics = await (await fetch(`http://127.0.0.1:${controller.healthPort}/metrics`)).text();
  assert.doesNotMatch(metrics, /^osm_proxy_xds_nack_count\{[^}]*\} [1-9]/m, metrics);
  assert.match(metrics, /^osm_proxy_xds_ack_count\{type="LDS"\} [1-9]/m);
});
