/**
 * Test-only: what our scripted xDS clients check of every response while they talk, as
 * go-control-plane's mock stream does (envoyproxy/go-control-plane:pkg/server/v3/server_test.go):
 * nonces unique and increasing on the stream, every resource's type URL equal to the
 * response's, no name twice in one response, and a resource's version tied to its content.
 * Violations are collected; tests assert there are none.
 */
import { createHash } from 'node:crypto';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  decode,
  ListenerSchema,
  ResourceTypeUrl,
  RouteConfigurationSchema,
  SecretSchema,
  type Any,
} from '../../xds/proto.js';

const NAME_OF: ReadonlyMap<string, (bytes: Uint8Array) => string> = new Map([
  [ResourceTypeUrl.listener, (b: Uint8Array) => decode(ListenerSchema, b).name],
  [ResourceTypeUrl.routeConfiguration, (b: Uint8Array) => decode(RouteConfigurationSchema, b).name],
  [ResourceTypeUrl.cluster, (b: Uint8Array) => decode(ClusterSchema, b).name],
  [ResourceTypeUrl.clusterLoadAssignment, (b: Uint8Array) => decode(ClusterLoadAssignmentSchema, b).clusterName],
  [ResourceTypeUrl.secret, (b: Uint8Array) => decode(SecretSchema, b).name],
]);

/** The resource name inside an `Any` of a type we serve (decoding it checks the bytes, too). */
export function nameOf(any: Any): string {
  const read = NAME_OF.get(any.typeUrl);
  if (read === undefined) throw new Error(`no test decoder for ${any.typeUrl}`);
  return read(any.value);
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The per-stream checker; see the file comment. */
export class ProtocolCheck {
  readonly violations: string[] = [];
  #lastNonce = 0n;
  readonly #bytesByVersion = new Map<string, string>();
  readonly #versionByBytes = new Map<string, string>();

  /** Nonces are decimal counters on our server: each must exceed the previous one. */
  nonce(nonce: string): void {
    if (!/^[0-9]+$/.test(nonce)) {
      this.violations.push(`nonce ${JSON.stringify(nonce)} is not a decimal counter`);
      return;
    }
    const n = BigInt(nonce);
    if (n <= this.#lastNonce) this.violations.push(`nonce ${nonce} does not increase (previous ${this.#lastNonce})`);
    else this.#lastNonce = n;
  }

  /** Checks one response's resources; returns their names in order. */
  resources(responseTypeUrl: string, resources: readonly { any: Any | undefined; name?: string }[]): string[] {
    const names: string[] = [];
    for (const [i, r] of resources.entries()) {
      if (r.any === undefined) {
        this.violations.push(`${responseTypeUrl} resource ${i} has no body`);
        continue;
      }
      if (r.any.typeUrl !== responseTypeUrl) this.violations.push(`resource ${i} has type URL ${r.any.typeUrl} in a ${responseTypeUrl} response`);
      const name = nameOf(r.any);
      if (r.name !== undefined && r.name !== name) this.violations.push(`resource ${i} is named ${r.name} but holds ${name}`);
      if (names.includes(name)) this.violations.push(`${name} appears twice in one ${responseTypeUrl} response`);
      names.push(name);
    }
    return names;
  }

  /**
   * Ties a version to content: under one (type, name, version) the bytes never differ, and
   * with `oneWay` false the same bytes never come under another version (delta's per-resource
   * versions are content hashes; SotW's type versions legitimately move when a sibling changes).
   */
  version(typeUrl: string, name: string, version: string, bytes: Uint8Array, oneWay: boolean): void {
    const d = digest(bytes);
    const key = `${typeUrl} ${name} ${version}`;
    const seen = this.#bytesByVersion.get(key);
    if (seen === undefined) this.#bytesByVersion.set(key, d);
    else if (seen !== d) this.violations.push(`${name} changed content under the same version ${version}`);
    if (oneWay) return;
    const contentKey = `${typeUrl} ${name} ${d}`;
    const before = this.#versionByBytes.get(contentKey);
    if (before === undefined) this.#versionByBytes.set(contentKey, version);
    else if (before !== version) this.violations.push(`${name} is unchanged but its version moved from ${before} to ${version}`);
  }
}

/** A FIFO of responses with deadline-bound waiting. */
export class ResponseQueue<T> {
  readonly #items: T[] = [];
  readonly #waiters: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  #failure: Error | undefined;

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.#items.push(item);
  }

  /** Ends the queue: pending and later `next` calls reject with `error` once the items run out. */
  fail(error: Error): void {
    this.#failure = error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  /** Responses received and not yet taken. */
  get unread(): number {
    return this.#items.length;
  }

  /** The next response, waiting up to `timeoutMs`. */
  next(timeoutMs: number, what: string): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (value: T) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
