/**
 * A whole mesh on loopback, without root: the controller in this process, and each sidecar an
 * `osm proxy` child process in explicit mode. Every pod has its own 127.x address (all of
 * 127/8 is loopback on Linux): its sidecar binds the inbound ports there, its app listens on a
 * second address, and outbound traffic enters through explicit listeners standing for a
 * service's ClusterIP and port. Used by the integration tests and `npm run bench:proxy`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultControllerOptions, startController, type Controller } from '../controller/controller.js';
import { writeProxyBootstrap } from '../controller/proxy-bootstrap.js';
import { createLogger, type LogLevel } from '../lib/logging.js';

const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

export interface SidecarSpec {
  /** `namespace/pod-name`; the pod in the manifests must carry label `osm-proxy-uuid: <uuid>`. */
  readonly pod: string;
  readonly serviceAccount: string;
  readonly uuid: string;
  /** The pod's IP in the manifests (a 127.x address): inbound listeners bind here. */
  readonly podIp: string;
  /** Where the pod's app listens (another 127.x address). */
  readonly appHost: string;
  /** Ports the app serves (the inbound listener binds podIp:port for each). */
  readonly inboundPorts?: readonly number[];
  /** Explicit outbound entries: `bind` on the pod's address standing for `destination` (a ClusterIP:port). */
  readonly outbound?: ReadonlyArray<{ readonly bindPort: number; readonly destination: string }>;
  readonly workload?: { readonly kind: string; readonly name: string };
  /** Extra command-line words, e.g. `--delta`. */
  readonly args?: readonly string[];
  /** A command prefix such as `['taskset', '-c', '1']`. */
  readonly wrapper?: readonly string[];
}

export interface SidecarProcess {
  readonly spec: SidecarSpec;
  readonly child: ChildProcess;
  readonly adminUrl: string;
  /** Access-log entries printed so far. */
  readonly accessLog: Array<Record<string, unknown>>;
  /** Log lines (stderr) so far. */
  readonly logs: string[];
  /** Resolves when `/ready` answers 200. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Envoy-named counters and gauges from `/stats?format=json`. */
  stats(): Promise<Map<string, number>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface LoopbackMesh {
  readonly dir: string;
  readonly manifestsDir: string;
  controller(): Controller;
  sidecar(pod: string): SidecarProcess;
  /** Replaces the manifests the controller reads (it follows the file). */
  writeManifests(yaml: string): Promise<void>;
  stopController(): Promise<void>;
  startController(): Promise<void>;
  startSidecar(spec: SidecarSpec): Promise<SidecarProcess>;
  stop(): Promise<void>;
}

export interface LoopbackMeshOptions {
  readonly dir: string;
  readonly manifests: string;
  readonly sidecars: readonly SidecarSpec[];
  readonly logLevel?: LogLevel;
}

export async function startLoopbackMesh(options: LoopbackMeshOptions): Promise<LoopbackMesh> {
  const manifestsDir = join(options.dir, 'manifests');
  const stateDir = join(options.dir, 'state');
  await mkdir(manifestsDir, { recursive: true });
  await writeFile(join(manifestsDir, 'mesh.yaml'), options.manifests);
  let adsAddress = '127.0.0.1:0';
  let controller: Controller | undefined;
  const start = async () => {
    const opts = defaultControllerOptions(manifestsDir, stateDir);
    opts.adsAddress = adsAddress;
    opts.healthAddress = { host: '127.0.0.1', port: 0 };
    opts.debugAddress = { host: '127.0.0.1', port: 0 };
    opts.log = createLogger('controller', { level: options.logLevel ?? 'off' });
    controller = await startController(opts);
    // Restarts reuse the port so sidecars find the controller where they left it.
    adsAddress = controller.adsAddress;
  };
  await start();
  const sidecars = new Map<string, SidecarProcess>();
  const mesh: LoopbackMesh = {
    dir: options.dir,
    manifestsDir,
    controller: () => {
      if (!controller) throw new Error('the controller is stopped');
      return controller;
    },
    sidecar: (pod) => {
      const s = sidecars.get(pod);
      if (!s) throw new Error(`no sidecar for pod ${pod}`);
      return s;
    },
    writeManifests: (yaml) => writeFile(join(manifestsDir, 'mesh.yaml'), yaml),
    stopController: async () => {
      await controller?.close();
      controller = undefined;
    },
    startController: start,
    startSidecar: async (spec) => {
      const s = await spawnSidecar(spec, stateDir, join(options.dir, 'proxies', spec.pod.replace('/', '_')), adsAddress, options.logLevel ?? 'info');
      sidecars.set(spec.pod, s);
      return s;
    },
    stop: async () => {
      await Promise.all([...sidecars.values()].map((s) => s.stop()));
      await controller?.close();
    },
  };
  try {
    for (const spec of options.sidecars) await mesh.startSidecar(spec);
    await Promise.all([...sidecars.values()].map((s) => s.waitReady()));
  } catch (e) {
    // A sidecar that does not come up must not leave the controller and the others running.
    await mesh.stop();
    throw e;
  }
  return mesh;
}

async function spawnSidecar(spec: SidecarSpec, stateDir: string, dir: string, adsAddress: string, logLevel: LogLevel): Promise<SidecarProcess> {
  const [namespace, pod] = spec.pod.split('/') as [string, string];
  const written = await writeProxyBootstrap({
    stateDir,
    namespace,
    serviceAccount: spec.serviceAccount,
    out: dir,
    format: 'osm',
    adsAddress,
    uuid: spec.uuid,
    trustDomain: 'cluster.local',
    workload: { pod, kind: spec.workload?.kind ?? 'Pod', name: spec.workload?.name ?? pod },
  });
  const adminPort = 15000;
  const args = [
    BIN,
    'proxy',
    '--bootstrap',
    written.file,
    '--bind-host',
    spec.podIp,
    '--app-host',
    spec.appHost,
    '--admin',
    `${spec.podIp}:${adminPort}`,
    '--log-level',
    logLevel === 'off' ? 'error' : logLevel,
    ...(spec.inboundPorts ?? []).flatMap((p) => ['--listen', `inbound-listener=${spec.podIp}:${p}`]),
    ...(spec.outbound ?? []).flatMap((o) => ['--listen', `outbound-listener=${spec.podIp}:${o.bindPort}/${o.destination}`]),
    ...(spec.args ?? []),
  ];
  // OSM_SIDECAR_NODE_ARGS passes Node flags to every sidecar, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a benchmark.
  const nodeArgs = (process.env.OSM_SIDECAR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const node = [process.execPath, ...nodeArgs, ...args];
  const command = spec.wrapper?.length ? [...spec.wrapper, ...node] : node;
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const accessLog: Array<Record<string, unknown>> = [];
  const logs: string[] = [];
  lines(child.stdout!, (line) => {
    try {
      accessLog.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push(line);
    }
  });
  lines(child.stderr!, (line) => logs.push(line));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const adminUrl = `http://${spec.podIp}:${adminPort}`;
  return {
    spec,
    child,
    adminUrl,
    accessLog,
    logs,
    async waitReady(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sidecar ${spec.pod} exited with ${child.exitCode ?? child.signalCode}:\n${logs.slice(-20).join('\n')}`);
        try {
          const res = await fetch(`${adminUrl}/ready`);
          if (res.status === 200) return;
        } catch {
          // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`sidecar ${spec.pod} not ready after ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stats() {
      const res = await fetch(`${adminUrl}/stats?format=json`);
      const body = (await res.json()) as { stats: Array<{ name?: string; value?: number }> };
      const out = new Map<string, number>();
      for (const s of body.stats) if (s.name !== undefined && typeof s.value === 'number') out.set(s.name, s.value);
      return out;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

function lines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let i: number;
    while ((i = rest.indexOf('\n')) >= 0) {
      each(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  });
}
