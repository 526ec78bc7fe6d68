/**
 * Memoisation by input identity. Store objects are immutable and replaced on change, so the
 * same input references mean the same output: a change recomputes only what reads it.
 */

/** Caches values by key, recomputing one when any of its inputs is a different reference. */
export class Memo<K, V> {
  private entries = new Map<K, { inputs: readonly unknown[]; value: V }>();
  private used = new Set<K>();

  get(key: K, inputs: readonly unknown[], compute: () => V): V {
    this.used.add(key);
    const hit = this.entries.get(key);
    if (hit && sameInputs(hit.inputs, inputs)) return hit.value;
    const value = compute();
    this.entries.set(key, { inputs, value });
    return value;
  }

  /** Drops entries not read since the last sweep, so removed objects do not pin memory. */
  sweep(): void {
    for (const key of this.entries.keys()) if (!this.used.has(key)) this.entries.delete(key);
    this.used = new Set();
  }
}

export function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Keeps the previous array when a recomputed one holds the same elements, so consumers that
 * memoise on it see no change.
 */
export function internArray<T>(previous: readonly T[] | undefined, next: readonly T[]): readonly T[] {
  return previous && sameInputs(previous, next) ? previous : next;
}
