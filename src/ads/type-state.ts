/**
 * Per stream, per resource type: the subscription, what the client holds, the one response
 * that may be awaiting its ACK, and the ACK/NACK history the registry shows. No I/O.
 *
 * `held` is our belief of the client's state. A response updates it when sent (so the next
 * evaluation diffs against it); a NACK undoes that response's changes, because the client kept
 * its previous config (Envoy rejects the update; gRPC may accept part of it, which only means
 * we re-send a little more than needed later).
 */
import type { TypeUrl } from '../xds/proto.js';
import { shortTypeName } from './resource-order.js';
import type { VersionedResource } from './snapshot.js';
import { Subscription, WILDCARD, type SubscriptionChange } from './subscription.js';

/** What the client holds under one name: a version, and for SotW the resource itself. */
export interface Held {
  readonly version: string;
  /** Kept by SotW streams so a full-state response can keep a resource the snapshot dropped. */
  readonly resource?: VersionedResource;
}

/** Delta only: the client was told (in `removed_resources`) that this subscribed name does not exist. */
export const ABSENT: Held = Object.freeze({ version: '' });

/** What one response changes in `held`: the entry per name after it, undefined for gone. */
export type HeldChanges = ReadonlyMap<string, Held | undefined>;

interface Change {
  name: string;
  before: Held | undefined;
  after: Held | undefined;
}

/** A response awaiting its ACK or NACK. */
interface Pending {
  nonce: string;
  version: string;
  /** The snapshot's type version the response was computed from. */
  snapshotVersion: string;
  changes: Change[];
}

/** A NACK as the registry shows it. */
export interface NackRecord {
  /** ISO 8601. */
  at: string;
  /** The rejected response's version. */
  version: string;
  nonce: string;
  /** The version the client says it still uses. */
  clientVersion: string;
  message: string;
}

/** One type of one stream, as plain JSON for `osm proxy status` and the debug endpoint. */
export interface TypeStatus {
  typeUrl: string;
  /** `LDS`, `RDS`, `CDS`, `EDS`, `SDS`, or the type URL. */
  type: string;
  subscribedNames: number;
  wildcard: boolean;
  /** Resources we believe the client holds. */
  heldResources: number;
  sent: { version: string; nonce: string; at: string; resources: number; removed: number } | null;
  acked: { version: string; nonce: string; at: string } | null;
  lastNack: NackRecord | null;
  waitingForAck: boolean;
}

/** What plans may read of a subscription; changes go through TypeState so its memo stays true. */
export type SubscriptionView = Pick<Subscription, 'covers' | 'names' | 'isWildcard'>;

/** The state of one type on one stream; see the file comment. */
export class TypeState {
  readonly typeUrl: TypeUrl;
  readonly #subscription: Subscription;
  readonly #held = new Map<string, Held>();
  // Names requested since the last response (`*` for a new wildcard): what may still be sent
  // while a NACK blocks the rest of the type.
  readonly #fresh = new Set<string>();
  #answerDue = false;
  #first = true;
  #pending: Pending | undefined;
  // The snapshot type version of the last NACKed response: not re-sent until the snapshot moves.
  #rejectedSnapshotVersion: string | undefined;
  // Plan inputs (snapshot version, options) under which nothing was to be sent. Any change to
  // this state clears it, so an evaluation skips a quiet type without walking its resources.
  readonly #quiet = new Set<string>();
  #sent: TypeStatus['sent'] = null;
  #acked: TypeStatus['acked'] = null;
  #lastNack: NackRecord | null = null;

  constructor(typeUrl: TypeUrl) {
    this.typeUrl = typeUrl;
    this.#subscription = new Subscription(typeUrl);
  }

  /** What the client subscribes to. */
  get subscription(): SubscriptionView {
    return this.#subscription;
  }

  /** What we believe the client holds, by name. */
  get held(): ReadonlyMap<string, Held> {
    return this.#held;
  }

  /** True when a request must be answered even if nothing changed (cleared by the next response). */
  get answerDue(): boolean {
    return this.#answerDue;
  }

  /** The nonce of the response awaiting its ACK, if any: at most one per type (no flooding). */
  get pendingNonce(): string | undefined {
    return this.#pending?.nonce;
  }

  /**
   * True when a NACK blocks sending: the snapshot is still the one whose response was
   * rejected and no request asked for an answer since. This is what stops a NACK loop.
   */
  isBlockedByNack(snapshotVersion: string): boolean {
    return this.#rejectedSnapshotVersion === snapshotVersion && !this.#answerDue;
  }

  /** True when `name` was requested since the last response. */
  isFresh(name: string): boolean {
    return this.#fresh.has(name) || this.#fresh.has(WILDCARD);
  }

  /** True when a plan under `inputs` (snapshot version and options) was found empty and nothing changed since. */
  isQuiet(inputs: string): boolean {
    return this.#quiet.has(inputs);
  }

  /** Remembers that a plan under `inputs` had nothing to send. */
  markQuiet(inputs: string): void {
    this.#quiet.add(inputs);
  }

  /** Marks the next evaluation as owing the client an answer. */
  requireAnswer(): void {
    this.#answerDue = true;
    this.#quiet.clear();
  }

  /** SotW: replaces the subscription with a request's names; says whether this was the type's first request. */
  replaceSubscription(names: readonly string[]): { change: SubscriptionChange; first: boolean } {
    return this.#subscribed(this.#subscription.replace(names));
  }

  /** Delta: applies a request's subscribe and unsubscribe lists; says whether this was the type's first request. */
  updateSubscription(subscribe: readonly string[], unsubscribe: readonly string[]): { change: SubscriptionChange; first: boolean } {
    return this.#subscribed(this.#subscription.update(subscribe, unsubscribe, this.#first));
  }

  /**
   * Moves `held` and `fresh` after a subscription change: a newly requested name is
   * forgotten, so it is sent again even if it was sent before (reference/xds.md 3.1 #7, 3.2);
   * a name no longer covered is forgotten, so asking for it later sends it again.
   */
  #subscribed(change: SubscriptionChange): { change: SubscriptionChange; first: boolean } {
    for (const name of change.removed) {
      if (name === WILDCARD) {
        for (const held of [...this.#held.keys()]) if (!this.#subscription.covers(held)) this.#held.delete(held);
      } else if (!this.#subscription.covers(name)) {
        this.#held.delete(name);
      }
      this.#fresh.delete(name);
    }
    for (const name of change.added) {
      // A new wildcard asks for nothing the client holds already; a new name asks afresh.
      if (name !== WILDCARD) this.#held.delete(name);
      this.#fresh.add(name);
    }
    const first = this.#first;
    this.#first = false;
    this.#quiet.clear();
    return { change, first };
  }

  /** Forgets what the client holds under `name`, so it is sent afresh. */
  forget(name: string): void {
    this.#held.delete(name);
    this.#quiet.clear();
  }

  /** Delta: the client says it holds `name` at `version` (initial_resource_versions). */
  assumeHeld(name: string, version: string): void {
    this.#held.set(name, { version });
    this.#quiet.clear();
  }

  /** Records a response as sent: applies its changes to `held` and waits for its ACK. */
  commit(
    response: { nonce: string; version: string; snapshotVersion: string; resources: number; removed: number; changes: HeldChanges },
    nowMs: number,
  ): void {
    const changes: Change[] = [];
    for (const [name, after] of response.changes) {
      const before = this.#held.get(name);
      if (after === undefined) this.#held.delete(name);
      else this.#held.set(name, after);
      changes.push({ name, before, after });
    }
    this.#pending = { nonce: response.nonce, version: response.version, snapshotVersion: response.snapshotVersion, changes };
    this.#sent = { version: response.version, nonce: response.nonce, at: iso(nowMs), resources: response.resources, removed: response.removed };
    this.#answerDue = false;
    this.#fresh.clear();
    this.#quiet.clear();
  }

  /** The client accepted the pending response; returns its version. */
  ack(nowMs: number): string {
    const pending = this.#take();
    this.#acked = { version: pending.version, nonce: pending.nonce, at: iso(nowMs) };
    this.#rejectedSnapshotVersion = undefined;
    return pending.version;
  }

  /** The client rejected the pending response: undo its changes to `held`; returns the record. */
  nack(clientVersion: string, message: string, nowMs: number): NackRecord {
    const pending = this.#take();
    // Undo in reverse, and only where nothing (a subscription change) has touched the name since.
    for (const change of pending.changes.reverse()) {
      if (this.#held.get(change.name) !== change.after) continue;
      if (change.before === undefined || !this.#subscription.covers(change.name)) this.#held.delete(change.name);
      else this.#held.set(change.name, change.before);
    }
    this.#rejectedSnapshotVersion = pending.snapshotVersion;
    this.#lastNack = { at: iso(nowMs), version: pending.version, nonce: pending.nonce, clientVersion, message };
    this.#quiet.clear();
    return this.#lastNack;
  }

  #take(): Pending {
    const pending = this.#pending;
    if (pending === undefined) throw new Error(`${shortTypeName(this.typeUrl)}: no response awaits an ACK`);
    this.#pending = undefined;
    return pending;
  }

  /** This type as plain JSON. */
  status(): TypeStatus {
    return {
      typeUrl: this.typeUrl,
      type: shortTypeName(this.typeUrl),
      subscribedNames: this.#subscription.names.size,
      wildcard: this.#subscription.isWildcard,
      heldResources: [...this.#held.values()].filter((h) => h !== ABSENT).length,
      sent: this.#sent,
      acked: this.#acked,
      lastNack: this.#lastNack,
      waitingForAck: this.#pending !== undefined,
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
