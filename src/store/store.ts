/**
 * The store: typed objects by kind, namespace and name, each with a resource version.
 *
 * Writes come in batches that apply atomically; a snapshot is an immutable view that never
 * changes after it is taken, so readers (the catalog) see one consistent state. Subscribers
 * hear about every batch with the keys it touched.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/kind.js';
import { refKey, type ObjectRef } from '../api/meta.js';
import type { SourcePosition } from '../api/problem.js';

/** One stored object and where it came from. */
export interface StoredObject<T extends KubeObject = KubeObject> {
  readonly object: T;
  /** The apiVersion it was written in. */
  readonly apiVersion: string;
  /** Increases with every write to the store; compare for equality only. */
  readonly resourceVersion: string;
  readonly source?: SourcePosition;
}

export type StoreWrite =
  | { type: 'put'; object: KubeObject; apiVersion: string; source?: SourcePosition }
  | { type: 'delete'; ref: ObjectRef };

/** What one batch changed: the previous and new version of each touched object. */
export interface StoreChange {
  readonly version: number;
  readonly changes: ReadonlyArray<{ ref: ObjectRef; before?: StoredObject; after?: StoredObject }>;
}

/** An immutable, consistent view of the store. */
export interface Snapshot {
  /** The store's version when the snapshot was taken. */
  readonly version: number;
  /** Objects of one kind, sorted by namespace then name. */
  list<T extends KubeObject = KubeObject>(kind: string): readonly T[];
  get<T extends KubeObject = KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined;
  stored(ref: ObjectRef): StoredObject | undefined;
}

type KindTable = ReadonlyMap<string, StoredObject>;

export function refOfObject(object: KubeObject): ObjectRef {
  const ref: ObjectRef = { kind: object.kind, name: object.metadata.name };
  if (object.metadata.namespace !== undefined) ref.namespace = object.metadata.namespace;
  return ref;
}

const EMPTY: readonly KubeObject[] = [];

class FrozenSnapshot implements Snapshot {
  constructor(
    readonly version: number,
    private readonly tables: ReadonlyMap<string, KindTable>,
    /** Sorted lists by table, shared by every snapshot that has the same table. */
    private readonly sorted: WeakMap<KindTable, readonly KubeObject[]>,
  ) {}

  /** Unchanged kinds return the same array in every snapshot: consumers memoise on it. */
  list<T extends KubeObject>(kind: string): readonly T[] {
    const table = this.tables.get(kind);
    if (!table) return EMPTY as readonly T[];
    let out = this.sorted.get(table);
    if (!out) {
      out = [...table.values()].map((v) => v.object).sort(byNamespaceThenName);
      this.sorted.set(table, out);
    }
    return out as readonly T[];
  }

  get<T extends KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined {
    return this.tables.get(kind)?.get(nameKey(namespace, name))?.object as T | undefined;
  }

  stored(ref: ObjectRef): StoredObject | undefined {
    return this.tables.get(ref.kind)?.get(nameKey(ref.namespace, ref.name));
  }
}

function byNamespaceThenName(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

function nameKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** The in-memory store. Not thread-shared; all writes go through `apply`. */
export class Store {
  private tables = new Map<string, KindTable>();
  private version = 0;
  private readonly sorted = new WeakMap<KindTable, readonly KubeObject[]>();
  private current: Snapshot = new FrozenSnapshot(0, this.tables, this.sorted);
  private readonly listeners = new Set<(change: StoreChange) => void>();

  /** Applies a batch atomically; returns what changed (nothing for writes of equal objects). */
  apply(writes: readonly StoreWrite[]): StoreChange {
    const next = new Map(this.tables);
    const copied = new Set<string>();
    const table = (kind: string): Map<string, StoredObject> => {
      if (!copied.has(kind)) {
        next.set(kind, new Map(next.get(kind) ?? []));
        copied.add(kind);
      }
      return next.get(kind) as Map<string, StoredObject>;
    };
    const version = this.version + 1;
    const touched = new Map<string, { ref: ObjectRef; before?: StoredObject; after?: StoredObject }>();
    let moved = false;
    for (const w of writes) {
      const ref = w.type === 'put' ? refOfObject(w.object) : w.ref;
      const key = nameKey(ref.namespace, ref.name);
      const before = next.get(ref.kind)?.get(key);
      if (w.type === 'delete') {
        if (!before) continue;
        table(ref.kind).delete(key);
        record(touched, ref, before, undefined);
        continue;
      }
      if (before && before.apiVersion === w.apiVersion && isDeepStrictEqual(before.object, w.object)) {
        // The same object from another place (a renamed file): not a change, but remember where.
        if (w.source && (before.source?.file !== w.source.file || before.source.line !== w.source.line)) {
          table(ref.kind).set(key, { ...before, source: w.source });
          moved = true;
        }
        continue;
      }
      const stored: StoredObject = { object: w.object, apiVersion: w.apiVersion, resourceVersion: String(version), ...(w.source ? { source: w.source } : {}) };
      table(ref.kind).set(key, stored);
      record(touched, ref, before, stored);
    }
    const change: StoreChange = { version, changes: [...touched.values()] };
    if (change.changes.length === 0) {
      if (moved) {
        this.tables = next;
        this.current = new FrozenSnapshot(this.version, next, this.sorted);
      }
      return { version: this.version, changes: [] };
    }
    this.tables = next;
    this.version = version;
    this.current = new FrozenSnapshot(version, next, this.sorted);
    for (const listener of this.listeners) listener(change);
    return change;
  }

  /** The current consistent view. Cheap: snapshots share unchanged tables. */
  snapshot(): Snapshot {
    return this.current;
  }

  /** Calls `listener` after every batch that changed something; returns the unsubscribe function. */
  subscribe(listener: (change: StoreChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function record(
  touched: Map<string, { ref: ObjectRef; before?: StoredObject; after?: StoredObject }>,
  ref: ObjectRef,
  before: StoredObject | undefined,
  after: StoredObject | undefined,
): void {
  const key = refKey(ref);
  const earlier = touched.get(key);
  // Within one batch, keep the version from before the batch and the last write.
  const first = earlier ? earlier.before : before;
  const entry: { ref: ObjectRef; before?: StoredObject; after?: StoredObject } = { ref };
  if (first) entry.before = first;
  if (after) entry.after = after;
  if (!first && !after) touched.delete(key);
  else touched.set(key, entry);
}

