/**
 * Push scheduling: provider change events mark proxy keys dirty, and a debounce window turns
 * a burst of events into one push per key. Each event pushes the deadline `debounceMs` out,
 * but never past `maxDelayMs` after the first event of the burst, so a steady trickle of
 * changes cannot starve proxies: propagation stays under maxDelayMs plus the push itself.
 * Time comes from an injected clock, so tests drive it without sleeping.
 */
import type { AdsClock } from './stream.js';

/** Default debounce window: short enough to feel instant, long enough to batch one store update's events. */
export const DEFAULT_DEBOUNCE_MS = 50;
/** Default cap on how long a change may wait for a quiet window. */
export const DEFAULT_MAX_DELAY_MS = 500;

/** Options for a PushScheduler. */
export interface PushSchedulerOptions {
  readonly debounceMs: number;
  readonly maxDelayMs: number;
  readonly clock: AdsClock;
  /** Called with the dirty keys (each once, in the order first marked) when the window closes. */
  readonly flush: (keys: readonly string[]) => void;
}

/** Coalesces change events into pushes; see the file comment. */
export class PushScheduler {
  readonly #options: PushSchedulerOptions;
  readonly #dirty = new Set<string>();
  #burstStartMs: number | undefined;
  #dueMs: number | undefined;
  #cancelTimer: (() => void) | undefined;
  #closed = false;

  constructor(options: PushSchedulerOptions) {
    this.#options = options;
  }

  /** Marks keys dirty and (re)arms the timer. */
  mark(keys: readonly string[]): void {
    if (this.#closed || keys.length === 0) return;
    for (const key of keys) this.#dirty.add(key);
    const { clock, debounceMs, maxDelayMs } = this.#options;
    const now = clock.nowMs();
    this.#burstStartMs ??= now;
    const due = Math.min(now + debounceMs, this.#burstStartMs + maxDelayMs);
    if (due === this.#dueMs) return;
    this.#cancelTimer?.();
    this.#dueMs = due;
    this.#cancelTimer = clock.setTimer(() => this.flushNow(), Math.max(0, due - now));
  }

  /** Pushes every dirty key now, without waiting for the window. */
  flushNow(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#dueMs = undefined;
    this.#burstStartMs = undefined;
    if (this.#dirty.size === 0) return;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    this.#options.flush(keys);
  }

  /** How many keys wait for a push. */
  get pendingKeys(): number {
    return this.#dirty.size;
  }

  /** Stops the timer and drops pending keys; idempotent. */
  close(): void {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#dirty.clear();
  }
}
