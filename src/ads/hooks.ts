/**
 * Observability hooks: what the ADS server tells the outside about its streams, as
 * go-control-plane's `Callbacks` do, so metrics (Prometheus in the controller) attach here
 * instead of living in the protocol loop. Every hook is optional and called synchronously;
 * a hook that throws is logged and otherwise ignored, so observers cannot break a stream.
 */
import type { Logger } from '../lib/logging.js';
import type { ClientFlavour } from './snapshot.js';

/** Who is on the other end of a stream, as every stream hook reports it. */
export interface StreamInfo {
  /** A per-server stream number, unique while the server runs. */
  readonly streamId: number;
  readonly protocol: 'sotw' | 'delta';
  readonly listener: 'mtls' | 'plaintext';
  /** The provider's key for the proxy's snapshot. */
  readonly key: string;
  readonly identity: string;
  readonly nodeId: string;
  readonly flavour: ClientFlavour;
  readonly peer: string;
}

/** Why a stream was refused before it was registered. */
export interface StreamRefusal {
  readonly protocol: 'sotw' | 'delta';
  readonly listener: 'mtls' | 'plaintext';
  readonly peer: string;
  /** The gRPC status name the stream ended with. */
  readonly status: 'UNAUTHENTICATED' | 'PERMISSION_DENIED' | 'INVALID_ARGUMENT';
  readonly reason: string;
}

/** One response written to a stream. */
export interface ResponseEvent {
  readonly typeUrl: string;
  readonly version: string;
  readonly nonce: string;
  /** Resources carried (SotW: all of them; delta: the added or changed ones). */
  readonly resources: number;
  /** Names in `removed_resources` (always 0 for SotW). */
  readonly removed: number;
}

/** A NACK: the client rejected one of our responses. */
export interface NackEvent {
  readonly typeUrl: string;
  /** The version of the rejected response. */
  readonly version: string;
  readonly nonce: string;
  /** The version the client says it still uses. */
  readonly clientVersion: string;
  readonly message: string;
}

/** One scheduled push to one stream: how long computing and writing it took. */
export interface PushEvent {
  readonly responses: number;
  readonly durationMs: number;
}

/** The observer interface; see the file comment. */
export interface AdsHooks {
  onStreamOpen?(stream: StreamInfo): void;
  onStreamClose?(stream: StreamInfo, reason: string): void;
  onStreamRefused?(refusal: StreamRefusal): void;
  /** A request arrived on a registered stream (every request, ACKs included). */
  onRequest?(stream: StreamInfo, typeUrl: string): void;
  onResponse?(stream: StreamInfo, response: ResponseEvent): void;
  onAck?(stream: StreamInfo, typeUrl: string, version: string, nonce: string): void;
  onNack?(stream: StreamInfo, nack: NackEvent): void;
  onPush?(stream: StreamInfo, push: PushEvent): void;
}

function guard<A extends unknown[]>(name: string, hook: ((...args: A) => void) | undefined, log: Logger): (...args: A) => void {
  if (hook === undefined) return () => undefined;
  return (...args) => {
    try {
      hook(...args);
    } catch (error) {
      log.error({ event: 'ads.hook.failed', hook: name, error }, 'an observability hook threw; the stream carries on');
    }
  };
}

/** Every hook present and safe to call: missing ones do nothing, throwing ones are logged. */
export function guardHooks(hooks: AdsHooks, log: Logger): Required<AdsHooks> {
  return {
    onStreamOpen: guard('onStreamOpen', hooks.onStreamOpen?.bind(hooks), log),
    onStreamClose: guard('onStreamClose', hooks.onStreamClose?.bind(hooks), log),
    onStreamRefused: guard('onStreamRefused', hooks.onStreamRefused?.bind(hooks), log),
    onRequest: guard('onRequest', hooks.onRequest?.bind(hooks), log),
    onResponse: guard('onResponse', hooks.onResponse?.bind(hooks), log),
    onAck: guard('onAck', hooks.onAck?.bind(hooks), log),
    onNack: guard('onNack', hooks.onNack?.bind(hooks), log),
    onPush: guard('onPush', hooks.onPush?.bind(hooks), log),
  };
}
