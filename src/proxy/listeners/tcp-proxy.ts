/**
 * Envoy's tcp_proxy: one upstream connection per downstream connection, to a cluster or a
 * cluster picked by weight, bytes copied both ways with half-close passed on. The upstream is
 * connected at once, without waiting for the client to speak, so server-first protocols work.
 */
import type { Socket } from 'node:net';
import type { ClusterTarget } from '../config/index.js';
import type { Counter, Gauge } from '../stats/types.js';
import type { DownstreamContext, ProxyRuntime } from './types.js';
import { pickWeighted } from './weighted.js';

interface TcpStats {
  readonly downstreamCxTotal: Counter;
  readonly downstreamCxNoRoute: Counter;
  readonly upstreamFlushTotal: Counter;
  readonly downstreamCxRxBytesTotal: Counter;
  readonly downstreamCxTxBytesTotal: Counter;
  readonly upstreamFlushActive: Gauge;
}

const statsByPrefix = new WeakMap<ProxyRuntime, Map<string, TcpStats>>();

function tcpStats(runtime: ProxyRuntime, prefix: string): TcpStats {
  let byPrefix = statsByPrefix.get(runtime);
  if (!byPrefix) statsByPrefix.set(runtime, (byPrefix = new Map()));
  let s = byPrefix.get(prefix);
  if (!s) {
    const n = (stat: string) => `tcp.${prefix}.${stat}`;
    s = {
      downstreamCxTotal: runtime.stats.counter(n('downstream_cx_total')),
      downstreamCxNoRoute: runtime.stats.counter(n('downstream_cx_no_route')),
      upstreamFlushTotal: runtime.stats.counter(n('upstream_flush_total')),
      downstreamCxRxBytesTotal: runtime.stats.counter(n('downstream_cx_rx_bytes_total')),
      downstreamCxTxBytesTotal: runtime.stats.counter(n('downstream_cx_tx_bytes_total')),
      upstreamFlushActive: runtime.stats.gauge(n('upstream_flush_active')),
    };
    byPrefix.set(prefix, s);
  }
  return s;
}

export function startTcpProxy(ctx: DownstreamContext, statPrefix: string, target: ClusterTarget, runtime: ProxyRuntime, onClose: (reason: string) => void): void {
  const stats = tcpStats(runtime, statPrefix);
  stats.downstreamCxTotal.inc();
  const downstream = ctx.socket;
  const clusterName = target.kind === 'cluster' ? target.cluster : pickWeighted(target.clusters, target.totalWeight, Math.random()).name;
  const cluster = runtime.clusters.get(clusterName);
  const host = cluster?.chooseHost(ctx.destination);
  if (!cluster || !host) {
    stats.downstreamCxNoRoute.inc();
    downstream.destroy();
    onClose(cluster ? `cluster ${clusterName}: no healthy upstream` : `cluster ${clusterName} is not configured`);
    return;
  }
  // Hold what the client sends until the upstream is connected.
  downstream.pause();
  let downstreamClosed = false;
  const cancel = cluster.connect(host, { pooled: false }, (error, connection) => {
    if (error || !connection) {
      downstream.destroy();
      onClose(error?.message ?? `cluster ${clusterName}: no connection`);
      return;
    }
    const upstream = connection.socket;
    // A client's FIN must reach the app while the app's answer still flows back.
    upstream.allowHalfOpen = true;
    if (downstreamClosed) {
      connection.close();
      return;
    }
    connection.startRequest();
    cluster.hostRequestStarted(host);
    pipeBothWays(downstream, upstream, () => {
      stats.downstreamCxRxBytesTotal.inc(downstream.bytesRead);
      stats.downstreamCxTxBytesTotal.inc(downstream.bytesWritten);
      cluster.hostRequestEnded(host, 'success');
      connection.close();
      onClose('closed');
    });
    downstream.resume();
  });
  downstream.once('close', () => {
    downstreamClosed = true;
    cancel();
  });
}

/** Copies bytes both ways, passing a half-close on, and calls `done` once when both sides are gone. */
function pipeBothWays(a: Socket, b: Socket, done: () => void): void {
  let closed = 0;
  const onClose = () => {
    if (++closed === 2) done();
  };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => {
      if (!to.destroyed && to.writableEnded === false) to.destroy();
      onClose();
    });
  };
  forward(a, b);
  forward(b, a);
}
