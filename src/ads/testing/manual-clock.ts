/**
 * Test-only: an AdsClock whose time moves only when the test says so, so debounce and
 * max-delay behaviour is driven step by step instead of slept through.
 */
import type { AdsClock } from '../stream.js';

interface Timer {
  id: number;
  dueMs: number;
  callback: () => void;
}

/** A manual clock; `advance` runs the timers that fall due, in due order. */
export class ManualClock implements AdsClock {
  #nowMs: number;
  #nextId = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const id = ++this.#nextId;
    this.#timers.set(id, { id, dueMs: this.#nowMs + delayMs, callback });
    return () => this.#timers.delete(id);
  }

  /** Timers armed and not yet run or cancelled. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Milliseconds until the next timer is due, or undefined when none is armed. */
  nextDueInMs(): number | undefined {
    const due = [...this.#timers.values()].map((t) => t.dueMs);
    return due.length === 0 ? undefined : Math.min(...due) - this.#nowMs;
  }

  /** Moves time forward by `ms`, running each timer that falls due at its own time. */
  advance(ms: number): void {
    const end = this.#nowMs + ms;
    for (;;) {
      const next = [...this.#timers.values()].filter((t) => t.dueMs <= end).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#nowMs = next.dueMs;
      next.callback();
    }
    this.#nowMs = end;
  }

  /** Runs every armed timer (and any they arm), moving time to each. */
  runAll(): void {
    for (let due = this.nextDueInMs(); due !== undefined; due = this.nextDueInMs()) this.advance(due);
  }
}
