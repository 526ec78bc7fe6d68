/**
 * The ADS gRPC server: the mTLS listener (and an optional plaintext one for proxyless gRPC),
 * admission of each stream, the registry, and push scheduling from provider change events.
 *
 * A stream on the mTLS listener must present a mesh-CA-signed client certificate (the TLS
 * layer refuses anything else) whose CN names a proxy, else it ends UNAUTHENTICATED. Its first
 * request must carry `node`, else INVALID_ARGUMENT. The provider then admits it, else
 * PERMISSION_DENIED. On the plaintext listener there is no certificate and admission is the
 * provider's alone; that listener refuses a non-loopback address unless forced, because
 * anything it serves (secrets included) crosses the network in the clear.
 */
import { Server, ServerCredentials, status, type ChannelOptions, type ServerDuplexStream } from '@grpc/grpc-js';
import { createLogger, type Logger } from '../lib/logging.js';
import type { Node } from '../xds/proto.js';
import { DeltaStream } from './delta-stream.js';
import { AdsError } from './errors.js';
import { guardHooks, type AdsHooks, type StreamInfo, type StreamRefusal } from './hooks.js';
import { boundAddress, isLoopback, parseListenAddress, type ListenAddress } from './listen-address.js';
import { connectingProxyOf, proxyCertificateOf, type ProxyCertificate } from './peer.js';
import { ProxyRegistry, type RegisteredStream } from './registry.js';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_MAX_DELAY_MS, PushScheduler } from './scheduler.js';
import { aggregatedDiscoveryServiceDefinition } from './service.js';
import type { Admission, ConnectingProxy, SnapshotProvider } from './snapshot.js';
import { SotwStream } from './sotw-stream.js';
import type { AdsClock, StreamContext } from './stream.js';
import { realTimer } from '../lib/timers.js';

/** OSM's ADS address: port 15128 on every interface. */
export const DEFAULT_ADS_ADDRESS = '0.0.0.0:15128';

/** How long `close` lets clients take their final status before it drops their connections, in ms. */
const SHUTDOWN_GRACE_MS = 2_000;

/** Options for `startAdsServer`. */
export interface AdsServerOptions {
  readonly provider: SnapshotProvider;
  /** The mTLS listener, `host:port`. Default DEFAULT_ADS_ADDRESS. */
  readonly address?: string;
  /** The server certificate (CertificateManager.issueAdsServerCert) and the mesh root that signs client certificates. */
  readonly tls: { readonly certificateChainPem: string; readonly privateKeyPem: string; readonly caPem: string };
  /** When set, client certificate CNs must end in it. */
  readonly trustDomain?: string;
  /** A second listener without TLS, for proxyless gRPC clients; loopback only unless `force`. */
  readonly plaintext?: { readonly address: string; readonly force?: boolean };
  /** Quiet time that closes a burst of changes, in ms. Default 50. */
  readonly debounceMs?: number;
  /** Longest a change waits for its push, in ms. Default 500. */
  readonly maxDelayMs?: number;
  readonly hooks?: AdsHooks;
  readonly logger?: Logger;
  /** Default: the system clock and setTimeout. */
  readonly clock?: AdsClock;
  /** Extra grpc-js server options (keepalive, limits). */
  readonly grpcOptions?: ChannelOptions;
}

/** The default clock: wall-clock epoch ms with sub-ms precision, and real timers. */
export const systemAdsClock: AdsClock = {
  nowMs: () => performance.timeOrigin + performance.now(),
  setTimer: realTimer,
};

type Listener = StreamInfo['listener'];
type Protocol = StreamInfo['protocol'];
/** A stream of either protocol, as the server drives it. */
interface AnyStream extends RegisteredStream {
  handle(request: AdsRequest): void;
  close(): void;
  readonly isClosed: boolean;
}
interface AdsRequest {
  readonly node?: Node;
}

/** Starts the ADS server; resolves once every listener is bound. */
export async function startAdsServer(options: AdsServerOptions): Promise<AdsServer> {
  const server = new AdsServer(options);
  try {
    await server.listen();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/** A running ADS server; `close()` ends every stream and stops listening. */
export class AdsServer {
  /** Every connected proxy, for `osm proxy status` and the debug endpoint. */
  readonly registry = new ProxyRegistry();
  readonly #options: AdsServerOptions;
  readonly #log: Logger;
  readonly #context: StreamContext;
  readonly #scheduler: PushScheduler;
  readonly #mtlsAddress: ListenAddress;
  readonly #plaintextAddress: ListenAddress | undefined;
  readonly #servers: Server[] = [];
  readonly #endCalls = new Map<number, () => void>();
  #stopWatching: (() => void) | undefined;
  #nextStreamId = 0;
  #bound: { mtls?: string; plaintext?: string } = {};
  #closing: Promise<void> | undefined;

  constructor(options: AdsServerOptions) {
    this.#options = options;
    this.#log = options.logger ?? createLogger('ads');
    this.#mtlsAddress = parseListenAddress(options.address ?? DEFAULT_ADS_ADDRESS, 'address');
    if (options.plaintext !== undefined) {
      const address = parseListenAddress(options.plaintext.address, 'plaintext.address');
      if (!isLoopback(address) && options.plaintext.force !== true) throw new AdsError('E7102', { address: options.plaintext.address });
      this.#plaintextAddress = address;
    }
    const debounceMs = nonNegative('debounceMs', options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    const maxDelayMs = nonNegative('maxDelayMs', options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    const clock = options.clock ?? systemAdsClock;
    this.#context = { provider: options.provider, hooks: guardHooks(options.hooks ?? {}, this.#log), log: this.#log, clock, counters: this.registry.totals };
    this.#scheduler = new PushScheduler({ debounceMs, maxDelayMs, clock, flush: (keys) => this.#push(keys) });
  }

  /** The bound mTLS address, with the real port when 0 was asked for. */
  get address(): string {
    return this.#bound.mtls ?? '';
  }

  /** The bound plaintext address, if that listener is on. */
  get plaintextAddress(): string | undefined {
    return this.#bound.plaintext;
  }

  /** Binds the listeners and starts watching the provider. Called by `startAdsServer`. */
  async listen(): Promise<void> {
    const { tls } = this.#options;
    const credentials = ServerCredentials.createSsl(
      Buffer.from(tls.caPem),
      [{ cert_chain: Buffer.from(tls.certificateChainPem), private_key: Buffer.from(tls.privateKeyPem) }],
      true,
    );
    this.#bound.mtls = await this.#bind(this.#mtlsAddress, credentials, 'mtls');
    if (this.#plaintextAddress !== undefined) {
      this.#bound.plaintext = await this.#bind(this.#plaintextAddress, ServerCredentials.createInsecure(), 'plaintext');
    }
    this.#stopWatching = this.#options.provider.onChange((keys) => this.#scheduler.mark(keys));
    this.#log.info({ event: 'ads.listening', address: this.#bound.mtls, plaintext: this.#bound.plaintext }, 'ADS server listening');
  }

  /** Pushes every pending change now instead of at the end of the debounce window. */
  flushPushes(): void {
    this.#scheduler.flushNow();
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect elsewhere) and stops listening; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stopWatching?.();
    this.#scheduler.close();
    for (const end of [...this.#endCalls.values()]) end();
    await Promise.all(this.#servers.map((server) => shutdown(server)));
    this.#log.info({ event: 'ads.closed' }, 'ADS server stopped');
  }

  async #bind(address: ListenAddress, credentials: ServerCredentials, listener: Listener): Promise<string> {
    const server = new Server(this.#options.grpcOptions);
    server.addService(aggregatedDiscoveryServiceDefinition, {
      StreamAggregatedResources: (call: ServerDuplexStream<AdsRequest, unknown>) => this.#serve(call, 'sotw', listener),
      DeltaAggregatedResources: (call: ServerDuplexStream<AdsRequest, unknown>) => this.#serve(call, 'delta', listener),
    });
    this.#servers.push(server);
    const spec = boundAddress(address, address.kind === 'inet' ? address.port : 0);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(spec, credentials, (error, boundPort) => (error === null ? resolve(boundPort) : reject(new AdsError('E7103', { address: spec, reason: error.message }, { cause: error }))));
    });
    return boundAddress(address, port);
  }

  #serve(call: ServerDuplexStream<AdsRequest, unknown>, protocol: Protocol, listener: Listener): void {
    const peer = call.getPeer();
    const refuse = (statusName: StreamRefusal['status'], error: AdsError) => this.#refuse(call, { protocol, listener, peer, status: statusName, reason: error.message }, error);
    if (this.#closing !== undefined) {
      call.emit('error', { code: status.UNAVAILABLE, details: new AdsError('E7115').message });
      return;
    }
    let certificate: ProxyCertificate | undefined;
    if (listener === 'mtls') {
      const identity = proxyCertificateOf(call.getAuthContext(), this.#options.trustDomain);
      if (!identity.ok) return refuse('UNAUTHENTICATED', identity.error);
      certificate = identity.certificate;
    }
    let stream: AnyStream | undefined;
    let refused = false;
    const finish = (reason: string) => {
      if (stream === undefined || stream.isClosed) return;
      stream.close();
      this.#endCalls.delete(stream.info.streamId);
      if (!this.registry.remove(stream)) return;
      this.#release(stream.info.key);
      this.#context.hooks.onStreamClose(stream.info, reason);
      this.#log.info({ event: 'ads.stream.close', stream: stream.info.streamId, proxy: stream.info.key, reason }, 'ADS stream closed');
    };
    call.on('data', (request: AdsRequest) => {
      if (refused) return;
      try {
        if (stream === undefined) {
          const admitted = this.#admit(call, request, certificate, peer, protocol, listener);
          if (!admitted.ok) {
            refused = true;
            return refuse(admitted.status, admitted.error);
          }
          stream = admitted.stream;
          this.#endCalls.set(stream.info.streamId, () => {
            finish('server shutting down');
            call.emit('error', { code: status.UNAVAILABLE, details: new AdsError('E7115').message });
          });
        }
        stream.handle(request);
      } catch (error) {
        // A bug, not a client fault: end this stream loudly rather than serve it half-handled.
        refused = true;
        this.#log.error({ event: 'ads.stream.failed', stream: stream?.info.streamId, peer, error }, 'ADS stream failed');
        finish('internal error');
        call.emit('error', { code: status.INTERNAL, details: 'internal error' });
      }
    });
    call.on('end', () => {
      finish('client closed the stream');
      call.end();
    });
    call.on('cancelled', () => finish('cancelled'));
    call.on('close', () => finish('connection closed'));
  }

  #admit(
    call: ServerDuplexStream<AdsRequest, unknown>,
    request: AdsRequest,
    certificate: ProxyCertificate | undefined,
    peer: string,
    protocol: Protocol,
    listener: Listener,
  ): { ok: true; stream: AnyStream } | { ok: false; status: StreamRefusal['status']; error: AdsError } {
    if (request.node === undefined) return { ok: false, status: 'INVALID_ARGUMENT', error: new AdsError('E7113') };
    const proxy = connectingProxyOf(request.node, certificate, peer);
    const admission = this.#askProvider(proxy);
    if (!admission.ok) return { ok: false, status: 'PERMISSION_DENIED', error: new AdsError('E7114', { node: JSON.stringify(proxy.node.id), reason: admission.reason }) };
    this.#nextStreamId += 1;
    const info: StreamInfo = { streamId: this.#nextStreamId, protocol, listener, key: admission.key, identity: admission.identity, nodeId: proxy.node.id, flavour: proxy.flavour, peer };
    const write = (response: unknown) => call.write(response);
    const stream: AnyStream = protocol === 'sotw' ? new SotwStream(this.#context, info, certificate?.uuid, write) : new DeltaStream(this.#context, info, certificate?.uuid, write);
    this.registry.add(stream);
    this.#log.info({ event: 'ads.stream.open', stream: info.streamId, proxy: info.key, identity: info.identity, node: info.nodeId, flavour: info.flavour, protocol, listener, peer }, 'ADS stream opened');
    this.#context.hooks.onStreamOpen(info);
    return { ok: true, stream };
  }

  #askProvider(proxy: ConnectingProxy): Admission {
    try {
      return this.#options.provider.admit(proxy);
    } catch (error) {
      return { ok: false, reason: `the provider failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  #refuse(call: ServerDuplexStream<AdsRequest, unknown>, refusal: StreamRefusal, error: AdsError): void {
    const totals = this.registry.totals;
    if (refusal.status === 'UNAUTHENTICATED') totals.refusedUnauthenticated++;
    else if (refusal.status === 'PERMISSION_DENIED') totals.refusedPermissionDenied++;
    else totals.refusedInvalid++;
    this.#log.warn({ event: 'ads.stream.refused', peer: refusal.peer, listener: refusal.listener, status: refusal.status, code: error.code, reason: error.message }, 'ADS stream refused');
    this.#context.hooks.onStreamRefused(refusal);
    call.emit('error', { code: status[refusal.status], details: error.message });
  }

  #release(key: string): void {
    try {
      this.#options.provider.release(key);
    } catch (error) {
      this.#log.error({ event: 'ads.release.failed', proxy: key, error }, 'the provider failed to release a proxy');
    }
  }

  #push(keys: readonly string[]): void {
    for (const key of keys) for (const stream of this.registry.streamsFor(key)) stream.push();
  }
}

function nonNegative(option: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new AdsError('E7101', { option, reason: `expected a number of ms >= 0, got ${value}` });
  return value;
}

/** Lets calls finish and sessions close, then forces whatever is left after the grace period. */
function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
