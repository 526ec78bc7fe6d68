/**
 * A "pair" is what the client talks to on the way to the app: two sidecars with mTLS between
 * them (haproxy, ours), or nothing at all (direct). Each implementation starts its processes
 * and says where the client connects for HTTP and for TCP, and which pids to measure.
 */
import type { Address, ProcessGroup } from './processes.js';

/** The rows the bench knows, in the order it prints them. */
export const PAIR_NAMES = ['direct', 'haproxy', 'osm'] as const;
export type PairName = (typeof PAIR_NAMES)[number];

/**
 * The Host every request carries, on every row, so all rows send the same bytes: the osm mesh
 * routes by it (its HTTP service `app` in namespace `bench`); the others ignore it.
 */
export const HTTP_AUTHORITY = 'app.bench';

/** What every pair is started with. */
export interface PairEnv {
  /** The app every HTTP path ends at. */
  upstream: Address;
  /**
   * The same app on a second port of the same address, where TCP paths end: a mesh tells a
   * TCP service from an HTTP one by its port, so the two paths need different app ports.
   */
  tcpUpstream: Address;
  /** The CPU both proxies of the pair are pinned to; undefined on a one-CPU machine. */
  proxyCpu: number | undefined;
  /** A private scratch directory (configs, certificates), removed after the run. */
  dir: string;
  processes: ProcessGroup;
}

/** A started pair. */
export interface RunningPair {
  /** Where the client sends HTTP/1.1 (the L7 path). */
  httpEntry: Address;
  /** Where the client opens TCP connections (the L4 path; the bytes are HTTP/1.1 all the same). */
  tcpEntry: Address;
  /** The proxies' pids, A then B; empty for direct. CPU per request is divided by their count. */
  proxyPids: readonly number[];
  /** Other processes the pair runs (a control plane): their CPU is ours, not foreign load, but not a proxy's. */
  helperPids: readonly number[];
  /** Stops what `start` started; idempotent. */
  stop(): Promise<void>;
}

/** One row of the bench. */
export interface Pair {
  name: PairName;
  /** A short description for the report. */
  describe: string;
  start(env: PairEnv): Promise<RunningPair>;
}

/** The baseline: the client talks to the app itself, on both paths. */
export const directPair: Pair = {
  name: 'direct',
  describe: 'client -> app',
  start: async (env) => ({
    httpEntry: env.upstream,
    tcpEntry: env.tcpUpstream,
    proxyPids: [],
    helperPids: [],
    stop: async () => undefined,
  }),
};
