/**
 * Building blocks every decoder shares: an issue collector keyed by proto field path, the
 * check that rejects fields the sidecar does not implement (so it NACKs rather than silently
 * ignoring them), `Any` unpacking, string/header matchers with RE2 checks, durations, data
 * sources, token buckets, and deep freezing.
 *
 * Paths use the protos' snake_case field names, `[i]` for list items, `["key"]` for map entries
 * and `typed_config<full.type.Name>` where an `Any` was unpacked.
 */
import type { Message } from '@bufbuild/protobuf';
import { reflect } from '@bufbuild/protobuf/reflect';
import { checkRe2, compileWhole } from '../../lib/re2.js';
import {
  durationMs,
  envoyRegistry,
  unpackAny,
  type Any,
  type ConfigSource,
  type DataSource,
  type DescMessage,
  type Duration,
  type HeaderMatcher,
  type MessageShape,
  type StringMatcher,
  type TokenBucket,
} from '../../xds/proto.js';
import type { ConfigIssue, Decoded, HeaderMatch, StringMatch, TokenBucketConfig } from './model.js';

/** Collects issues while a resource is decoded; the decoder reports them all at once. */
export class Issues {
  readonly list: ConfigIssue[] = [];

  /** Records one issue at `path`. */
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** `value` when nothing went wrong, else every issue. */
  result<T>(value: T | undefined): Decoded<T> {
    if (this.list.length > 0 || value === undefined) {
      return { ok: false, errors: this.list.length > 0 ? [...this.list] : [{ path: '', message: 'could not be decoded' }] };
    }
    return { ok: true, value: deepFreeze(value) };
  }
}

/** Appends a field name to a path. */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/** Appends a list index to a path. */
export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** Appends a map key to a path. */
export function key(path: string, name: string): string {
  return `${path}["${name}"]`;
}

/** Fields that only feed logs and stats: read or ignored, never a reason to NACK. */
const OBSERVABILITY = new Set(['stat_prefix', 'access_log', 'alt_stat_name', 'rules_stat_prefix', 'shadow_rules_stat_prefix']);

/**
 * Reports every set field of `message` outside `supported` (and the observability fields):
 * a field the sidecar would ignore changes what Envoy would do, so it must be a NACK.
 */
export function rejectUnsupported<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, path: string, supported: readonly string[], issues: Issues): void {
  const r = reflect(schema, message, false);
  for (const field of r.fields) {
    if (!r.isSet(field) || OBSERVABILITY.has(field.name) || supported.includes(field.name)) continue;
    issues.add(at(path, field.name), `not supported by the sidecar`);
  }
}

/** `rejectUnsupported` for a message whose schema `xds/proto.ts` does not export (looked up by type name). */
export function rejectUnsupportedIn(message: Message, path: string, supported: readonly string[], issues: Issues): void {
  const desc = envoyRegistry.getMessage(message.$typeName);
  if (desc) rejectUnsupported(desc, message as MessageShape<DescMessage>, path, supported, issues);
  else issues.add(path, `unknown message type ${message.$typeName}`);
}

/** Unpacks a typed config; on a type mismatch or bad bytes records why. */
export function unpackTyped<Desc extends DescMessage>(any: Any, schema: Desc, path: string, issues: Issues): MessageShape<Desc> | undefined {
  const r = unpackAny(any, schema);
  if (r.ok) return r.message;
  issues.add(at(path, 'typed_config'), r.reason);
  return undefined;
}

/** The path segment of an unpacked `Any`. */
export function typedPath(path: string, schema: DescMessage): string {
  return at(path, `typed_config<${schema.typeName}>`);
}

/** The type name an `Any` claims to hold, without the `type.googleapis.com/` prefix. */
export function typeNameOf(any: Any): string {
  return any.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1);
}

/** Compiles an RE2 pattern matched against whole inputs, or records why it is not RE2. */
export function decodeRegex(regex: string, path: string, issues: Issues) {
  const check = checkRe2(regex);
  if (!check.ok) {
    issues.add(path, `not RE2: ${check.construct ? `${check.construct} (${check.reason})` : check.reason}`);
    return undefined;
  }
  return compileWhole(regex);
}

/** Decodes a StringMatcher (exact, prefix, suffix, contains, RE2 safe_regex); `custom` is rejected. */
export function decodeStringMatcher(m: StringMatcher, path: string, issues: Issues): StringMatch | undefined {
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact':
    case 'prefix':
    case 'suffix':
    case 'contains':
      return { kind: p.case, value: p.value, ignoreCase: m.ignoreCase };
    case 'safeRegex': {
      if (m.ignoreCase) issues.add(at(path, 'ignore_case'), 'not supported with safe_regex');
      const regex = decodeRegex(p.value.regex, at(path, 'safe_regex.regex'), issues);
      return regex ? { kind: 'regex', regex } : undefined;
    }
    case 'custom':
      issues.add(at(path, 'custom'), 'custom string matchers are not supported by the sidecar');
      return undefined;
    default:
      issues.add(path, 'a string matcher needs one of exact, prefix, suffix, contains, safe_regex');
      return undefined;
  }
}

/** Decodes a HeaderMatcher: string_match, present_match and the deprecated exact/regex/prefix/suffix/contains forms. */
export function decodeHeaderMatcher(h: HeaderMatcher, path: string, issues: Issues): HeaderMatch | undefined {
  if (h.name === '') issues.add(at(path, 'name'), 'required');
  if (h.treatMissingHeaderAsEmpty) issues.add(at(path, 'treat_missing_header_as_empty'), 'not supported by the sidecar');
  const s = h.headerMatchSpecifier;
  const base = { name: h.name.toLowerCase(), invert: h.invertMatch };
  const str = (match: StringMatch | undefined): HeaderMatch | undefined => (match ? { ...base, kind: 'string', match } : undefined);
  switch (s.case) {
    case 'stringMatch':
      return str(decodeStringMatcher(s.value, at(path, 'string_match'), issues));
    case 'exactMatch':
    case 'prefixMatch':
    case 'suffixMatch':
    case 'containsMatch':
      return str({ kind: s.case.slice(0, -'Match'.length) as 'exact' | 'prefix' | 'suffix' | 'contains', value: s.value, ignoreCase: false });
    case 'safeRegexMatch': {
      const regex = decodeRegex(s.value.regex, at(path, 'safe_regex_match.regex'), issues);
      return str(regex ? { kind: 'regex', regex } : undefined);
    }
    case 'presentMatch':
      return { ...base, kind: 'present', present: s.value };
    case undefined:
      // Envoy treats a matcher with no specifier as "the header is present".
      return { ...base, kind: 'present', present: true };
    default:
      issues.add(at(path, snake(s.case)), `the header matcher ${snake(s.case)} is not supported by the sidecar`);
      return undefined;
  }
}

/** Turns a protobuf-es local name into the proto field name (`rangeMatch` -> `range_match`). */
export function snake(localName: string): string {
  return localName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Milliseconds of an optional Duration; `undefined` when absent, an issue when negative. */
export function msOf(d: Duration | undefined, path: string, issues: Issues): number | undefined {
  if (!d) return undefined;
  const ms = durationMs(d);
  if (ms < 0) issues.add(path, 'must not be negative');
  return ms;
}

/** Inline text of a DataSource; files and environment variables are not read by pure config. */
export function decodeDataSource(d: DataSource | undefined, path: string, issues: Issues): string | undefined {
  const s = d?.specifier;
  if (!s || s.case === undefined) {
    issues.add(path, 'required');
    return undefined;
  }
  if (s.case === 'inlineString') return s.value;
  if (s.case === 'inlineBytes') return new TextDecoder().decode(s.value);
  issues.add(at(path, snake(s.case)), 'only inline_string and inline_bytes are supported by the sidecar');
  return undefined;
}

/** A token bucket; Envoy requires a positive fill interval and capacity. */
export function decodeTokenBucket(b: TokenBucket | undefined, path: string, issues: Issues): TokenBucketConfig | undefined {
  if (!b) {
    issues.add(path, 'required');
    return undefined;
  }
  const fillIntervalMs = msOf(b.fillInterval, at(path, 'fill_interval'), issues) ?? 0;
  if (fillIntervalMs <= 0) issues.add(at(path, 'fill_interval'), 'must be greater than 0');
  if (b.maxTokens === 0) issues.add(at(path, 'max_tokens'), 'must be greater than 0');
  return { maxTokens: b.maxTokens, tokensPerFill: b.tokensPerFill ?? 1, fillIntervalMs };
}

/** The sidecar fetches everything over its one ADS stream: any other config source is refused. */
export function checkAdsSource(source: ConfigSource | undefined, path: string, issues: Issues): void {
  if (source && source.configSourceSpecifier.case !== 'ads') issues.add(at(path, 'ads'), 'the sidecar only fetches resources over ADS');
}

/** Freezes a decoded value and everything it holds (compiled matchers included). */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
