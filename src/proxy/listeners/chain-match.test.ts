import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterChainConfig, FilterChainMatchConfig, ListenerConfig } from '../config/index.js';
import { cidrContains, ipBytes, selectFilterChain, type ConnectionFacts } from './chain-match.js';

function chain(name: string, match: Partial<FilterChainMatchConfig>): FilterChainConfig {
  return { name, tls: undefined, filters: [], match: { destinationPort: undefined, prefixRanges: [], serverNames: [], transportProtocol: undefined, applicationProtocols: [], ...match } };
}
function listener(chains: FilterChainConfig[], defaultFilterChain?: FilterChainConfig): ListenerConfig {
  return { name: 'l', bindAddress: '0.0.0.0', port: 15001, direction: 'outbound', originalDestination: true, tlsInspector: true, filterChains: chains, defaultFilterChain };
}
const facts = (f: Partial<ConnectionFacts>): ConnectionFacts => ({ destinationPort: 80, destinationIp: '10.0.0.1', serverName: undefined, transportProtocol: undefined, applicationProtocols: [], ...f });
const v4 = (address: string, bits: number) => ({ address, family: 4 as const, bits });

test('destination port: a chain naming the port beats one without; another port never matches', () => {
  const l = listener([chain('any', {}), chain('p80', { destinationPort: 80 }), chain('p81', { destinationPort: 81 })]);
  assert.equal(selectFilterChain(l, facts({}))?.name, 'p80');
  assert.equal(selectFilterChain(l, facts({ destinationPort: 82 }))?.name, 'any');
});

test('destination IP: the longest matching prefix wins', () => {
  const l = listener([chain('wide', { prefixRanges: [v4('10.0.0.0', 8)] }), chain('narrow', { prefixRanges: [v4('10.0.0.0', 24)] }), chain('host', { prefixRanges: [v4('10.0.0.2', 32)] })]);
  assert.equal(selectFilterChain(l, facts({}))?.name, 'narrow');
  assert.equal(selectFilterChain(l, facts({ destinationIp: '10.0.0.2' }))?.name, 'host');
  assert.equal(selectFilterChain(l, facts({ destinationIp: '10.9.0.2' }))?.name, 'wide');
  assert.equal(selectFilterChain(l, facts({ destinationIp: '11.0.0.1' })), undefined);
});

test('no backtracking: the port-specific chains win even when a later criterion rules them all out', () => {
  const l = listener([chain('tls-on-80', { destinationPort: 80, transportProtocol: 'tls' }), chain('fallback', {})], chain('default', {}));
  assert.equal(selectFilterChain(l, facts({ transportProtocol: 'raw_buffer' }))?.name, 'default');
});

test('server names: exact beats the longest wildcard, and the inbound mesh chain needs tls and ALPN osm', () => {
  const l = listener([
    chain('wild', { serverNames: ['*.svc.cluster.local'], transportProtocol: 'tls' }),
    chain('longer', { serverNames: ['*.bookstore.svc.cluster.local'], transportProtocol: 'tls' }),
    chain('exact', { serverNames: ['bookstore.bookstore.svc.cluster.local'], transportProtocol: 'tls', applicationProtocols: ['osm'] }),
  ]);
  assert.equal(selectFilterChain(l, facts({ serverName: 'bookstore.bookstore.svc.cluster.local', transportProtocol: 'tls', applicationProtocols: ['osm'] }))?.name, 'exact');
  assert.equal(selectFilterChain(l, facts({ serverName: 'bookstore.bookstore.svc.cluster.local', transportProtocol: 'tls', applicationProtocols: ['h2'] })), undefined);
  assert.equal(selectFilterChain(l, facts({ serverName: 'v1.bookstore.svc.cluster.local', transportProtocol: 'tls' }))?.name, 'longer');
  assert.equal(selectFilterChain(l, facts({ serverName: 'x.other.svc.cluster.local', transportProtocol: 'tls' }))?.name, 'wild');
  assert.equal(selectFilterChain(l, facts({ transportProtocol: 'tls' })), undefined);
});

test('IPv6 and IPv4-mapped addresses', () => {
  assert.deepEqual(ipBytes('::ffff:10.0.0.1'), [10, 0, 0, 1]);
  assert.equal(ipBytes('fd00::1')?.length, 16);
  assert.ok(cidrContains({ address: 'fd00::', family: 6, bits: 16 }, 'fd00:0:0:1::5'));
  assert.ok(!cidrContains({ address: 'fd00::', family: 6, bits: 16 }, 'fd01::5'));
  assert.ok(!cidrContains(v4('10.0.0.0', 8), 'fd00::1'));
  assert.ok(cidrContains(v4('0.0.0.0', 0), '192.168.1.1'));
});
