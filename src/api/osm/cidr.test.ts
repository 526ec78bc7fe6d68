import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCidr, isIPv4Cidr } from './cidr.js';

// Expectations follow Go's net.ParseCIDR, which OSM's webhook calls.
const cases: Array<{ text: string; ipv4: boolean; any: boolean }> = [
  { text: '10.0.0.0/8', ipv4: true, any: true },
  { text: '0.0.0.0/0', ipv4: true, any: true },
  { text: '169.254.169.254/32', ipv4: true, any: true },
  { text: '10.0.0.1/8', ipv4: true, any: true },
  { text: 'fd00::/8', ipv4: false, any: true },
  { text: '::/0', ipv4: false, any: true },
  { text: '2001:db8::1/128', ipv4: false, any: true },
  { text: '10.0.0.0/33', ipv4: false, any: false },
  { text: '2001:db8::/129', ipv4: false, any: false },
  { text: '10.0.0.0', ipv4: false, any: false },
  { text: '10.0.0.0/', ipv4: false, any: false },
  { text: '10.0.0/8', ipv4: false, any: false },
  { text: '300.0.0.0/8', ipv4: false, any: false },
  { text: '010.0.0.0/8', ipv4: false, any: false },
  { text: '10.0.0.0/-1', ipv4: false, any: false },
  { text: '10.0.0.0/8/8', ipv4: false, any: false },
  { text: 'fe80::1%eth0/64', ipv4: false, any: false },
  { text: '', ipv4: false, any: false },
];

for (const c of cases) {
  test(`CIDR ${JSON.stringify(c.text)}: IPv4 ${c.ipv4}, any family ${c.any}`, () => {
    assert.equal(isIPv4Cidr(c.text), c.ipv4);
    assert.equal(isCidr(c.text), c.any);
  });
}
