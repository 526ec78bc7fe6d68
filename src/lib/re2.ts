/**
 * RE2 regular expressions: syntax checks with messages that name the offending construct, and
 * linear-time matching. Request data is never matched with a backtracking engine (smi-decisions A3).
 */
import { RE2JS } from 're2js';

export type Re2Check = { ok: true } | { ok: false; construct?: string; reason: string };

/** Perl and PCRE constructs that RE2 leaves out, by the prefix re2js reports. */
const unsupported: Array<[RegExp, (m: RegExpMatchArray) => string]> = [
  [/^\(\?=/, () => 'a lookahead "(?=...)"'],
  [/^\(\?!/, () => 'a negative lookahead "(?!...)"'],
  [/^\(\?<=/, () => 'a lookbehind "(?<=...)"'],
  [/^\(\?<!/, () => 'a negative lookbehind "(?<!...)"'],
  [/^\(\?>/, () => 'an atomic group "(?>...)"'],
  [/^\(\?[#]/, () => 'an inline comment "(?#...)"'],
  [/^\\([1-9])/, (m) => `a backreference "\\${m[1]}"`],
  [/^\\[kg]/, () => 'a named backreference'],
  [/^([*+?}])\+$/, (m) => `a possessive quantifier "${m[1]}+"`],
  [/^\\([ZAGzbB]|[a-zA-Z])/, (m) => `the escape "\\${m[1]}"`],
];

/** Checks that `pattern` is RE2 syntax. */
export function checkRe2(pattern: string): Re2Check {
  try {
    RE2JS.compile(pattern);
    return { ok: true };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const detail = message.replace(/^error parsing regexp: /, '');
    const quoted = /`([^`]*)`$/.exec(detail)?.[1] ?? '';
    if (/invalid or unsupported Perl syntax|invalid escape sequence|invalid nested repetition operator|invalid named capture/.test(detail)) {
      for (const [prefix, name] of unsupported) {
        const m = prefix.exec(quoted);
        if (m) return { ok: false, construct: name(m), reason: detail };
      }
    }
    return { ok: false, reason: detail };
  }
}

/** A compiled RE2 expression that must match a whole string (Envoy's `safe_regex` semantics). */
export interface WholeMatcher {
  readonly source: string;
  test(input: string): boolean;
}

/** Compiles `pattern`; throws if it is not RE2 syntax (decoded objects were checked already). */
export function compileWhole(pattern: string): WholeMatcher {
  const re = RE2JS.compile(pattern);
  return { source: pattern, test: (input) => re.matches(input) };
}
