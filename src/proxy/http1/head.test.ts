/**
 * Table-driven tests for head parsing: valid requests and responses with their parsed fields, and
 * one invalid case per strictness rule, including the classic request smuggling vectors.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Http1ErrorCode } from './errors.js';
import {
  CONNECTION_CLOSE, CONNECTION_UPGRADE, fieldName, fieldValue, INCOMPLETE, parseRequestHead, parseResponseHead,
  type RequestHead,
} from './head.js';

const req = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

function parseOk(buf: Buffer): RequestHead {
  const r = parseRequestHead(buf, 0);
  if (r.kind !== 'request') assert.fail(`expected a request, got ${r.kind === 'error' ? `${r.code} (${r.message})` : r.kind}`);
  return r;
}

test('a typical request: fields, offsets, framing', () => {
  const buf = req(['POST /a/b?c=d HTTP/1.1', 'Host: example.com:8080', 'Content-Length: 5', 'Connection: close', 'X-Empty:', 'X-Pad: \t v a \t']);
  const h = parseOk(buf);
  assert.equal(h.method, 'POST');
  assert.equal(h.target, '/a/b?c=d');
  assert.equal(h.targetForm, 'origin');
  assert.equal(h.versionMinor, 1);
  assert.equal(h.host, 'example.com:8080');
  assert.equal(h.authority, 'example.com:8080');
  assert.equal(h.contentLength, 5);
  assert.equal(h.chunked, false);
  assert.equal(h.connection, CONNECTION_CLOSE);
  assert.equal(h.keepAlive, false);
  assert.equal(h.headBytes, buf.length);
  assert.equal(h.fields.length / 4, 5);
  assert.equal(fieldName(buf, h, 0), 'Host');
  assert.equal(fieldValue(buf, h, 3), '');
  assert.equal(fieldValue(buf, h, 4), 'v a');
});

const valid: Array<[string, string[], Partial<RequestHead>]> = [
  ['HTTP/1.0 without Host, no keep-alive', ['GET / HTTP/1.0'], { versionMinor: 0, keepAlive: false, host: undefined }],
  ['HTTP/1.0 keep-alive', ['GET / HTTP/1.0', 'Connection: Keep-Alive'], { keepAlive: true }],
  ['chunked', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked'], { chunked: true, contentLength: -1 }],
  ['TE with HTAB after the colon', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding:\tchunked'], { chunked: true }],
  ['TE case-insensitive', ['POST / HTTP/1.1', 'Host: a', 'transfer-encoding: CHUNKED'], { chunked: true }],
  ['gzip, chunked', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip, chunked'], { chunked: true }],
  ['TE split over two fields', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], { chunked: true }],
  ['CL 0', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 0'], { contentLength: 0 }],
  ['absolute-form overrides Host', ['GET http://b.example:81/x HTTP/1.1', 'Host: a'], { targetForm: 'absolute', authority: 'b.example:81', host: 'a' }],
  ['CONNECT authority-form', ['CONNECT a.example:443 HTTP/1.1', 'Host: a.example:443'], { targetForm: 'authority', authority: 'a.example:443' }],
  ['OPTIONS *', ['OPTIONS * HTTP/1.1', 'Host: a'], { targetForm: 'asterisk' }],
  ['upgrade', ['GET / HTTP/1.1', 'Host: a', 'Connection: Upgrade', 'Upgrade: websocket'], { connection: CONNECTION_UPGRADE, upgrade: 'websocket' }],
  ['te, expect', ['POST / HTTP/1.1', 'Host: a', 'TE: trailers', 'Expect: 100-continue'], { te: 'trailers', expect: '100-continue' }],
  ['IPv6 host', ['GET / HTTP/1.1', 'Host: [::1]:8080'], { host: '[::1]:8080' }],
  ['empty Host', ['GET / HTTP/1.1', 'Host:'], { host: '' }],
  ['extension method', ['PURGE / HTTP/1.1', 'Host: a'], { method: 'PURGE' }],
  ['obs-text in a value', ['GET / HTTP/1.1', 'Host: a', 'X: caf\xe9'], {}],
];

for (const [name, lines, expected] of valid) {
  test(`valid: ${name}`, () => {
    const h = parseOk(req(lines));
    for (const [k, v] of Object.entries(expected)) assert.deepEqual(h[k as keyof RequestHead], v, k);
  });
}

test('leading empty lines are skipped and reported through start', () => {
  const buf = Buffer.from('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n');
  const h = parseOk(buf);
  assert.equal(h.start, 4);
  assert.equal(h.headBytes, buf.length);
});

test('offset: parses a pipelined second request', () => {
  const one = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n';
  const buf = Buffer.from(`${one}GET /2 HTTP/1.1\r\nHost: a\r\n\r\n`);
  const h = parseRequestHead(buf, one.length);
  assert.equal(h.kind === 'request' && h.target, '/2');
});

const invalid: Array<[string, string, Http1ErrorCode]> = [
  // Smuggling vectors.
  ['CL.TE: both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP1_CONTENT_LENGTH_AND_TE'],
  ['TE.CL: the other order', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 6\r\n\r\n', 'HTTP1_CONTENT_LENGTH_AND_TE'],
  ['TE.TE: chunked, identity', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: space before colon', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n', 'HTTP1_SPACE_BEFORE_COLON'],
  ['TE.TE: xchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: identity', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: parameter', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: quoted', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "chunked"\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
  ['TE.TE: obs-fold', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n', 'HTTP1_OBS_FOLD'],
  ['TE.TE: vertical tab', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\x0bchunked\r\n\r\n', 'HTTP1_INVALID_HEADER_VALUE'],
  ['TE in HTTP/1.0', 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP1_TE_IN_HTTP10'],
  ['duplicate equal CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n', 'HTTP1_DUPLICATE_CONTENT_LENGTH'],
  ['differing CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 'HTTP1_DUPLICATE_CONTENT_LENGTH'],
  ['CL list', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  ['negative CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  ['hex CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  ['plus CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  ['empty CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  ['huge CL', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n', 'HTTP1_INVALID_CONTENT_LENGTH'],
  // Line syntax.
  ['bare LF after a field', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'HTTP1_BARE_LF'],
  ['bare LF after the request-line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 'HTTP1_BARE_LF'],
  ['bare LF as the empty line', 'GET / HTTP/1.1\r\nHost: a\r\n\n', 'HTTP1_BARE_LF'],
  ['CR without LF in a value', 'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n', 'HTTP1_BARE_CR'],
  ['CR without LF at the end', 'GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n', 'HTTP1_BARE_CR'],
  ['NUL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', 'HTTP1_INVALID_HEADER_VALUE'],
  ['DEL in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n', 'HTTP1_INVALID_HEADER_VALUE'],
  ['NUL in a name', 'GET / HTTP/1.1\r\nHost: a\r\nX\x00: b\r\n\r\n', 'HTTP1_INVALID_HEADER_NAME'],
  ['non-token name', 'GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n', 'HTTP1_INVALID_HEADER_NAME'],
  ['empty name', 'GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n', 'HTTP1_INVALID_HEADER_NAME'],
  ['no colon', 'GET / HTTP/1.1\r\nHost: a\r\nXY\r\n\r\n', 'HTTP1_INVALID_HEADER_NAME'],
  ['tab before colon', 'GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n', 'HTTP1_SPACE_BEFORE_COLON'],
  ['whitespace before the first field', 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', 'HTTP1_OBS_FOLD'],
  // Request-line.
  ['non-token method', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_METHOD'],
  ['two spaces', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_REQUEST_LINE'],
  ['space in target', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_VERSION'],
  ['control in target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['tab in target', 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['non-ASCII target', 'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['HTTP/0.9 style', 'GET /\r\n\r\n', 'HTTP1_INVALID_REQUEST_LINE'],
  ['HTTP/2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'HTTP1_VERSION_NOT_SUPPORTED'],
  ['HTTP/1.2', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 'HTTP1_VERSION_NOT_SUPPORTED'],
  ['lowercase version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_VERSION'],
  ['trailing space after version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 'HTTP1_INVALID_REQUEST_LINE'],
  ['CONNECT origin-form', 'CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['CONNECT without port', 'CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['asterisk for GET', 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['absolute-form with userinfo', 'GET http://u@b/ HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  ['absolute-form other scheme', 'GET ftp://b/ HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP1_INVALID_TARGET'],
  // Host.
  ['missing Host on 1.1', 'GET / HTTP/1.1\r\nX: a\r\n\r\n', 'HTTP1_MISSING_HOST'],
  ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'HTTP1_DUPLICATE_HOST'],
  ['Host with a path', 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 'HTTP1_INVALID_HOST'],
  ['Host with userinfo', 'GET / HTTP/1.1\r\nHost: u@a\r\n\r\n', 'HTTP1_INVALID_HOST'],
];

for (const [name, text, code] of invalid) {
  test(`invalid: ${name}`, () => {
    const r = parseRequestHead(Buffer.from(text, 'latin1'), 0);
    assert.equal(r.kind, 'error');
    assert.equal(r.kind === 'error' && r.code, code, r.kind === 'error' ? r.message : '');
  });
}

test('limits: head size and field count', () => {
  const big = Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(100)}\r\n\r\n`);
  const small = { maxHeadBytes: 64, maxHeaders: 10 };
  assert.equal((parseRequestHead(big, 0, small) as { code?: string }).code, 'HTTP1_HEAD_TOO_LARGE');
  // Exactly at the limit is fine; one byte less is not.
  assert.equal(parseRequestHead(big, 0, { maxHeadBytes: big.length, maxHeaders: 10 }).kind, 'request');
  assert.equal((parseRequestHead(big, 0, { maxHeadBytes: big.length - 1, maxHeaders: 10 }) as { code?: string }).code, 'HTTP1_HEAD_TOO_LARGE');
  // A partial head already past the limit is refused without waiting for the rest.
  assert.equal((parseRequestHead(big.subarray(0, 70), 0, small) as { code?: string }).code, 'HTTP1_HEAD_TOO_LARGE');
  const many = req(['GET / HTTP/1.1', 'Host: a', ...Array.from({ length: 10 }, (_, i) => `X-${i}: v`)]);
  assert.equal((parseRequestHead(many, 0, { maxHeadBytes: 4096, maxHeaders: 10 }) as { code?: string }).code, 'HTTP1_TOO_MANY_HEADERS');
});

test('incomplete heads return INCOMPLETE; garbage is refused before the head ends', () => {
  assert.equal(parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'), 0), INCOMPLETE);
  assert.equal(parseRequestHead(Buffer.from(''), 0), INCOMPLETE);
  assert.equal(parseRequestHead(Buffer.from('GET / HTTP/1.1\r'), 0), INCOMPLETE);
  assert.equal(parseRequestHead(Buffer.from('GET / XTTP'), 0).kind, 'error');
  assert.equal(parseRequestHead(Buffer.from('GET / HTTP/1.1\r\nHost: a\nX'), 0).kind, 'error');
});

test('responses', () => {
  const ok = parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'), 0);
  assert.ok(ok.kind === 'response');
  assert.equal(ok.status, 200);
  assert.equal(ok.reason, 'OK');
  assert.equal(ok.contentLength, 3);
  assert.equal(ok.headBytes, 38);
  const noReason = parseResponseHead(Buffer.from('HTTP/1.0 204\r\n\r\n'), 0);
  assert.ok(noReason.kind === 'response' && noReason.status === 204 && noReason.reason === '' && !noReason.keepAlive);
  const codes: Array<[string, Http1ErrorCode]> = [
    ['HTTP/1.1 20 OK\r\n\r\n', 'HTTP1_INVALID_STATUS_LINE'],
    ['HTTP/1.1 600 X\r\n\r\n', 'HTTP1_INVALID_STATUS_LINE'],
    ['HTTP/1.1 200 O\x01K\r\n\r\n', 'HTTP1_INVALID_STATUS_LINE'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'HTTP1_CONTENT_LENGTH_AND_TE'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'HTTP1_UNSUPPORTED_TE'],
    ['HTTP/2 200 OK\r\n\r\n', 'HTTP1_INVALID_VERSION'],
    ['HTTP/1.1 200 OK\n\r\n', 'HTTP1_BARE_LF'],
  ];
  for (const [text, code] of codes) {
    const r = parseResponseHead(Buffer.from(text, 'latin1'), 0);
    assert.equal(r.kind === 'error' && r.code, code, text);
  }
});
