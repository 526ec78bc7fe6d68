/**
 * `npm run bench:proxy [-- options]`: the same load, side by side in one run, on three paths to
 * one app: direct, the haproxy sidecar pair, and our sidecar pair, both pairs with mTLS.
 * Follows /work/shared/reference/perf-baseline.md: CPU 0 runs the load generator and the app,
 * CPU 1 runs only the proxies (both of a pair); CPU per request comes from /proc, and each run
 * records the foreign CPU load so noisy runs show. Scenarios run interleaved over rounds
 * (round, scenario, pair), and the report gives medians.
 *
 * Options: --only direct,haproxy,osm   --scenarios http-c1,...   --duration 5 (s per run)
 *          --warmup 1 (s)   --rounds 3   --rate 1000 (RPS)   --out tmp/bench-proxy.json
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'node:http';
import { appConfig, startHaproxy } from './haproxy.js';
import { haproxyPair } from './haproxy-pair.js';
import { defaultScenarios, measureRun, type RunMeasurement, type Scenario } from './measure.js';
import { osmPair } from './osm-pair.js';
import { directPair, HTTP_AUTHORITY, PAIR_NAMES, type Pair, type PairName, type RunningPair } from './pair.js';
import { clockTicksPerSecond, readProcessMemory } from './procfs.js';
import { formatAddress, freePort, hasCommand, pinProcess, ProcessGroup, runTool, type Address } from './processes.js';
import { evaluateTargets, formatTable, formatTargets, NOISY_OTHER_CPU_PCT, summarize } from './report.js';

/** The response body size the issue asks for, bytes. */
const BODY_BYTES = 1024;
const PAIRS: Record<PairName, Pair> = { direct: directPair, haproxy: haproxyPair, osm: osmPair };
const TOOLS = ['haproxy', 'wrk', 'h2load', 'taskset'];

/** The bench's options, from the command line. */
interface Options {
  pairs: PairName[];
  scenarios: Scenario[];
  durationS: number;
  warmupS: number;
  rounds: number;
  rateRps: number;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string', default: PAIR_NAMES.join(',') },
      scenarios: { type: 'string' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      rate: { type: 'string', default: '1000' },
      out: { type: 'string', default: 'tmp/bench-proxy.json' },
    },
  });
  const number = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const pairs = values.only.split(',').map((s) => s.trim());
  const unknownPairs = pairs.filter((p) => !(PAIR_NAMES as readonly string[]).includes(p));
  if (unknownPairs.length > 0) throw new Error(`--only: unknown ${unknownPairs.join(', ')}; known: ${PAIR_NAMES.join(', ')}`);
  const rateRps = number('rate', values.rate, 1);
  const all = defaultScenarios(rateRps);
  const wanted = values.scenarios?.split(',').map((s) => s.trim()) ?? all.map((s) => s.id);
  const unknownScenarios = wanted.filter((id) => !all.some((s) => s.id === id));
  if (unknownScenarios.length > 0) throw new Error(`--scenarios: unknown ${unknownScenarios.join(', ')}; known: ${all.map((s) => s.id).join(', ')}`);
  return {
    // Keep the report's order whatever order --only gave.
    pairs: PAIR_NAMES.filter((p) => pairs.includes(p)),
    scenarios: all.filter((s) => wanted.includes(s.id)),
    durationS: number('duration', values.duration, 1),
    warmupS: number('warmup', values.warmup, 0),
    rounds: number('rounds', values.rounds, 1),
    rateRps,
    out: resolve(values.out),
  };
}

/** One GET through `entry`: it must answer 200 with the app's body, or the bench would measure errors. */
async function preflight(pair: PairName, path: string, entry: Address): Promise<void> {
  const { status, bytes } = await new Promise<{ status: number; bytes: number }>((resolvePromise, reject) => {
    const req = request({ host: entry.host, port: entry.port, path: '/', headers: { host: HTTP_AUTHORITY }, agent: false, timeout: 5000 }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('no response in 5 s')));
    req.on('error', reject);
    req.end();
  }).catch((err: unknown) => {
    throw new Error(`${pair} pair, ${path} path (${formatAddress(entry)}): preflight request failed`, { cause: err });
  });
  if (status !== 200 || bytes !== BODY_BYTES) {
    throw new Error(`${pair} pair, ${path} path (${formatAddress(entry)}): preflight got status ${status} with ${bytes} body bytes, want 200 with ${BODY_BYTES}`);
  }
}

async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]): Promise<string> => {
    const out = await runTool(undefined, cmd, args);
    return `${out.stdout}${out.stderr}`.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown';
  };
  return {
    haproxy: await first('haproxy', ['-v']),
    wrk: await first('wrk', ['-v']),
    h2load: await first('h2load', ['--version']),
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const missing = TOOLS.filter((t) => !hasCommand(t));
  if (missing.length > 0) throw new Error(`bench:proxy needs ${missing.join(', ')}: run scripts/setup.sh as root (it installs haproxy, wrk, nghttp2-client)`);

  // perf-baseline.md's split: "the world" (load generator, app) on CPU 0, the proxies alone on CPU 1.
  const twoCores = cpus().length >= 2;
  const loadCpu = twoCores ? 0 : undefined;
  const proxyCpu = twoCores ? 1 : undefined;
  // This process belongs to the world too: it runs the osm pair's controller and reads /proc.
  // Children inherit the mask; the proxies are pinned to CPU 1 explicitly.
  if (loadCpu !== undefined) pinProcess(process.pid, loadCpu);
  const versions = await toolVersions();
  console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; ${versions.haproxy}; ${versions.wrk}; ${versions.h2load}`);
  console.log(twoCores ? 'pinned: load generator and app on CPU 0, proxies on CPU 1' : 'one CPU: nothing pinned, proxies compete with the load generator');
  console.log(`${options.rounds} rounds x ${options.scenarios.length} scenarios x ${options.pairs.length} pairs, ${options.durationS} s per run after ${options.warmupS} s warm-up; HTTP/1.1 GET, ${BODY_BYTES}-byte response`);

  const processes = new ProcessGroup();
  const dir = await mkdtemp(join(tmpdir(), 'osm-bench-proxy-'));
  const running = new Map<PairName, RunningPair>();
  // A pair may run processes the group does not own (the osm sidecars belong to the loopback
  // mesh), so their pids are killed too when there is no time to stop them properly.
  const killAllNow = (): void => {
    processes.killAllNow();
    for (const pid of [...running.values()].flatMap((p) => [...p.proxyPids, ...p.helperPids])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  const killOnSignal = (signal: NodeJS.Signals): void => {
    killAllNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killAllNow);
  process.once('SIGINT', killOnSignal);
  process.once('SIGTERM', killOnSignal);
  try {
    const bodyFile = join(dir, 'body.bin');
    await writeFile(bodyFile, Buffer.alloc(BODY_BYTES, 'x'));
    const upstream = { host: '127.0.0.1', port: await freePort('127.0.0.1') };
    const tcpUpstream = { host: '127.0.0.1', port: await freePort('127.0.0.1') };
    const app = await startHaproxy(processes, { name: 'app', cpu: loadCpu, dir, config: appConfig([upstream, tcpUpstream], bodyFile), listens: [upstream, tcpUpstream] });

    const idleRssKiB = new Map<PairName, number>();
    for (const name of options.pairs) {
      const pair = await PAIRS[name].start({ upstream, tcpUpstream, proxyCpu, dir, processes });
      running.set(name, pair);
      await preflight(name, 'http', pair.httpEntry);
      await preflight(name, 'tcp', pair.tcpEntry);
      if (pair.proxyPids.length > 0) idleRssKiB.set(name, Math.max(...pair.proxyPids.map((pid) => readProcessMemory(pid).vmRssKiB)));
      console.log(`${name}: ${PAIRS[name].describe}; HTTP at ${formatAddress(pair.httpEntry)}, TCP at ${formatAddress(pair.tcpEntry)}; proxy pids ${pair.proxyPids.join(', ') || '-'}`);
    }

    const ctx = {
      durationS: options.durationS,
      warmupS: options.warmupS,
      loadCpu,
      clockTicksPerSecond: clockTicksPerSecond(),
      knownPids: () => [app.pid, ...[...running.values()].flatMap((p) => [...p.proxyPids, ...p.helperPids])],
    };
    const runs: RunMeasurement[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const scenario of options.scenarios) {
        for (const [name, pair] of running) {
          const run = await measureRun(ctx, name, pair, scenario, round);
          runs.push(run);
          const cpu = run.cpuUsPerRequestPerProxy === undefined ? '' : `, ${run.cpuUsPerRequestPerProxy.toFixed(1)} us/req/proxy`;
          console.log(
            `round ${round} ${scenario.id} ${name}: ${run.rps.toFixed(0)} RPS, p50 ${run.latency.p50Ms.toFixed(3)} p99 ${run.latency.p99Ms.toFixed(3)} ms${cpu}, other CPU ${run.otherCpuPct.toFixed(0)} %` +
              (run.errors > 0 ? `, ${run.errors} ERRORS` : ''),
          );
        }
      }
    }

    const rateScenario = `http-${options.rateRps}rps`;
    const rows = summarize(runs, options.scenarios, idleRssKiB);
    const targets = evaluateTargets(rows, rateScenario);
    console.log('');
    console.log(formatTable(rows));
    console.log('');
    console.log(
      `Medians over ${options.rounds} round(s). CPU and RSS per proxy (RSS: the larger of the pair; idle after one request per path, peak = VmHWM so far). ` +
        `added = minus direct in the same scenario (c=1 and the fixed rate only; at c=64 latency is queueing). ` +
        `n = runs the medians are over: those with at most ${NOISY_OTHER_CPU_PCT} % of one core of foreign load (other CPU), or all with * when none was that quiet.`,
    );
    for (const r of rows.filter((r) => r.errors > 0)) console.log(`WARNING: ${r.pair} ${r.scenario}: ${r.errors} failed requests or non-2xx responses`);
    for (const r of rows.filter((r) => r.scenario === rateScenario && r.rps < 0.95 * options.rateRps)) {
      console.log(`WARNING: ${r.pair} ${r.scenario}: fell behind the fixed rate (${r.rps.toFixed(0)} RPS): one connection waits for each response`);
    }
    console.log('');
    console.log(formatTargets(targets));

    await mkdir(dirname(options.out), { recursive: true });
    const meta = { node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, loadCpu, proxyCpu, tools: versions, bodyBytes: BODY_BYTES, ...options, scenarios: options.scenarios };
    await writeFile(options.out, `${JSON.stringify({ meta, rows, targets, runs }, null, 2)}\n`);
    console.log(`\nresults: ${options.out}`);
  } finally {
    for (const pair of running.values()) await pair.stop();
    // Stopped: the exit hook must not signal pids the kernel may hand out again.
    running.clear();
    await processes.stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

const failed = await main().then(
  () => false,
  (err: unknown) => {
    console.error(err instanceof Error ? (err.cause ? `${err.stack}\ncause: ${String(err.cause)}` : err.stack) : String(err));
    return true;
  },
);
// Everything this run started is stopped by now; exit rather than wait on a handle someone
// else's module may have left open.
process.exit(failed ? 1 : 0);
