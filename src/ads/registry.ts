/**
 * The proxy registry: every registered ADS stream by id and by provider key, and the server's
 * counters. It answers `osm proxy status` and the debug endpoint with plain JSON-able objects,
 * built on demand from the live streams, so what it shows is never stale.
 */
import type { StreamInfo } from './hooks.js';
import type { ProxyStatus } from './stream.js';

/** Running totals since the server started; plain numbers, for a debug endpoint or tests. */
export interface ProxyRegistryCounters {
  streamsOpened: number;
  streamsClosed: number;
  /** Streams refused: no or malformed client certificate. */
  refusedUnauthenticated: number;
  /** Streams refused by the provider's `admit`. */
  refusedPermissionDenied: number;
  /** Streams refused for a malformed first request (no node). */
  refusedInvalid: number;
  requests: number;
  responses: number;
  acks: number;
  nacks: number;
  /** Scheduled pushes, counted per stream. */
  pushes: number;
}

/** What the registry needs of a stream. */
export interface RegisteredStream {
  readonly info: StreamInfo;
  status(): ProxyStatus;
  push(): void;
}

/** The registry; see the file comment. The server owns it and adds and removes streams. */
export class ProxyRegistry {
  /** Mutated by the server and its streams; read it through `counters()`. */
  readonly totals: ProxyRegistryCounters = {
    streamsOpened: 0,
    streamsClosed: 0,
    refusedUnauthenticated: 0,
    refusedPermissionDenied: 0,
    refusedInvalid: 0,
    requests: 0,
    responses: 0,
    acks: 0,
    nacks: 0,
    pushes: 0,
  };
  readonly #byId = new Map<number, RegisteredStream>();
  readonly #byKey = new Map<string, Set<RegisteredStream>>();

  /** Registers a stream that passed admission. */
  add(stream: RegisteredStream): void {
    this.#byId.set(stream.info.streamId, stream);
    let set = this.#byKey.get(stream.info.key);
    if (set === undefined) this.#byKey.set(stream.info.key, (set = new Set()));
    set.add(stream);
    this.totals.streamsOpened++;
  }

  /** Unregisters a stream; true if it was registered (so callers release it exactly once). */
  remove(stream: RegisteredStream): boolean {
    if (!this.#byId.delete(stream.info.streamId)) return false;
    const set = this.#byKey.get(stream.info.key);
    set?.delete(stream);
    if (set?.size === 0) this.#byKey.delete(stream.info.key);
    this.totals.streamsClosed++;
    return true;
  }

  /** The streams serving a provider key (a proxy may briefly have two while it reconnects). */
  streamsFor(key: string): readonly RegisteredStream[] {
    return [...(this.#byKey.get(key) ?? [])];
  }

  /** Every registered stream, for shutdown. */
  streams(): readonly RegisteredStream[] {
    return [...this.#byId.values()];
  }

  /** How many streams are registered. */
  get size(): number {
    return this.#byId.size;
  }

  /** Every connected proxy's status, by stream id. */
  list(): ProxyStatus[] {
    return [...this.#byId.values()].sort((a, b) => a.info.streamId - b.info.streamId).map((s) => s.status());
  }

  /** The status of the streams serving `key` (empty when none is connected). */
  statusOf(key: string): ProxyStatus[] {
    return this.streamsFor(key)
      .map((s) => s.status())
      .sort((a, b) => a.streamId - b.streamId);
  }

  /** A copy of the counters. */
  counters(): ProxyRegistryCounters {
    return { ...this.totals };
  }
}
