// Rule kinds Envoy's protos do not use on the messages we generate (so validate-rules.test.ts
// cannot show them on a real message), checked on rules built here.
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, type MessageInitShape, ScalarType } from '@bufbuild/protobuf';
import { AnySchema, DurationSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import { FieldRulesSchema, KnownRegex } from '../gen/validate/validate_pb.js';
import { Cluster_LbPolicy, ClusterSchema, envoyRegistry } from './proto.js';
import { compileRules, type CompiledRules, type RuleTarget } from './validate-checks.js';
import { formatDuration, isHostname } from './validate-formats.js';

const scalar = (s: ScalarType): RuleTarget => ({ kind: 'scalar', scalar: s });
const STRING = scalar(ScalarType.STRING);
const BYTES = scalar(ScalarType.BYTES);
const lbPolicy = ClusterSchema.field.lbPolicy?.enum;
assert.ok(lbPolicy);
const ENUM: RuleTarget = { kind: 'enum', enum: lbPolicy };
const message = (typeName: string): RuleTarget => ({ kind: 'message', typeName });

/** The rules a value breaks, by name. */
function broken(rules: CompiledRules, value: unknown): string[] {
  if (rules.ignoreEmpty && value === '') return [];
  return rules.checks.flatMap((check) => (check.test(value) === undefined ? [] : [check.rule]));
}

type Init = MessageInitShape<typeof FieldRulesSchema>;
const b = (...bytes: number[]) => new Uint8Array(bytes);
const seconds = (s: number) => create(DurationSchema, { seconds: BigInt(s) });
const at = (s: number) => create(TimestampSchema, { seconds: BigInt(s) });

const cases: Array<{ name: string; rules: Init; target: RuleTarget; bad: unknown; good: unknown; want: string[] }> = [
  { name: 'string.const', rules: { type: { case: 'string', value: { const: 'a' } } }, target: STRING, bad: 'b', good: 'a', want: ['string.const'] },
  { name: 'string.len counts code points', rules: { type: { case: 'string', value: { len: 2n } } }, target: STRING, bad: 'abc', good: '😀é', want: ['string.len'] },
  { name: 'string.max_len', rules: { type: { case: 'string', value: { maxLen: 3n } } }, target: STRING, bad: 'abcd', good: 'abc', want: ['string.max_len'] },
  { name: 'string.len_bytes counts UTF-8 bytes', rules: { type: { case: 'string', value: { lenBytes: 2n } } }, target: STRING, bad: 'ab€', good: 'é', want: ['string.len_bytes'] },
  { name: 'string.min_bytes', rules: { type: { case: 'string', value: { minBytes: 3n } } }, target: STRING, bad: 'ab', good: 'abc', want: ['string.min_bytes'] },
  { name: 'string.prefix', rules: { type: { case: 'string', value: { prefix: 'envoy.' } } }, target: STRING, bad: 'osm.x', good: 'envoy.x', want: ['string.prefix'] },
  { name: 'string.suffix', rules: { type: { case: 'string', value: { suffix: '.local' } } }, target: STRING, bad: 'a.com', good: 'a.local', want: ['string.suffix'] },
  { name: 'string.contains', rules: { type: { case: 'string', value: { contains: '/' } } }, target: STRING, bad: 'ab', good: 'a/b', want: ['string.contains'] },
  { name: 'string.not_contains', rules: { type: { case: 'string', value: { notContains: '..' } } }, target: STRING, bad: 'a/../b', good: 'a/b', want: ['string.not_contains'] },
  { name: 'string.not_in', rules: { type: { case: 'string', value: { notIn: ['x', 'y'] } } }, target: STRING, bad: 'y', good: 'z', want: ['string.not_in'] },
  { name: 'string.pattern is an unanchored RE2 search', rules: { type: { case: 'string', value: { pattern: '[0-9]+' } } }, target: STRING, bad: 'abc', good: 'a1c', want: ['string.pattern'] },
  { name: 'string.hostname', rules: { type: { case: 'string', value: { wellKnown: { case: 'hostname', value: true } } } }, target: STRING, bad: '-bad.example', good: 'api.shop.svc.cluster.local.', want: ['string.hostname'] },
  { name: 'string.ip', rules: { type: { case: 'string', value: { wellKnown: { case: 'ip', value: true } } } }, target: STRING, bad: '10.0.0', good: '::1', want: ['string.ip'] },
  { name: 'string.ipv4', rules: { type: { case: 'string', value: { wellKnown: { case: 'ipv4', value: true } } } }, target: STRING, bad: '::1', good: '10.0.0.1', want: ['string.ipv4'] },
  { name: 'string.ipv6', rules: { type: { case: 'string', value: { wellKnown: { case: 'ipv6', value: true } } } }, target: STRING, bad: '10.0.0.1', good: 'fd00::1', want: ['string.ipv6'] },
  { name: 'string.address', rules: { type: { case: 'string', value: { wellKnown: { case: 'address', value: true } } } }, target: STRING, bad: 'a b', good: '10.0.0.1', want: ['string.address'] },
  { name: 'string.uuid', rules: { type: { case: 'string', value: { wellKnown: { case: 'uuid', value: true } } } }, target: STRING, bad: '1234', good: '123e4567-e89b-12d3-a456-426614174000', want: ['string.uuid'] },
  { name: 'string.well_known_regex HTTP_HEADER_VALUE strict allows tab, not other controls', rules: { type: { case: 'string', value: { wellKnown: { case: 'wellKnownRegex', value: KnownRegex.HTTP_HEADER_VALUE } } } }, target: STRING, bad: 'a\u0001b', good: 'a\tb', want: ['string.well_known_regex'] },
  { name: 'string.well_known_regex HTTP_HEADER_NAME strict allows a pseudo-header colon', rules: { type: { case: 'string', value: { wellKnown: { case: 'wellKnownRegex', value: KnownRegex.HTTP_HEADER_NAME } } } }, target: STRING, bad: 'a:b', good: ':authority', want: ['string.well_known_regex'] },
  { name: 'bytes.const', rules: { type: { case: 'bytes', value: { const: b(1, 2) } } }, target: BYTES, bad: b(1), good: b(1, 2), want: ['bytes.const'] },
  { name: 'bytes.len', rules: { type: { case: 'bytes', value: { len: 2n } } }, target: BYTES, bad: b(1), good: b(1, 2), want: ['bytes.len'] },
  { name: 'bytes.min_len', rules: { type: { case: 'bytes', value: { minLen: 1n } } }, target: BYTES, bad: b(), good: b(0), want: ['bytes.min_len'] },
  { name: 'bytes.prefix', rules: { type: { case: 'bytes', value: { prefix: b(0xca) } } }, target: BYTES, bad: b(0xfe, 0xca), good: b(0xca, 0xfe), want: ['bytes.prefix'] },
  { name: 'bytes.suffix', rules: { type: { case: 'bytes', value: { suffix: b(0xfe) } } }, target: BYTES, bad: b(0xfe, 0xca), good: b(0xca, 0xfe), want: ['bytes.suffix'] },
  { name: 'bytes.contains', rules: { type: { case: 'bytes', value: { contains: b(2, 3) } } }, target: BYTES, bad: b(1, 2, 4, 3), good: b(1, 2, 3), want: ['bytes.contains'] },
  { name: 'bytes.in', rules: { type: { case: 'bytes', value: { in: [b(1), b(2)] } } }, target: BYTES, bad: b(3), good: b(2), want: ['bytes.in'] },
  { name: 'bytes.not_in', rules: { type: { case: 'bytes', value: { notIn: [b(1)] } } }, target: BYTES, bad: b(1), good: b(2), want: ['bytes.not_in'] },
  { name: 'bytes.ipv4', rules: { type: { case: 'bytes', value: { wellKnown: { case: 'ipv4', value: true } } } }, target: BYTES, bad: b(10, 0, 0), good: b(10, 0, 0, 1), want: ['bytes.ipv4'] },
  { name: 'bytes.pattern', rules: { type: { case: 'bytes', value: { pattern: '^ab$' } } }, target: BYTES, bad: new TextEncoder().encode('abc'), good: new TextEncoder().encode('ab'), want: ['bytes.pattern'] },
  { name: 'bool.const', rules: { type: { case: 'bool', value: { const: true } } }, target: scalar(ScalarType.BOOL), bad: false, good: true, want: ['bool.const'] },
  { name: 'int64.gt on bigints', rules: { type: { case: 'int64', value: { gt: 10n } } }, target: scalar(ScalarType.INT64), bad: 10n, good: 11n, want: ['int64.gt'] },
  { name: 'int64 in jstype=JS_STRING form', rules: { type: { case: 'int64', value: { lte: 5n } } }, target: scalar(ScalarType.INT64), bad: '6', good: '5', want: ['int64.lte'] },
  { name: 'uint32 inverted range (gt 10, lt 5) means outside [5, 10]', rules: { type: { case: 'uint32', value: { gt: 10, lt: 5 } } }, target: scalar(ScalarType.UINT32), bad: 7, good: 12, want: ['uint32.gt+lt'] },
  { name: 'uint32.const', rules: { type: { case: 'uint32', value: { const: 3 } } }, target: scalar(ScalarType.UINT32), bad: 4, good: 3, want: ['uint32.const'] },
  { name: 'float.in', rules: { type: { case: 'float', value: { in: [0.5, 1] } } }, target: scalar(ScalarType.FLOAT), bad: 0.25, good: 1, want: ['float.in'] },
  { name: 'sint32.not_in', rules: { type: { case: 'sint32', value: { notIn: [-1] } } }, target: scalar(ScalarType.SINT32), bad: -1, good: 0, want: ['sint32.not_in'] },
  { name: 'enum.const', rules: { type: { case: 'enum', value: { const: Cluster_LbPolicy.ROUND_ROBIN } } }, target: ENUM, bad: Cluster_LbPolicy.RANDOM, good: Cluster_LbPolicy.ROUND_ROBIN, want: ['enum.const'] },
  { name: 'enum.in', rules: { type: { case: 'enum', value: { in: [Cluster_LbPolicy.ROUND_ROBIN, Cluster_LbPolicy.LEAST_REQUEST] } } }, target: ENUM, bad: Cluster_LbPolicy.RANDOM, good: Cluster_LbPolicy.LEAST_REQUEST, want: ['enum.in'] },
  { name: 'any.in', rules: { type: { case: 'any', value: { in: ['type.googleapis.com/a.B'] } } }, target: message('google.protobuf.Any'), bad: create(AnySchema, { typeUrl: 'type.googleapis.com/a.C' }), good: create(AnySchema, { typeUrl: 'type.googleapis.com/a.B' }), want: ['any.in'] },
  { name: 'any.not_in', rules: { type: { case: 'any', value: { notIn: ['type.googleapis.com/a.B'] } } }, target: message('google.protobuf.Any'), bad: create(AnySchema, { typeUrl: 'type.googleapis.com/a.B' }), good: create(AnySchema, { typeUrl: 'type.googleapis.com/a.C' }), want: ['any.not_in'] },
  { name: 'duration.const', rules: { type: { case: 'duration', value: { const: seconds(5) } } }, target: message('google.protobuf.Duration'), bad: seconds(6), good: seconds(5), want: ['duration.const'] },
  { name: 'duration.in', rules: { type: { case: 'duration', value: { in: [seconds(1), seconds(2)] } } }, target: message('google.protobuf.Duration'), bad: seconds(3), good: seconds(2), want: ['duration.in'] },
  { name: 'duration.lte', rules: { type: { case: 'duration', value: { lte: seconds(1) } } }, target: message('google.protobuf.Duration'), bad: create(DurationSchema, { seconds: 1n, nanos: 1 }), good: seconds(1), want: ['duration.lte'] },
  { name: 'timestamp.gt', rules: { type: { case: 'timestamp', value: { gt: at(1_700_000_000) } } }, target: message('google.protobuf.Timestamp'), bad: at(1_600_000_000), good: at(1_800_000_000), want: ['timestamp.gt'] },
  { name: 'repeated.max_items', rules: { type: { case: 'repeated', value: { maxItems: 1n } } }, target: { kind: 'list', element: STRING }, bad: ['a', 'b'], good: ['a'], want: ['repeated.max_items'] },
  { name: 'repeated.unique on bytes compares contents', rules: { type: { case: 'repeated', value: { unique: true } } }, target: { kind: 'list', element: BYTES }, bad: [b(1), b(1)], good: [b(1), b(2)], want: ['repeated.unique'] },
  { name: 'map.max_pairs', rules: { type: { case: 'map', value: { maxPairs: 1n } } }, target: { kind: 'map', key: STRING, value: STRING }, bad: [['a', 'x'], ['b', 'y']], good: [['a', 'x']], want: ['map.max_pairs'] },
];

for (const c of cases) {
  const rules = compileRules(create(FieldRulesSchema, c.rules), c.target);
  test(`${c.name}: caught`, () => assert.deepEqual(broken(rules, c.bad), c.want));
  test(`${c.name}: the valid value passes`, () => assert.deepEqual(broken(rules, c.good), []));
  test(`${c.name}: compiles with nothing unsupported`, () => assert.deepEqual(rules.unsupported, []));
}

const unsupported: Array<{ name: string; rules: Init; target: RuleTarget; want: string[] }> = [
  { name: 'string.email', rules: { type: { case: 'string', value: { wellKnown: { case: 'email', value: true } } } }, target: STRING, want: ['string.email'] },
  { name: 'string.uri', rules: { type: { case: 'string', value: { wellKnown: { case: 'uri', value: true } } } }, target: STRING, want: ['string.uri'] },
  { name: 'timestamp.lt_now', rules: { type: { case: 'timestamp', value: { ltNow: true } } }, target: message('google.protobuf.Timestamp'), want: ['timestamp.lt_now'] },
  { name: 'timestamp.within', rules: { type: { case: 'timestamp', value: { within: seconds(1) } } }, target: message('google.protobuf.Timestamp'), want: ['timestamp.within'] },
  { name: 'a rule kind that does not fit the field', rules: { type: { case: 'string', value: { minLen: 1n } } }, target: scalar(ScalarType.UINT32), want: ['string.min_len (on a uint32 field)'] },
  { name: 'repeated.unique on message items', rules: { type: { case: 'repeated', value: { unique: true } } }, target: { kind: 'list', element: message('envoy.config.core.v3.Address') }, want: ['repeated.unique (on message items)'] },
];
for (const c of unsupported) {
  test(`${c.name} is reported as unsupported, not skipped`, () => {
    assert.deepEqual(compileRules(create(FieldRulesSchema, c.rules), c.target).unsupported, c.want);
  });
}

test('a newer validate.proto rule (an unknown field in the rules) is reported as unsupported', () => {
  const rules = create(FieldRulesSchema, { type: { case: 'string', value: { minLen: 1n } } });
  if (rules.type.case === 'string') rules.type.value.$unknown = [{ no: 99, wireType: 0, data: b(1) }];
  assert.deepEqual(compileRules(rules, STRING).unsupported, ['string.field 99']);
});

test('any.required on a plain message field is a presence rule (Envoy uses it on ConfigSource)', () => {
  const rules = compileRules(create(FieldRulesSchema, { type: { case: 'any', value: { required: true } } }), message('envoy.config.core.v3.ConfigSource'));
  assert.equal(rules.required, 'any.required');
  assert.deepEqual(rules.unsupported, []);
});

test('messages name the bound, the range and the unit', () => {
  const text = (init: Init, target: RuleTarget, value: unknown) =>
    compileRules(create(FieldRulesSchema, init), target).checks.map((c) => c.test(value)).filter((m) => m !== undefined);
  assert.deepEqual(text({ type: { case: 'uint32', value: { gte: 200, lt: 600 } } }, scalar(ScalarType.UINT32), 99), ['must be in the range [200, 600)']);
  assert.deepEqual(text({ type: { case: 'duration', value: { gt: {} } } }, message('google.protobuf.Duration'), seconds(0)), ['must be greater than 0s']);
  assert.deepEqual(text({ type: { case: 'string', value: { minLen: 2n } } }, STRING, 'a'), ['must be at least 2 characters']);
  assert.deepEqual(text({ type: { case: 'enum', value: { definedOnly: true } } }, ENUM, 42), ['must be a defined envoy.config.cluster.v3.Cluster.LbPolicy value (got 42)']);
});

const durations = [
  { nanos: 0n, want: '0s' },
  { nanos: 1_500_000_000n, want: '1.5s' },
  { nanos: 1n, want: '0.000000001s' },
  { nanos: -250_000_000n, want: '-0.25s' },
];
for (const c of durations) test(`formatDuration(${c.nanos}) is ${c.want}`, () => assert.equal(formatDuration(c.nanos), c.want));

const hostnames = [
  { host: 'api.shop.svc.cluster.local', want: true },
  { host: 'API.example.', want: true },
  { host: 'a'.repeat(64), want: false },
  { host: 'a..b', want: false },
  { host: 'under_score', want: false },
  { host: 'x-.y', want: false },
];
for (const c of hostnames) test(`isHostname(${JSON.stringify(c.host)}) is ${c.want}`, () => assert.equal(isHostname(c.host), c.want));

test('the registry resolves the validate extension (rules are readable at run time)', () => {
  assert.ok(envoyRegistry.getExtension('validate.rules'));
});
