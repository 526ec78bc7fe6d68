/**
 * Field checks that MeshConfig and the policy kinds share, each reporting with its own code
 * so that every kind words the same mistake the same way.
 */
import { checkRe2 } from '../../lib/re2.js';
import type { ObjectReporter } from '../kind.js';
import { parseGoDuration } from './duration.js';

/**
 * Reports `text` at `field` unless it is a Go duration longer than 0s (every OSM timeout and
 * validity period: Envoy rejects a zero connect timeout or back-off, and a certificate that
 * lives 0s is never valid). Returns the duration in milliseconds when it is accepted.
 */
export function checkPositiveDuration(reporter: ObjectReporter, field: string, text: string): number | undefined {
  const ms = parseGoDuration(text);
  if (ms === undefined) {
    reporter.report('E4002', field, { got: text });
    return undefined;
  }
  if (ms <= 0) {
    reporter.report('E4004', field, { got: text });
    return undefined;
  }
  return ms;
}

/** Reports `regex` at `field` unless it is RE2 syntax, with the same codes SMI route regexes use. */
export function checkRe2Field(reporter: ObjectReporter, field: string, regex: string): void {
  const check = checkRe2(regex);
  if (check.ok) return;
  if (check.construct) reporter.report('E3001', field, { construct: check.construct, regex });
  else reporter.report('E3002', field, { regex, reason: check.reason });
}

/** Joins quoted names for messages: `"a", "b" or "c"`. */
export function quotedList(values: readonly string[]): string {
  const quoted = values.map((v) => JSON.stringify(v));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1] ?? ''}`;
}
