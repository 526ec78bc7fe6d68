/**
 * From runs to the report: medians over rounds per (pair, scenario), over the quiet runs when
 * there are any (perf-baseline.md's rule on this shared machine), latency added over direct,
 * ratios to the haproxy pair, the markdown table, and one met/missed line per target of the
 * issue. Pure.
 */
import { spread } from '../stats.js';
import type { RunMeasurement, Scenario } from './measure.js';
import { PAIR_NAMES, type PairName } from './pair.js';

/** One table row: the medians of a pair's runs in one scenario. */
export interface RowSummary {
  pair: PairName;
  scenario: string;
  /** How many runs the medians are over: the quiet ones, or all when none was quiet. */
  runs: number;
  /** No run was quiet: every figure is from runs with more than NOISY_OTHER_CPU_PCT of foreign load. */
  noisy: boolean;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** p50 and p99 minus direct's in the same scenario; only where latency is not queueing (c=1, fixed rate). */
  addedP50Ms: number | undefined;
  addedP99Ms: number | undefined;
  cpuUsPerRequestPerProxy: number | undefined;
  /** Per proxy (the larger of the pair), MiB: RSS after start, and VmHWM after this scenario's runs. */
  idleRssMiB: number | undefined;
  peakRssMiB: number | undefined;
  /** The highest foreign load among the runs used, % of one core. */
  maxOtherCpuPct: number;
  /** Failed requests over all runs, quiet or not. */
  errors: number;
  /** This row / the haproxy row of the same scenario. */
  rpsVsHaproxy: number | undefined;
  cpuVsHaproxy: number | undefined;
}

/** Foreign load above which a row is marked noisy, % of one core (perf-baseline.md used 20 %). */
export const NOISY_OTHER_CPU_PCT = 20;

const median = (xs: readonly number[]): number => spread(xs).median;
const definedOnly = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);
const medianOrUndefined = (xs: readonly (number | undefined)[]): number | undefined => {
  const d = definedOnly(xs);
  return d.length > 0 ? median(d) : undefined;
};

/** Summarises runs into rows ordered by scenario, then pair (direct, haproxy, osm). */
export function summarize(runs: readonly RunMeasurement[], scenarios: readonly Scenario[], idleRssKiB: ReadonlyMap<PairName, number>): RowSummary[] {
  const rows: RowSummary[] = [];
  for (const scenario of scenarios) {
    const base = new Map<PairName, Omit<RowSummary, 'addedP50Ms' | 'addedP99Ms' | 'rpsVsHaproxy' | 'cpuVsHaproxy'>>();
    for (const pair of PAIR_NAMES) {
      const all = runs.filter((r) => r.pair === pair && r.scenario === scenario.id);
      if (all.length === 0) continue;
      const quiet = all.filter((r) => r.otherCpuPct <= NOISY_OTHER_CPU_PCT);
      const used = quiet.length > 0 ? quiet : all;
      const peak = definedOnly(all.map((r) => r.proxyPeakRssKiB));
      const idle = idleRssKiB.get(pair);
      base.set(pair, {
        pair,
        scenario: scenario.id,
        runs: used.length,
        noisy: quiet.length === 0,
        rps: median(used.map((r) => r.rps)),
        p50Ms: median(used.map((r) => r.latency.p50Ms)),
        p90Ms: median(used.map((r) => r.latency.p90Ms)),
        p99Ms: median(used.map((r) => r.latency.p99Ms)),
        cpuUsPerRequestPerProxy: medianOrUndefined(used.map((r) => r.cpuUsPerRequestPerProxy)),
        idleRssMiB: idle === undefined ? undefined : idle / 1024,
        peakRssMiB: peak.length > 0 ? Math.max(...peak) / 1024 : undefined,
        maxOtherCpuPct: Math.max(...used.map((r) => r.otherCpuPct)),
        errors: all.reduce((sum, r) => sum + r.errors, 0),
      });
    }
    const direct = base.get('direct');
    const haproxy = base.get('haproxy');
    const latencyIsPerRequest = scenario.load.kind === 'rate' || scenario.load.connections === 1;
    for (const row of base.values()) {
      rows.push({
        ...row,
        addedP50Ms: direct && latencyIsPerRequest ? row.p50Ms - direct.p50Ms : undefined,
        addedP99Ms: direct && latencyIsPerRequest ? row.p99Ms - direct.p99Ms : undefined,
        rpsVsHaproxy: haproxy ? row.rps / haproxy.rps : undefined,
        cpuVsHaproxy:
          haproxy?.cpuUsPerRequestPerProxy !== undefined && row.cpuUsPerRequestPerProxy !== undefined
            ? row.cpuUsPerRequestPerProxy / haproxy.cpuUsPerRequestPerProxy
            : undefined,
      });
    }
  }
  return rows;
}

const fixed = (digits: number) => (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(digits));
const ms = (x: number | undefined): string => (x === undefined ? '-' : x >= 10 ? x.toFixed(1) : x.toFixed(3));
const signedMs = (x: number | undefined): string => (x === undefined ? '-' : `${x >= 0 ? '+' : ''}${ms(x)}`);
const ratio = (x: number | undefined): string => (x === undefined ? '-' : `${x.toFixed(2)}x`);

/** The rows as a markdown table; `*` marks rows with no quiet run (`n` counts the runs used). */
export function formatTable(rows: readonly RowSummary[]): string {
  const header = ['scenario', 'pair', 'n', 'RPS', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50', 'added p99', 'CPU us/req/proxy', 'RSS idle/peak MiB', 'other CPU %', 'RPS vs haproxy', 'CPU vs haproxy', 'errors'];
  const lines = [header, header.map((h, i) => (i < 2 ? '---' : '---:'))].map((cells) => `| ${cells.join(' | ')} |`);
  for (const r of rows) {
    const rss = r.idleRssMiB === undefined && r.peakRssMiB === undefined ? '-' : `${fixed(0)(r.idleRssMiB)} / ${fixed(0)(r.peakRssMiB)}`;
    const cells = [
      r.scenario,
      r.pair,
      `${r.runs}${r.noisy ? '*' : ''}`,
      fixed(0)(r.rps),
      ms(r.p50Ms),
      ms(r.p90Ms),
      ms(r.p99Ms),
      signedMs(r.addedP50Ms),
      signedMs(r.addedP99Ms),
      fixed(1)(r.cpuUsPerRequestPerProxy),
      rss,
      fixed(0)(r.maxOtherCpuPct),
      ratio(r.rpsVsHaproxy),
      ratio(r.cpuVsHaproxy),
      String(r.errors),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** One target of the issue, judged on the osm pair's rows. */
export interface TargetResult {
  target: string;
  /** undefined when a row it needs was not run. */
  met: boolean | undefined;
  figure: string;
}

/** Below this osm/haproxy RPS ratio the TCP path is not "at parity" (the issue gives no number; run-to-run spread is about this wide). */
export const TCP_PARITY_RATIO = 0.9;

/** Judges the targets; `rateScenario` is the fixed-rate scenario's id. */
export function evaluateTargets(rows: readonly RowSummary[], rateScenario: string): TargetResult[] {
  const row = (pair: PairName, scenario: string) => rows.find((r) => r.pair === pair && r.scenario === scenario);
  const results: TargetResult[] = [];
  /** A figure from rows with failed requests is no measurement of the target, so it counts as missed. */
  const judge = (target: string, value: number | undefined, limit: number, atMost: boolean, show: (v: number) => string, from: readonly (RowSummary | undefined)[], why: string): void => {
    const errors = from.reduce((sum, r) => sum + (r?.errors ?? 0), 0);
    if (value === undefined) results.push({ target, met: undefined, figure: `not measured (${why})` });
    else if (errors > 0) results.push({ target, met: false, figure: `${show(value)}, but failed requests: ${errors}` });
    else results.push({ target, met: atMost ? value <= limit : value >= limit, figure: show(value) });
  };
  const rate = row('osm', rateScenario);
  const rateRows = [rate, row('direct', rateScenario)];
  judge('added latency at the fixed rate, p50 <= 0.3 ms (two hops)', rate?.addedP50Ms, 0.3, true, (v) => `${signedMs(v)} ms`, rateRows, 'needs the osm and direct rows');
  judge('added latency at the fixed rate, p99 <= 1.5 ms (two hops)', rate?.addedP99Ms, 1.5, true, (v) => `${signedMs(v)} ms`, rateRows, 'needs the osm and direct rows');
  const versus = (target: string, scenario: string, limit: number): void => {
    const o = row('osm', scenario);
    const h = row('haproxy', scenario);
    judge(target, o?.rpsVsHaproxy, limit, false, (v) => `${ratio(v)} (${fixed(0)(o?.rps)} vs ${fixed(0)(h?.rps)} RPS)`, [o, h], 'needs the osm and haproxy rows');
  };
  for (const scenario of ['http-c1', 'http-c64']) versus(`L7 max throughput >= 0.5x the haproxy pair (${scenario})`, scenario, 0.5);
  for (const scenario of ['tcp-c1', 'tcp-c64']) versus(`TCP throughput at parity with haproxy, >= ${TCP_PARITY_RATIO}x (${scenario})`, scenario, TCP_PARITY_RATIO);
  const c64 = row('osm', 'http-c64');
  judge('CPU <= 120 us per request per proxy (http-c64)', c64?.cpuUsPerRequestPerProxy, 120, true, (v) => `${v.toFixed(1)} us`, [c64], 'needs the osm row');
  const peaks = definedOnly(rows.filter((r) => r.pair === 'osm').map((r) => r.peakRssMiB));
  judge('RSS <= 60 MiB per proxy under load (peak VmHWM)', peaks.length > 0 ? Math.max(...peaks) : undefined, 60, true, (v) => `${v.toFixed(1)} MiB`, [], 'needs the osm row');
  return results;
}

/** One line per target: `met`, `MISSED` or `n/a`, then the figure. */
export function formatTargets(results: readonly TargetResult[]): string {
  return results.map((t) => `${t.met === undefined ? 'n/a   ' : t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.figure}`).join('\n');
}
