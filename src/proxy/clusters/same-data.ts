/**
 * Structural equality of decoded config values: frozen plain objects, arrays, Maps and
 * primitives. The xDS client decodes every resource of a type anew on each push, so an
 * unchanged cluster arrives as an equal but different object; this is how the manager knows
 * to keep its pools.
 */

/**
 * Whether `a` and `b` hold the same data. Functions count as equal to any function: in the
 * config model they only appear as compiled matchers beside the `source` they were compiled
 * from, which is compared.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'function' && typeof b === 'function') return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameData(v, b.get(k))) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // An optional field left out and one set to undefined mean the same.
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!sameData(ra[k], rb[k])) return false;
  return true;
}
