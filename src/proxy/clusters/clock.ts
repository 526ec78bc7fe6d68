/**
 * Time as the clusters see it: connect timeouts, idle-connection closing, outlier ejection
 * back-off and health-check intervals all go through it, so tests drive them with a manual
 * clock instead of sleeping.
 */
import { unrefTimer } from '../../lib/timers.js';

/** The current time and one-shot timers. */
export interface ClusterClock {
  /** Milliseconds; only differences are used, so any monotonic origin will do. */
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; the returned function cancels it (idempotent). */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/**
 * The process clock. Timers are unref'd: sockets and listeners keep a sidecar alive, a pending
 * health check or idle sweep alone must not.
 */
export const systemClusterClock: ClusterClock = {
  nowMs: () => performance.now(),
  setTimer: unrefTimer,
};
