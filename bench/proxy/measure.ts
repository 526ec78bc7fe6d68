/**
 * One measured run: a load scenario against one pair's entry, with the CPU every known process
 * used over the run (/proc), the proxies' peak memory afterwards, and the CPU that went to
 * processes the bench does not know (another session's jobs on this shared machine).
 */
import { runAtRate } from './h2load.js';
import type { Percentiles } from './latency.js';
import { HTTP_AUTHORITY, type PairName, type RunningPair } from './pair.js';
import { readProcessCpu, readProcessMemory, readSystemCpu, ticksOf, type SystemCpu } from './procfs.js';
import { runWrk } from './wrk.js';

/** Which path through the pair a scenario uses. */
export type PathKind = 'http' | 'tcp';

/** A load: wrk's closed loop at maximum throughput, or h2load at a fixed rate. */
export type Load = { kind: 'max'; connections: number } | { kind: 'rate'; rps: number };

/** One column group of the report. */
export interface Scenario {
  id: string;
  path: PathKind;
  load: Load;
}

/** The scenarios the issue asks for, in the order they run and print; `rateRps` sets the fixed rate. */
export function defaultScenarios(rateRps: number): Scenario[] {
  return [
    { id: 'http-c1', path: 'http', load: { kind: 'max', connections: 1 } },
    { id: 'http-c64', path: 'http', load: { kind: 'max', connections: 64 } },
    { id: `http-${rateRps}rps`, path: 'http', load: { kind: 'rate', rps: rateRps } },
    { id: 'tcp-c1', path: 'tcp', load: { kind: 'max', connections: 1 } },
    { id: 'tcp-c64', path: 'tcp', load: { kind: 'max', connections: 64 } },
  ];
}

/** What one run measured. CPU figures are % of one core. */
export interface RunMeasurement {
  pair: PairName;
  scenario: string;
  round: number;
  requests: number;
  rps: number;
  latency: Percentiles;
  errors: number;
  /** CPU of the pair's proxies (utime + stime) per request, divided by the number of proxies; undefined for direct. */
  cpuUsPerRequestPerProxy: number | undefined;
  /** The largest VmHWM among the pair's proxies after this run, KiB: the peak since the proxy started. */
  proxyPeakRssKiB: number | undefined;
  /** Task CPU the known processes did not use: foreign load, which makes the run noisy. */
  otherCpuPct: number;
  /** Interrupt time, charged to no process; loopback traffic puts its softirq work here. */
  irqCpuPct: number;
  /** Time the hypervisor gave to other guests. */
  stealCpuPct: number;
}

/** Everything a run needs besides the pair and the scenario. */
export interface MeasureContext {
  durationS: number;
  warmupS: number;
  /** The CPU wrk and h2load run on. */
  loadCpu: number | undefined;
  clockTicksPerSecond: number;
  /** Every long-lived process the bench started or knows of (app, all pairs' proxies and helpers). */
  knownPids: () => readonly number[];
}

/** Runs `scenario` against `pair` once: a discarded warm-up, then the measured run. */
export async function measureRun(ctx: MeasureContext, name: PairName, pair: RunningPair, scenario: Scenario, round: number): Promise<RunMeasurement> {
  const target = scenario.path === 'http' ? pair.httpEntry : pair.tcpEntry;
  const load = scenario.load;
  const drive = (durationS: number) =>
    load.kind === 'max'
      ? runWrk({ target, authority: HTTP_AUTHORITY, connections: load.connections, durationS, cpu: ctx.loadCpu }).then((r) => ({ requests: r.requests, rps: r.rps, latency: r.latency, errors: r.errors }))
      : runAtRate({ target, authority: HTTP_AUTHORITY, rps: load.rps, durationS, cpu: ctx.loadCpu }).then((r) => ({ requests: r.requests, rps: r.achievedRps, latency: r.latency, errors: r.errors }));

  if (ctx.warmupS > 0) await drive(ctx.warmupS);

  const known = ctx.knownPids();
  const before = snapshot(known);
  const t0 = process.hrtime.bigint();
  const result = await drive(ctx.durationS);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const after = snapshot(known);

  const delta = (pid: number): number => (after.pids.get(pid) ?? 0) - (before.pids.get(pid) ?? 0);
  const knownTicks = after.self - before.self + known.reduce((sum, pid) => sum + delta(pid), 0);
  const coreTicks = wallS * ctx.clockTicksPerSecond;
  const pct = (ticks: number): number => (100 * ticks) / coreTicks;
  const proxyTicks = pair.proxyPids.reduce((sum, pid) => sum + delta(pid), 0);
  const perTick = 1e6 / ctx.clockTicksPerSecond;
  return {
    pair: name,
    scenario: scenario.id,
    round,
    requests: result.requests,
    rps: result.rps,
    latency: result.latency,
    errors: result.errors,
    cpuUsPerRequestPerProxy: pair.proxyPids.length > 0 && result.requests > 0 ? (proxyTicks * perTick) / result.requests / pair.proxyPids.length : undefined,
    proxyPeakRssKiB: pair.proxyPids.length > 0 ? Math.max(...pair.proxyPids.map((pid) => readProcessMemory(pid).vmHwmKiB)) : undefined,
    otherCpuPct: Math.max(0, pct(after.system.taskTicks - before.system.taskTicks - knownTicks)),
    irqCpuPct: pct(after.system.irqTicks - before.system.irqTicks),
    stealCpuPct: pct(after.system.stealTicks - before.system.stealTicks),
  };
}

interface Snapshot {
  system: SystemCpu;
  /** This process, plus its children that have exited (wrk, h2load). */
  self: number;
  pids: Map<number, number>;
}

function snapshot(pids: readonly number[]): Snapshot {
  const self = readProcessCpu(process.pid);
  return {
    system: readSystemCpu(),
    self: ticksOf(self) + self.childrenTicks,
    pids: new Map(pids.map((pid) => [pid, ticksOf(readProcessCpu(pid))])),
  };
}
