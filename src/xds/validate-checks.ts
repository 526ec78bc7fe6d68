/**
 * Compiles one field's protoc-gen-validate rules (`(validate.rules)`, validate/validate.proto)
 * into checks, once per field; validate-rules.ts walks messages and runs them. Semantics follow
 * PGV's Go templates (envoyproxy/protoc-gen-validate:templates/goshared), which is what Envoy
 * enforces when it loads config.
 *
 * Implemented (every rule kind the Envoy protos we generate use, and their siblings):
 *   numbers (all twelve kinds): const, lt, lte, gt, gte (ranges and inverted ranges as PGV), in, not_in
 *   bool: const
 *   string: const, len, min_len, max_len, len_bytes, min_bytes, max_bytes, pattern (RE2), prefix,
 *     suffix, contains, not_contains, in, not_in, hostname, ip, ipv4, ipv6, address, uuid,
 *     well_known_regex (HTTP_HEADER_NAME, HTTP_HEADER_VALUE, with `strict`), ignore_empty
 *   bytes: const, len, min_len, max_len, pattern, prefix, suffix, contains, in, not_in, ip, ipv4, ipv6
 *   enum: const, defined_only, in, not_in
 *   message: required, skip;  any: required, in, not_in
 *   duration: required, const, lt, lte, gt, gte, in, not_in
 *   timestamp: required, const, lt, lte, gt, gte
 *   repeated: min_items, max_items, unique, items;  map: min_pairs, max_pairs, no_sparse, keys, values
 * Not implemented (no Envoy message we generate uses them; validate-rules.test.ts fails if one
 * starts to): string.email, string.uri, string.uri_ref (PGV defines them by Go's net/mail and
 * net/url parsers), timestamp.lt_now, timestamp.gt_now, timestamp.within (they need a clock,
 * and xds/ is pure). Any rule not implemented, including fields a newer validate.proto adds,
 * is reported as a violation with rule `unsupported`, never skipped silently.
 */
import { isMessage, ScalarType, type DescEnum, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { DurationSchema, isWrapperDesc, TimestampSchema } from '@bufbuild/protobuf/wkt';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { RE2JS } from 're2js';
import { FieldRulesSchema, KnownRegex, type FieldRules } from '../gen/validate/validate_pb.js';
import {
  bytesEqual,
  formatDuration,
  formatTimestamp,
  hex,
  indexOfBytes,
  isHeaderNameStrict,
  isHeaderStringLoose,
  isHeaderValueStrict,
  isHostname,
  runeCount,
  UUID,
} from './validate-formats.js';

/** One check of a present value against one rule; returns why it fails, or undefined. */
export interface Check {
  /** `<kind>.<rule>` as validate.proto spells them, e.g. `string.min_len`. */
  readonly rule: string;
  test(value: unknown): string | undefined;
}

/** One field's rules, compiled. */
export interface CompiledRules {
  /** The rule that makes an unset message field a violation (`message.required`, `any.required`...). */
  readonly required: string | undefined;
  /** `message.skip`: do not descend into the value. */
  readonly skip: boolean;
  /** `string.ignore_empty`: no check applies to "". */
  readonly ignoreEmpty: boolean;
  /** Checks on the value (for repeated and map fields: on the whole collection). */
  readonly checks: readonly Check[];
  /** Rules present but not implemented, as `<kind>.<rule>`; each is reported when the field is checked. */
  readonly unsupported: readonly string[];
  readonly items: CompiledRules | undefined;
  readonly keys: CompiledRules | undefined;
  readonly values: CompiledRules | undefined;
}

/** What a rule is applied to: a scalar, an enum, a message (by full name), or a collection. */
export type RuleTarget =
  | { kind: 'scalar'; scalar: ScalarType }
  | { kind: 'enum'; enum: DescEnum }
  | { kind: 'message'; typeName: string }
  | { kind: 'list'; element: RuleTarget }
  | { kind: 'map'; key: RuleTarget; value: RuleTarget };

/** The rule target of a field (for lists and maps, of the whole collection). */
export function targetOf(field: DescField): RuleTarget {
  switch (field.fieldKind) {
    case 'scalar':
      return { kind: 'scalar', scalar: field.scalar };
    case 'enum':
      return { kind: 'enum', enum: field.enum };
    case 'message':
      return messageTarget(field.message);
    case 'list': {
      const element: RuleTarget =
        field.listKind === 'scalar' ? { kind: 'scalar', scalar: field.scalar }
        : field.listKind === 'enum' ? { kind: 'enum', enum: field.enum }
        : messageTarget(field.message);
      return { kind: 'list', element };
    }
    case 'map': {
      const value: RuleTarget =
        field.mapKind === 'scalar' ? { kind: 'scalar', scalar: field.scalar }
        : field.mapKind === 'enum' ? { kind: 'enum', enum: field.enum }
        : messageTarget(field.message);
      return { kind: 'map', key: { kind: 'scalar', scalar: field.mapKey }, value };
    }
  }
}

// Wrapper types (google.protobuf.UInt32Value...) take the rules of the scalar they wrap.
function messageTarget(message: DescMessage): RuleTarget {
  const wrapped = isWrapperDesc(message) ? message.fields[0].scalar : undefined;
  return wrapped !== undefined ? { kind: 'scalar', scalar: wrapped } : { kind: 'message', typeName: message.typeName };
}

const NUMERIC_KIND: Partial<Record<ScalarType, string>> = {
  [ScalarType.DOUBLE]: 'double', [ScalarType.FLOAT]: 'float',
  [ScalarType.INT32]: 'int32', [ScalarType.INT64]: 'int64', [ScalarType.UINT32]: 'uint32', [ScalarType.UINT64]: 'uint64',
  [ScalarType.SINT32]: 'sint32', [ScalarType.SINT64]: 'sint64', [ScalarType.FIXED32]: 'fixed32', [ScalarType.FIXED64]: 'fixed64',
  [ScalarType.SFIXED32]: 'sfixed32', [ScalarType.SFIXED64]: 'sfixed64',
};

/** The rule kind (FieldRules oneof case) that fits a target; undefined for plain messages. */
function kindFor(target: RuleTarget): string | undefined {
  switch (target.kind) {
    case 'scalar':
      return target.scalar === ScalarType.BOOL ? 'bool'
        : target.scalar === ScalarType.STRING ? 'string'
        : target.scalar === ScalarType.BYTES ? 'bytes'
        : NUMERIC_KIND[target.scalar];
    case 'enum':
      return 'enum';
    case 'message':
      return target.typeName === 'google.protobuf.Duration' ? 'duration'
        : target.typeName === 'google.protobuf.Timestamp' ? 'timestamp'
        : target.typeName === 'google.protobuf.Any' ? 'any'
        : undefined;
    case 'list':
      return 'repeated';
    case 'map':
      return 'map';
  }
}

/** Rule values by proto field name, for the fields set in one rules message. */
type RuleEntries = Map<string, unknown>;

function entriesOf(rules: ReflectMessage): RuleEntries {
  const entries: RuleEntries = new Map();
  for (const field of rules.fields) {
    if (!rules.isSet(field)) continue;
    if (field.fieldKind === 'list') {
      entries.set(field.name, [...rules.get(field)].map((item) => (isReflectMessage(item) ? item.message : item)));
    } else {
      const value: unknown = rules.get(field);
      entries.set(field.name, isReflectMessage(value) ? value.message : value);
    }
  }
  // Fields our validate.proto does not know (a newer PGV) arrive as unknown fields.
  for (const unknown of rules.getUnknown() ?? []) entries.set(`field ${unknown.no}`, undefined);
  return entries;
}

const TYPE_ONEOF = FieldRulesSchema.oneofs.find((oneof) => oneof.name === 'type');
const MESSAGE_FIELD = FieldRulesSchema.fields.find((field) => field.name === 'message');

/** Compiles `(validate.rules)` for a field whose values are `target`. */
export function compileRules(rules: FieldRules, target: RuleTarget): CompiledRules {
  const out = new Builder();
  const top = reflect(FieldRulesSchema, rules, false);
  if (MESSAGE_FIELD && top.isSet(MESSAGE_FIELD)) {
    const flags = top.get(MESSAGE_FIELD);
    for (const [name, value] of isReflectMessage(flags) ? entriesOf(flags) : []) {
      if (name === 'required') {
        if (value === true) out.required = 'message.required';
      } else if (name === 'skip') out.skip = value === true;
      else out.unsupported.push(`message.${name}`);
    }
  }
  const kindField = TYPE_ONEOF && top.oneofCase(TYPE_ONEOF);
  if (!kindField) return out.done();
  const kindRules = top.get(kindField);
  if (!isReflectMessage(kindRules)) return out.done();
  const kind = kindField.name;
  const entries = entriesOf(kindRules);
  const expected = kindFor(target);
  if (kind !== expected) {
    // Envoy marks some plain message fields `(validate.rules).any = {required: true}`; PGV
    // treats that as presence. Anything else on the wrong type cannot be checked.
    for (const [name, value] of entries) {
      if (name === 'required' && value === true && target.kind === 'message') out.required = `${kind}.required`;
      else out.unsupported.push(`${kind}.${name} (on a ${expected ?? 'message'} field)`);
    }
    return out.done();
  }
  const compile = KIND_COMPILERS[kind];
  const handled = compile ? compile(kind, entries, target, out) : new Set<string>();
  for (const name of entries.keys()) if (!handled.has(name)) out.unsupported.push(`${kind}.${name}`);
  return out.done();
}

class Builder {
  required: string | undefined;
  skip = false;
  ignoreEmpty = false;
  checks: Check[] = [];
  unsupported: string[] = [];
  items: CompiledRules | undefined;
  keys: CompiledRules | undefined;
  values: CompiledRules | undefined;

  check(rule: string, test: (value: unknown) => string | undefined): void {
    this.checks.push({ rule, test });
  }

  done(): CompiledRules {
    return { ...this };
  }
}

/** Adds checks for the entries it knows; returns their names (the rest are unsupported). */
type KindCompiler = (kind: string, entries: RuleEntries, target: RuleTarget, out: Builder) => Set<string>;

// ---- numbers (and the bounds shared with durations and timestamps) ----

type Num = number | bigint;

function toNum(value: unknown): Num | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  // 64-bit fields with `jstype = JS_STRING` hold decimal strings.
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return BigInt(value);
  return undefined;
}

function numEq(a: Num, b: Num): boolean {
  return typeof a === typeof b ? a === b : !(a < b) && !(a > b);
}

interface Bounds {
  gt?: Num; gte?: Num; lt?: Num; lte?: Num;
}

/**
 * PGV's range rules: a lower bound (gt/gte) and an upper bound (lt/lte) form a range the value
 * must be inside; if the upper bound is below the lower one, the value must be outside it.
 * Inside a range, each bound is its own check, so a violation names the bound it breaks.
 */
function addBounds(kind: string, bounds: Bounds, show: (v: Num) => string, read: (value: unknown) => Num | undefined, out: Builder): void {
  const lowerName = bounds.gt !== undefined ? 'gt' : bounds.gte !== undefined ? 'gte' : undefined;
  const upperName = bounds.lt !== undefined ? 'lt' : bounds.lte !== undefined ? 'lte' : undefined;
  const lower = bounds.gt ?? bounds.gte;
  const upper = bounds.lt ?? bounds.lte;
  const lowerOpen = lowerName === 'gt';
  const upperOpen = upperName === 'lt';
  const above = (v: Num) => lower === undefined || (lowerOpen ? v > lower : v >= lower);
  const below = (v: Num) => upper === undefined || (upperOpen ? v < upper : v <= upper);
  const bound = (rule: string, ok: (v: Num) => boolean, text: string) =>
    out.check(rule, (value) => {
      const v = read(value);
      return v === undefined || ok(v) ? undefined : text;
    });
  if (lower !== undefined && upper !== undefined) {
    const range = `${lowerOpen ? '(' : '['}${show(lower)}, ${show(upper)}${upperOpen ? ')' : ']'}`;
    const inside = upper > lower || (upper >= lower && !lowerOpen && !upperOpen);
    if (inside) {
      bound(`${kind}.${lowerName}`, above, `must be in the range ${range}`);
      bound(`${kind}.${upperName}`, below, `must be in the range ${range}`);
    } else {
      const forbidden = `${upperOpen ? '[' : '('}${show(upper)}, ${show(lower)}${lowerOpen ? ']' : ')'}`;
      bound(`${kind}.${lowerName}+${upperName}`, (v) => above(v) || below(v), `must be outside the range ${forbidden}`);
    }
  } else if (lower !== undefined) {
    bound(`${kind}.${lowerName}`, above, `must be greater than ${lowerOpen ? '' : 'or equal to '}${show(lower)}`);
  } else if (upper !== undefined) {
    bound(`${kind}.${upperName}`, below, `must be less than ${upperOpen ? '' : 'or equal to '}${show(upper)}`);
  }
}

function nums(values: unknown): Num[] {
  return Array.isArray(values) ? values.map(toNum).filter((v): v is Num => v !== undefined) : [];
}

const compileNumber: KindCompiler = (kind, entries, _target, out) => {
  const bound = (name: string) => toNum(entries.get(name));
  addBounds(kind, { gt: bound('gt'), gte: bound('gte'), lt: bound('lt'), lte: bound('lte') }, String, toNum, out);
  const konst = bound('const');
  if (konst !== undefined) out.check(`${kind}.const`, (value) => {
    const v = toNum(value);
    return v === undefined || numEq(v, konst) ? undefined : `must equal ${konst}`;
  });
  const within = nums(entries.get('in'));
  if (within.length > 0) out.check(`${kind}.in`, (value) => {
    const v = toNum(value);
    return v === undefined || within.some((x) => numEq(v, x)) ? undefined : `must be one of ${within.join(', ')}`;
  });
  const notIn = nums(entries.get('not_in'));
  if (notIn.length > 0) out.check(`${kind}.not_in`, (value) => {
    const v = toNum(value);
    return v === undefined || !notIn.some((x) => numEq(v, x)) ? undefined : `must not be one of ${notIn.join(', ')}`;
  });
  return new Set(['gt', 'gte', 'lt', 'lte', 'const', 'in', 'not_in']);
};

const compileBool: KindCompiler = (_kind, entries, _target, out) => {
  const konst = entries.get('const');
  if (typeof konst === 'boolean') out.check('bool.const', (value) => (value === konst ? undefined : `must be ${konst}`));
  return new Set(['const']);
};

// ---- strings and bytes ----

function plural(n: number | bigint, unit: string, units = `${unit}s`): string {
  return `${n} ${n === 1 || n === 1n ? unit : units}`;
}

function addLength(kind: string, entries: RuleEntries, names: [string, string, string], unit: string, measure: (value: unknown) => number | undefined, out: Builder): void {
  const [exact, min, max] = names;
  const rule = (name: string) => toNum(entries.get(name));
  const len = rule(exact);
  const minLen = rule(min);
  const maxLen = rule(max);
  if (len !== undefined) out.check(`${kind}.${exact}`, (value) => {
    const n = measure(value);
    return n === undefined || numEq(n, len) ? undefined : `must be exactly ${plural(len, unit)}`;
  });
  if (minLen !== undefined) out.check(`${kind}.${min}`, (value) => {
    const n = measure(value);
    return n === undefined || n >= minLen ? undefined : `must be at least ${plural(minLen, unit)}`;
  });
  if (maxLen !== undefined) out.check(`${kind}.${max}`, (value) => {
    const n = measure(value);
    return n === undefined || n <= maxLen ? undefined : `must be at most ${plural(maxLen, unit)}`;
  });
}

function addPattern(kind: string, pattern: unknown, out: Builder): void {
  if (typeof pattern !== 'string') return;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch {
    out.check(`${kind}.pattern`, () => `the rule's pattern ${JSON.stringify(pattern)} is not RE2 syntax`);
    return;
  }
  // PGV matches unanchored (Go's regexp.MatchString); Envoy's patterns carry their own ^...$.
  out.check(`${kind}.pattern`, (value) =>
    (typeof value === 'string' || value instanceof Uint8Array) && !re.test(value) ? `must match the pattern ${JSON.stringify(pattern)}` : undefined);
}

function strings(values: unknown): string[] {
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

function quoteList(values: readonly string[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

const WELL_KNOWN_STRING: Record<string, [(s: string) => boolean, string]> = {
  hostname: [isHostname, 'must be a valid hostname'],
  ip: [(s) => isIP(s) !== 0, 'must be a valid IP address'],
  ipv4: [isIPv4, 'must be a valid IPv4 address'],
  ipv6: [isIPv6, 'must be a valid IPv6 address'],
  address: [(s) => isIP(s) !== 0 || isHostname(s), 'must be a valid hostname or IP address'],
  uuid: [(s) => UUID.test(s), 'must be a valid UUID'],
};

const compileString: KindCompiler = (_kind, entries, _target, out) => {
  const str = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const handled = new Set(['const', 'len', 'min_len', 'max_len', 'len_bytes', 'min_bytes', 'max_bytes', 'pattern', 'prefix',
    'suffix', 'contains', 'not_contains', 'in', 'not_in', 'strict', 'ignore_empty', 'well_known_regex', ...Object.keys(WELL_KNOWN_STRING)]);
  out.ignoreEmpty = entries.get('ignore_empty') === true;
  const konst = entries.get('const');
  if (typeof konst === 'string') out.check('string.const', (v) => (str(v) === undefined || v === konst ? undefined : `must equal ${JSON.stringify(konst)}`));
  addLength('string', entries, ['len', 'min_len', 'max_len'], 'character', (v) => { const s = str(v); return s === undefined ? undefined : runeCount(s); }, out);
  addLength('string', entries, ['len_bytes', 'min_bytes', 'max_bytes'], 'byte', (v) => { const s = str(v); return s === undefined ? undefined : Buffer.byteLength(s, 'utf8'); }, out);
  addPattern('string', entries.get('pattern'), out);
  const affix = (name: string, fails: (s: string, x: string) => boolean, text: string) => {
    const x = entries.get(name);
    if (typeof x === 'string') out.check(`string.${name}`, (v) => { const s = str(v); return s !== undefined && fails(s, x) ? `${text} ${JSON.stringify(x)}` : undefined; });
  };
  affix('prefix', (s, x) => !s.startsWith(x), 'must start with');
  affix('suffix', (s, x) => !s.endsWith(x), 'must end with');
  affix('contains', (s, x) => !s.includes(x), 'must contain');
  affix('not_contains', (s, x) => s.includes(x), 'must not contain');
  const within = strings(entries.get('in'));
  if (within.length > 0) out.check('string.in', (v) => { const s = str(v); return s === undefined || within.includes(s) ? undefined : `must be one of ${quoteList(within)}`; });
  const notIn = strings(entries.get('not_in'));
  if (notIn.length > 0) out.check('string.not_in', (v) => { const s = str(v); return s === undefined || !notIn.includes(s) ? undefined : `must not be one of ${quoteList(notIn)}`; });
  for (const [name, [accepts, text]] of Object.entries(WELL_KNOWN_STRING)) {
    if (entries.get(name) === true) out.check(`string.${name}`, (v) => { const s = str(v); return s === undefined || accepts(s) ? undefined : text; });
  }
  const regex = entries.get('well_known_regex');
  if (regex === KnownRegex.HTTP_HEADER_NAME || regex === KnownRegex.HTTP_HEADER_VALUE) {
    // `strict` defaults to true (validate.proto); Envoy sets it false where it accepts any header byte but NUL/CR/LF.
    const strict = entries.get('strict') !== false;
    const isName = regex === KnownRegex.HTTP_HEADER_NAME;
    const accepts = !strict ? isHeaderStringLoose : isName ? isHeaderNameStrict : isHeaderValueStrict;
    const text = !strict ? 'must not contain NUL, CR or LF' : isName ? 'must be a valid HTTP header name' : 'must be a valid HTTP header value';
    out.check('string.well_known_regex', (v) => { const s = str(v); return s === undefined || accepts(s) ? undefined : text; });
  } else if (regex !== undefined && regex !== KnownRegex.UNKNOWN) {
    out.unsupported.push(`string.well_known_regex=${String(regex)}`);
  }
  return handled;
};

const compileBytes: KindCompiler = (_kind, entries, _target, out) => {
  const bytes = (value: unknown) => (value instanceof Uint8Array ? value : undefined);
  const rule = (name: string) => bytes(entries.get(name));
  const konst = rule('const');
  if (konst) out.check('bytes.const', (v) => { const b = bytes(v); return !b || bytesEqual(b, konst) ? undefined : `must equal ${hex(konst)}`; });
  addLength('bytes', entries, ['len', 'min_len', 'max_len'], 'byte', (v) => bytes(v)?.length, out);
  addPattern('bytes', entries.get('pattern'), out);
  const prefix = rule('prefix');
  if (prefix) out.check('bytes.prefix', (v) => { const b = bytes(v); return !b || bytesEqual(b.subarray(0, prefix.length), prefix) ? undefined : `must start with ${hex(prefix)}`; });
  const suffix = rule('suffix');
  if (suffix) out.check('bytes.suffix', (v) => { const b = bytes(v); return !b || (b.length >= suffix.length && bytesEqual(b.subarray(b.length - suffix.length), suffix)) ? undefined : `must end with ${hex(suffix)}`; });
  const contains = rule('contains');
  if (contains) out.check('bytes.contains', (v) => { const b = bytes(v); return !b || indexOfBytes(b, contains) >= 0 ? undefined : `must contain ${hex(contains)}`; });
  const list = (name: string) => { const v = entries.get(name); return Array.isArray(v) ? v.filter((x): x is Uint8Array => x instanceof Uint8Array) : []; };
  const within = list('in');
  if (within.length > 0) out.check('bytes.in', (v) => { const b = bytes(v); return !b || within.some((x) => bytesEqual(b, x)) ? undefined : `must be one of ${within.map(hex).join(', ')}`; });
  const notIn = list('not_in');
  if (notIn.length > 0) out.check('bytes.not_in', (v) => { const b = bytes(v); return !b || !notIn.some((x) => bytesEqual(b, x)) ? undefined : `must not be one of ${notIn.map(hex).join(', ')}`; });
  const ipLengths: Record<string, number[]> = { ip: [4, 16], ipv4: [4], ipv6: [16] };
  for (const [name, lengths] of Object.entries(ipLengths)) {
    if (entries.get(name) === true) out.check(`bytes.${name}`, (v) => { const b = bytes(v); return !b || lengths.includes(b.length) ? undefined : `must be ${name === 'ip' ? 'an IP' : `an ${name.toUpperCase()}`} address in network byte order`; });
  }
  return new Set(['const', 'len', 'min_len', 'max_len', 'pattern', 'prefix', 'suffix', 'contains', 'in', 'not_in', 'ip', 'ipv4', 'ipv6']);
};

// ---- enums, Any, durations, timestamps ----

const compileEnum: KindCompiler = (_kind, entries, target, out) => {
  const describe = (n: number) => (target.kind === 'enum' ? target.enum.value[n]?.name : undefined) ?? String(n);
  const konst = entries.get('const');
  if (typeof konst === 'number') out.check('enum.const', (v) => (typeof v !== 'number' || v === konst ? undefined : `must be ${describe(konst)}`));
  if (entries.get('defined_only') === true && target.kind === 'enum') {
    const desc = target.enum;
    out.check('enum.defined_only', (v) => (typeof v !== 'number' || desc.value[v] !== undefined ? undefined : `must be a defined ${desc.typeName} value (got ${v})`));
  }
  const ints = (name: string) => { const v = entries.get(name); return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : []; };
  const within = ints('in');
  if (within.length > 0) out.check('enum.in', (v) => (typeof v !== 'number' || within.includes(v) ? undefined : `must be one of ${within.map(describe).join(', ')}`));
  const notIn = ints('not_in');
  if (notIn.length > 0) out.check('enum.not_in', (v) => (typeof v !== 'number' || !notIn.includes(v) ? undefined : `must not be ${notIn.map(describe).join(' or ')}`));
  return new Set(['const', 'defined_only', 'in', 'not_in']);
};

/** The type URL of an Any value (checks receive the local message). */
function anyTypeUrl(value: unknown): string | undefined {
  return isMessage(value) && 'typeUrl' in value && typeof value.typeUrl === 'string' ? value.typeUrl : undefined;
}

const compileAny: KindCompiler = (_kind, entries, _target, out) => {
  if (entries.get('required') === true) out.required = 'any.required';
  const within = strings(entries.get('in'));
  if (within.length > 0) out.check('any.in', (v) => { const t = anyTypeUrl(v); return t === undefined || within.includes(t) ? undefined : `type URL must be one of ${quoteList(within)}`; });
  const notIn = strings(entries.get('not_in'));
  if (notIn.length > 0) out.check('any.not_in', (v) => { const t = anyTypeUrl(v); return t === undefined || !notIn.includes(t) ? undefined : `type URL must not be one of ${quoteList(notIn)}`; });
  return new Set(['required', 'in', 'not_in']);
};

/** A Duration or Timestamp as nanoseconds, so bounds compare exactly. */
function nanosOf(value: unknown): bigint | undefined {
  if (isMessage(value, DurationSchema) || isMessage(value, TimestampSchema)) return value.seconds * 1_000_000_000n + BigInt(value.nanos);
  return undefined;
}

function compileTime(kind: 'duration' | 'timestamp'): KindCompiler {
  const show = kind === 'duration' ? formatDuration : formatTimestamp;
  return (_kind, entries, _target, out) => {
    if (entries.get('required') === true) out.required = `${kind}.required`;
    const rule = (name: string) => nanosOf(entries.get(name));
    addBounds(kind, { gt: rule('gt'), gte: rule('gte'), lt: rule('lt'), lte: rule('lte') }, (v) => show(BigInt(v)), nanosOf, out);
    const konst = rule('const');
    if (konst !== undefined) out.check(`${kind}.const`, (v) => { const n = nanosOf(v); return n === undefined || n === konst ? undefined : `must equal ${show(konst)}`; });
    const list = (name: string) => { const v = entries.get(name); return Array.isArray(v) ? v.map(nanosOf).filter((x): x is bigint => x !== undefined) : []; };
    const within = list('in');
    if (within.length > 0) out.check(`${kind}.in`, (v) => { const n = nanosOf(v); return n === undefined || within.includes(n) ? undefined : `must be one of ${within.map(show).join(', ')}`; });
    const notIn = list('not_in');
    if (notIn.length > 0) out.check(`${kind}.not_in`, (v) => { const n = nanosOf(v); return n === undefined || !notIn.includes(n) ? undefined : `must not be one of ${notIn.map(show).join(', ')}`; });
    return new Set(['required', 'gt', 'gte', 'lt', 'lte', 'const', 'in', 'not_in']);
  };
}

// ---- collections ----

/** A value's identity for `unique`: scalars by value, bytes by content. */
function uniqueKey(value: unknown): string {
  if (value instanceof Uint8Array) return `b:${hex(value)}`;
  return `${typeof value}:${String(value)}`;
}

function nestedRules(value: unknown): FieldRules | undefined {
  return isMessage(value, FieldRulesSchema) ? value : undefined;
}

const compileRepeated: KindCompiler = (_kind, entries, target, out) => {
  const count = (value: unknown) => (Array.isArray(value) ? value.length : undefined);
  const min = toNum(entries.get('min_items'));
  if (min !== undefined) out.check('repeated.min_items', (v) => { const n = count(v); return n === undefined || n >= min ? undefined : `must have at least ${plural(min, 'item')}`; });
  const max = toNum(entries.get('max_items'));
  if (max !== undefined) out.check('repeated.max_items', (v) => { const n = count(v); return n === undefined || n <= max ? undefined : `must have at most ${plural(max, 'item')}`; });
  const element = target.kind === 'list' ? target.element : target;
  if (entries.get('unique') === true) {
    if (element.kind === 'message') out.unsupported.push('repeated.unique (on message items)');
    else out.check('repeated.unique', (v) => {
      if (!Array.isArray(v)) return undefined;
      const seen = new Map<string, number>();
      for (const [i, item] of v.entries()) {
        const key = uniqueKey(item);
        const first = seen.get(key);
        if (first !== undefined) return `items must be unique: [${i}] repeats [${first}]`;
        seen.set(key, i);
      }
      return undefined;
    });
  }
  const items = nestedRules(entries.get('items'));
  if (items) out.items = compileRules(items, element);
  return new Set(['min_items', 'max_items', 'unique', 'items']);
};

const compileMap: KindCompiler = (_kind, entries, target, out) => {
  const count = (value: unknown) => (Array.isArray(value) ? value.length : undefined);
  const min = toNum(entries.get('min_pairs'));
  if (min !== undefined) out.check('map.min_pairs', (v) => { const n = count(v); return n === undefined || n >= min ? undefined : `must have at least ${plural(min, 'entry', 'entries')}`; });
  const max = toNum(entries.get('max_pairs'));
  if (max !== undefined) out.check('map.max_pairs', (v) => { const n = count(v); return n === undefined || n <= max ? undefined : `must have at most ${plural(max, 'entry', 'entries')}`; });
  // no_sparse forbids unset message values; a protobuf-es map cannot hold one, so it always holds.
  const keys = nestedRules(entries.get('keys'));
  if (keys && target.kind === 'map') out.keys = compileRules(keys, target.key);
  const values = nestedRules(entries.get('values'));
  if (values && target.kind === 'map') out.values = compileRules(values, target.value);
  return new Set(['min_pairs', 'max_pairs', 'no_sparse', 'keys', 'values']);
};

const KIND_COMPILERS: Record<string, KindCompiler | undefined> = {
  float: compileNumber, double: compileNumber, int32: compileNumber, int64: compileNumber, uint32: compileNumber,
  uint64: compileNumber, sint32: compileNumber, sint64: compileNumber, fixed32: compileNumber, fixed64: compileNumber,
  sfixed32: compileNumber, sfixed64: compileNumber,
  bool: compileBool,
  string: compileString,
  bytes: compileBytes,
  enum: compileEnum,
  any: compileAny,
  duration: compileTime('duration'),
  timestamp: compileTime('timestamp'),
  repeated: compileRepeated,
  map: compileMap,
};
