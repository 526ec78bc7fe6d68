/**
 * Opening one upstream connection: TCP (TCP_NODELAY on), then TLS when the cluster originates
 * it. As Envoy, the server certificate is checked against the validation context's CA and its
 * `match_subject_alt_names`, never against the host name (Node's `checkServerIdentity` is
 * replaced); without a validation context it is not checked at all. The connect timeout covers
 * the TCP connect and the TLS handshake. TLS sessions are kept per host for resumption.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import { describeSans, peerSans, sansMatch, type ValidationSecret } from '../tls/index.js';
import type { ClusterClock } from './clock.js';
import type { Host } from './host.js';
import type { ClusterStatsSet } from './stats.js';

/** The stats a connect moves; health checks connect without them. */
export type TransportStats = Pick<ClusterStatsSet, 'upstreamCxConnectTimeout' | 'sslHandshake' | 'sslSessionReused' | 'sslConnectionError' | 'sslFailVerifySan' | 'sslFailVerifyError'>;
import type { UpstreamFailureKind } from './types.js';

/** The TLS a cluster originates, resolved from its secrets. */
export interface UpstreamTls {
  readonly context: SecureContext;
  /** SNI; undefined sends none. */
  readonly servername: string | undefined;
  readonly alpn: readonly string[];
  /** Undefined: the server certificate is not verified (no validation context). */
  readonly validation: ValidationSecret | undefined;
}

/** How a cluster connects to its hosts. */
export interface TransportSettings {
  readonly clusterName: string;
  readonly connectTimeoutMs: number;
  /** The TLS to originate; `error` when the cluster's secrets could not be made into a context. */
  readonly tls: UpstreamTls | { readonly error: string } | undefined;
}

/** A TLS session ticket for one host, usable only with the context and SNI it came from. */
export interface HostSession {
  readonly context: SecureContext;
  readonly servername: string | undefined;
  readonly session: Buffer;
}

const sessions = new WeakMap<Host, HostSession>();

export type OpenResult = { readonly ok: true; readonly socket: Socket } | { readonly ok: false; readonly kind: Exclude<UpstreamFailureKind, 'overflow' | 'noHealthyUpstream'>; readonly message: string };

/**
 * Connects to `host`; calls `done` exactly once unless aborted. The returned function aborts a
 * connect in progress (the socket is destroyed, `done` is not called).
 */
export function openConnection(host: Host, settings: TransportSettings, clock: ClusterClock, stats: TransportStats | undefined, done: (result: OpenResult) => void): () => void {
  const name = `cluster ${settings.clusterName}`;
  const tls = settings.tls;
  if (tls && 'error' in tls) {
    queueMicrotask(() => done({ ok: false, kind: 'tlsFailure', message: `${name}: ${tls.error}` }));
    return () => {};
  }
  let finished = false;
  let tcpConnected = false;
  let socket: Socket;
  const finish = (result: OpenResult) => {
    if (finished) return;
    finished = true;
    cancelTimer();
    socket.removeListener('error', onError);
    if (!result.ok) discard(socket);
    done(result);
  };
  const onError = (error: NodeJS.ErrnoException) => {
    if (!tcpConnected) return finish({ ok: false, kind: 'connectFailure', message: `${name}: ${error.message}` });
    if (error.code && (error.code.startsWith('ERR_TLS_CERT') || VERIFY_ERRORS.has(error.code))) stats?.sslFailVerifyError.inc();
    else stats?.sslConnectionError.inc();
    finish({ ok: false, kind: 'tlsFailure', message: `${name}: TLS handshake with ${host.id} failed: ${error.message}` });
  };
  if (tls) {
    const saved = sessions.get(host);
    const session = saved && saved.context === tls.context && saved.servername === tls.servername ? saved.session : undefined;
    const s: TLSSocket = tlsConnect({
      host: host.address,
      port: host.port,
      secureContext: tls.context,
      ...(tls.servername ? { servername: tls.servername } : {}),
      ...(tls.alpn.length > 0 ? { ALPNProtocols: [...tls.alpn] } : {}),
      ...(session ? { session } : {}),
      rejectUnauthorized: tls.validation !== undefined,
      // Envoy checks match_subject_alt_names only (below), never the host name.
      checkServerIdentity: () => undefined,
    });
    socket = s;
    // Only a session whose server passed the SAN check may be resumed: resumption skips the
    // certificate, so a ticket kept from a rejected server would let it in next time.
    let verified = false;
    let ticket: Buffer | undefined;
    const keep = (t: Buffer) => sessions.set(host, { context: tls.context, servername: tls.servername, session: t });
    s.on('session', (t: Buffer) => (verified ? keep(t) : (ticket = t)));
    s.once('secureConnect', () => {
      const matchers = tls.validation?.sanMatchers ?? [];
      // A resumed session carries no certificate; it was checked when the session was made,
      // under this same context (a changed validation context is a different context).
      if (matchers.length > 0 && !s.isSessionReused()) {
        const sans = peerSans(s.getPeerX509Certificate());
        if (!sansMatch(sans, matchers)) {
          stats?.sslFailVerifySan.inc();
          return finish({
            ok: false,
            kind: 'tlsFailure',
            message: `${name}: host ${host.id} presented a certificate with ${describeSans(sans)}, which matches none of the subject alt names of validation context ${tls.validation?.name}`,
          });
        }
      }
      verified = true;
      if (ticket) keep(ticket);
      stats?.sslHandshake.inc();
      if (s.isSessionReused()) stats?.sslSessionReused.inc();
      finish({ ok: true, socket: s });
    });
  } else {
    socket = netConnect({ host: host.address, port: host.port });
    socket.once('connect', () => finish({ ok: true, socket }));
  }
  socket.setNoDelay(true);
  socket.once('connect', () => (tcpConnected = true));
  socket.on('error', onError);
  const cancelTimer = clock.setTimer(() => {
    stats?.upstreamCxConnectTimeout.inc();
    finish({ ok: false, kind: 'connectTimeout', message: `${name}: connect to ${host.id} timed out after ${settings.connectTimeoutMs} ms${tls ? ' (TCP connect and TLS handshake)' : ''}` });
  }, settings.connectTimeoutMs);
  return () => {
    if (finished) return;
    finished = true;
    cancelTimer();
    discard(socket);
  };
}

/** Destroys a socket nobody listens to any more; an error it still emits must not crash the process. */
function discard(socket: Socket): void {
  socket.on('error', () => {});
  socket.destroy();
}

/** OpenSSL verification failures as Node reports them (X509_V_ERR_* names without the prefix). */
const VERIFY_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
]);
