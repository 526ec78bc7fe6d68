/**
 * Test-only: one ADS call opened with a plain grpc-js Client over our hand-written method
 * definitions (the same serialisers the server uses), with the final status as a promise.
 */
import { Client, type ChannelCredentials, type ChannelOptions, type ClientDuplexStream, type MethodDefinition, type StatusObject } from '@grpc/grpc-js';

/** Where and how a scripted client connects. */
export interface ConnectOptions {
  readonly target: string;
  readonly credentials: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
}

/** An open bidirectional ADS call. */
export class ScriptedCall<Req, Res> {
  readonly #client: Client;
  readonly call: ClientDuplexStream<Req, Res>;
  /** The status the call ended with (UNAVAILABLE for a refused TLS handshake). */
  readonly status: Promise<StatusObject>;

  constructor(connect: ConnectOptions, method: MethodDefinition<Req, Res>, onResponse: (response: Res) => void, onEnd: (status: StatusObject) => void) {
    this.#client = new Client(connect.target, connect.credentials, connect.channelOptions);
    this.call = this.#client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
    this.call.on('data', onResponse);
    // The status event always comes; 'error' repeats it for non-OK codes and must be handled.
    this.call.on('error', () => undefined);
    this.status = new Promise((resolve) => this.call.on('status', (status: StatusObject) => {
      onEnd(status);
      resolve(status);
    }));
  }

  /** Sends one request. */
  write(request: Req): void {
    this.call.write(request);
  }

  /** Half-closes the call and closes the channel. */
  close(): void {
    this.call.end();
    this.#client.close();
  }

  /** Cancels the call (as a proxy that dies would) and closes the channel. */
  cancel(): void {
    this.call.cancel();
    this.#client.close();
  }
}
