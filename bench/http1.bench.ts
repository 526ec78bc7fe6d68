/**
 * `node dist/bench/run.js http1`: parses a typical 8-header request head N times with our strict
 * parser and with two baselines: Node's llhttp through the parser binding (what node:http runs,
 * without the IncomingMessage objects around it) and a naive `toString().split('\r\n')` parse.
 * Interleaved rounds; prints medians of ns per head and the ratios.
 */
import { performance } from 'node:perf_hooks';
import { parseRequestHead } from '../src/proxy/http1/index.js';
import { Llhttp } from '../src/proxy/http1/llhttp-reference.js';
import { spread } from './stats.js';

const HEAD = Buffer.from(
  'GET /api/v1/books?page=2&size=20 HTTP/1.1\r\n' +
    'Host: bookstore.bookstore.svc.cluster.local:14001\r\n' +
    'User-Agent: curl/8.5.0\r\n' +
    'Accept: application/json\r\n' +
    'Accept-Encoding: gzip, deflate\r\n' +
    'Connection: keep-alive\r\n' +
    'X-Request-Id: 6f1c2a9e-4c1b-4c55-9a3e-0b7a3c7f2d11\r\n' +
    'Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n' +
    'Content-Length: 0\r\n\r\n',
);
const N = 200_000;
const ROUNDS = 9;

function naive(buf: Buffer): number {
  const lines = buf.toString('latin1').split('\r\n');
  const [method, target] = (lines[0] ?? '').split(' ');
  let n = method !== undefined && target !== undefined ? 1 : 0;
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    n++;
  }
  return n + (headers['content-length'] === undefined ? 0 : 1);
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1e6) / N;
}

/** Runs the rounds and prints ns per head and the ratios to our parser. */
export async function run(): Promise<void> {
  const llhttp = new Llhttp('request');
  let sink = 0;
  const ours: number[] = [];
  const theirs: number[] = [];
  const split: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ours.push(time(() => {
      for (let i = 0; i < N; i++) {
        const h = parseRequestHead(HEAD, 0);
        if (h.kind === 'request') sink += h.fields.length;
      }
    }));
    theirs.push(time(() => {
      for (let i = 0; i < N; i++) if (llhttp.parseHeadOnly(HEAD)) sink++;
    }));
    split.push(time(() => {
      for (let i = 0; i < N; i++) sink += naive(HEAD);
    }));
  }
  llhttp.close();
  const o = spread(ours).median;
  const l = spread(theirs).median;
  const s = spread(split).median;
  console.log(`http1: parse a ${HEAD.length}-byte request head with 8 fields, ${N} times x ${ROUNDS} rounds (check ${sink % 7})`);
  console.log(`  ours (strict, offsets):          ${o.toFixed(0)} ns/head (median)`);
  console.log(`  llhttp via binding (strict):     ${l.toFixed(0)} ns/head   llhttp / ours: ${(l / o).toFixed(2)}x`);
  console.log(`  naive toString().split:          ${s.toFixed(0)} ns/head   naive / ours:  ${(s / o).toFixed(2)}x`);
}
