/**
 * State-of-the-world ADS (StreamAggregatedResources), per reference/xds.md 3.1:
 * - every request updates the subscription, whatever its nonce (envoyproxy/envoy#10363);
 *   the nonce only says whether it ACKs or NACKs the response awaiting that;
 * - LDS and CDS responses carry the full subscribed state (absence means deletion); RDS, EDS
 *   and SDS responses carry the subscribed resources that are new or changed for this client,
 *   and a name requested again (or for the first time) is sent even if it was sent before;
 * - a requested name that does not exist is simply not sent, and goes out when it appears;
 * - the first request of LDS/CDS on a stream is always answered (a reconnecting client may
 *   hold an old version), and so is an LDS/CDS request naming something new, because for those
 *   types the answer also tells the client which names do not exist;
 * - `version_info` is the snapshot's type version. While a cluster removal waits for the
 *   listeners and routes that named it (stream.ts), CDS carries the new state plus the clusters
 *   still to go, under the version `<type version>+retained`: that state is no snapshot's.
 */
import { create, DiscoveryResponseSchema, type DiscoveryRequest, type DiscoveryResponse, type TypeUrl } from '../xds/proto.js';
import { isFullStateType } from './resource-order.js';
import type { ProxySnapshot, VersionedResource } from './snapshot.js';
import { AdsStream, coveredResources, type Plan, type PlanOptions } from './stream.js';
import type { Held, TypeState } from './type-state.js';

/** Appended to the CDS version while removed clusters are kept for make-before-break. */
export const RETAINED_VERSION_SUFFIX = '+retained';

/** One state-of-the-world ADS stream; see the file comment. */
export class SotwStream extends AdsStream<DiscoveryRequest, DiscoveryResponse> {
  /** Processes one DiscoveryRequest. */
  handle(request: DiscoveryRequest): void {
    const state = this.beginRequest(request.typeUrl);
    if (state === undefined) return;
    const typeUrl = state.typeUrl;
    this.acknowledge(state, request.responseNonce, request.errorDetail, request.versionInfo);
    const { change, first } = state.replaceSubscription(request.resourceNames);
    if (isFullStateType(typeUrl) && (first || change.added.length > 0)) state.requireAnswer();
    this.evaluate();
  }

  protected plan(state: TypeState, snapshot: ProxySnapshot, options: PlanOptions): Plan | undefined {
    const covered = coveredResources(snapshot, state);
    return isFullStateType(state.typeUrl) ? fullStatePlan(state, covered, options) : changedPlan(state, covered, options);
  }

  protected toResponse(typeUrl: TypeUrl, plan: Plan, nonce: string): DiscoveryResponse {
    return create(DiscoveryResponseSchema, { versionInfo: plan.version, resources: plan.resources.map((r) => r.resource), typeUrl, nonce });
  }
}

/** LDS/CDS: the whole subscribed state, plus (while removals wait) what is still to be removed. */
function fullStatePlan(state: TypeState, covered: readonly VersionedResource[], options: PlanOptions): Plan | undefined {
  if (options.blocked && !state.answerDue) return undefined;
  const target = new Map<string, Held>();
  for (const r of covered) {
    const held = state.held.get(r.name);
    // Reuse the held entry when unchanged, so "nothing changed" is an identity check.
    target.set(r.name, held?.version === r.version && held.resource !== undefined ? held : { version: r.version, resource: r });
  }
  let retained = false;
  if (!options.allowRemoval) {
    for (const [name, held] of state.held) {
      if (target.has(name) || held.resource === undefined) continue;
      target.set(name, held);
      retained = true;
    }
  }
  const changes = new Map<string, Held | undefined>();
  for (const [name, entry] of target) if (state.held.get(name) !== entry) changes.set(name, entry);
  for (const name of state.held.keys()) if (!target.has(name)) changes.set(name, undefined);
  if (changes.size === 0 && !state.answerDue) return undefined;
  const resources: VersionedResource[] = [];
  for (const entry of target.values()) if (entry.resource !== undefined) resources.push(entry.resource);
  resources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { resources, removed: [], changes, version: retained ? `${options.typeVersion}${RETAINED_VERSION_SUFFIX}` : options.typeVersion };
}

/**
 * RDS/EDS/SDS: the subscribed resources whose version the client does not hold. While a NACK
 * blocks the type, only names requested since may go out (a new route config must not wait
 * for the controller to fix the rejected one).
 */
function changedPlan(state: TypeState, covered: readonly VersionedResource[], options: PlanOptions): Plan | undefined {
  const changes = new Map<string, Held | undefined>();
  const resources: VersionedResource[] = [];
  for (const r of covered) {
    if (state.held.get(r.name)?.version === r.version) continue;
    if (options.blocked && !state.isFresh(r.name)) continue;
    changes.set(r.name, { version: r.version });
    resources.push(r);
  }
  if (resources.length === 0) return undefined;
  return { resources, removed: [], changes, version: options.typeVersion };
}
