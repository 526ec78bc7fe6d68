/**
 * Go duration strings (`24h`, `1m30s`, `250ms`), as OSM's MeshConfig and policies write
 * them. The grammar and limits are those of Go's `time.ParseDuration`, so a value OSM
 * accepts is accepted here and nothing else is.
 */

const NS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // micro sign
  ['\u03bcs', 1_000n], // Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

// Go's Duration is an int64 of nanoseconds; larger values are an overflow error there.
const MAX_NS = (1n << 63n) - 1n;

const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/**
 * Parses a Go duration string into milliseconds (fractions of a millisecond are kept:
 * `1us` is 0.001). Returns undefined for anything Go's `time.ParseDuration` rejects:
 * a missing or unknown unit (`5`, `1d`, `5 s`), an empty string, or an overflow.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  // Go accepts a bare zero, and only zero, without a unit.
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let totalNs = 0n;
  while (rest !== '') {
    const m = COMPONENT.exec(rest);
    if (!m) return undefined;
    const [whole, intDigits = '', fracDigits, unit = ''] = m;
    if (intDigits === '' && (fracDigits ?? '') === '') return undefined;
    const unitNs = NS_PER_UNIT.get(unit);
    if (unitNs === undefined) return undefined;
    totalNs += BigInt(intDigits || '0') * unitNs;
    if (fracDigits) totalNs += (BigInt(fracDigits) * unitNs) / 10n ** BigInt(fracDigits.length);
    if (totalNs > MAX_NS + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(whole.length);
  }
  if (totalNs === 0n) return 0;
  const ms = Number(totalNs) / 1e6;
  return negative ? -ms : ms;
}
