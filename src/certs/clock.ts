/**
 * Time as the certificate manager sees it: passed in, so tests drive renewal with a fake clock
 * or node:test mock timers and the logic never reads the wall clock itself.
 */
import { unrefTimer } from '../lib/timers.js';

/** The current time and a one-shot timer. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `delayMs`; the returned function cancels it (idempotent). */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/**
 * The process clock. Timers are unref'd: a pending renewal alone must not keep the process
 * alive; whatever serves the certificates does that.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: unrefTimer,
};
