/**
 * Differential fuzz test against Node's llhttp in strict mode: generated requests built from
 * smuggling-shaped pieces go through both parsers, and every disagreement is put in a category.
 *
 * Categories where we are intentionally stricter (we reject, llhttp accepts) are listed in
 * STRICTER with the reason; any other "we reject" code fails the test, so a new disagreement must
 * be looked at and listed. Where we accept, llhttp must accept too (only extension methods, which
 * llhttp's fixed method table refuses, are allowed) and both must agree on method, target,
 * version, every field, the body bytes and where the message ends.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bodyDecoderFor, requestBodyFraming, type Trailers } from './body.js';
import type { Http1ErrorCode } from './errors.js';
import { fieldName, fieldValue, parseRequestHead } from './head.js';
import { Llhttp, llhttpMethods } from './llhttp-reference.js';

/** We reject, llhttp accepts: on purpose. */
const STRICTER: Partial<Record<Http1ErrorCode, string>> = {
  HTTP1_MISSING_HOST: 'llhttp does not check Host; node:http does (requireHostHeader), one layer up',
  HTTP1_DUPLICATE_HOST: 'RFC 9112 3.2: 400 for more than one Host; llhttp leaves it to the application',
  HTTP1_INVALID_HOST: 'Host must be uri-host[:port]; llhttp does not look at values',
  HTTP1_INVALID_TARGET: 'non-ASCII, fragments in authority, non-http(s) absolute-form, * other than OPTIONS, CONNECT not authority-form',
  HTTP1_TE_IN_HTTP10: 'RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing',
  HTTP1_UNSUPPORTED_TE: 'unknown codings (identity, xchunked) before chunked, or chunked twice: refused rather than guessed',
  HTTP1_VERSION_NOT_SUPPORTED: 'llhttp accepts HTTP/0.9, 1.2 and 2.0 version strings in a request-line',
  HTTP1_INVALID_HEADER_VALUE: 'Connection must be a token list',
  HTTP1_DUPLICATE_CONTENT_LENGTH: 'identical duplicates are refused too',
};

const SP = ' ';
// Each piece is usually valid and sometimes one of the hostile variants, so that most messages get
// far enough for the interesting checks (framing) and each hostile piece is seen alone.
const pick = (good: string[], bad: string[], badWeight = 2): fc.Arbitrary<string> =>
  fc.oneof({ weight: 16, arbitrary: fc.constantFrom(...good) }, { weight: badWeight, arbitrary: fc.constantFrom(...bad) });
const methodArb = pick(['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'PATCH'], ['CONNECT', 'PURGE', 'FOO', 'get', 'G(T', '']);
const targetArb = pick(['/', '/a?b=c', '/x/y.html', 'http://h.example/x'], ['*', 'h.example:443', '/a b', '/\x01', '/caf\xe9', '//x', 'ftp://h/', '/#f', '/%zz', 'http://u@h/']);
const versionArb = pick(['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'], ['HTTP/2.0', 'HTTP/1.2', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ']);
const eolArb = pick(['\r\n'], ['\n', '\r'], 1);
const nameArb = pick(
  ['Host', 'Content-Length', 'Content-Length', 'Transfer-Encoding', 'Transfer-Encoding', 'Connection', 'X-A', 'Upgrade', 'TE', 'Expect', 'x-b'],
  ['Host ', 'X A', 'X\x00', '', 'Content-Length ', 'Transfer-Encoding\t', 'X('],
);
const sepArb = pick([': ', ':', ':\t', ':  '], [' :', '\t:'], 1);
const valueArb = pick(
  ['a', 'h.example', '0', '5', '11', 'chunked', 'Chunked', 'gzip, chunked', '', 'close', 'keep-alive', 'Upgrade', 'websocket', 'a b', 'caf\xe9', 'a\tb '],
  ['05', '-1', '0x5', '5, 5', ' 5', '1e2', '99999999999999999999', 'chunked, identity', 'identity', 'xchunked', 'chunked ', 'chunked;q=1', 'a\x01b', 'a\x7fb', 'a\x00b', 'u@h', 'h/x'],
  6,
);
const headerArb = fc.oneof(
  { weight: 12, arbitrary: fc.tuple(nameArb, sepArb, valueArb, eolArb).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.constant(' folded\r\n') },
);
const bodyArb = pick(
  ['', 'hello', 'hello world', '5\r\nhello\r\n0\r\n\r\n', '0\r\n\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n', '0\r\nX-T: 1\r\n\r\n', 'b\r\nhello world\r\n0\r\n\r\n'],
  ['0x5\r\nhello\r\n0\r\n\r\n', '5 \r\nhello\r\n0\r\n\r\n', '-1\r\nx\r\n', '5\r\nhelloXX0\r\n\r\n', '5\r\nhello\r\n0\r\n', 'ffffffffffffffffff\r\n', '5\nhello\n0\n\n', '5\r\nhello\r\n0\r\nX : y\r\n\r\n'],
  6,
);
const messageArb = fc
  .tuple(methodArb, targetArb, versionArb, eolArb, fc.boolean(), fc.array(headerArb, { maxLength: 5 }), eolArb, bodyArb)
  .map(([m, t, v, eol1, host, hs, eol2, body]) => `${m}${SP}${t}${SP}${v}${eol1}${host ? 'Host: h.example\r\n' : ''}${hs.join('')}${eol2}${body}`);

type Verdict =
  | { kind: 'reject'; code: string }
  | { kind: 'incomplete' }
  | { kind: 'accept'; method: string; url: string; minor: number; headers: string[]; body: string; complete: boolean };

function ours(buf: Buffer): Verdict {
  const h = parseRequestHead(buf, 0);
  if (h.kind === 'incomplete') return { kind: 'incomplete' };
  if (h.kind === 'error') return { kind: 'reject', code: h.code };
  const headers: string[] = [];
  for (let i = 0; i < h.fields.length / 4; i++) headers.push(fieldName(buf, h, i), fieldValue(buf, h, i));
  let body = '';
  let complete = true;
  const decoder = bodyDecoderFor(requestBodyFraming(h), h);
  if (decoder !== undefined) {
    complete = false;
    const r = decoder.feed(buf, h.headBytes, {
      data: (b: Buffer) => { body += b.toString('latin1'); },
      end: (_t?: Trailers) => { complete = true; },
    });
    if (typeof r !== 'number') return { kind: 'reject', code: r.code };
  }
  return { kind: 'accept', method: h.method, url: h.target, minor: h.versionMinor, headers, body, complete };
}

function theirs(parser: Llhttp, buf: Buffer): Verdict {
  const r = parser.parse(buf);
  // An error after the first message ended belongs to whatever followed it, which we do not compare.
  if (r.error !== undefined && !r.messageComplete) return { kind: 'reject', code: r.error };
  if (!r.headersComplete) return { kind: 'incomplete' };
  return { kind: 'accept', method: r.method ?? '', url: r.url, minor: r.versionMinor, headers: r.headers, body: r.body.toString('latin1'), complete: r.messageComplete };
}

test('differential fuzz against llhttp (strict)', (t) => {
  const parser = new Llhttp('request');
  const tally = new Map<string, { n: number; example: string }>();
  const note = (category: string, msg: string): void => {
    const e = tally.get(category);
    if (e === undefined) tally.set(category, { n: 1, example: JSON.stringify(msg) });
    else e.n++;
  };
  try {
    fc.assert(
      fc.property(messageArb, (msg) => {
        const buf = Buffer.from(msg, 'latin1');
        const a = ours(buf);
        const b = theirs(parser, buf);
        if (a.kind === 'accept' && b.kind === 'accept') {
          note(a.complete ? 'both accept' : 'both accept, body incomplete', msg);
          assert.deepEqual(a, b, `parsed differently: ${JSON.stringify(msg)}`);
        } else if (a.kind === 'reject' && b.kind === 'reject') {
          note('both reject', msg);
        } else if (a.kind === 'incomplete' && b.kind === 'incomplete') {
          note('both incomplete', msg);
        } else if (a.kind === 'reject') {
          note(`we reject (${a.code}), llhttp ${b.kind}`, msg);
          if (b.kind === 'accept') assert.ok(a.code in STRICTER, `unlisted: we reject with ${a.code}, llhttp accepts ${JSON.stringify(msg)}`);
        } else if (a.kind === 'accept') {
          const code = b.kind === 'reject' ? b.code : b.kind;
          note(`we accept, llhttp ${code}`, msg);
          // llhttp only knows a fixed method table; a proxy forwards extension methods (any token,
          // case-sensitive, so `get` is an extension method too, RFC 9110 9.1).
          const extensionMethod = b.kind === 'reject' && b.code === 'HPE_INVALID_METHOD' && !llhttpMethods().includes(a.method);
          assert.ok(extensionMethod, `we accept what llhttp does not (${code}): ${JSON.stringify(msg)}`);
        } else {
          // We wait for more bytes where llhttp already decided: never an accept on our side.
          note(`we wait, llhttp ${b.kind === 'reject' ? b.code : b.kind}`, msg);
        }
      }),
      { numRuns: 1000, seed: 20240601 },
    );
    fc.assert(fc.property(messageArb, (msg) => {
      const buf = Buffer.from(msg, 'latin1');
      const a = ours(buf);
      const b = theirs(parser, buf);
      const extensionMethod = a.kind === 'accept' && !llhttpMethods().includes(a.method);
      assert.ok(!(a.kind === 'accept' && b.kind === 'reject' && !extensionMethod), JSON.stringify(msg));
      if (a.kind === 'accept' && b.kind === 'accept') assert.deepEqual(a, b, JSON.stringify(msg));
    }), { numRuns: 500, ...(process.env.OSM_FUZZ_SEED ? { seed: Number(process.env.OSM_FUZZ_SEED) } : { seed: 20241125 }) });
  } finally {
    parser.close();
    for (const [k, v] of [...tally].sort((x, y) => y[1].n - x[1].n)) t.diagnostic(`${v.n} | ${k} | e.g. ${v.example}`);
  }
});
