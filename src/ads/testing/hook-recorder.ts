/**
 * Test-only: AdsHooks that record every event in order, with a way to wait for one (with a
 * deadline) instead of sleeping.
 */
import type { AdsHooks, NackEvent, PushEvent, ResponseEvent, StreamInfo, StreamRefusal } from '../hooks.js';

/** One recorded hook call. */
export type HookEvent =
  | { kind: 'open'; stream: StreamInfo }
  | { kind: 'close'; stream: StreamInfo; reason: string }
  | { kind: 'refused'; refusal: StreamRefusal }
  | { kind: 'request'; stream: StreamInfo; typeUrl: string }
  | { kind: 'response'; stream: StreamInfo; response: ResponseEvent }
  | { kind: 'ack'; stream: StreamInfo; typeUrl: string; version: string; nonce: string }
  | { kind: 'nack'; stream: StreamInfo; nack: NackEvent }
  | { kind: 'push'; stream: StreamInfo; push: PushEvent };

interface Waiter {
  predicate: (event: HookEvent) => boolean;
  resolve: (event: HookEvent) => void;
}

/** Records hook events; see the file comment. */
export class HookRecorder implements AdsHooks {
  readonly events: HookEvent[] = [];
  readonly #waiters = new Set<Waiter>();

  onStreamOpen(stream: StreamInfo): void {
    this.#record({ kind: 'open', stream });
  }
  onStreamClose(stream: StreamInfo, reason: string): void {
    this.#record({ kind: 'close', stream, reason });
  }
  onStreamRefused(refusal: StreamRefusal): void {
    this.#record({ kind: 'refused', refusal });
  }
  onRequest(stream: StreamInfo, typeUrl: string): void {
    this.#record({ kind: 'request', stream, typeUrl });
  }
  onResponse(stream: StreamInfo, response: ResponseEvent): void {
    this.#record({ kind: 'response', stream, response });
  }
  onAck(stream: StreamInfo, typeUrl: string, version: string, nonce: string): void {
    this.#record({ kind: 'ack', stream, typeUrl, version, nonce });
  }
  onNack(stream: StreamInfo, nack: NackEvent): void {
    this.#record({ kind: 'nack', stream, nack });
  }
  onPush(stream: StreamInfo, push: PushEvent): void {
    this.#record({ kind: 'push', stream, push });
  }

  /** Events of one kind. */
  ofKind<K extends HookEvent['kind']>(kind: K): Extract<HookEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<HookEvent, { kind: K }> => e.kind === kind);
  }

  /**
   * Resolves with the first event (already recorded or still to come) matching `predicate`
   * and of `kind`; rejects after `timeoutMs` naming what it waited for.
   */
  waitFor<K extends HookEvent['kind']>(kind: K, predicate: (event: Extract<HookEvent, { kind: K }>) => boolean = () => true, timeoutMs = 5_000): Promise<Extract<HookEvent, { kind: K }>> {
    const matches = (e: HookEvent): e is Extract<HookEvent, { kind: K }> => e.kind === kind && predicate(e as Extract<HookEvent, { kind: K }>);
    const seen = this.events.find(matches);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate: matches,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event as Extract<HookEvent, { kind: K }>);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${kind} hook event matched within ${timeoutMs} ms; saw ${this.events.map((e) => e.kind).join(', ')}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Resolves once at least `count` events of `kind` were recorded. */
  async waitForCount(kind: HookEvent['kind'], count: number, timeoutMs = 5_000): Promise<void> {
    if (this.ofKind(kind).length >= count) return;
    await this.waitFor(kind, () => this.ofKind(kind).length >= count, timeoutMs);
  }

  #record(event: HookEvent): void {
    this.events.push(event);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.predicate(event)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(event);
    }
  }
}
