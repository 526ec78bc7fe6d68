/**
 * Test-only: a scripted incremental ADS client. It keeps the client's view of each type
 * (name -> version) as Envoy does, applying a response when it ACKs it, and checks every
 * response as it arrives (protocol-check.ts), plus delta's own rule that a name is never both
 * sent and removed in one response.
 */
import { status as grpcStatus, type StatusObject } from '@grpc/grpc-js';
import { create, DeltaDiscoveryRequestSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, NodeSchema } from '../../xds/proto.js';
import { deltaAggregatedResourcesMethod } from '../service.js';
import { ProtocolCheck, ResponseQueue } from './protocol-check.js';
import { ScriptedCall, type ConnectOptions } from './scripted-call.js';
import type { TestNode } from './sotw-client.js';

/** The request fields a test sets. */
interface DeltaFields {
  typeUrl: string;
  resourceNamesSubscribe?: string[];
  resourceNamesUnsubscribe?: string[];
  initialResourceVersions?: Record<string, string>;
  responseNonce?: string;
  errorDetail?: { code: number; message: string };
}

/** A delta response as the test sees it. */
export interface DeltaResponse {
  readonly message: DeltaDiscoveryResponse;
  readonly typeUrl: string;
  readonly nonce: string;
  /** name -> version of the resources carried, in order. */
  readonly resources: ReadonlyMap<string, string>;
  readonly removed: readonly string[];
}

/** The scripted delta client; see the file comment. */
export class DeltaClient {
  readonly check = new ProtocolCheck();
  readonly #call: ScriptedCall<DeltaDiscoveryRequest, DeltaDiscoveryResponse>;
  readonly #queue = new ResponseQueue<DeltaResponse>();
  readonly #node: TestNode;
  #sentNode = false;
  readonly #held = new Map<string, Map<string, string>>();

  constructor(connect: ConnectOptions, node: TestNode) {
    this.#node = node;
    this.#call = new ScriptedCall(connect, deltaAggregatedResourcesMethod, (m) => this.#receive(m), (s) => this.#ended(s));
  }

  /** The final status of the call. */
  get status(): Promise<StatusObject> {
    return this.#call.status;
  }

  /** What the client holds of a type after the responses it ACKed: name -> version. */
  held(typeUrl: string): ReadonlyMap<string, string> {
    return this.#held.get(typeUrl) ?? new Map();
  }

  /** Sends a subscription change (and, on a first request, the versions it already holds). */
  request(typeUrl: string, change: { subscribe?: readonly string[]; unsubscribe?: readonly string[]; initialResourceVersions?: Readonly<Record<string, string>>; nonce?: string }): void {
    this.#send({
      typeUrl,
      resourceNamesSubscribe: [...(change.subscribe ?? [])],
      resourceNamesUnsubscribe: [...(change.unsubscribe ?? [])],
      initialResourceVersions: { ...(change.initialResourceVersions ?? {}) },
      responseNonce: change.nonce ?? '',
    });
    for (const name of change.unsubscribe ?? []) this.#held.get(typeUrl)?.delete(name);
    for (const [name, version] of Object.entries(change.initialResourceVersions ?? {})) this.#heldOf(typeUrl).set(name, version);
  }

  /** ACKs a response and applies it to the client's view. */
  ack(response: DeltaResponse): void {
    const held = this.#heldOf(response.typeUrl);
    for (const [name, version] of response.resources) held.set(name, version);
    for (const name of response.removed) held.delete(name);
    this.#send({ typeUrl: response.typeUrl, responseNonce: response.nonce });
  }

  /** NACKs a response; the view stays as it was. */
  nack(response: DeltaResponse, message: string): void {
    this.#send({ typeUrl: response.typeUrl, responseNonce: response.nonce, errorDetail: { code: grpcStatus.INVALID_ARGUMENT, message } });
  }

  /** The next response, in arrival order; rejects after `timeoutMs`. */
  next(timeoutMs = 5_000): Promise<DeltaResponse> {
    return this.#queue.next(timeoutMs, `delta response for node ${this.#node.id}`);
  }

  /** Half-closes the stream. */
  close(): void {
    this.#call.close();
  }

  #heldOf(typeUrl: string): Map<string, string> {
    let held = this.#held.get(typeUrl);
    if (held === undefined) this.#held.set(typeUrl, (held = new Map()));
    return held;
  }

  #send(fields: DeltaFields): void {
    const request = create(DeltaDiscoveryRequestSchema, fields);
    if (!this.#sentNode) request.node = create(NodeSchema, { id: this.#node.id, cluster: this.#node.cluster ?? 'test', userAgentName: this.#node.userAgentName ?? 'envoy' });
    this.#sentNode = true;
    this.#call.write(request);
  }

  #receive(message: DeltaDiscoveryResponse): void {
    this.check.nonce(message.nonce);
    const names = this.check.resources(message.typeUrl, message.resources.map((r) => ({ any: r.resource, name: r.name })));
    const resources = new Map<string, string>();
    for (const r of message.resources) {
      resources.set(r.name, r.version);
      if (r.resource !== undefined) this.check.version(message.typeUrl, r.name, r.version, r.resource.value, false);
    }
    for (const name of message.removedResources) if (names.includes(name)) this.check.violations.push(`${name} is both sent and removed in nonce ${message.nonce}`);
    this.#queue.push({ message, typeUrl: message.typeUrl, nonce: message.nonce, resources, removed: message.removedResources });
  }

  #ended(status: StatusObject): void {
    this.#queue.fail(new Error(`stream ended: ${grpcStatus[status.code]} ${status.details}`));
  }
}
