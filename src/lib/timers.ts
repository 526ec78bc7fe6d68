/**
 * One-shot timers behind the clocks the components take (the ADS server, the certificate
 * manager, the sidecar's ADS client and clusters), so tests can pass manual ones instead.
 */

/** Calls `callback` once after `delayMs`; the returned function cancels it (idempotent). */
export type SetTimer = (callback: () => void, delayMs: number) => () => void;

/** A real timer. */
export const realTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

/** A real timer that alone does not keep the process alive (renewals, sweeps, health checks). */
export const unrefTimer: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
};
