/**
 * Kubernetes quantities (`100m`, `1`, `1.5`, `2k`, `1Ki`, `5e-3`) as exact rationals, for split
 * v1alpha1 weights. Pure arithmetic on BigInt so that ratios survive conversion exactly.
 */

/** A non-negative exact value `numerator / denominator`. */
export interface Rational {
  numerator: bigint;
  denominator: bigint;
}

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

/** Parses a quantity; returns a reason instead when it is not one. */
export function parseQuantity(text: string | number): Rational | { error: string } {
  const written = String(text).trim();
  const m = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(written);
  if (!m) return { error: 'expected a number with an optional suffix such as 100m, 1, 2k or 1Ki' };
  const [, sign, digits = '', exponentPart, suffix = ''] = m;
  if (sign === '-') return { error: 'must not be negative' };
  const [whole = '', fraction = ''] = digits.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  const exponent = exponentPart ? Number(exponentPart.slice(1)) : decimalSuffixes[suffix] ?? 0;
  if (suffix in binarySuffixes) numerator *= binarySuffixes[suffix] as bigint;
  if (Math.abs(exponent) > 30) return { error: 'exponent out of range' };
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator *= 10n ** BigInt(-exponent);
  return reduce({ numerator, denominator });
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function reduce(r: Rational): Rational {
  if (r.numerator === 0n) return { numerator: 0n, denominator: 1n };
  const g = gcd(r.numerator, r.denominator);
  return { numerator: r.numerator / g, denominator: r.denominator / g };
}

/**
 * Scales rationals to integers with the same ratios: to milli-units when that is exact
 * (`100m, 900m` -> `100, 900`, as "1 = 1000m"), else to the smallest exact integers.
 * Returns undefined if an integer would exceed Number.MAX_SAFE_INTEGER.
 */
export function toIntegerRatios(values: Rational[]): number[] | undefined {
  const milli = values.every((v) => (v.numerator * 1000n) % v.denominator === 0n);
  let ints: bigint[];
  if (milli) {
    ints = values.map((v) => (v.numerator * 1000n) / v.denominator);
  } else {
    const lcm = values.reduce((acc, v) => (acc * v.denominator) / gcd(acc, v.denominator), 1n);
    const scaled = values.map((v) => (v.numerator * lcm) / v.denominator);
    const g = scaled.reduce((acc, v) => gcd(acc, v), 0n);
    ints = g === 0n ? scaled : scaled.map((v) => v / g);
  }
  if (ints.some((v) => v > BigInt(Number.MAX_SAFE_INTEGER))) return undefined;
  return ints.map(Number);
}
