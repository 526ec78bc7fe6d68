/**
 * wrk(1) for the maximum-throughput rows: one thread, N keep-alive connections, closed loop,
 * `--latency` for the percentile table. wrk records each request's latency in an HdrHistogram
 * at 1 us resolution and prints 50/75/90/99 %.
 */
import { runTool, type Address } from './processes.js';
import type { Percentiles } from './latency.js';

/** What one wrk run measured. */
export interface WrkResult {
  requests: number;
  durationS: number;
  /** Requests per second as wrk computes it (requests / duration). */
  rps: number;
  latency: Percentiles;
  /** Connect, read, write and timeout errors, and responses other than 2xx/3xx. */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses wrk's time format (`30.00us`, `1.22ms`, `2.01s`) to ms. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read the time ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Parses the output of `wrk --latency`; throws naming the line it could not find. */
export function parseWrkOutput(text: string): WrkResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk: no ${what} in its output:\n${text}`);
    return m;
  };
  const done = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m, '"N requests in T" line');
  const requests = Number(done[1]);
  const durationS = parseWrkTime(`${done[2]}${done[3]}`) / 1000;
  const rps = Number(need(/^Requests\/sec:\s+([\d.]+)/m, '"Requests/sec" line')[1]);
  const pct = (p: number): number => parseWrkTime(need(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'), `${p}% latency line (was --latency given?)`)[1]!);
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (socket) errors += socket.slice(1, 5).reduce((sum, n) => sum + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return { requests, durationS, rps, latency: { p50Ms: pct(50), p90Ms: pct(90), p99Ms: pct(99) }, errors };
}

/** Options for one wrk run. */
export interface WrkRun {
  target: Address;
  /** The Host header. */
  authority: string;
  connections: number;
  durationS: number;
  cpu: number | undefined;
}

/** The command-line arguments for a run (one thread: the load core is one CPU). */
export function wrkArgs(run: WrkRun): string[] {
  return ['-t1', `-c${run.connections}`, `-d${run.durationS}s`, '--latency', '-H', `Host: ${run.authority}`, `http://${run.target.host}:${run.target.port}/`];
}

/** Runs wrk and parses its report; throws with wrk's output when it fails. */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const out = await runTool(run.cpu, 'wrk', wrkArgs(run));
  if (out.exitCode !== 0) throw new Error(`wrk ${wrkArgs(run).join(' ')}: exit ${out.exitCode}:\n${out.stdout}${out.stderr}`);
  return parseWrkOutput(out.stdout);
}
