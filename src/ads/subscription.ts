/**
 * What one stream wants of one resource type: explicit names, the explicit wildcard `*`, and
 * the legacy wildcard (LDS and CDS only, while the client has never named anything). Pure
 * bookkeeping shared by the SotW and delta streams (reference/xds.md 3.1 #7, 3.2).
 */
import { isFullStateType } from './resource-order.js';

/** The explicit wildcard resource name. */
export const WILDCARD = '*';

/** What a subscription update changed: names newly wanted, and names no longer wanted. */
export interface SubscriptionChange {
  /** Explicit names added, plus `*` when the wildcard was switched on. */
  added: string[];
  /** Explicit names dropped, plus `*` when the wildcard was switched off. */
  removed: string[];
}

/** One stream's subscription to one type; see the file comment. */
export class Subscription {
  readonly #typeUrl: string;
  readonly #names = new Set<string>();
  #wildcard = false;
  // Legacy wildcard needs "never sent a name on this stream", not "no names now".
  #everNamed = false;

  constructor(typeUrl: string) {
    this.#typeUrl = typeUrl;
  }

  /** True when the client gets every resource of the type, explicit names or not. */
  get isWildcard(): boolean {
    return this.#wildcard;
  }

  /** The explicit names, without `*`. */
  get names(): ReadonlySet<string> {
    return this.#names;
  }

  /** True when the client wants `name`, by name or by wildcard. */
  covers(name: string): boolean {
    return this.#wildcard || this.#names.has(name);
  }

  /**
   * Replaces the subscription with a SotW request's `resource_names`. An empty list means the
   * legacy wildcard for LDS/CDS until the client first names something, and no interest after.
   */
  replace(resourceNames: readonly string[]): SubscriptionChange {
    const before = new Set(this.#names);
    const wasWildcard = this.#wildcard;
    this.#names.clear();
    if (resourceNames.length === 0) {
      this.#wildcard = !this.#everNamed && isFullStateType(this.#typeUrl);
    } else {
      this.#everNamed = true;
      this.#wildcard = false;
      for (const name of resourceNames) {
        if (name === WILDCARD) this.#wildcard = true;
        else this.#names.add(name);
      }
    }
    return diff(before, wasWildcard, this.#names, this.#wildcard);
  }

  /**
   * Applies a delta request's subscribe and unsubscribe lists. On the first request of the
   * type, empty lists mean the legacy wildcard for LDS/CDS. Unsubscribing a name never held is
   * tolerated (reference/xds.md 3.2, "phantom unsubscribes").
   */
  update(subscribe: readonly string[], unsubscribe: readonly string[], first: boolean): SubscriptionChange {
    const before = new Set(this.#names);
    const wasWildcard = this.#wildcard;
    if (first && subscribe.length === 0 && unsubscribe.length === 0 && isFullStateType(this.#typeUrl)) {
      this.#wildcard = true;
    }
    for (const name of subscribe) {
      if (name === WILDCARD) this.#wildcard = true;
      else this.#names.add(name);
    }
    for (const name of unsubscribe) {
      if (name === WILDCARD) this.#wildcard = false;
      else this.#names.delete(name);
    }
    if (subscribe.length > 0) this.#everNamed = true;
    return diff(before, wasWildcard, this.#names, this.#wildcard);
  }
}

function diff(before: ReadonlySet<string>, wasWildcard: boolean, after: ReadonlySet<string>, isWildcard: boolean): SubscriptionChange {
  const added = [...after].filter((n) => !before.has(n));
  const removed = [...before].filter((n) => !after.has(n));
  if (isWildcard && !wasWildcard) added.push(WILDCARD);
  if (wasWildcard && !isWildcard) removed.push(WILDCARD);
  return { added, removed };
}
