/**
 * h2load(1) for the fixed-rate rows: `--h1 --rps` sends at a set rate per client, which wrk
 * cannot. Its summary gives only min/max/mean/sd, so the percentiles come from its per-request
 * log (`--log-file`: start us, status, us until the end of the response). The caller warms up
 * with a separate run, so every request h2load makes is in the log and in the CPU window.
 *
 * One client carries the whole rate: with several, h2load starts their rate timers together and
 * they fire in lockstep, so N clients measure bursts of N requests (on this machine the direct
 * mean went from 49 us with one client to 167 us with four at the same total rate). One
 * HTTP/1.1 connection sends the next request only after the previous response, so a run whose
 * latency exceeds 1/rate falls behind; `achievedRps` shows it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentilesOfMicros, type Percentiles } from './latency.js';
import { runTool, type Address } from './processes.js';

/** What one fixed-rate run measured. */
export interface RateResult {
  /** Requests completed in the main phase. */
  requests: number;
  achievedRps: number;
  latency: Percentiles;
  /** Failed, errored and timed-out requests, and responses other than 2xx. */
  errors: number;
}

/** Parses h2load's per-request log: one `start_us<TAB>status<TAB>duration_us` line per request. */
export function parseH2loadLog(text: string): { durationsUs: number[]; non2xx: number } {
  const durationsUs: number[] = [];
  let non2xx = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [, status, duration] = line.split('\t');
    const us = Number(duration);
    if (status === undefined || !Number.isFinite(us)) throw new Error(`h2load log: cannot read the line ${JSON.stringify(line)}`);
    durationsUs.push(us);
    if (!status.startsWith('2')) non2xx++;
  }
  return { durationsUs, non2xx };
}

/** Reads the failed + errored + timeout counts from h2load's `requests:` summary line. */
export function parseH2loadFailures(stdout: string): number {
  const m = /^requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(stdout);
  if (!m) throw new Error(`h2load: no "requests:" summary line in its output:\n${stdout}`);
  return Number(m[1]) + Number(m[2]) + Number(m[3]);
}

/** Options for one fixed-rate run. */
export interface RateRun {
  target: Address;
  /** The Host header (h2load takes it as `:authority`; `-H host:` would not replace its own). */
  authority: string;
  rps: number;
  durationS: number;
  cpu: number | undefined;
}

/** Runs h2load at `rps` over one HTTP/1.1 connection and summarises its log. */
export async function runAtRate(run: RateRun): Promise<RateResult> {
  const dir = await mkdtemp(join(tmpdir(), 'osm-bench-h2load-'));
  try {
    const log = join(dir, 'requests.tsv');
    const args = ['--h1', '-c1', `--rps=${run.rps}`, `-D${run.durationS}`, '-H', `:authority: ${run.authority}`, `--log-file=${log}`];
    const out = await runTool(run.cpu, 'h2load', [...args, `http://${run.target.host}:${run.target.port}/`]);
    if (out.exitCode !== 0) throw new Error(`h2load ${args.join(' ')}: exit ${out.exitCode}:\n${out.stdout}${out.stderr}`);
    const failures = parseH2loadFailures(out.stdout);
    // No log file when no request completed.
    const text = await readFile(log, 'utf8').catch(() => '');
    const { durationsUs, non2xx } = parseH2loadLog(text);
    return {
      requests: durationsUs.length,
      achievedRps: durationsUs.length / run.durationS,
      // A run where nothing completed has no latency; its errors say why the zeros are there.
      latency: durationsUs.length > 0 ? percentilesOfMicros(durationsUs) : { p50Ms: 0, p90Ms: 0, p99Ms: 0 },
      errors: durationsUs.length > 0 ? failures + non2xx : Math.max(1, failures),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
