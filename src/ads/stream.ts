/**
 * What the SotW and delta streams share: per-type state, nonces, ACK/NACK classification, and
 * the evaluation loop that decides what to send, in make-before-break order. A stream knows
 * no gRPC: it gets requests through `handle` and writes responses through a function, so the
 * protocol logic is the same whatever carries it.
 *
 * Evaluation (after every request, and on every scheduled push) walks the types in PUSH_ORDER
 * (SDS, CDS, EDS, LDS, RDS). A type is skipped while its last response awaits an ACK (at most
 * one outstanding response per type, so a slow client is not flooded; the ACK re-evaluates).
 * Additions and updates go out in that order within one evaluation, back to back on the one
 * stream, so the client applies a cluster before the route that names it. Removals of a type
 * are held back until every type that references it has settled: nothing awaiting an ACK, no
 * NACK of the current snapshot, nothing left to send. So a cluster leaves CDS only after the
 * listeners and routes that named it were replaced and ACKed (see resource-order.ts).
 */
import type { Logger } from '../lib/logging.js';
import type { GrpcStatus, TypeUrl } from '../xds/proto.js';
import type { AdsHooks, StreamInfo } from './hooks.js';
import type { ProxyRegistryCounters } from './registry.js';
import { inPushOrder, referrersOf, shortTypeName } from './resource-order.js';
import type { ProxySnapshot, SnapshotProvider, VersionedResource } from './snapshot.js';
import { TypeState, type HeldChanges, type TypeStatus } from './type-state.js';

/** The type version used when a snapshot has none for a type (no resources of it). */
export const EMPTY_TYPE_VERSION = 'empty';

/** The clock streams and the scheduler use: epoch milliseconds (fractions allowed), and timers. */
export interface AdsClock {
  nowMs(): number;
  /** Calls `callback` once after `delayMs`; returns the function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** What a stream needs from its server. */
export interface StreamContext {
  readonly provider: SnapshotProvider;
  readonly hooks: Required<AdsHooks>;
  readonly log: Logger;
  readonly clock: AdsClock;
  readonly counters: ProxyRegistryCounters;
}

/** What one response would carry, computed by a protocol's `plan`. */
export interface Plan {
  /** SotW: every resource of the response; delta: the added or changed ones. */
  readonly resources: readonly VersionedResource[];
  /** Delta `removed_resources`; always empty for SotW. */
  readonly removed: readonly string[];
  /** How `held` changes once the response is sent. */
  readonly changes: HeldChanges;
  /** SotW `version_info` / delta `system_version_info`. */
  readonly version: string;
}

/** How `plan` may answer. */
export interface PlanOptions {
  /** The snapshot's version for the type. */
  readonly typeVersion: string;
  /** False while a referrer has not settled: removals must wait (make-before-break). */
  readonly allowRemoval: boolean;
  /** True while the last response of the type was NACKed and the snapshot has not moved since. */
  readonly blocked: boolean;
}

/** A registered stream as plain JSON: who, since when, and per type what was sent and ACKed. */
export interface ProxyStatus {
  streamId: number;
  protocol: 'sotw' | 'delta';
  listener: 'mtls' | 'plaintext';
  key: string;
  identity: string;
  /** The proxy UUID from the client certificate; null on the plaintext listener. */
  uuid: string | null;
  flavour: string;
  nodeId: string;
  peer: string;
  /** ISO 8601. */
  connectedAt: string;
  types: TypeStatus[];
}

/** The protocol-independent half of an ADS stream; see the file comment. */
export abstract class AdsStream<Req, Res> {
  readonly info: StreamInfo;
  readonly uuid: string | undefined;
  protected readonly context: StreamContext;
  protected readonly log: Logger;
  readonly #write: (response: Res) => void;
  readonly #types = new Map<TypeUrl, TypeState>();
  readonly #connectedAtMs: number;
  #nonce = 0;
  #closed = false;

  constructor(context: StreamContext, info: StreamInfo, uuid: string | undefined, write: (response: Res) => void) {
    this.context = context;
    this.info = info;
    this.uuid = uuid;
    this.#write = write;
    this.#connectedAtMs = context.clock.nowMs();
    this.log = context.log.child({ stream: info.streamId, proxy: info.key, protocol: info.protocol });
  }

  /** Processes one request: ACK/NACK, subscription, then whatever must be sent. */
  abstract handle(request: Req): void;

  /** Computes the response `state` needs now, or undefined when nothing need be sent. */
  protected abstract plan(state: TypeState, snapshot: ProxySnapshot, options: PlanOptions): Plan | undefined;

  /** Builds the wire message for a plan. */
  protected abstract toResponse(typeUrl: TypeUrl, plan: Plan, nonce: string): Res;

  /**
   * What every request does first, whatever the protocol: place it by type URL (ADS multiplexes
   * types, so a request without one cannot be placed: xDS protocol, "ADS"), count it, and return
   * the type's state; undefined for a request that is ignored.
   */
  protected beginRequest(typeUrl: string): TypeState | undefined {
    if (typeUrl === '') {
      this.log.warn({ event: 'xds.request.invalid', reason: 'empty type_url' }, 'ignored a request without a type URL');
      return undefined;
    }
    this.context.counters.requests++;
    this.context.hooks.onRequest(this.info, typeUrl);
    return this.stateOf(typeUrl as TypeUrl);
  }

  /** The state of one type, created on the first request naming it. */
  protected stateOf(typeUrl: TypeUrl): TypeState {
    let state = this.#types.get(typeUrl);
    if (state === undefined) {
      state = new TypeState(typeUrl);
      this.#types.set(typeUrl, state);
    }
    return state;
  }

  /**
   * Classifies a request's nonce: matching the response awaiting its ACK, it is an ACK, or a
   * NACK when `error_detail` is set. An empty or older nonce only carries a subscription
   * (reference/xds.md 1.2: gRPC repeats the last `error_detail` with later subscription
   * changes; that is not a new NACK).
   */
  protected acknowledge(state: TypeState, responseNonce: string, errorDetail: GrpcStatus | undefined, clientVersion: string): void {
    if (responseNonce === '' || responseNonce !== state.pendingNonce) return;
    const { hooks, counters } = this.context;
    const nowMs = this.context.clock.nowMs();
    if (errorDetail !== undefined) {
      const nack = state.nack(clientVersion, errorDetail.message, nowMs);
      counters.nacks++;
      this.log.warn(
        { event: 'xds.nack', type: shortTypeName(state.typeUrl), typeUrl: state.typeUrl, nonce: nack.nonce, version: nack.version, clientVersion, code: errorDetail.code, detail: errorDetail.message },
        'proxy rejected config; it keeps its last accepted version',
      );
      hooks.onNack(this.info, { typeUrl: state.typeUrl, version: nack.version, nonce: nack.nonce, clientVersion, message: errorDetail.message });
    } else {
      const version = state.ack(nowMs);
      counters.acks++;
      this.log.debug({ event: 'xds.ack', type: shortTypeName(state.typeUrl), nonce: responseNonce, version }, 'proxy accepted config');
      hooks.onAck(this.info, state.typeUrl, version, responseNonce);
    }
  }

  /** Sends whatever the current snapshot requires, in push order; returns the number of responses. */
  evaluate(): number {
    if (this.#closed) return 0;
    const snapshot = this.context.provider.snapshotFor(this.info.key);
    // No snapshot yet (the controller is still computing): answering now would hand a
    // reconnecting proxy an empty config. The provider's change event brings us back.
    if (snapshot === undefined) return 0;
    const isSettled = (typeUrl: TypeUrl): boolean => {
      const state = this.#types.get(typeUrl);
      if (state === undefined) return true;
      if (state.pendingNonce !== undefined) return false;
      // A NACKed type is not settled while its snapshot is the rejected one: the client still
      // uses the older config, which may name what we would remove.
      const typeVersion = versionOf(snapshot, typeUrl);
      if (state.isBlockedByNack(typeVersion)) return false;
      return this.#planFor(state, snapshot, { typeVersion, allowRemoval: true, blocked: false }) === undefined;
    };
    let sent = 0;
    for (const state of inPushOrder(this.#types.values())) {
      if (state.pendingNonce !== undefined) continue;
      const typeVersion = versionOf(snapshot, state.typeUrl);
      const allowRemoval = referrersOf(state.typeUrl).every(isSettled);
      const plan = this.#planFor(state, snapshot, { typeVersion, allowRemoval, blocked: state.isBlockedByNack(typeVersion) });
      if (plan === undefined) continue;
      this.#send(state, plan, typeVersion);
      sent++;
    }
    return sent;
  }

  // `plan`, skipped when the same inputs found nothing to send and the type has not changed
  // since: most types of most proxies are quiet on most pushes, and a plan walks every resource.
  #planFor(state: TypeState, snapshot: ProxySnapshot, options: PlanOptions): Plan | undefined {
    const inputs = `${options.typeVersion}|${options.allowRemoval}|${options.blocked}`;
    if (state.isQuiet(inputs)) return undefined;
    const plan = this.plan(state, snapshot, options);
    if (plan === undefined) state.markQuiet(inputs);
    return plan;
  }

  /** A scheduled push: evaluates against the provider's latest snapshot and reports the push. */
  push(): void {
    const startMs = this.context.clock.nowMs();
    const responses = this.evaluate();
    this.context.counters.pushes++;
    const durationMs = this.context.clock.nowMs() - startMs;
    this.log.debug({ event: 'ads.push', responses, durationMs }, 'pushed');
    this.context.hooks.onPush(this.info, { responses, durationMs });
  }

  #send(state: TypeState, plan: Plan, typeVersion: string): void {
    this.#nonce += 1;
    const nonce = String(this.#nonce);
    const response = this.toResponse(state.typeUrl, plan, nonce);
    const counts = { resources: plan.resources.length, removed: plan.removed.length };
    state.commit({ nonce, version: plan.version, snapshotVersion: typeVersion, ...counts, changes: plan.changes }, this.context.clock.nowMs());
    this.context.counters.responses++;
    this.#write(response);
    this.log.debug({ event: 'xds.response', type: shortTypeName(state.typeUrl), nonce, version: plan.version, ...counts }, 'sent');
    this.context.hooks.onResponse(this.info, { typeUrl: state.typeUrl, version: plan.version, nonce, ...counts });
  }

  /** Stops all further sending; idempotent. */
  close(): void {
    this.#closed = true;
  }

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** This stream as plain JSON. */
  status(): ProxyStatus {
    const { streamId, protocol, listener, key, identity, flavour, nodeId, peer } = this.info;
    return {
      streamId,
      protocol,
      listener,
      key,
      identity,
      uuid: this.uuid ?? null,
      flavour,
      nodeId,
      peer,
      connectedAt: new Date(this.#connectedAtMs).toISOString(),
      types: inPushOrder(this.#types.values()).map((s) => s.status()),
    };
  }
}

/** The snapshot's version for a type, or EMPTY_TYPE_VERSION when it has none. */
export function versionOf(snapshot: ProxySnapshot, typeUrl: TypeUrl): string {
  return snapshot.typeVersions.get(typeUrl) ?? EMPTY_TYPE_VERSION;
}

/** The snapshot's resources of a type that the subscription covers, in name order. */
export function coveredResources(snapshot: ProxySnapshot, state: TypeState): VersionedResource[] {
  const all = snapshot.resources.get(state.typeUrl);
  if (all === undefined) return [];
  const { subscription } = state;
  const out: VersionedResource[] = [];
  if (subscription.isWildcard) out.push(...all.values());
  else for (const name of subscription.names) {
    const r = all.get(name);
    if (r !== undefined) out.push(r);
  }
  // Sorted so a response's bytes depend on the snapshot alone, never on map insertion order.
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
