/** Header blocks to and from Node's HTTP/2 API: what is left out, how repeats combine, pseudo-headers skipped. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { FieldKind, HeaderEdits, PairFields } from '../exchange.js';
import { encodeFields, headerObject, RawFields, regularStart } from './fields.js';

const cases: Array<{ name: string; fields: string[]; edit?: (e: HeaderEdits) => void; want: Record<string, string | string[]>; host?: string }> = [
  {
    name: 'connection-specific fields and Content-Length are left out',
    fields: ['connection', 'keep-alive', 'keep-alive', 'timeout=5', 'proxy-connection', 'x', 'transfer-encoding', 'chunked', 'upgrade', 'h2c', 'http2-settings', 'AAA', 'host', 'a.test', 'content-length', '3', 'x-kept', 'yes'],
    want: { 'x-kept': 'yes' },
  },
  { name: 'te passes only as trailers', fields: ['te', 'Trailers'], want: { te: 'trailers' } },
  { name: 'te other than trailers is left out', fields: ['te', 'gzip'], want: {} },
  { name: 'repeated fields are joined with a comma', fields: ['x-multi', '1', 'x-multi', '2', 'x-multi', '3'], want: { 'x-multi': '1, 2, 3' } },
  { name: 'set-cookie stays repeated', fields: ['set-cookie', 'a=1', 'set-cookie', 'b=2', 'set-cookie', 'c=3'], want: { 'set-cookie': ['a=1', 'b=2', 'c=3'] } },
  { name: 'cookie is joined with a semicolon', fields: ['cookie', 'a=1', 'cookie', 'b=2'], want: { cookie: 'a=1; b=2' } },
  {
    name: 'dropped fields go, added fields follow, an added host is returned',
    fields: ['x-a', '1', 'x-b', '2'],
    edit: (e) => {
      e.drop(0, 2);
      e.add('x-c', '3');
      e.add('host', 'rewritten.test');
      e.add('connection', 'close');
    },
    want: { 'x-b': '2', 'x-c': '3' },
    host: 'rewritten.test',
  },
  { name: 'a field named __proto__ is an ordinary field', fields: ['__proto__', 'v'], want: Object.fromEntries([['__proto__', 'v']]) as Record<string, string> },
];

for (const c of cases) {
  test(c.name, () => {
    const out = headerObject();
    const edits = c.edit === undefined ? undefined : new HeaderEdits();
    if (edits !== undefined) c.edit!(edits);
    const host = encodeFields(out, new PairFields(c.fields), edits);
    assert.deepEqual({ ...out }, { ...c.want });
    assert.deepEqual(Object.keys(out), Object.keys(c.want));
    assert.equal(host, c.host);
  });
}

test('RawFields reads the regular part of a raw list after the pseudo-headers', () => {
  const raw = [':status', '200', 'content-type', 'application/grpc', 'grpc-status', '0'];
  const f = new RawFields(raw, regularStart(raw));
  assert.equal(f.count, 2);
  assert.equal(f.name(0), 'content-type');
  assert.equal(f.value(1), '0');
  assert.equal(f.kind(1), FieldKind.grpcStatus);
  assert.equal(regularStart([':method', 'GET', ':path', '/']), 4);
  assert.equal(new RawFields([':method', 'GET'], 2).count, 0);
});
