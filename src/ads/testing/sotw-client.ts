/**
 * Test-only: a scripted state-of-the-world ADS client. It sends what a test tells it to, in
 * the shape Envoy and gRPC use (node on the first request only; ACK = the response's version
 * and nonce; NACK = the last accepted version, the nonce and error_detail), and checks every
 * response as it arrives (protocol-check.ts).
 */
import { status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import { create, DiscoveryRequestSchema, type DiscoveryRequest, type DiscoveryResponse } from '../../xds/proto.js';
import { streamAggregatedResourcesMethod } from '../service.js';
import { ProtocolCheck, ResponseQueue } from './protocol-check.js';
import { ScriptedCall, type ConnectOptions } from './scripted-call.js';

/** The node a scripted client announces. */
export interface TestNode {
  readonly id: string;
  readonly cluster?: string;
  /** Default `envoy`. */
  readonly userAgentName?: string;
  /** Send no node at all (a malformed first request). */
  readonly omitNode?: boolean;
}

/** A response as the test sees it: the message and its resource names in order. */
export interface SotwResponse {
  readonly message: DiscoveryResponse;
  readonly typeUrl: string;
  readonly version: string;
  readonly nonce: string;
  readonly names: readonly string[];
}

/** The scripted SotW client; see the file comment. */
export class SotwClient {
  readonly check = new ProtocolCheck();
  readonly #call: ScriptedCall<DiscoveryRequest, DiscoveryResponse>;
  readonly #queue = new ResponseQueue<SotwResponse>();
  readonly #node: TestNode;
  #sentNode = false;
  readonly #names = new Map<string, readonly string[]>();
  readonly #accepted = new Map<string, string>();
  readonly #lastNonce = new Map<string, string>();

  constructor(connect: ConnectOptions, node: TestNode) {
    this.#node = node;
    this.#call = new ScriptedCall(connect, streamAggregatedResourcesMethod, (m) => this.#receive(m), (s) => this.#ended(s));
  }

  /** The final status of the call. */
  get status(): Promise<StatusObject> {
    return this.#call.status;
  }

  /** Responses received and not yet taken with `next`. */
  get unread(): number {
    return this.#queue.unread;
  }

  /** The version last ACKed for a type ('' before any). */
  accepted(typeUrl: string): string {
    return this.#accepted.get(typeUrl) ?? '';
  }

  /**
   * Requests `names` of a type, with the last accepted version and the last nonce received
   * for it unless overridden (a stale nonce, an error_detail repeated as gRPC does).
   */
  subscribe(typeUrl: string, names: readonly string[], extra: { version?: string; nonce?: string; errorMessage?: string } = {}): void {
    this.#names.set(typeUrl, names);
    this.#send(typeUrl, extra.version ?? this.accepted(typeUrl), extra.nonce ?? this.#lastNonce.get(typeUrl) ?? '', extra.errorMessage);
  }

  /** ACKs a response: its version and nonce, the current names. */
  ack(response: SotwResponse): void {
    this.#accepted.set(response.typeUrl, response.version);
    this.#send(response.typeUrl, response.version, response.nonce, undefined);
  }

  /** NACKs a response: the last accepted version, its nonce, and an error message. */
  nack(response: SotwResponse, message: string): void {
    this.#send(response.typeUrl, this.accepted(response.typeUrl), response.nonce, message);
  }

  /** The next response, in arrival order; rejects after `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<SotwResponse> {
    return this.#queue.next(timeoutMs, `response for node ${this.#node.id}`);
  }

  /** Half-closes the stream. */
  close(): void {
    this.#call.close();
  }

  /** Cancels the stream, as a proxy that dies would. */
  cancel(): void {
    this.#call.cancel();
  }

  #send(typeUrl: string, versionInfo: string, responseNonce: string, errorMessage: string | undefined): void {
    const request = create(DiscoveryRequestSchema, {
      typeUrl,
      versionInfo,
      responseNonce,
      resourceNames: [...(this.#names.get(typeUrl) ?? [])],
      ...(errorMessage !== undefined ? { errorDetail: { code: grpcStatus.INVALID_ARGUMENT, message: errorMessage } } : {}),
      ...(this.#sentNode || this.#node.omitNode === true ? {} : { node: { id: this.#node.id, cluster: this.#node.cluster ?? 'test', userAgentName: this.#node.userAgentName ?? 'envoy' } }),
    });
    this.#sentNode = true;
    this.#call.write(request);
  }

  #receive(message: DiscoveryResponse): void {
    this.check.nonce(message.nonce);
    const names = this.check.resources(message.typeUrl, message.resources.map((any) => ({ any })));
    for (const [i, any] of message.resources.entries()) this.check.version(message.typeUrl, names[i] ?? '', message.versionInfo, any.value, true);
    this.#lastNonce.set(message.typeUrl, message.nonce);
    this.#queue.push({ message, typeUrl: message.typeUrl, version: message.versionInfo, nonce: message.nonce, names });
  }

  #ended(status: StatusObject): void {
    this.#queue.fail(new Error(`stream ended: ${grpcStatus[status.code]} ${status.details}`));
  }
}
