import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultMeshConfigSpec } from '../api/osm/index.js';
import {
  EXCLUSION_ANNOTATIONS as A,
  interceptionExclusions,
  meshConfigExclusions,
  mergeExclusions,
  NO_EXCLUSIONS,
  podExclusions,
  type ExclusionIssueCode,
} from './exclusions.js';

test('a pod without annotations excludes nothing', () => {
  assert.deepEqual(podExclusions(undefined), { ok: true, value: NO_EXCLUSIONS });
  assert.deepEqual(podExclusions({ 'other/annotation': 'x' }), { ok: true, value: NO_EXCLUSIONS });
});

test('each annotation fills its own list; items are trimmed, order kept', () => {
  const got = podExclusions({
    [A.outboundPorts]: '6379, 5432',
    [A.inboundPorts]: '9090',
    [A.outboundIPRanges]: ' 169.254.169.254/32,10.0.0.0/8 ',
    [A.outboundIPRangeInclusions]: '10.96.0.0/12',
  });
  assert.deepEqual(got, {
    ok: true,
    value: {
      outboundPorts: [6379, 5432],
      inboundPorts: [9090],
      outboundIPRanges: ['169.254.169.254/32', '10.0.0.0/8'],
      outboundIPRangeInclusions: ['10.96.0.0/12'],
      networkInterfaces: [],
    },
  });
});

const invalid: { name: string; annotation: string; value: string; index: number; item: string; code: ExclusionIssueCode }[] = [
  { name: 'a word for a port', annotation: A.outboundPorts, value: '80,http', index: 1, item: 'http', code: 'port' },
  { name: 'port 0', annotation: A.inboundPorts, value: '0', index: 0, item: '0', code: 'port' },
  { name: 'a port above 65535', annotation: A.outboundPorts, value: '65536', index: 0, item: '65536', code: 'port' },
  { name: 'a signed port', annotation: A.outboundPorts, value: '+80', index: 0, item: '+80', code: 'port' },
  // OSM reads no ranges: strconv.Atoi("8000-8080") fails there too.
  { name: 'a port range', annotation: A.inboundPorts, value: '8000-8080', index: 0, item: '8000-8080', code: 'port' },
  { name: 'a trailing comma (empty item)', annotation: A.outboundPorts, value: '80,', index: 1, item: '', code: 'port' },
  { name: 'an empty value', annotation: A.inboundPorts, value: '', index: 0, item: '', code: 'port' },
  { name: 'an address without a prefix', annotation: A.outboundIPRanges, value: '10.0.0.1', index: 0, item: '10.0.0.1', code: 'cidr' },
  { name: 'a prefix above 32', annotation: A.outboundIPRangeInclusions, value: '10.0.0.0/8,10.0.0.0/33', index: 1, item: '10.0.0.0/33', code: 'cidr' },
  { name: 'an IPv6 range', annotation: A.outboundIPRanges, value: 'fd00::/8', index: 0, item: 'fd00::/8', code: 'ipv6-cidr' },
  { name: 'text that would add an option to the script', annotation: A.outboundIPRanges, value: '10.0.0.0/8 -j ACCEPT', index: 0, item: '10.0.0.0/8 -j ACCEPT', code: 'cidr' },
];
for (const c of invalid) {
  test(`rejects ${c.name}, naming the annotation and the item`, () => {
    const got = podExclusions({ [c.annotation]: c.value });
    assert.equal(got.ok, false);
    assert.ok(!got.ok);
    assert.equal(got.issues.length, 1);
    const [issue] = got.issues;
    assert.deepEqual({ code: issue?.code, source: issue?.source, index: issue?.index, item: issue?.item }, {
      code: c.code, source: c.annotation, index: c.index, item: c.item,
    });
    assert.ok(issue?.message.startsWith(`${c.annotation}: item ${c.index} ${JSON.stringify(c.item)}: `), issue?.message);
  });
}

test('every bad item of every annotation is reported, not just the first', () => {
  const got = podExclusions({ [A.outboundPorts]: 'a,80,b', [A.outboundIPRanges]: '10.0.0.0/8,x' });
  assert.ok(!got.ok);
  assert.deepEqual(got.issues.map((i) => `${i.source}[${i.index}]`), [
    `${A.outboundPorts}[0]`, `${A.outboundPorts}[2]`, `${A.outboundIPRanges}[1]`,
  ]);
});

test('merging keeps OSM order: MeshConfig ports first, pod CIDRs first, duplicates once', () => {
  const mesh = { ...NO_EXCLUSIONS, outboundPorts: [443, 80], inboundPorts: [9000], outboundIPRanges: ['10.0.0.0/8'], outboundIPRangeInclusions: ['10.96.0.0/12'], networkInterfaces: ['eth1'] };
  const pod = { ...NO_EXCLUSIONS, outboundPorts: [80, 6379], inboundPorts: [9000, 9001], outboundIPRanges: ['192.168.0.0/16', '10.0.0.0/8'], outboundIPRangeInclusions: ['172.16.0.0/12'] };
  assert.deepEqual(mergeExclusions(mesh, pod), {
    outboundPorts: [443, 80, 6379],
    inboundPorts: [9000, 9001],
    outboundIPRanges: ['192.168.0.0/16', '10.0.0.0/8'],
    outboundIPRangeInclusions: ['172.16.0.0/12', '10.96.0.0/12'],
    networkInterfaces: ['eth1'],
  });
});

test('interceptionExclusions merges a MeshConfig with pod annotations', () => {
  const spec = defaultMeshConfigSpec();
  const traffic = { ...spec.traffic, outboundPortExclusionList: [443], outboundIPRangeExclusionList: ['10.0.0.0/8'], networkInterfaceExclusionList: ['eth1'] };
  const got = interceptionExclusions(traffic, { [A.outboundPorts]: '6379', [A.outboundIPRanges]: '169.254.169.254/32' });
  assert.deepEqual(got, {
    ok: true,
    value: {
      outboundPorts: [443, 6379],
      inboundPorts: [],
      outboundIPRanges: ['169.254.169.254/32', '10.0.0.0/8'],
      outboundIPRangeInclusions: [],
      networkInterfaces: ['eth1'],
    },
  });
});

test('MeshConfig interface names and CIDRs that would corrupt the script are reported with their field', () => {
  const traffic = {
    ...defaultMeshConfigSpec().traffic,
    networkInterfaceExclusionList: ['eth0', '!eth1', 'a-name-longer-than-15'],
    outboundIPRangeInclusionList: ['10.0.0.0/8\n-A OUTPUT -j ACCEPT'],
  };
  const got = meshConfigExclusions(traffic);
  assert.ok(!got.ok);
  assert.deepEqual(got.issues.map((i) => [i.code, i.source, i.index]), [
    ['interface', 'spec.traffic.networkInterfaceExclusionList', 1],
    ['interface', 'spec.traffic.networkInterfaceExclusionList', 2],
    ['cidr', 'spec.traffic.outboundIPRangeInclusionList', 0],
  ]);
});

test('interceptionExclusions reports MeshConfig and annotation issues together', () => {
  const traffic = { ...defaultMeshConfigSpec().traffic, networkInterfaceExclusionList: ['bad name'] };
  const got = interceptionExclusions(traffic, { [A.inboundPorts]: 'x' });
  assert.ok(!got.ok);
  assert.deepEqual(got.issues.map((i) => i.source), ['spec.traffic.networkInterfaceExclusionList', A.inboundPorts]);
});
