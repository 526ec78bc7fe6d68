/**
 * Earliest-deadline-first scheduling, as Envoy's weighted round robin and weighted least
 * request use it: each entry is due again 1/weight after it was picked, so over time entries
 * are picked in proportion to their weights, interleaved rather than in runs. Weights are read
 * when an entry is (re)inserted, so a weight that changes with load (least request) takes
 * effect from the next pick on.
 */

interface Entry<T> {
  deadline: number;
  /** Insertion order, to break deadline ties deterministically. */
  seq: number;
  readonly item: T;
}

/** A binary min-heap of entries by (deadline, seq). */
export class EdfScheduler<T> {
  readonly #heap: Entry<T>[] = [];
  readonly #weightOf: (item: T) => number;
  #now = 0;
  #seq = 0;

  constructor(items: readonly T[], weightOf: (item: T) => number) {
    this.#weightOf = weightOf;
    for (const item of items) this.#push(item);
  }

  /** The entry due first; it is rescheduled by its current weight. */
  pick(): T | undefined {
    const top = this.#heap[0];
    if (!top) return undefined;
    this.#now = top.deadline;
    this.#popTop();
    this.#push(top.item);
    return top.item;
  }

  #push(item: T): void {
    // A weight of 0 or less would never be due again; treat it as the smallest positive weight.
    const weight = Math.max(this.#weightOf(item), Number.MIN_VALUE);
    const entry = { deadline: this.#now + 1 / weight, seq: this.#seq++, item };
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #popTop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && before(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && before(heap[r]!, heap[min]!)) min = r;
      if (min === i) return;
      [heap[i], heap[min]] = [heap[min]!, heap[i]!];
      i = min;
    }
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
