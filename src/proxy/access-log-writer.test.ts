import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccessLogWriter } from './access-log-writer.js';

test('lines are written in batches of whole lines, on flush or once 64 KiB wait', () => {
  const out: string[] = [];
  const w = new AccessLogWriter((t) => out.push(t));
  w.write('{"a":1}');
  w.write('{"a":2}');
  assert.deepEqual(out, [], 'nothing is written per request');
  w.flush();
  assert.deepEqual(out, ['{"a":1}\n{"a":2}\n']);
  w.flush();
  assert.equal(out.length, 1, 'an empty flush writes nothing');
  const big = 'x'.repeat(40 * 1024);
  w.write(big);
  assert.equal(out.length, 1);
  w.write(big);
  assert.deepEqual(out.slice(1), [`${big}\n${big}\n`]);
});
