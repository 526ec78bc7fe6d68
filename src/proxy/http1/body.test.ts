/**
 * Body framing: chunked vectors (valid and smuggling-shaped), Content-Length, close-delimited, and
 * the property that feeding a message in two parts at any split gives what feeding it whole gives.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  bodyDecoderFor, ChunkedBody, CloseDelimitedBody, ContentLengthBody, requestBodyFraming, responseBodyFraming,
  type BodyDecoder, type Trailers,
} from './body.js';
import { parseRequestHead, parseResponseHead, type RequestHead, type ResponseHead } from './head.js';

interface Outcome {
  body: string;
  ended: boolean;
  trailers: string | undefined;
  consumed: number;
  error: string | undefined;
}

/** Feeds `parts` one after another into `decoder` and records what came out. */
function feedAll(decoder: BodyDecoder, parts: Buffer[]): Outcome {
  const out: Outcome = { body: '', ended: false, trailers: undefined, consumed: 0, error: undefined };
  const sink = {
    data: (b: Buffer): void => { out.body += b.toString('latin1'); },
    end: (t?: Trailers): void => { out.ended = true; out.trailers = t?.buf.toString('latin1'); },
  };
  for (const p of parts) {
    if (out.ended) break;
    const r = decoder.feed(p, 0, sink);
    if (typeof r !== 'number') { out.error = r.code; break; }
    out.consumed += r;
  }
  return out;
}

const chunked = (text: string, parts?: number[]): Outcome => {
  const buf = Buffer.from(text, 'latin1');
  const cuts = [0, ...(parts ?? []), buf.length];
  return feedAll(new ChunkedBody(), cuts.slice(1).map((c, i) => buf.subarray(cuts[i], c)));
};

test('chunked: valid bodies', () => {
  assert.deepEqual(chunked('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT'), { body: 'hello world', ended: true, trailers: undefined, consumed: 26, error: undefined });
  assert.equal(chunked('A\r\n0123456789\r\n0\r\n\r\n').body, '0123456789');
  assert.equal(chunked('a;name=val;x="q s"\r\n0123456789\r\n0;last\r\n\r\n').body, '0123456789');
  assert.equal(chunked('0005\r\nhello\r\n0\r\n\r\n').body, 'hello');
  const t = chunked('1\r\nx\r\n0\r\nX-Checksum: abc\r\nX-B:\td\r\n\r\nNEXT');
  assert.equal(t.trailers, 'X-Checksum: abc\r\nX-B:\td\r\n\r\n');
  assert.equal(t.consumed, 'x\r\n0\r\nX-Checksum: abc\r\nX-B:\td\r\n\r\n'.length + 3);
});

const badChunked: Array<[string, string, string]> = [
  ['0x prefix', '0x10\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['negative', '-1\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['plus', '+1\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['empty size', '\r\nx\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['space before CRLF', '1 \r\nx\r\n0\r\n\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['space before ext', '1 ;a\r\nx\r\n0\r\n\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['leading space', ' 1\r\nx\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['17 digits', '00000000000000001\r\nx\r\n', 'HTTP1_INVALID_CHUNK_SIZE'],
  ['above 2^53', 'fffffffffffffff\r\n', 'HTTP1_CHUNK_TOO_LARGE'],
  ['bare LF after size', '1\nx\r\n0\r\n\r\n', 'HTTP1_BARE_LF'],
  ['CR without LF after size', '1\rx\r\n', 'HTTP1_BARE_CR'],
  ['control in ext', '1;a\x00\r\nx\r\n', 'HTTP1_INVALID_CHUNK_EXT'],
  ['LF in ext', '1;a\nx\r\n', 'HTTP1_BARE_LF'],
  ['data longer than size', '1\r\nxy\r\n0\r\n\r\n', 'HTTP1_MISSING_CHUNK_CRLF'],
  ['missing CRLF after data', '1\r\nx0\r\n\r\n', 'HTTP1_MISSING_CHUNK_CRLF'],
  ['LF only after data', '1\r\nx\n0\r\n\r\n', 'HTTP1_MISSING_CHUNK_CRLF'],
  ['bad trailer', '0\r\nX : y\r\n\r\n', 'HTTP1_SPACE_BEFORE_COLON'],
  ['folded trailer', '0\r\nX: y\r\n z\r\n\r\n', 'HTTP1_OBS_FOLD'],
  ['bare LF ending trailers', '0\r\n\n', 'HTTP1_BARE_LF'],
];

for (const [name, text, code] of badChunked) {
  test(`chunked invalid: ${name}`, () => assert.equal(chunked(text).error, code));
}

test('chunked: limits and missing final CRLF', () => {
  const small = new ChunkedBody({ maxChunkBytes: 15, maxChunkExtBytes: 4, trailers: { maxHeadBytes: 16, maxHeaders: 1 } });
  assert.equal(feedAll(small, [Buffer.from('10\r\n')]).error, 'HTTP1_CHUNK_TOO_LARGE');
  const ext = new ChunkedBody({ maxChunkBytes: 15, maxChunkExtBytes: 4, trailers: { maxHeadBytes: 16, maxHeaders: 1 } });
  assert.equal(feedAll(ext, [Buffer.from('1;abcd\r\n')]).error, 'HTTP1_INVALID_CHUNK_EXT');
  const tr = new ChunkedBody({ maxChunkBytes: 15, maxChunkExtBytes: 4, trailers: { maxHeadBytes: 16, maxHeaders: 10 } });
  assert.equal(feedAll(tr, [Buffer.from('0\r\nX-A: 1\r\nX-'), Buffer.from('B: 2\r\n\r\n')]).error, 'HTTP1_TRAILERS_TOO_LARGE');
  // Without the final CRLF the body simply has not ended: the caller's idle timeout handles it.
  const open = chunked('1\r\nx\r\n0\r\n');
  assert.equal(open.ended, false);
  assert.equal(open.error, undefined);
  // After an error every further feed repeats it.
  const d = new ChunkedBody();
  const sink = { data: (): void => undefined, end: (): void => undefined };
  const e1 = d.feed(Buffer.from('z'), 0, sink);
  assert.equal(d.feed(Buffer.from('1\r\n'), 0, sink), e1);
});

test('Content-Length and close-delimited bodies', () => {
  assert.deepEqual(feedAll(new ContentLengthBody(5), [Buffer.from('he'), Buffer.from('lloNEXT')]), { body: 'hello', ended: true, trailers: undefined, consumed: 5, error: undefined });
  const close = new CloseDelimitedBody();
  const out = feedAll(close, [Buffer.from('abc'), Buffer.from('def')]);
  assert.equal(out.body, 'abcdef');
  assert.equal(close.done, false);
  let ended = false;
  close.close({ data: () => undefined, end: () => { ended = true; } });
  assert.ok(ended && close.done);
});

test('framing rules', () => {
  const rq = (t: string): RequestHead => parseRequestHead(Buffer.from(t), 0) as RequestHead;
  const rs = (t: string): ResponseHead => parseResponseHead(Buffer.from(t), 0) as ResponseHead;
  assert.equal(requestBodyFraming(rq('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 'none');
  assert.equal(requestBodyFraming(rq('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n')), 'none');
  assert.equal(requestBodyFraming(rq('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n')), 'length');
  assert.equal(requestBodyFraming(rq('POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n')), 'chunked');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n'), 'HEAD'), 'none');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 304 X\r\nContent-Length: 3\r\n\r\n'), 'GET'), 'none');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 101 X\r\n\r\n'), 'GET'), 'none');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 200 OK\r\n\r\n'), 'CONNECT'), 'none');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 200 OK\r\n\r\n'), 'GET'), 'close');
  assert.equal(responseBodyFraming(rs('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), 'GET'), 'chunked');
});

// --- Split property: feeding in two parts equals feeding whole ---------------------------------

/** Parses a request the way a socket loop would: head first (re-parsing while INCOMPLETE), then the body. */
function parseMessage(parts: Buffer[]): string {
  let pending = Buffer.alloc(0);
  let head: RequestHead | undefined;
  let decoder: BodyDecoder | undefined;
  let body = '';
  let ended = false;
  let trailers = '';
  const sink = { data: (b: Buffer): void => { body += b.toString('latin1'); }, end: (t?: Trailers): void => { ended = true; trailers = t?.buf.toString('latin1') ?? ''; } };
  for (const part of parts) {
    let buf = part;
    if (head === undefined) {
      pending = Buffer.concat([pending, part]);
      const r = parseRequestHead(pending, 0);
      if (r.kind === 'incomplete') continue;
      if (r.kind === 'error') return `error ${r.code}`;
      head = r;
      const framing = requestBodyFraming(r);
      decoder = bodyDecoderFor(framing, r);
      if (decoder === undefined) ended = true;
      buf = pending.subarray(r.headBytes);
    }
    if (decoder !== undefined && !ended) {
      const r = decoder.feed(buf, 0, sink);
      if (typeof r !== 'number') return `error ${r.code}`;
    }
  }
  if (head === undefined) return 'incomplete';
  return JSON.stringify([head.method, head.target, head.fields, head.contentLength, head.chunked, head.headBytes, body, ended, trailers]);
}

const messageArb = fc.constantFrom(
  'GET /a HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world',
  'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n',
  'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n',
  'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n',
  '\r\nGET /x HTTP/1.0\r\n\r\n',
);

test('property: any split in two parts gives the same result as the whole message', () => {
  fc.assert(
    fc.property(messageArb, fc.nat(), fc.nat(), (msg, a, b) => {
      const buf = Buffer.from(msg, 'latin1');
      const whole = parseMessage([buf]);
      // Every split point, plus a random three-way split.
      for (let cut = 0; cut <= buf.length; cut++) {
        assert.equal(parseMessage([buf.subarray(0, cut), buf.subarray(cut)]), whole, `split at ${cut}`);
      }
      const [x, y] = [a % (buf.length + 1), b % (buf.length + 1)].sort((p, q) => p - q) as [number, number];
      assert.equal(parseMessage([buf.subarray(0, x), buf.subarray(x, y), buf.subarray(y)]), whole);
    }),
    { numRuns: 200 },
  );
});
