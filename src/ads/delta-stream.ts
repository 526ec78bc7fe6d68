/**
 * Incremental ADS (DeltaAggregatedResources), per reference/xds.md 3.2:
 * - `resource_names_subscribe` / `_unsubscribe` change the subscription whatever the nonce;
 *   `*` subscribes to the wildcard, and so does an empty first request for LDS or CDS;
 * - the first request's `initial_resource_versions` are what the client holds: a resource at
 *   the same version is not sent again; one that no longer exists is removed;
 * - a response carries each new or changed resource with its own version, and
 *   `removed_resources` for names the client holds that were deleted or that it no longer
 *   covers, and for explicitly subscribed names that do not exist (told once per request);
 * - deletions wait for make-before-break like SotW's (stream.ts); unsubscribed names need none;
 * - unsubscribing a name still covered by the wildcard sends it again (the client dropped it);
 * - `system_version_info` is the snapshot's type version, for debugging only.
 */
import { create, DeltaDiscoveryResponseSchema, type DeltaDiscoveryRequest, type DeltaDiscoveryResponse, type TypeUrl } from '../xds/proto.js';
import type { ProxySnapshot, VersionedResource } from './snapshot.js';
import { AdsStream, coveredResources, type Plan, type PlanOptions } from './stream.js';
import { WILDCARD } from './subscription.js';
import { ABSENT, type Held, type TypeState } from './type-state.js';

/** One incremental ADS stream; see the file comment. */
export class DeltaStream extends AdsStream<DeltaDiscoveryRequest, DeltaDiscoveryResponse> {
  /** Processes one DeltaDiscoveryRequest. */
  handle(request: DeltaDiscoveryRequest): void {
    const state = this.beginRequest(request.typeUrl);
    if (state === undefined) return;
    // Delta requests carry no version; the NACK record shows what the client still uses as ''.
    this.acknowledge(state, request.responseNonce, request.errorDetail, '');
    const { first } = state.updateSubscription(request.resourceNamesSubscribe, request.resourceNamesUnsubscribe);
    for (const name of request.resourceNamesUnsubscribe) {
      if (name !== WILDCARD && state.subscription.covers(name)) state.forget(name);
    }
    if (first) {
      // Only the first request may carry them (xDS protocol, "Incremental xDS"): nothing else carries over.
      for (const [name, version] of Object.entries(request.initialResourceVersions)) state.assumeHeld(name, version);
      // A wildcard subscriber learns its initial state from the first answer, even an empty one.
      if (state.subscription.isWildcard) state.requireAnswer();
    }
    this.evaluate();
  }

  protected plan(state: TypeState, snapshot: ProxySnapshot, options: PlanOptions): Plan | undefined {
    const all: ReadonlyMap<string, VersionedResource> = snapshot.resources.get(state.typeUrl) ?? new Map();
    const { subscription } = state;
    const resources: VersionedResource[] = [];
    const removed: string[] = [];
    const changes = new Map<string, Held | undefined>();
    for (const r of coveredResources(snapshot, state)) {
      if (state.held.get(r.name)?.version === r.version) continue;
      if (options.blocked && !state.isFresh(r.name)) continue;
      resources.push(r);
      changes.set(r.name, { version: r.version });
    }
    for (const [name, held] of state.held) {
      const covered = subscription.covers(name);
      if (held === ABSENT || (covered && all.has(name))) continue;
      // A name the client no longer wants can go at once; a deleted one waits for its referrers.
      if (covered && (!options.allowRemoval || options.blocked)) continue;
      removed.push(name);
      // An explicit subscriber keeps wanting the name: remember it was told the name is gone.
      changes.set(name, covered && subscription.names.has(name) ? ABSENT : undefined);
    }
    for (const name of subscription.names) {
      if (all.has(name) || state.held.has(name)) continue;
      if (options.blocked && !state.isFresh(name)) continue;
      removed.push(name);
      changes.set(name, ABSENT);
    }
    if (resources.length === 0 && removed.length === 0 && !state.answerDue) return undefined;
    removed.sort();
    return { resources, removed, changes, version: options.typeVersion };
  }

  protected toResponse(typeUrl: TypeUrl, plan: Plan, nonce: string): DeltaDiscoveryResponse {
    return create(DeltaDiscoveryResponseSchema, {
      systemVersionInfo: plan.version,
      resources: plan.resources.map((r) => ({ name: r.name, version: r.version, resource: r.resource })),
      typeUrl,
      removedResources: [...plan.removed],
      nonce,
    });
  }
}
