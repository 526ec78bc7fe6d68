/** HTTP/1.1 header blocks read in place and written back with edits, and the response-flag text. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestHead, type RequestHead } from '../http1/index.js';
import { FieldKind, HeaderEdits, PairFields } from './exchange.js';
import { encodeHead, Http1Fields } from './http1-fields.js';
import { ResponseFlag, responseFlagsText } from './local-reply.js';

function parsed(text: string): Http1Fields {
  const buf = Buffer.from(text, 'latin1');
  const head = parseRequestHead(buf, 0) as RequestHead;
  return new Http1Fields(buf, head.fields, head.start, head.headBytes - 2, head.versionMinor === 1 && head.targetForm === 'origin');
}

const HEAD = 'GET /p?q=1 HTTP/1.1\r\nHost: a.test\r\nX-One:  1 \r\nCONNECTION: keep-alive\r\nx-request-id: abc\r\nTE:trailers\r\n\r\n';

test('fields are read in place: lower-case names, trimmed values, kinds by name in any case', () => {
  const f = parsed(HEAD);
  assert.equal(f.count, 5);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => [f.name(i), f.value(i)]), [['host', 'a.test'], ['x-one', '1'], ['connection', 'keep-alive'], ['x-request-id', 'abc'], ['te', 'trailers']]);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => f.kind(i)), [FieldKind.host, FieldKind.other, FieldKind.connection, FieldKind.xRequestId, FieldKind.te]);
  assert.equal(new PairFields(['X-Envoy-Retry-On'.toLowerCase(), '5xx']).kind(0), FieldKind.envoyControl);
});

test('encodeHead copies kept lines verbatim and appends added fields and the suffix', () => {
  const f = parsed(HEAD);
  assert.equal(encodeHead(undefined, '', f, undefined, '\r\n').toString('latin1'), HEAD);
  const edits = new HeaderEdits();
  edits.drop(0, f.count);
  edits.drop(2, f.count);
  edits.add('x-added', 'yes');
  const out = encodeHead(undefined, 'host: b.test\r\n', f, edits, 'content-length: 0\r\n\r\n').toString('latin1');
  assert.equal(out, 'GET /p?q=1 HTTP/1.1\r\nhost: b.test\r\nX-One:  1 \r\nx-request-id: abc\r\nTE:trailers\r\nx-added: yes\r\ncontent-length: 0\r\n\r\n');
  const rewritten = encodeHead('GET /other HTTP/1.1\r\n', '', f, edits, '\r\n').toString('latin1');
  assert.ok(rewritten.startsWith('GET /other HTTP/1.1\r\nX-One:  1 \r\n'));
});

test('encodeHead writes fields that did not come from HTTP/1.1 as name: value lines', () => {
  const f = new PairFields(['content-type', 'text/plain', 'server', 'envoy']);
  const edits = new HeaderEdits();
  edits.drop(1, f.count);
  assert.equal(encodeHead('HTTP/1.1 404 Not Found\r\n', '', f, edits, 'content-length: 0\r\n\r\n').toString('latin1'), 'HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n');
  assert.throws(() => encodeHead(undefined, '', f, undefined, '\r\n'));
});

test('response flags print in Envoy\'s order, "-" when none', () => {
  assert.equal(responseFlagsText(0), '-');
  assert.equal(responseFlagsText(ResponseFlag.URX | ResponseFlag.UF), 'UF,URX');
  assert.equal(responseFlagsText(ResponseFlag.NC | ResponseFlag.UH | ResponseFlag.DC), 'UH,DC,NC');
});
