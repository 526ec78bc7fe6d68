/**
 * Test-only: a SnapshotProvider holding snapshots set by the test. It admits every proxy unless
 * told otherwise, keys a proxy by its certificate UUID (or node id without one), and records
 * who was admitted and released.
 */
import type { Admission, ConnectingProxy, ProxySnapshot, SnapshotProvider } from '../snapshot.js';

/** The fake provider; see the file comment. */
export class FakeProvider implements SnapshotProvider {
  readonly #snapshots = new Map<string, ProxySnapshot>();
  readonly #listeners = new Set<(keys: readonly string[]) => void>();
  /** Every proxy `admit` was asked about, in order. */
  readonly admitted: ConnectingProxy[] = [];
  /** Every key released, in order. */
  readonly released: string[] = [];
  /** When set, `admit` refuses with this reason. */
  refuseWith: string | undefined;

  admit(proxy: ConnectingProxy): Admission {
    this.admitted.push(proxy);
    if (this.refuseWith !== undefined) return { ok: false, reason: this.refuseWith };
    const cert = proxy.certificate;
    if (cert === undefined) return { ok: true, key: proxy.node.id, identity: proxy.node.id };
    return { ok: true, key: cert.uuid, identity: `${cert.namespace}/${cert.serviceAccount}` };
  }

  snapshotFor(key: string): ProxySnapshot | undefined {
    return this.#snapshots.get(key);
  }

  onChange(listener: (keys: readonly string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  release(key: string): void {
    this.released.push(key);
  }

  /** Publishes a snapshot for `key` and announces the change. */
  set(key: string, snapshot: ProxySnapshot): void {
    this.#snapshots.set(key, snapshot);
    this.announce([key]);
  }

  /** Announces a change without publishing anything (as a controller may for an unchanged result). */
  announce(keys: readonly string[]): void {
    for (const listener of this.#listeners) listener(keys);
  }
}
