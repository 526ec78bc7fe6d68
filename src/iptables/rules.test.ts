import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_EXCLUSIONS, type TrafficExclusions } from './exclusions.js';
import { cleanupScript, restoreScript, ruleSpec } from './restore.js';
import { interceptionRules, OSM_PORTS, OSM_PROXY_UID, rulesIn, type Chain, type InterceptionInput } from './rules.js';

const defaultPod: InterceptionInput = {
  proxyUid: OSM_PROXY_UID,
  ports: OSM_PORTS,
  exclusions: NO_EXCLUSIONS,
  localProxyMode: { mode: 'Localhost' },
};

const withExclusions = (exclusions: Partial<TrafficExclusions>): InterceptionInput => ({
  ...defaultPod,
  exclusions: { ...NO_EXCLUSIONS, ...exclusions },
});

const specsIn = (input: InterceptionInput, chain: Chain): string[] => rulesIn(interceptionRules(input), chain).map(ruleSpec);

// OSM v1.2.4's script for a pod with no exclusions (pkg/injector/iptables.go), in the form
// `iptables -S` prints, without the shadowed `--dport 15000 -j ACCEPT` (see rules.ts).
const DEFAULT_SCRIPT = `# osm-ts sidecar interception rules
*nat
:OSM_PROXY_INBOUND - [0:0]
:OSM_PROXY_IN_REDIRECT - [0:0]
:OSM_PROXY_OUTBOUND - [0:0]
:OSM_PROXY_OUT_REDIRECT - [0:0]
-A OSM_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15003
-A PREROUTING -p tcp -j OSM_PROXY_INBOUND
-A OSM_PROXY_INBOUND -p tcp -m tcp --dport 15010 -j RETURN
-A OSM_PROXY_INBOUND -p tcp -m tcp --dport 15901 -j RETURN
-A OSM_PROXY_INBOUND -p tcp -m tcp --dport 15902 -j RETURN
-A OSM_PROXY_INBOUND -p tcp -m tcp --dport 15903 -j RETURN
-A OSM_PROXY_INBOUND -p tcp -m tcp --dport 15904 -j RETURN
-A OSM_PROXY_INBOUND -p tcp -j OSM_PROXY_IN_REDIRECT
-A OSM_PROXY_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 15001
-A OUTPUT -p tcp -j OSM_PROXY_OUTBOUND
-A OSM_PROXY_OUTBOUND ! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1500 -j OSM_PROXY_IN_REDIRECT
-A OSM_PROXY_OUTBOUND -o lo -m owner ! --uid-owner 1500 -j RETURN
-A OSM_PROXY_OUTBOUND -m owner --uid-owner 1500 -j RETURN
-A OSM_PROXY_OUTBOUND -d 127.0.0.1/32 -j RETURN
-A OSM_PROXY_OUTBOUND -j OSM_PROXY_OUT_REDIRECT
COMMIT
`;

test('the default pod gets OSM v1.2.4 rules, as one restore script', () => {
  assert.equal(restoreScript(interceptionRules(defaultPod)), DEFAULT_SCRIPT);
});

// The static prefix of OSM_PROXY_OUTBOUND, before any exclusion.
const OUTBOUND_STATIC = [
  '! -d 127.0.0.1/32 -o lo -m owner --uid-owner 1500 -j OSM_PROXY_IN_REDIRECT',
  '-o lo -m owner ! --uid-owner 1500 -j RETURN',
  '-m owner --uid-owner 1500 -j RETURN',
  '-d 127.0.0.1/32 -j RETURN',
];
const INBOUND_STATIC = [15010, 15901, 15902, 15903, 15904].map((p) => `-p tcp -m tcp --dport ${p} -j RETURN`);
const ports = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

const cases: { name: string; exclusions: Partial<TrafficExclusions>; inbound: string[]; outbound: string[] }[] = [
  {
    name: 'inbound ports return before anything else in OSM_PROXY_INBOUND',
    exclusions: { inboundPorts: [9000, 9001] },
    inbound: ['-p tcp -m multiport --dports 9000,9001 -j RETURN', ...INBOUND_STATIC, '-p tcp -j OSM_PROXY_IN_REDIRECT'],
    outbound: [...OUTBOUND_STATIC, '-j OSM_PROXY_OUT_REDIRECT'],
  },
  {
    name: 'outbound ports return before the final redirect',
    exclusions: { outboundPorts: [6379, 5432] },
    inbound: [...INBOUND_STATIC, '-p tcp -j OSM_PROXY_IN_REDIRECT'],
    outbound: [...OUTBOUND_STATIC, '-p tcp -m multiport --dports 6379,5432 -j RETURN', '-j OSM_PROXY_OUT_REDIRECT'],
  },
  {
    name: 'more than 15 ports are split, since multiport takes at most 15',
    exclusions: { outboundPorts: ports(8000, 16) },
    inbound: [...INBOUND_STATIC, '-p tcp -j OSM_PROXY_IN_REDIRECT'],
    outbound: [
      ...OUTBOUND_STATIC,
      `-p tcp -m multiport --dports ${ports(8000, 15).join(',')} -j RETURN`,
      '-p tcp -m multiport --dports 8015 -j RETURN',
      '-j OSM_PROXY_OUT_REDIRECT',
    ],
  },
  {
    name: 'outbound IP ranges return, one rule each, in list order',
    exclusions: { outboundIPRanges: ['169.254.169.254/32', '10.0.0.0/8'] },
    inbound: [...INBOUND_STATIC, '-p tcp -j OSM_PROXY_IN_REDIRECT'],
    outbound: [...OUTBOUND_STATIC, '-d 169.254.169.254/32 -j RETURN', '-d 10.0.0.0/8 -j RETURN', '-j OSM_PROXY_OUT_REDIRECT'],
  },
  {
    name: 'an inclusion list redirects only its ranges, after the exclusions, and returns the rest',
    exclusions: { outboundIPRanges: ['10.0.0.1/32'], outboundPorts: [443], outboundIPRangeInclusions: ['10.0.0.0/8', '192.168.0.0/16'] },
    inbound: [...INBOUND_STATIC, '-p tcp -j OSM_PROXY_IN_REDIRECT'],
    outbound: [
      ...OUTBOUND_STATIC,
      '-d 10.0.0.1/32 -j RETURN',
      '-p tcp -m multiport --dports 443 -j RETURN',
      '-d 10.0.0.0/8 -j OSM_PROXY_OUT_REDIRECT',
      '-d 192.168.0.0/16 -j OSM_PROXY_OUT_REDIRECT',
      '-j RETURN',
    ],
  },
  {
    name: 'excluded interfaces return both ways; inbound port exclusions still come first',
    exclusions: { networkInterfaces: ['eth1', 'veth+'], inboundPorts: [9000] },
    inbound: [
      '-p tcp -m multiport --dports 9000 -j RETURN',
      '-i eth1 -j RETURN',
      '-i veth+ -j RETURN',
      ...INBOUND_STATIC,
      '-p tcp -j OSM_PROXY_IN_REDIRECT',
    ],
    outbound: [...OUTBOUND_STATIC, '-o eth1 -j RETURN', '-o veth+ -j RETURN', '-j OSM_PROXY_OUT_REDIRECT'],
  },
];
for (const c of cases) {
  test(c.name, () => {
    const input = withExclusions(c.exclusions);
    assert.deepEqual(specsIn(input, 'OSM_PROXY_INBOUND'), c.inbound);
    assert.deepEqual(specsIn(input, 'OSM_PROXY_OUTBOUND'), c.outbound);
    // Exclusions never touch the hooks or the redirect chains.
    assert.deepEqual(specsIn(input, 'PREROUTING'), ['-p tcp -j OSM_PROXY_INBOUND']);
    assert.deepEqual(specsIn(input, 'OUTPUT'), ['-p tcp -j OSM_PROXY_OUTBOUND']);
    assert.deepEqual(specsIn(input, 'OSM_PROXY_OUT_REDIRECT'), ['-p tcp -j REDIRECT --to-ports 15001']);
  });
}

test('PodIP mode sends the proxy\'s connections to 127.0.0.1 to the pod IP, before the OUTPUT hook', () => {
  const input: InterceptionInput = { ...defaultPod, localProxyMode: { mode: 'PodIP', podIP: '10.244.1.7' } };
  assert.deepEqual(specsIn(input, 'OUTPUT'), [
    '-d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner 1500 -j DNAT --to-destination 10.244.1.7',
    '-p tcp -j OSM_PROXY_OUTBOUND',
  ]);
  // Nothing else changes.
  const others = (i: InterceptionInput) => interceptionRules(i).rules.filter((r) => r.chain !== 'OUTPUT');
  assert.deepEqual(others(input), others(defaultPod));
});

test('ports and uid come from the input', () => {
  const input: InterceptionInput = {
    ...defaultPod,
    proxyUid: 2102,
    ports: { outboundListener: 16001, inboundListener: 16003, prometheus: 16010, probes: [16901], healthcheck: 16904 },
  };
  const script = restoreScript(interceptionRules(input));
  assert.match(script, /^-A OSM_PROXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16003$/m);
  assert.match(script, /^-A OSM_PROXY_OUT_REDIRECT -p tcp -j REDIRECT --to-ports 16001$/m);
  assert.deepEqual(specsIn(input, 'OSM_PROXY_INBOUND').slice(0, 3), [16010, 16901, 16904].map((p) => `-p tcp -m tcp --dport ${p} -j RETURN`));
  assert.doesNotMatch(script, /\b15\d{2,3}\b/);
  assert.match(script, /--uid-owner 2102 -j RETURN/);
});

const badInputs: { name: string; input: InterceptionInput; field: string }[] = [
  { name: 'PodIP mode without an IPv4 pod IP', input: { ...defaultPod, localProxyMode: { mode: 'PodIP', podIP: '' } }, field: 'localProxyMode.podIP' },
  { name: 'an IPv6 pod IP', input: { ...defaultPod, localProxyMode: { mode: 'PodIP', podIP: 'fd00::1' } }, field: 'localProxyMode.podIP' },
  { name: 'a listener port of 0', input: { ...defaultPod, ports: { ...OSM_PORTS, inboundListener: 0 } }, field: 'ports.inboundListener' },
  { name: 'a probe port above 65535', input: { ...defaultPod, ports: { ...OSM_PORTS, probes: [15901, 70000] } }, field: 'ports.probes[1]' },
  { name: 'a negative uid', input: { ...defaultPod, proxyUid: -1 }, field: 'proxyUid' },
  { name: 'a CIDR carrying a newline', input: withExclusions({ outboundIPRanges: ['10.0.0.0/8\n-A OUTPUT -j ACCEPT'] }), field: 'exclusions.outboundIPRanges[0]' },
  { name: 'a negated interface', input: withExclusions({ networkInterfaces: ['!eth0'] }), field: 'exclusions.networkInterfaces[0]' },
  { name: 'a fractional port', input: withExclusions({ inboundPorts: [80.5] }), field: 'exclusions.inboundPorts[0]' },
];
for (const c of badInputs) {
  test(`refuses ${c.name}, naming the field`, () => {
    assert.throws(() => interceptionRules(c.input), (e: unknown) => e instanceof Error && e.message.includes(`${c.field}: expected`));
  });
}

test('the cleanup script unhooks exactly what was installed, then empties and deletes the chains', () => {
  const rules = interceptionRules({ ...defaultPod, localProxyMode: { mode: 'PodIP', podIP: '10.244.1.7' } });
  assert.equal(cleanupScript(rules), `# osm-ts sidecar interception cleanup
*nat
-D PREROUTING -p tcp -j OSM_PROXY_INBOUND
-D OUTPUT -d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner 1500 -j DNAT --to-destination 10.244.1.7
-D OUTPUT -p tcp -j OSM_PROXY_OUTBOUND
-F OSM_PROXY_INBOUND
-F OSM_PROXY_IN_REDIRECT
-F OSM_PROXY_OUTBOUND
-F OSM_PROXY_OUT_REDIRECT
-X OSM_PROXY_INBOUND
-X OSM_PROXY_IN_REDIRECT
-X OSM_PROXY_OUTBOUND
-X OSM_PROXY_OUT_REDIRECT
COMMIT
`);
});

test('same input, same bytes; the input is not changed', () => {
  const exclusions = { ...NO_EXCLUSIONS, outboundPorts: ports(8000, 20), outboundIPRanges: ['10.0.0.0/8'], outboundIPRangeInclusions: ['192.168.0.0/16'], networkInterfaces: ['eth1'] };
  const input: InterceptionInput = { ...defaultPod, exclusions, localProxyMode: { mode: 'PodIP', podIP: '10.1.2.3' } };
  const before = structuredClone(input);
  const a = interceptionRules(input);
  const b = interceptionRules(structuredClone(input));
  assert.deepEqual(a, b);
  assert.equal(restoreScript(a), restoreScript(b));
  assert.equal(cleanupScript(a), cleanupScript(b));
  assert.deepEqual(input, before);
});
