/**
 * One request through the connection manager, protocol-neutral: header pass, route selection
 * (config read once, so an in-flight request finishes on its config), weighted cluster pick,
 * the filters, then Envoy's router: direct responses, circuit breakers, host choice, attempts
 * through the cluster's upstream codec, timeouts, retries with back-off, local replies, stats,
 * the access log and OSM's request metrics. It talks to the client only through a
 * `DownstreamStream` and to upstreams only through an `UpstreamCodec`.
 */
import type { Cluster, UpstreamHost, UpstreamOutcome } from '../clusters/types.js';
import { selectRoute, type ClusterTarget, type PerFilterConfig, type RouteConfig } from '../config/index.js';
import type { DownstreamContext } from '../listeners/types.js';
import { accessLogEntry } from './access-log.js';
import { grpcLocalReply, isGrpcRequest } from './h2/grpc.js';
import {
  FieldKind, firstOfKind, PairFields,
  type DownstreamStream, type ExchangeRequest, type ExchangeResponse, type HeaderFields, type StreamHandler,
  type UpstreamAttempt, type UpstreamCodec, type UpstreamEvents, type UpstreamRequestHead, type UpstreamResetReason,
} from './exchange.js';
import { prepareRequestHeaders, prepareResponseHeaders, type RequestFacts } from './headers.js';
import { LOCAL_REPLY, ResponseFlag, type LocalReply } from './local-reply.js';
import type { ConnectionManager } from './manager.js';
import { runRequestFilters } from './request-filters.js';
import { RetryBackOff, retryRulesFor, type RetryRules } from './retry.js';

/** Starts the exchange for a request head; the codec then feeds it body data and resets. */
export function startExchange(cm: ConnectionManager, ctx: DownstreamContext, request: ExchangeRequest, ds: DownstreamStream): StreamHandler {
  const exchange = new Exchange(cm, ctx, request, ds);
  exchange.start();
  return exchange;
}

/** Answers a request the codec could not parse (400, 431, 501, 505) with flag DPE, counted and logged like any request. */
export function rejectMalformed(cm: ConnectionManager, ctx: DownstreamContext, protocol: ExchangeRequest['protocol'], ds: DownstreamStream, reply: LocalReply): void {
  const request: ExchangeRequest = { method: '', scheme: ctx.tls ? 'https' : 'http', authority: '', path: '', protocol, headers: NO_FIELDS, contentLength: -1, endStream: true, upgrade: undefined };
  new Exchange(cm, ctx, request, ds).reject(reply);
}

const NO_FIELDS = new PairFields([]);

/** Route configs whose matchers read headers other than those selectRoute answers itself. */
const readsHeaders = new WeakMap<RouteConfig, boolean>();
const SELF_ANSWERED = new Set([':authority', 'host', ':method', ':path']);

function needsHeaderMap(rc: RouteConfig): boolean {
  let needs = readsHeaders.get(rc);
  if (needs === undefined) {
    needs = rc.virtualHosts.some((vh) => vh.routes.some((r) => r.headers.some((h) => !SELF_ANSWERED.has(h.name))));
    readsHeaders.set(rc, needs);
  }
  return needs;
}

function pickWeighted(target: Extract<ClusterTarget, { kind: 'weighted' }>, random: () => number): { name: string; perFilter: PerFilterConfig } {
  let r = Math.floor(random() * target.totalWeight);
  for (const c of target.clusters) {
    if (r < c.weight) return c;
    r -= c.weight;
  }
  return target.clusters[target.clusters.length - 1]!;
}

function outcomeOf(status: number): UpstreamOutcome {
  if (status >= 502 && status <= 504) return 'gatewayError';
  return status >= 500 ? 'error5xx' : 'success';
}

const RESET_OUTCOME: Readonly<Record<UpstreamResetReason, UpstreamOutcome>> = {
  connectFailure: 'connectFailure',
  connectionTermination: 'gatewayError',
  protocolError: 'gatewayError',
  overflow: 'localReset',
  noHealthyUpstream: 'localReset',
};

class Exchange implements StreamHandler, UpstreamEvents {
  private readonly startMs: number;
  private readonly startWallMs: number;
  private facts!: RequestFacts;
  private headerMap: Map<string, string> | undefined;

  private cluster: Cluster | undefined;
  private codec: UpstreamCodec | undefined;
  private forwardHead!: UpstreamRequestHead;
  private retry: RetryRules | undefined;
  private backOff: RetryBackOff | undefined;
  private timeoutMs = 0;

  /** Request body kept while no attempt can take it, and for replay while retries are possible. */
  private body: Buffer[] | undefined;
  private bodyBytes = 0;
  private requestComplete: boolean;
  private trailers: HeaderFields | undefined;
  private replayable = false;
  private requestPaused = false;

  private attempt: UpstreamAttempt | undefined;
  private attemptReady = false;
  private host: UpstreamHost | undefined;
  private attemptStartMs = 0;
  private attemptReadyMs = 0;
  private retriesUsed = 0;
  private tried: Set<string> | undefined;

  private routeTimer: NodeJS.Timeout | undefined;
  private perTryTimer: NodeJS.Timeout | undefined;
  private backOffTimer: NodeJS.Timeout | undefined;

  private responseStarted = false;
  private responseCode = 0;
  private details = '';
  private flags = 0;
  private bytesReceived = 0;
  private bytesSent = 0;
  private firstByteMs: number | undefined;
  private upstreamServiceTime: string | undefined;
  private done = false;

  constructor(
    private readonly cm: ConnectionManager,
    private readonly ctx: DownstreamContext,
    private readonly request: ExchangeRequest,
    private readonly ds: DownstreamStream,
  ) {
    this.startMs = cm.runtime.now();
    this.startWallMs = cm.hcm.accessLog ? Date.now() : 0;
    this.requestComplete = request.endStream;
    cm.stats.downstreamRqTotal.inc();
    cm.stats.downstreamRqActive.add(1);
  }

  start(): void {
    const { cm, request, ctx } = this;
    this.facts = prepareRequestHeaders(request, ctx.direction, cm.outboundOsmFields, cm.hcm.accessLog);
    // Only websocket upgrades are configurable; CONNECT and other upgrades are refused as Envoy does.
    if (request.method === 'CONNECT' || (request.upgrade !== undefined && (request.upgrade !== 'websocket' || !cm.hcm.websocket))) {
      if (request.upgrade === 'websocket') cm.stats.downstreamRqWsOnNonWsRoute.inc();
      return this.localReply(LOCAL_REPLY.upgradeFailed);
    }
    const rc = cm.routeConfig(cm.runtime.config());
    const selected = rc === undefined ? undefined : selectRoute(rc, { authority: request.authority, path: request.path, method: request.method, headers: needsHeaderMap(rc) ? this.headers() : undefined });
    let clusterName: string | undefined;
    const overrides: PerFilterConfig[] = [];
    if (selected !== undefined) {
      const action = selected.route.action;
      if (action.kind === 'forward') {
        if (action.target.kind === 'cluster') {
          clusterName = action.target.cluster;
        } else {
          const picked = pickWeighted(action.target, cm.options.random);
          clusterName = picked.name;
          overrides.push(picked.perFilter);
        }
      }
      overrides.push(selected.route.perFilter, selected.virtualHost.perFilter);
    }
    if (cm.hcm.httpFilters.length > 1) {
      const q = request.path.indexOf('?');
      const stop = runRequestFilters(cm, {
        peer: ctx.peer,
        destinationPort: ctx.destination.port,
        path: q === -1 ? request.path : request.path.slice(0, q),
        header: (name) => this.header(name),
        overrides,
      });
      if (stop !== undefined) return this.localReply(stop.reply, stop.fields);
    }
    if (selected === undefined) {
      cm.stats.noRoute.inc();
      return this.localReply(LOCAL_REPLY.noRoute);
    }
    const action = selected.route.action;
    if (action.kind === 'directResponse') {
      cm.stats.rqDirectResponse.inc();
      return this.localReply({ status: action.status, body: action.body ?? '', details: 'direct_response', flag: 0 });
    }
    const cluster = cm.runtime.clusters.get(clusterName!);
    if (cluster === undefined) {
      cm.stats.noCluster.inc();
      return this.localReply(LOCAL_REPLY.noCluster);
    }
    cm.stats.rqTotal.inc();
    this.cluster = cluster;
    this.codec = cm.codecFor(cluster, this.request.protocol);
    this.timeoutMs = action.timeoutMs;
    const edits = this.facts.edits;
    if (action.retry !== undefined) {
      this.retry = retryRulesFor(action.retry);
      this.replayable = true;
    }
    // Envoy tells the upstream how long the proxy waits (x-envoy-expected-rq-timeout-ms).
    const perTry = this.retry?.perTryTimeoutMs ?? 0;
    const expected = perTry > 0 && (this.timeoutMs === 0 || perTry < this.timeoutMs) ? perTry : this.timeoutMs;
    if (expected > 0) edits.add('x-envoy-expected-rq-timeout-ms', String(expected));
    let path = request.path;
    const match = selected.route.path;
    if (action.prefixRewrite !== undefined && match.kind !== 'regex') {
      path = action.prefixRewrite + request.path.slice(match.value.length);
      edits.add('x-envoy-original-path', request.path);
    }
    this.forwardHead = { request, path, edits };
    if (this.requestComplete) this.startRouteTimer();
    this.startAttempt();
  }

  /** Answers at once with `reply` (the codec could not parse the request). */
  reject(reply: LocalReply): void {
    this.facts = prepareRequestHeaders(this.request, 'unspecified', [], false);
    this.localReply(reply);
  }

  // --- request side (from the downstream codec) ---------------------------------------------

  requestData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    if (this.done) return;
    const attempt = this.attempt;
    const live = attempt !== undefined && this.attemptReady;
    if (!live || this.replayable) {
      (this.body ??= []).push(chunk);
      this.bodyBytes += chunk.length;
      if (this.bodyBytes > this.cm.options.retryBufferBytes) {
        // Envoy stops retrying a request whose body outgrew the buffer, and stops reading while no upstream takes it.
        this.replayable = false;
        if (live) this.dropBody();
        else this.pauseRequest();
      }
    }
    if (live && !attempt.sendData(chunk)) this.pauseRequest();
  }

  requestEnd(trailers: HeaderFields | undefined): void {
    this.requestComplete = true;
    this.trailers = trailers;
    if (this.done || this.cluster === undefined) return;
    this.startRouteTimer();
    if (this.attempt !== undefined && this.attemptReady) {
      this.attempt.sendEnd(trailers);
      this.startPerTryTimer();
    }
  }

  downstreamReset(): void {
    if (this.done) return;
    this.flags |= ResponseFlag.DC;
    if (this.details === '') this.details = 'downstream_remote_disconnect';
    this.cm.stats.downstreamRqRxReset.inc();
    this.abandonAttempt('localReset');
    this.finish(false);
  }

  downstreamDrained(): void {
    this.attempt?.resumeResponse();
  }

  // --- upstream side (from the upstream codec) ----------------------------------------------

  upstreamReady(): void {
    const attempt = this.attempt;
    if (this.done || attempt === undefined) return;
    this.attemptReady = true;
    this.attemptReadyMs = this.cm.runtime.now();
    const stats = this.cluster!.stats;
    stats.upstreamRqTotal.inc();
    stats.upstreamRqActive.add(1);
    if (this.body !== undefined) for (const chunk of this.body) attempt.sendData(chunk);
    if (!this.replayable) this.dropBody();
    this.resumeRequest();
    if (this.requestComplete) {
      attempt.sendEnd(this.trailers);
      this.startPerTryTimer();
    }
  }

  upstreamHead(head: ExchangeResponse): void {
    if (this.done) return;
    this.clearPerTryTimer();
    const now = this.cm.runtime.now();
    const cluster = this.cluster!;
    const status = head.status;
    cluster.stats.recordResponse(status);
    const retry = this.retry;
    if (retry !== undefined) {
      const reads = retry.readsResponseHeaders;
      const retriable = retry.retriesResponse(
        status,
        reads && firstOfKind(head.headers, FieldKind.xEnvoyRateLimited) !== undefined,
        reads ? firstOfKind(head.headers, FieldKind.grpcStatus) : undefined,
      );
      if (retriable && this.replayable && this.retryAllowed()) {
        this.abandonAttempt(outcomeOf(status));
        this.scheduleRetry();
        return;
      }
      if (!retriable && this.retriesUsed > 0) cluster.stats.upstreamRqRetrySuccess.inc();
    }
    this.responseStarted = true;
    // No retry once the response is on its way: the replay copy goes (the attempt already has every byte).
    this.replayable = false;
    this.dropBody();
    this.firstByteMs = now - this.startMs;
    this.upstreamServiceTime = String(Math.floor(now - this.attemptReadyMs));
    this.responseCode = status;
    this.details = 'via_upstream';
    const upgraded = status === 101 && this.request.upgrade !== undefined;
    this.cm.stats.countResponse(status);
    this.ds.sendHead(head, prepareResponseHeaders(head, upgraded, this.upstreamServiceTime));
    if (upgraded) this.startTunnel();
  }

  upstreamData(chunk: Buffer): void {
    if (this.done) return;
    this.bytesSent += chunk.length;
    if (!this.ds.sendData(chunk)) this.attempt?.pauseResponse();
  }

  upstreamEnd(trailers: HeaderFields | undefined): void {
    if (this.done) return;
    this.cluster!.stats.upstreamRqTime.record(this.cm.runtime.now() - this.attemptStartMs);
    this.endAttempt(outcomeOf(this.responseCode));
    this.finish(true);
    this.ds.sendEnd(trailers);
  }

  upstreamReset(reason: UpstreamResetReason): void {
    if (this.done) return;
    this.endAttempt(RESET_OUTCOME[reason]);
    if (this.responseStarted) {
      this.flags |= reason === 'protocolError' ? ResponseFlag.UPE : ResponseFlag.UC;
      this.cm.stats.rqResetAfterDownstreamResponseStarted.inc();
      this.abortDownstream();
      return;
    }
    if (this.retry !== undefined && this.replayable && this.retry.retriesReset(reason) && this.retryAllowed()) {
      this.scheduleRetry();
      return;
    }
    this.localReply(LOCAL_REPLY[reason]);
  }

  upstreamDrained(): void {
    this.resumeRequest();
  }

  // --- attempts, retries, timeouts ------------------------------------------------------------

  private startAttempt(): void {
    if (this.done) return;
    const cluster = this.cluster!;
    const host = cluster.chooseHost(this.ctx.destination, this.tried);
    if (host === undefined) return this.localReply(LOCAL_REPLY.noHealthyUpstream);
    // The cluster counts upstream_rq_pending_overflow when it refuses the slot.
    if (!cluster.tryStartRequest()) return this.localReply(LOCAL_REPLY.overflow);
    this.host = host;
    cluster.hostRequestStarted(host);
    this.attemptReady = false;
    this.attemptStartMs = this.cm.runtime.now();
    const attempt = this.codec!.create(cluster, host, this.forwardHead, this);
    this.attempt = attempt;
    attempt.start();
  }

  /** Ends the current attempt's bookkeeping (circuit-breaker slot, balancer and outlier feedback). */
  private endAttempt(outcome: UpstreamOutcome): void {
    if (this.attempt === undefined) return;
    this.attempt = undefined;
    this.clearPerTryTimer();
    const cluster = this.cluster!;
    if (this.attemptReady) {
      cluster.stats.upstreamRqActive.add(-1);
      this.attemptReady = false;
    }
    cluster.endRequest();
    cluster.hostRequestEnded(this.host!, outcome);
  }

  private abandonAttempt(outcome: UpstreamOutcome): void {
    this.attempt?.cancel();
    this.endAttempt(outcome);
  }

  /** Counts and admits one more retry: the route's limit, then the cluster's retry circuit breaker. */
  private retryAllowed(): boolean {
    const stats = this.cluster!.stats;
    if (this.retriesUsed >= this.retry!.numRetries) {
      stats.upstreamRqRetryLimitExceeded.inc();
      this.flags |= ResponseFlag.URX;
      return false;
    }
    // The cluster counts upstream_rq_retry_overflow when it refuses.
    if (!this.cluster!.tryStartRetry()) {
      this.flags |= ResponseFlag.UO;
      return false;
    }
    this.retriesUsed++;
    stats.upstreamRqRetry.inc();
    stats.upstreamRqRetryBackoffExponential.inc();
    return true;
  }

  /** Waits the back-off, then tries again, preferring a host not tried yet. The retry slot is held during the wait, as Envoy does. */
  private scheduleRetry(): void {
    (this.tried ??= new Set()).add(this.host!.id);
    this.backOff ??= new RetryBackOff(this.retry!.backOffBaseMs, this.cm.options.random);
    this.backOffTimer = setTimeout(() => {
      this.backOffTimer = undefined;
      this.cluster!.endRetry();
      this.startAttempt();
    }, this.backOff.nextMs());
  }

  private startRouteTimer(): void {
    if (this.timeoutMs > 0 && this.routeTimer === undefined) this.routeTimer = setTimeout(() => this.onRouteTimeout(), this.timeoutMs);
  }

  private startPerTryTimer(): void {
    const ms = this.retry?.perTryTimeoutMs ?? 0;
    if (ms > 0) this.perTryTimer = setTimeout(() => this.onPerTryTimeout(), ms);
  }

  private clearPerTryTimer(): void {
    if (this.perTryTimer === undefined) return;
    clearTimeout(this.perTryTimer);
    this.perTryTimer = undefined;
  }

  private onRouteTimeout(): void {
    this.routeTimer = undefined;
    if (this.done) return;
    this.cluster!.stats.upstreamRqTimeout.inc();
    this.abandonAttempt('timeout');
    this.cancelBackOff();
    if (this.responseStarted) {
      this.flags |= ResponseFlag.UT;
      this.abortDownstream();
      return;
    }
    this.localReply(LOCAL_REPLY.timeout);
  }

  private onPerTryTimeout(): void {
    this.perTryTimer = undefined;
    if (this.done || this.responseStarted) return;
    this.cluster!.stats.upstreamRqPerTryTimeout.inc();
    this.abandonAttempt('timeout');
    if (this.replayable && this.retry!.retriesReset('perTryTimeout') && this.retryAllowed()) {
      this.scheduleRetry();
      return;
    }
    this.localReply(LOCAL_REPLY.perTryTimeout);
  }

  private cancelBackOff(): void {
    if (this.backOffTimer === undefined) return;
    clearTimeout(this.backOffTimer);
    this.backOffTimer = undefined;
    this.cluster!.endRetry();
  }

  private startTunnel(): void {
    if (this.routeTimer !== undefined) clearTimeout(this.routeTimer);
    this.routeTimer = undefined;
    const stats = this.cm.stats;
    stats.downstreamCxUpgradesTotal.inc();
    stats.downstreamCxUpgradesActive.add(1);
    const upstream = this.attempt!.takeUpgraded();
    this.ds.tunnel(upstream.socket, upstream.pending, () => {
      upstream.close();
      stats.downstreamCxUpgradesActive.add(-1);
      this.endAttempt('success');
      this.finish(true);
    });
  }

  // --- request flow control and body ----------------------------------------------------------

  private pauseRequest(): void {
    if (this.requestPaused) return;
    this.requestPaused = true;
    this.ds.pauseRequest();
  }

  private resumeRequest(): void {
    if (!this.requestPaused) return;
    this.requestPaused = false;
    this.ds.resumeRequest();
  }

  private dropBody(): void {
    this.body = undefined;
    this.bodyBytes = 0;
  }

  // --- responses and the end ------------------------------------------------------------------

  private localReply(reply: LocalReply, fields: readonly string[] = []): void {
    if (this.done) return;
    if (this.responseStarted) {
      this.abortDownstream();
      return;
    }
    this.abandonAttempt('localReset');
    this.cancelBackOff();
    this.responseStarted = true;
    this.responseCode = reply.status;
    this.details = reply.details;
    this.flags |= reply.flag;
    const common = ['date', this.cm.date(), 'server', 'envoy', ...fields];
    if (isGrpcRequest(this.request.headers)) {
      // A gRPC client reads the outcome from grpc-status: a trailers-only reply, as Envoy sends.
      this.cm.stats.countResponse(reply.status);
      this.ds.sendHead(grpcLocalReply(reply.status, reply.body, common), undefined);
      this.finish(true);
      this.ds.sendEnd(undefined);
      return;
    }
    const body = reply.body === '' ? undefined : Buffer.from(reply.body);
    const pairs = body === undefined ? [] : ['content-type', 'text/plain'];
    pairs.push(...common);
    this.cm.stats.countResponse(reply.status);
    this.ds.sendHead({ status: reply.status, reason: undefined, headers: new PairFields(pairs), contentLength: body?.length ?? 0, endStream: body === undefined }, undefined);
    if (body !== undefined) {
      this.bytesSent += body.length;
      this.ds.sendData(body);
    }
    this.finish(true);
    this.ds.sendEnd(undefined);
  }

  private abortDownstream(): void {
    this.cm.stats.downstreamRqTxReset.inc();
    this.finish(false);
    this.ds.reset();
  }

  /** Stats, access log and OSM metrics, once; `completed` when the whole response was sent. */
  private finish(completed: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.routeTimer !== undefined) clearTimeout(this.routeTimer);
    this.clearPerTryTimer();
    this.cancelBackOff();
    this.dropBody();
    const { cm, request, facts } = this;
    const durationMs = cm.runtime.now() - this.startMs;
    const stats = cm.stats;
    stats.downstreamRqActive.add(-1);
    if (completed) stats.downstreamRqCompleted.inc();
    stats.downstreamRqTime.record(durationMs);
    if (cm.hcm.accessLog) {
      cm.runtime.accessLog(accessLogEntry({
        startWallMs: this.startWallMs,
        method: request.method,
        path: facts.originalPath ?? request.path,
        protocol: request.protocol,
        responseCode: this.responseCode,
        responseCodeDetails: this.details,
        timeToFirstByteMs: this.firstByteMs,
        upstreamCluster: this.cluster?.name,
        responseFlags: this.flags,
        bytesReceived: this.bytesReceived,
        bytesSent: this.bytesSent,
        durationMs,
        upstreamServiceTime: this.upstreamServiceTime,
        forwardedFor: facts.forwardedFor,
        userAgent: facts.userAgent,
        requestId: facts.requestId,
        requestedServerName: this.ctx.serverName,
        authority: request.authority,
        upstreamHost: this.host?.id,
      }));
    }
    if (facts.osmSource !== undefined && this.responseCode > 0) cm.runtime.stats.osmRequest(cm.osmLabels(facts.osmSource), this.responseCode, durationMs);
  }

  // --- header lookups for route matching and RBAC ---------------------------------------------

  /** Request headers by lower-case name, repeated fields joined with ',' (as Envoy matches them). */
  private headers(): ReadonlyMap<string, string> {
    if (this.headerMap !== undefined) return this.headerMap;
    const map = new Map<string, string>([[':scheme', this.request.scheme]]);
    const f = this.request.headers;
    for (let i = 0; i < f.count; i++) {
      const name = f.name(i);
      const prev = map.get(name);
      map.set(name, prev === undefined ? f.value(i) : `${prev},${f.value(i)}`);
    }
    return (this.headerMap = map);
  }

  private header(name: string): string | undefined {
    switch (name) {
      case ':method':
        return this.request.method;
      case ':path':
        return this.request.path;
      case ':authority':
      case 'host':
        return this.request.authority;
      default:
        return this.headers().get(name);
    }
  }
}
