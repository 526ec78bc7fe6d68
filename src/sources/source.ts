/**
 * The contract every source fulfils: the directory source now, Kubernetes informers later.
 * A source turns outside objects into store writes and reports the problems it sees; the
 * catalog never knows which source an object came from.
 */
import type { Problem } from '../api/problem.js';
import type { StoreWrite } from '../store/store.js';

/** Where a source sends what it reads. */
export interface SourceSink {
  /** One batch of writes, applied atomically. */
  write(writes: readonly StoreWrite[]): void;
  /** The source's current problems, replacing what it reported before. */
  problems(problems: readonly Problem[]): void;
}

export interface Source {
  /** Loads everything once, then follows changes; resolves after the first load is written. */
  start(sink: SourceSink): Promise<void>;
  /** Stops following changes. Idempotent. */
  stop(): Promise<void>;
}
