/**
 * Active HTTP/1.1 health checking, as Envoy's HTTP health checker does it
 * (arch_overview/upstream/health_checking, source/common/upstream/health_checker_impl.cc):
 *
 * - One session per host: a request `<method> <path>` with Host (the configured host, else the
 *   cluster name), `user-agent: Envoy/HC` and `request_headers_to_add` (OSM adds
 *   `x-osm-envoy-healthcheck: 1`), over the cluster's transport, TLS and SAN checks included.
 *   The connection is kept between checks when `reuse_connection` (the default) allows it.
 * - A status in `expected_statuses` passes. Any other status fails the host at once, except
 *   `retriable_statuses`, which count towards `unhealthy_threshold` as network failures
 *   (connect errors, resets, timeouts) do. An unhealthy host needs `healthy_threshold` passes
 *   in a row; the first check ever needs one.
 * - Hosts added to a health-checked cluster start failing active HC until their first check
 *   passes (Envoy initialises them unhealthy; `ignore_new_hosts_until_first_hc` is not set, so
 *   they still count for the panic threshold). The first check runs at once (after
 *   `initial_jitter`).
 * - Intervals: `no_traffic_interval` until the cluster has made a connection, else `interval`,
 *   `unhealthy_interval`, and the edge intervals while a transition is pending; plus jitter.
 *
 * Not done: gRPC/TCP checkers, `x-envoy-immediate-health-check-fail` and degraded responses,
 * keeping a removed host while it still passes checks (`ignore_health_on_host_removal`: the
 * sidecar drops removed hosts at once, which Envoy users usually want).
 */
import type { Socket } from 'node:net';
import type { HealthCheckConfig, StatusRange } from '../config/index.js';
import { bodyDecoderFor, CloseDelimitedBody, INCOMPLETE, parseResponseHead, responseBodyFraming, type BodyDecoder, type BodySink } from '../http1/index.js';
import type { Logger } from '../../lib/logging.js';
import type { Counter, Gauge } from '../stats/types.js';
import type { ClusterClock } from './clock.js';
import type { Host } from './host.js';
import type { ClusterScope } from './stats.js';
import { openConnection, type TransportSettings } from './transport.js';

/** Why a check failed: `active` fails at once; `network` and `retriable` count towards the threshold. */
type FailureType = 'active' | 'network' | 'retriable';

/** What a host's checking remembers across a cluster's config change. */
export interface HostCheckState {
  readonly checkedBefore: boolean;
}

export interface HealthCheckerOptions {
  readonly config: HealthCheckConfig;
  readonly clusterName: string;
  readonly transport: TransportSettings;
  readonly scope: ClusterScope;
  readonly clock: ClusterClock;
  readonly random: () => number;
  readonly logger: Logger;
  /** Whether the cluster has ever made a connection (Envoy's `upstream_cx_total` used). */
  readonly hasTraffic: () => boolean;
  /** A host's active health changed: balancing must be rebuilt. */
  readonly changed: (host: Host) => void;
  /** A check passed (outlier detection may return the host). */
  readonly passed: (host: Host) => void;
}

interface CheckerStats {
  readonly attempt: Counter;
  readonly success: Counter;
  readonly failure: Counter;
  readonly networkFailure: Counter;
  readonly healthy: Gauge;
}

const NOOP_SINK: BodySink = { data: () => {}, end: () => {} };

/** One cluster object's health checker. */
export class HealthChecker {
  readonly o: HealthCheckerOptions;
  readonly stats: CheckerStats;
  readonly requestHead: Buffer;
  readonly #sessions = new Map<Host, Session>();
  #closed = false;

  constructor(options: HealthCheckerOptions) {
    this.o = options;
    const s = options.scope;
    this.stats = {
      attempt: s.counter('health_check.attempt'),
      success: s.counter('health_check.success'),
      failure: s.counter('health_check.failure'),
      networkFailure: s.counter('health_check.network_failure'),
      healthy: s.gauge('health_check.healthy'),
    };
    const h = options.config.http;
    const lines = [`${h.method} ${h.path} HTTP/1.1`, `host: ${h.host || options.clusterName}`, 'user-agent: Envoy/HC', ...h.requestHeadersToAdd.map((x) => `${x.name}: ${x.value}`)];
    this.requestHead = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  }

  /**
   * Starts checking `host`. A host new to the cluster starts failing active HC; one carried
   * over from the previous cluster object keeps its verdict.
   */
  addHost(host: Host, carried: HostCheckState | undefined): void {
    if (this.#closed || this.#sessions.has(host)) return;
    if (!carried) host.failedActiveHc = true;
    const session = new Session(this, host, carried?.checkedBefore ?? false);
    this.#sessions.set(host, session);
    this.refreshHealthy();
    session.start();
  }

  removeHost(host: Host): void {
    this.#sessions.get(host)?.stop();
    this.#sessions.delete(host);
    this.refreshHealthy();
  }

  stateOf(host: Host): HostCheckState | undefined {
    const s = this.#sessions.get(host);
    return s ? { checkedBefore: !s.firstCheck } : undefined;
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#sessions.values()) s.stop();
    this.#sessions.clear();
  }

  /** `health_check.healthy`: checked hosts not failing active HC. */
  refreshHealthy(): void {
    if (this.#closed) return;
    let n = 0;
    for (const host of this.#sessions.keys()) if (!host.failedActiveHc) n++;
    this.stats.healthy.set(n);
  }
}

function inRanges(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => status >= r.start && status < r.end);
}

type CheckResult = { readonly ok: true } | { readonly ok: false; readonly type: FailureType; readonly detail: string };

/** Checks one host, one check at a time. */
class Session {
  firstCheck: boolean;
  #numHealthy = 0;
  #numUnhealthy = 0;
  /** The kept-alive checking connection, between checks. */
  #socket: Socket | undefined;
  #cancelInterval: (() => void) | undefined;
  /** Abandons the check in progress (timer, connect, socket). */
  #abandon: (() => void) | undefined;
  #stopped = false;

  constructor(
    private readonly checker: HealthChecker,
    private readonly host: Host,
    checkedBefore: boolean,
  ) {
    this.firstCheck = !checkedBefore;
  }

  start(): void {
    const jitter = this.checker.o.config.initialJitterMs;
    if (jitter > 0) this.#schedule(Math.floor(this.checker.o.random() * jitter));
    else this.#check();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelInterval?.();
    this.#abandon?.();
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #schedule(delayMs: number): void {
    this.#cancelInterval = this.checker.o.clock.setTimer(() => this.#check(), delayMs);
  }

  #check(): void {
    if (this.#stopped) return;
    const { o, stats } = this.checker;
    stats.attempt.inc();
    let settled = false;
    let abortConnect: (() => void) | undefined;
    let socket: Socket | undefined;
    const done = (result: CheckResult) => {
      if (settled) return;
      settled = true;
      this.#abandon = undefined;
      cancelTimeout();
      if (this.#stopped) return;
      if (result.ok) this.#passed();
      else this.#failed(result.type, result.detail);
    };
    this.#abandon = () => {
      settled = true;
      cancelTimeout();
      abortConnect?.();
      socket?.destroy();
    };
    const cancelTimeout = o.clock.setTimer(() => {
      abortConnect?.();
      socket?.destroy();
      done({ ok: false, type: 'network', detail: `no response within ${o.config.timeoutMs} ms` });
    }, o.config.timeoutMs);
    const kept = this.#socket;
    this.#socket = undefined;
    if (kept && !kept.destroyed && kept.writable) {
      socket = kept;
      this.#send(kept, done);
      return;
    }
    kept?.destroy();
    abortConnect = openConnection(this.host, o.transport, o.clock, undefined, (result) => {
      abortConnect = undefined;
      if (!result.ok) return done({ ok: false, type: 'network', detail: result.message });
      socket = result.socket;
      result.socket.on('error', () => {});
      this.#send(result.socket, done);
    });
  }

  /** Writes the request and reads one response (head and body) off `socket`; keeps the socket when it may be reused. */
  #send(socket: Socket, done: (result: CheckResult) => void): void {
    const { o, requestHead } = this.checker;
    let buf: Buffer = Buffer.alloc(0);
    let status = 0;
    let body: BodyDecoder | undefined;
    let keepAlive = false;
    const finish = (result: CheckResult) => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (keepAlive && o.config.reuseConnection && buf.length === 0 && !socket.destroyed && !this.#stopped) this.#socket = socket;
      else socket.destroy();
      done(result);
    };
    const complete = () => {
      if (inRanges(status, o.config.http.expectedStatuses)) return finish({ ok: true });
      const retriable = inRanges(status, o.config.http.retriableStatuses);
      finish({ ok: false, type: retriable ? 'retriable' : 'active', detail: `status ${status}` });
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!body) {
        // Informational responses (100 Continue and the like) precede the real one.
        for (;;) {
          const head = parseResponseHead(buf, 0);
          if (head.kind === INCOMPLETE.kind) return;
          if (head.kind === 'error') {
            keepAlive = false;
            return finish({ ok: false, type: 'network', detail: `malformed response: ${head.message}` });
          }
          buf = buf.subarray(head.headBytes);
          if (head.status >= 200) {
            status = head.status;
            const framing = responseBodyFraming(head, o.config.http.method);
            keepAlive = head.keepAlive && framing !== 'close';
            body = bodyDecoderFor(framing, head);
            if (!body) return complete();
            break;
          }
        }
      }
      const used = body.feed(buf, 0, NOOP_SINK);
      if (typeof used !== 'number') {
        keepAlive = false;
        return finish({ ok: false, type: 'network', detail: `malformed response body: ${used.message}` });
      }
      buf = buf.subarray(used);
      if (body.done) complete();
    };
    const onClose = () => {
      keepAlive = false;
      if (body instanceof CloseDelimitedBody) {
        body.close(NOOP_SINK);
        return complete();
      }
      finish({ ok: false, type: 'network', detail: 'connection closed before a complete response' });
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(requestHead);
  }

  #passed(): void {
    const { o, stats } = this.checker;
    const host = this.host;
    this.#numUnhealthy = 0;
    let transition: 'unchanged' | 'changed' | 'pending' = 'unchanged';
    if (host.failedActiveHc) {
      if (this.firstCheck || ++this.#numHealthy >= o.config.healthyThreshold) {
        host.failedActiveHc = false;
        transition = 'changed';
        o.logger.info({ event: 'cluster.host_healthy', host: host.id, firstCheck: this.firstCheck }, 'upstream host passes active health checks');
      } else {
        transition = 'pending';
      }
    }
    stats.success.inc();
    this.firstCheck = false;
    if (transition === 'changed') {
      this.checker.refreshHealthy();
      o.changed(host);
    }
    o.passed(host);
    this.#next(true, transition === 'pending');
  }

  #failed(type: FailureType, detail: string): void {
    const { o, stats } = this.checker;
    const host = this.host;
    this.#numHealthy = 0;
    let transition: 'unchanged' | 'changed' | 'pending' = 'unchanged';
    if (!host.failedActiveHc) {
      if (type === 'active' || ++this.#numUnhealthy >= o.config.unhealthyThreshold) {
        host.failedActiveHc = true;
        transition = 'changed';
        o.logger.warn({ event: 'cluster.host_unhealthy', host: host.id, detail }, 'upstream host fails active health checks');
      } else {
        transition = 'pending';
      }
    }
    stats.failure.inc();
    if (type === 'network') stats.networkFailure.inc();
    this.firstCheck = false;
    if (transition === 'changed') {
      this.checker.refreshHealthy();
      o.changed(host);
    }
    this.#next(false, transition === 'pending');
  }

  /** Envoy's interval choice (HealthCheckerImplBase::interval), jitter added. */
  #next(healthy: boolean, pending: boolean): void {
    if (this.#stopped) return;
    const { o } = this.checker;
    const c = o.config;
    let ms: number;
    if (!o.hasTraffic()) ms = healthy && !this.host.failedActiveHc ? c.noTrafficHealthyIntervalMs : c.noTrafficIntervalMs;
    else if (healthy) ms = pending ? c.healthyEdgeIntervalMs : c.intervalMs;
    else ms = pending ? c.unhealthyEdgeIntervalMs : c.unhealthyIntervalMs;
    if (c.intervalJitterPercent > 0) ms += Math.floor(o.random() * ((c.intervalJitterPercent * ms) / 100));
    if (c.intervalJitterMs > 0) ms += Math.floor(o.random() * c.intervalJitterMs);
    this.#schedule(ms);
  }
}
