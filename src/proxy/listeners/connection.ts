/**
 * One accepted connection, from the listener to its terminal filter: where it was going
 * (original destination), what the TLS inspector sees, which filter chain takes it, mesh TLS
 * termination with the client certificate checked, then the network filters in order (RBAC,
 * local rate limit) and tcp_proxy or the HTTP connection manager.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Destination } from '../clusters/types.js';
import type { FilterChainConfig, ListenerConfig, NetworkFilterConfig } from '../config/index.js';
import { evaluateRbac, TokenBucket } from '../filters/index.js';
import { startHttpConnection } from '../http/index.js';
import { certificateSecret, describeSans, peerSans, sansMatch, validationSecret, type PeerSans, type TlsContextCache } from '../tls/index.js';
import { inspectClientHello, MAX_CLIENT_HELLO_BYTES } from './client-hello.js';
import { needsInspection, selectFilterChain } from './chain-match.js';
import type { ListenerStats } from './stats.js';
import type { DownstreamContext, ProxyRuntime } from './types.js';
import { startTcpProxy } from './tcp-proxy.js';

/** Envoy's listener_filters_timeout default: a client that sends no ClientHello in time is closed. */
const INSPECTION_TIMEOUT_MS = 15_000;
/** A TLS handshake that does not finish in this time is abandoned (Envoy: transport socket connect timeout). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface AcceptedConnection {
  readonly socket: Socket;
  readonly listener: ListenerConfig;
  readonly stats: ListenerStats;
  /** Fixed by explicit mode; otherwise read from the socket. */
  readonly destination: Destination | undefined;
  /** Told how to drain the connection once its terminal filter has it (HTTP: close after the current response). */
  readonly onDrainable: (drain: () => void) => void;
}

export interface ConnectionEnv {
  readonly runtime: ProxyRuntime;
  readonly tls: TlsContextCache;
  readonly originalDestination: (socket: Socket) => Destination | undefined;
  /** Why a connection was refused, for the debug log. */
  readonly refused: (listener: string, reason: string) => void;
}

const buckets = new WeakMap<object, TokenBucket>();

export function handleConnection(accepted: AcceptedConnection, env: ConnectionEnv): void {
  const { socket, listener, stats } = accepted;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  const destination =
    accepted.destination ??
    (listener.originalDestination ? env.originalDestination(socket) : undefined) ?? { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
  if (!needsInspection(listener)) {
    route(accepted, env, destination, undefined);
    return;
  }
  let buffered: Buffer = Buffer.alloc(0);
  const timer = setTimeout(() => {
    stats.listenerFilterTimeout.inc();
    socket.destroy();
  }, INSPECTION_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    const hello = inspectClientHello(buffered);
    if (hello.kind === 'incomplete' && buffered.length <= MAX_CLIENT_HELLO_BYTES) return;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    socket.unshift(buffered);
    route(accepted, env, destination, hello.kind === 'tls' ? { serverName: hello.serverName, alpn: hello.alpn } : { serverName: undefined, alpn: [] }, hello.kind === 'tls' ? 'tls' : 'raw_buffer');
  };
  socket.on('data', onData);
  socket.once('close', () => clearTimeout(timer));
}

function route(accepted: AcceptedConnection, env: ConnectionEnv, destination: Destination, hello: { serverName: string | undefined; alpn: readonly string[] } | undefined, transport?: string): void {
  const { socket, listener, stats } = accepted;
  const chain = selectFilterChain(listener, {
    destinationPort: destination.port,
    destinationIp: destination.address,
    serverName: hello?.serverName,
    transportProtocol: transport,
    applicationProtocols: hello?.alpn ?? [],
  });
  if (!chain) {
    stats.noFilterChainMatch.inc();
    env.refused(listener.name, `no filter chain matches ${destination.address}:${destination.port}${hello?.serverName ? ` (SNI ${hello.serverName})` : ''}`);
    socket.destroy();
    return;
  }
  const base = {
    source: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    destination,
    serverName: hello?.serverName,
    listenerName: listener.name,
    direction: listener.direction,
    filterChainName: chain.name,
  };
  if (!chain.tls) {
    runFilters({ ...base, socket, prefetched: EMPTY, peer: undefined, tls: false }, chain, env, accepted.onDrainable);
    return;
  }
  terminateTls(socket, chain, env, stats, (tlsSocket, peer) => runFilters({ ...base, socket: tlsSocket, prefetched: EMPTY, peer, tls: true }, chain, env, accepted.onDrainable));
}

const EMPTY = Buffer.alloc(0);

function terminateTls(socket: Socket, chain: FilterChainConfig, env: ConnectionEnv, stats: ListenerStats, ready: (socket: TLSSocket, peer: PeerSans | undefined) => void): void {
  const tls = chain.tls!;
  const secrets = env.runtime.config().secrets;
  let tlsSocket: TLSSocket;
  let validation;
  try {
    const certificate = certificateSecret(secrets, tls.certificateSecret, `filter chain ${chain.name}`);
    validation = tls.validationSecret ? validationSecret(secrets, tls.validationSecret, `filter chain ${chain.name}`) : undefined;
    tlsSocket = new TLSSocket(socket, {
      isServer: true,
      secureContext: env.tls.context(certificate, validation, tls.params),
      requestCert: validation !== undefined || tls.requireClientCertificate,
      rejectUnauthorized: tls.requireClientCertificate,
      ALPNProtocols: tls.alpn.length ? [...tls.alpn] : undefined,
    });
  } catch (e) {
    stats.sslConnectionError.inc();
    env.refused(chain.name, (e as Error).message);
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => tlsSocket.destroy(), HANDSHAKE_TIMEOUT_MS);
  tlsSocket.once('error', (e: Error & { code?: string }) => {
    clearTimeout(timer);
    if (e.code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') stats.sslFailVerifyNoCert.inc();
    else stats.sslConnectionError.inc();
    env.refused(chain.name, `TLS handshake failed: ${e.message}`);
    socket.destroy();
  });
  tlsSocket.once('secure', () => {
    clearTimeout(timer);
    const cert = tlsSocket.getPeerX509Certificate();
    const peer = cert ? peerSans(cert) : undefined;
    if (tls.requireClientCertificate && !peer) {
      stats.sslFailVerifyNoCert.inc();
      env.refused(chain.name, 'the client sent no certificate');
      tlsSocket.destroy();
      return;
    }
    if (peer && validation && !sansMatch(peer, validation.sanMatchers)) {
      stats.sslFailVerifySan.inc();
      env.refused(chain.name, `the client certificate (${describeSans(peer)}) matches none of the allowed SANs`);
      tlsSocket.destroy();
      return;
    }
    stats.sslHandshake.inc();
    tlsSocket.setNoDelay(true);
    tlsSocket.removeAllListeners('error');
    tlsSocket.on('error', () => tlsSocket.destroy());
    ready(tlsSocket, peer);
  });
}

function runFilters(ctx: DownstreamContext, chain: FilterChainConfig, env: ConnectionEnv, onDrainable: (drain: () => void) => void): void {
  const { runtime } = env;
  for (const f of chain.filters) {
    if (!admits(f, ctx, env)) {
      ctx.socket.destroy();
      return;
    }
    if (f.kind === 'tcpProxy') {
      ctx.socket.allowHalfOpen = true;
      startTcpProxy(ctx, f.statPrefix, f.target, runtime, (reason) => {
        if (reason !== 'closed') env.refused(chain.name, reason);
      });
      return;
    }
    if (f.kind === 'httpConnectionManager') {
      ctx.socket.allowHalfOpen = false;
      const http = startHttpConnection(ctx, f.hcm, runtime);
      onDrainable(() => http.drain());
      return;
    }
  }
}

/** Runs a non-terminal network filter; false closes the connection. */
function admits(f: NetworkFilterConfig, ctx: DownstreamContext, env: ConnectionEnv): boolean {
  const { stats } = env.runtime;
  if (f.kind === 'rbac') {
    const decision = evaluateRbac(f.rules, { peer: ctx.peer, destinationPort: ctx.destination.port });
    const prefix = f.statPrefix.endsWith('.') || f.statPrefix === '' ? f.statPrefix : `${f.statPrefix}.`;
    stats.counter(`${prefix}rbac.${decision.allowed ? 'allowed' : 'denied'}`).inc();
    if (!decision.allowed) env.refused(ctx.filterChainName, `RBAC denied ${ctx.peer ? describeSans(ctx.peer) : 'a client without a certificate'} (rbac_access_denied_matched_policy[${decision.policy ?? 'none'}])`);
    return decision.allowed;
  }
  if (f.kind === 'localRateLimit') {
    let bucket = buckets.get(f);
    if (!bucket) buckets.set(f, (bucket = new TokenBucket(f.tokenBucket, env.runtime.now)));
    if (bucket.tryTake()) return true;
    stats.counter(`local_ratelimit.${f.statPrefix}.rate_limited`).inc();
    return false;
  }
  return true;
}
