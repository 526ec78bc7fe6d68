/**
 * Test-only: a strict parser for the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), so a test fails on output a
 * scraper would reject or misread. It refuses what the format forbids and what Envoy's
 * output never contains: samples before their `# TYPE`, a family split in two, a repeated
 * `# TYPE` or series, bad names or escapes, timestamps, histograms whose buckets are not
 * cumulative or whose `+Inf` bucket differs from `_count`.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

class ExpositionError extends Error {
  constructor(line: number, text: string, reason: string) {
    super(`exposition line ${line} ${JSON.stringify(text)}: ${reason}`);
  }
}

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return FLOAT.test(text) ? Number(text) : undefined;
}

/** Parses `name{labels} value`; throws naming the problem. */
function parseSample(text: string, fail: (reason: string) => never): Sample {
  const nameEnd = text.search(/[{ ]/);
  if (nameEnd <= 0) fail('expected a metric name');
  const name = text.slice(0, nameEnd);
  if (!METRIC_NAME.test(name)) fail(`bad metric name ${JSON.stringify(name)}`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (text[i] === '{') {
    i++;
    let first = true;
    while (text[i] !== '}') {
      if (!first) {
        if (text[i] !== ',') fail(`expected "," or "}" at column ${i}`);
        i++;
      }
      first = false;
      const eq = text.indexOf('=', i);
      if (eq < 0) fail('label without "="');
      const label = text.slice(i, eq);
      if (!LABEL_NAME.test(label)) fail(`bad label name ${JSON.stringify(label)}`);
      if (label in labels) fail(`label ${label} repeated`);
      if (text[eq + 1] !== '"') fail(`label ${label}: value must be double-quoted`);
      let value = '';
      let j = eq + 2;
      for (;;) {
        const c = text[j];
        if (c === undefined) fail(`label ${label}: unterminated value`);
        if (c === '"') break;
        if (c === '\n') fail(`label ${label}: raw newline in value`);
        if (c === '\\') {
          const e = text[j + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else fail(`label ${label}: bad escape \\${e ?? ''}`);
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      labels[label] = value;
      i = j + 1;
    }
    i++;
  }
  if (text[i] !== ' ') fail('expected one space before the value');
  const rest = text.slice(i + 1);
  if (rest.includes(' ')) fail('unexpected timestamp or trailing text');
  const value = parseValue(rest);
  if (value === undefined) fail(`bad value ${JSON.stringify(rest)}`);
  return { name, labels, value };
}

/** The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` belong to its base name. */
function familyOf(sampleName: string, families: ReadonlyMap<string, { type: string }>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    if (families.get(base)?.type === 'histogram' || families.get(base)?.type === 'summary') return base;
  }
  return sampleName;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${family.name}: bucket without le`);
      const bound = parseValue(le);
      if (bound === undefined || Number.isNaN(bound)) throw new Error(`${family.name}: bad le ${JSON.stringify(le)}`);
      g.buckets.push([bound, s.value]);
    } else if (s.name === `${family.name}_count`) g.count = s.value;
    else if (s.name === `${family.name}_sum`) g.sum = s.value;
    else throw new Error(`${family.name}: unexpected sample ${s.name} in a histogram`);
  }
  for (const [key, g] of groups) {
    const where = `${family.name}${key}`;
    if (g.count === undefined || g.sum === undefined) throw new Error(`${where}: missing _count or _sum`);
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${where}: no le="+Inf" bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevBound, prevCount] = g.buckets[i - 1] as [number, number];
      const [bound, count] = g.buckets[i] as [number, number];
      if (!(bound > prevBound)) throw new Error(`${where}: le bounds not increasing at ${bound}`);
      if (count < prevCount) throw new Error(`${where}: bucket counts not cumulative at le=${bound}`);
    }
    if (last[1] !== g.count) throw new Error(`${where}: +Inf bucket ${last[1]} != _count ${g.count}`);
  }
}

/** Parses an exposition strictly; throws on the first problem, naming the line. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, { name: string; type: MetricFamily['type']; samples: Sample[] }>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  lines.forEach((line, index) => {
    const fail = (reason: string): never => {
      throw new ExpositionError(index + 1, line, reason);
    };
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (TYPE|HELP) (\S+) ?(.*)$/.exec(line);
      if (!m) {
        if (line.startsWith('# TYPE') || line.startsWith('# HELP')) fail('malformed TYPE or HELP line');
        return;
      }
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) fail(`bad metric name ${JSON.stringify(name)}`);
      if (kind === 'HELP') return;
      if (!TYPES.has(rest)) fail(`unknown type ${JSON.stringify(rest)}`);
      if (families.has(name)) fail(`second TYPE line for ${name}`);
      if (current !== undefined) closed.add(current);
      families.set(name, { name, type: rest as MetricFamily['type'], samples: [] });
      current = name;
      return;
    }
    const sample = parseSample(line, fail);
    const familyName = familyOf(sample.name, families);
    const family = families.get(familyName);
    if (!family) fail(`sample before any TYPE line for ${familyName}`);
    if (familyName !== current) fail(closed.has(familyName) ? `family ${familyName} is split` : `sample of ${familyName} inside family ${current}`);
    const key = seriesKey(sample.name, sample.labels);
    if (series.has(key)) fail(`series ${key} repeated`);
    series.add(key);
    family!.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}
