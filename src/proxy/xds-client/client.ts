/**
 * The sidecar's ADS client (state of the world): one mTLS stream to the controller, LDS and
 * CDS by wildcard, RDS/EDS/SDS by the names accepted listeners and clusters refer to. Every
 * response is decoded whole and ACKed or NACKed (keeping the last accepted resources), and a
 * new ProxyConfig is published only when the whole set resolves and something changed.
 * While the controller is away the last config keeps serving; reconnects back off
 * exponentially on an injected timer and resend the last accepted versions.
 * With `protocol: 'delta'` the same caches, decoding and publishing run over
 * DeltaAggregatedResources (xds.md 3.2): subscription deltas (`*` for LDS/CDS), per-resource
 * versions, `removed_resources`, ACK/NACK by nonce, and `initial_resource_versions` on reconnect.
 */
import { Client, credentials, type ChannelOptions, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { assembleConfig, type MissingResource, type ProxyConfig } from '../config/index.js';
import {
  AggregatedDiscoveryService,
  create,
  decode,
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  encode,
  type DeltaDiscoveryRequest,
  type DeltaDiscoveryResponse,
  type DiscoveryRequest,
  type DiscoveryResponse,
  type JsonValue,
} from '../../xds/proto.js';
import { createCaches, referencesOf, type ApplyResult, type Caches } from './resource-cache.js';
import { realTimer } from '../../lib/timers.js';

/** Arms a one-shot timer and returns its cancel function (injected so tests drive back-off). */
export interface XdsTimer {
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** Something the client did, for logs, metrics and tests (observability stays out of the loop). */
export type XdsClientEvent =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'request'; readonly typeUrl: string; readonly versionInfo: string; readonly nonce: string; readonly names: readonly string[]; readonly errorDetail?: string; readonly subscribe?: readonly string[]; readonly unsubscribe?: readonly string[]; readonly initialResourceVersions?: Readonly<Record<string, string>> }
  | { readonly kind: 'response'; readonly typeUrl: string; readonly versionInfo: string; readonly nonce: string; readonly resources: number }
  | { readonly kind: 'nack'; readonly typeUrl: string; readonly nonce: string; readonly message: string }
  | { readonly kind: 'incomplete'; readonly missing: readonly MissingResource[]; readonly errors: readonly string[] }
  | { readonly kind: 'config'; readonly config: ProxyConfig }
  | { readonly kind: 'disconnected'; readonly code: number; readonly details: string; readonly retryInMs: number };

/** Options for `startXdsClient`; the PEMs are passed in, reading the bootstrap's files is the caller's job. */
export interface XdsClientOptions {
  /** The bootstrap's `ads.address`, `host:port`. */
  readonly address: string;
  /** The bootstrap's `ads.serverName`: the name the controller's certificate must carry. */
  readonly serverName: string;
  readonly tls: { readonly certificateChainPem: Buffer; readonly privateKeyPem: Buffer; readonly caPem: Buffer };
  readonly node: { readonly id: string; readonly cluster?: string; readonly metadata?: { readonly [key: string]: JsonValue } };
  /** First retry delay in ms (default 500), doubled per failed attempt up to `maxMs` (default 30000). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Default: setTimeout. */
  readonly timer?: XdsTimer;
  /** Jitter source in [0, 1); default Math.random. Return 1 - tiny for no jitter. */
  readonly random?: () => number;
  readonly channelOptions?: ChannelOptions;
  /** 'sotw' (default): StreamAggregatedResources; 'delta': DeltaAggregatedResources. */
  readonly protocol?: 'sotw' | 'delta';
}

const PATH = `/${AggregatedDiscoveryService.typeName}/${AggregatedDiscoveryService.method.streamAggregatedResources.name}`;
const DELTA_PATH = `/${AggregatedDiscoveryService.typeName}/${AggregatedDiscoveryService.method.deltaAggregatedResources.name}`;
/** The explicit wildcard name of a delta subscription. */
const WILDCARD = '*';
/** google.rpc.Code INVALID_ARGUMENT, what Envoy puts in a NACK's error_detail. */
const INVALID_ARGUMENT = 3;

const systemTimer: XdsTimer = { setTimer: realTimer };

type Stream = { readonly client: Client; sentNode: boolean } & (
  | { readonly protocol: 'sotw'; readonly call: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> }
  | { readonly protocol: 'delta'; readonly call: ClientDuplexStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> }
);

type AnyCache = Caches[keyof Caches];

/** Starts the client; it connects at once and keeps reconnecting until `close()`. */
export function startXdsClient(options: XdsClientOptions): XdsClient {
  const client = new XdsClient(options);
  client.connect();
  return client;
}

/** A running ADS client; see the file comment. */
export class XdsClient {
  readonly #options: XdsClientOptions;
  readonly #timer: XdsTimer;
  readonly #caches: Caches = createCaches();
  readonly #configListeners = new Set<(config: ProxyConfig) => void>();
  readonly #eventListeners = new Set<(event: XdsClientEvent) => void>();
  #config: ProxyConfig | undefined;
  // Set when an accepted resource changed since the last published config.
  #dirty = false;
  #stream: Stream | undefined;
  #failures = 0;
  #cancelRetry: (() => void) | undefined;
  #closed = false;

  constructor(options: XdsClientOptions) {
    this.#options = options;
    this.#timer = options.timer ?? systemTimer;
  }

  /** True once the first complete config was published; it stays true while disconnected. */
  get ready(): boolean {
    return this.#config !== undefined;
  }

  /** The current config: the last complete one, or undefined before the first. */
  get config(): ProxyConfig | undefined {
    return this.#config;
  }

  /** Calls `listener` with each new config; returns its unsubscribe function. */
  /** The accepted resources of every type, as received, with each type's accepted version: for `/config_dump`. */
  acceptedResources(): Array<{ readonly typeUrl: string; readonly versionInfo: string; readonly lastUpdatedMs: number | undefined; readonly resources: ReturnType<Caches['listeners']['entries']> }> {
    const c = this.#caches;
    return [c.listeners, c.routeConfigs, c.clusters, c.endpoints, c.secrets].map((cache) => ({ typeUrl: cache.typeUrl, versionInfo: cache.versionInfo, lastUpdatedMs: cache.lastUpdatedMs, resources: cache.entries() }));
  }

  onConfig(listener: (config: ProxyConfig) => void): () => void {
    this.#configListeners.add(listener);
    return () => this.#configListeners.delete(listener);
  }

  /** Calls `listener` with every event; returns its unsubscribe function. */
  onEvent(listener: (event: XdsClientEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /** Opens a stream now (called by `startXdsClient` and by the retry timer). */
  connect(): void {
    if (this.#closed || this.#stream !== undefined) return;
    this.#cancelRetry = undefined;
    this.#emit({ kind: 'connecting', attempt: this.#failures + 1 });
    const { address, serverName, tls } = this.#options;
    // A new channel per attempt, so our back-off is the only one (grpc-js's own would fail calls fast meanwhile).
    const client = new Client(address, credentials.createSsl(tls.caPem, tls.privateKeyPem, tls.certificateChainPem), {
      ...this.#options.channelOptions,
      'grpc.ssl_target_name_override': serverName,
    });
    let stream: Stream;
    if (this.#options.protocol === 'delta') {
      const call = client.makeBidiStreamRequest(DELTA_PATH, serializeDeltaRequest, deserializeDeltaResponse);
      stream = { protocol: 'delta', client, call, sentNode: false };
      call.on('data', (response: DeltaDiscoveryResponse) => this.#onDeltaResponse(stream, response));
    } else {
      const call = client.makeBidiStreamRequest(PATH, serializeRequest, deserializeResponse);
      stream = { protocol: 'sotw', client, call, sentNode: false };
      call.on('data', (response: DiscoveryResponse) => this.#onResponse(stream, response));
    }
    this.#stream = stream;
    const { call } = stream;
    // The final status comes on 'status'; an unheard 'error' event would throw.
    call.on('error', () => undefined);
    call.on('status', (status: StatusObject) => this.#onEnd(stream, status));
    // Nonces are per stream; versions and subscriptions carry over (xds.md 3.1 rules 1-2).
    for (const cache of this.#all()) {
      cache.nonce = '';
      cache.sentNames = undefined;
    }
    this.#requestChangedSubscriptions(stream);
  }

  /** Ends the stream and stops reconnecting; the last config stays readable. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelRetry?.();
    const stream = this.#stream;
    this.#stream = undefined;
    stream?.call.cancel();
    stream?.client.close();
  }

  #all(): AnyCache[] {
    const c = this.#caches;
    // CDS before LDS, as Envoy asks, so clusters can warm before listeners route to them.
    return [c.clusters, c.endpoints, c.listeners, c.routeConfigs, c.secrets];
  }

  #onResponse(stream: Stream, response: DiscoveryResponse): void {
    if (stream !== this.#stream) return;
    this.#failures = 0;
    this.#emit({ kind: 'response', typeUrl: response.typeUrl, versionInfo: response.versionInfo, nonce: response.nonce, resources: response.resources.length });
    const cache = this.#all().find((c) => c.typeUrl === response.typeUrl);
    if (cache === undefined) return; // Not a type we asked for: clients ignore what they did not request.
    cache.nonce = response.nonce;
    const result = cache.apply(response.resources, this.#wanted(cache));
    if (result.ok) cache.versionInfo = response.versionInfo;
    this.#settle(stream, cache, result);
  }

  #onDeltaResponse(stream: Stream, response: DeltaDiscoveryResponse): void {
    if (stream !== this.#stream) return;
    this.#failures = 0;
    this.#emit({ kind: 'response', typeUrl: response.typeUrl, versionInfo: response.systemVersionInfo, nonce: response.nonce, resources: response.resources.length });
    const cache = this.#all().find((c) => c.typeUrl === response.typeUrl);
    if (cache === undefined) return;
    cache.nonce = response.nonce;
    this.#settle(stream, cache, cache.applyDelta(response.resources, response.removedResources, this.#wanted(cache)));
  }

  /** NACKs a refused response, or ACKs an accepted one (after any new subscriptions) and publishes. */
  #settle(stream: Stream, cache: AnyCache, result: ApplyResult): void {
    if (!result.ok) {
      this.#emit({ kind: 'nack', typeUrl: cache.typeUrl, nonce: cache.nonce, message: result.message });
      this.#send(stream, cache, result.message);
      return;
    }
    if (result.changed) this.#dirty = true;
    // Subscribe to newly referenced children before ACKing the parent, as Envoy does while warming.
    this.#requestChangedSubscriptions(stream, cache);
    this.#send(stream, cache);
    this.#publishIfComplete();
  }

  /** The names a type subscribes to now: wildcard for LDS/CDS, else what accepted parents refer to. */
  #wanted(cache: AnyCache): ReadonlySet<string> | 'wildcard' {
    const c = this.#caches;
    if (cache === c.listeners || cache === c.clusters) return 'wildcard';
    const refs = referencesOf(c.listeners.values(), c.clusters.values());
    if (cache === c.routeConfigs) return refs.routeConfigs;
    if (cache === c.endpoints) return refs.endpoints;
    return refs.secrets;
  }

  /** Drops unreferenced children and sends a request for every type whose names changed (except `acking`, which is about to be sent). */
  #requestChangedSubscriptions(stream: Stream, acking?: AnyCache): void {
    for (const cache of this.#all()) {
      const wanted = this.#wanted(cache);
      if (wanted !== 'wildcard' && cache.retain(wanted)) this.#dirty = true;
      if (cache === acking) continue;
      const names = namesOf(wanted, stream.protocol);
      // An empty list means "no interest" for RDS/EDS/SDS: only worth sending to withdraw an earlier one.
      if (wanted !== 'wildcard' && names.length === 0 && (cache.sentNames?.length ?? 0) === 0) continue;
      if (cache.sentNames !== undefined && sameNames(cache.sentNames, names)) continue;
      this.#send(stream, cache, undefined, true);
    }
  }

  /** Sends the type's current request: an ACK (or a subscription change) without `errorDetail`, a NACK with it. */
  /** `spontaneous`: a subscription change, not an answer to a response (a delta one then carries no nonce). */
  #send(stream: Stream, cache: AnyCache, errorDetail?: string, spontaneous = false): void {
    const names = namesOf(this.#wanted(cache), stream.protocol);
    const { node } = this.#options;
    const common = {
      typeUrl: cache.typeUrl,
      // Only the first request on a stream must carry the node (xds.md 3.1 rule 1).
      ...(stream.sentNode ? {} : { node: { id: node.id, cluster: node.cluster ?? '', ...(node.metadata ? { metadata: node.metadata } : {}), userAgentName: 'osm-ts-sidecar' } }),
      ...(errorDetail === undefined ? {} : { errorDetail: { code: INVALID_ARGUMENT, message: errorDetail } }),
    };
    const detail = errorDetail === undefined ? {} : { errorDetail };
    if (stream.protocol === 'delta') {
      // Subscription deltas against what this stream was told; the first request lists everything and what we hold.
      const previous = cache.sentNames;
      const subscribe = names.filter((n) => !(previous ?? []).includes(n));
      const unsubscribe = (previous ?? []).filter((n) => !names.includes(n));
      const nonce = spontaneous ? '' : cache.nonce;
      const initialResourceVersions = previous === undefined ? cache.versions() : {};
      const request = create(DeltaDiscoveryRequestSchema, {
        ...common,
        resourceNamesSubscribe: subscribe,
        resourceNamesUnsubscribe: unsubscribe,
        initialResourceVersions,
        responseNonce: nonce,
      });
      stream.sentNode = true;
      cache.sentNames = names;
      this.#emit({ kind: 'request', typeUrl: cache.typeUrl, versionInfo: '', nonce, names, subscribe, unsubscribe, initialResourceVersions, ...detail });
      stream.call.write(request);
      return;
    }
    const request = create(DiscoveryRequestSchema, { ...common, versionInfo: cache.versionInfo, resourceNames: [...names], responseNonce: cache.nonce });
    stream.sentNode = true;
    cache.sentNames = names;
    this.#emit({ kind: 'request', typeUrl: cache.typeUrl, versionInfo: cache.versionInfo, nonce: cache.nonce, names, ...detail });
    stream.call.write(request);
  }

  #publishIfComplete(): void {
    if (!this.#dirty) return;
    const c = this.#caches;
    // Like Envoy's initialization: nothing is complete before both wildcard types have answered once.
    if (!c.listeners.received || !c.clusters.received) return;
    const result = assembleConfig({
      listeners: c.listeners.values(),
      routeConfigs: c.routeConfigs.values(),
      clusters: c.clusters.values(),
      endpoints: c.endpoints.values(),
      secrets: c.secrets.values(),
    });
    if (!result.ok) {
      this.#emit({ kind: 'incomplete', missing: result.missing, errors: result.errors.map((e) => `${e.path}: ${e.message}`) });
      return;
    }
    this.#dirty = false;
    this.#config = result.config;
    this.#emit({ kind: 'config', config: result.config });
    for (const listener of [...this.#configListeners]) listener(result.config);
  }

  #onEnd(stream: Stream, status: StatusObject): void {
    if (stream !== this.#stream) return;
    this.#stream = undefined;
    stream.client.close();
    if (this.#closed) return;
    const retryInMs = this.#retryDelayMs();
    this.#failures++;
    this.#emit({ kind: 'disconnected', code: status.code, details: status.details, retryInMs });
    this.#cancelRetry = this.#timer.setTimer(() => this.connect(), retryInMs);
  }

  /** Exponential back-off with jitter in the upper half, so a fleet does not reconnect in step. */
  #retryDelayMs(): number {
    const initialMs = this.#options.backoff?.initialMs ?? 500;
    const maxMs = this.#options.backoff?.maxMs ?? 30_000;
    const ceilingMs = Math.min(maxMs, initialMs * 2 ** Math.min(this.#failures, 30));
    const random = this.#options.random ?? Math.random;
    return Math.round(ceilingMs / 2 + (ceilingMs / 2) * random());
  }

  #emit(event: XdsClientEvent): void {
    for (const listener of [...this.#eventListeners]) listener(event);
  }
}

function namesOf(wanted: ReadonlySet<string> | 'wildcard', protocol: Stream['protocol']): readonly string[] {
  // SotW uses the legacy wildcard: LDS/CDS never send a name, so an empty list keeps meaning "everything".
  if (wanted === 'wildcard') return protocol === 'delta' ? [WILDCARD] : [];
  return [...wanted].sort();
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function serializeRequest(message: DiscoveryRequest): Buffer {
  const bytes = encode(DiscoveryRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function deserializeResponse(bytes: Buffer): DiscoveryResponse {
  return decode(DiscoveryResponseSchema, bytes);
}

function serializeDeltaRequest(message: DeltaDiscoveryRequest): Buffer {
  const bytes = encode(DeltaDiscoveryRequestSchema, message);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function deserializeDeltaResponse(bytes: Buffer): DeltaDiscoveryResponse {
  return decode(DeltaDiscoveryResponseSchema, bytes);
}
