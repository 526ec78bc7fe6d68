import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSelector, isEmptySelector, matchesLabelSelector, type LabelSelector } from './label-selector.js';

const labels = { app: 'bookstore', version: 'v1' };

const cases: Array<{ name: string; selector: LabelSelector; want: boolean; text: string }> = [
  { name: 'matchLabels subset', selector: { matchLabels: { app: 'bookstore' } }, want: true, text: 'app=bookstore' },
  { name: 'matchLabels wrong value', selector: { matchLabels: { version: 'v2' } }, want: false, text: 'version=v2' },
  { name: 'In', selector: { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1', 'v2'] }] }, want: true, text: 'version in (v1,v2)' },
  { name: 'In on a missing label', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, want: false, text: 'tier in (a)' },
  { name: 'NotIn on a missing label', selector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, want: true, text: 'tier notin (a)' },
  { name: 'Exists', selector: { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, want: true, text: 'app' },
  { name: 'DoesNotExist', selector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, want: false, text: '!app' },
  { name: 'a prototype member is not a label', selector: { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, want: false, text: 'constructor' },
  { name: 'all terms must hold', selector: { matchLabels: { app: 'bookstore' }, matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] }, want: false, text: 'app=bookstore,version notin (v1)' },
];

for (const c of cases) {
  test(`label selector: ${c.name}`, () => {
    assert.equal(matchesLabelSelector(c.selector, labels), c.want);
    assert.equal(formatSelector(c.selector), c.text);
    assert.equal(isEmptySelector(c.selector), false);
  });
}

test('label selector: no terms is empty', () => {
  assert.equal(isEmptySelector({ matchLabels: {}, matchExpressions: [] }), true);
});
