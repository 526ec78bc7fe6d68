/**
 * Who is connecting: the proxy identity in the mTLS client certificate's common name, and the
 * client flavour and node from the first request. The TLS layer has already checked the chain
 * against the mesh CA (checkClientCertificate); here we only read what it vouched for.
 */
import type { PeerCertificate } from 'node:tls';
import { parseProxyCommonName } from '../certs/index.js';
import type { Node } from '../xds/proto.js';
import { AdsError } from './errors.js';
import type { ClientFlavour, ConnectingProxy } from './snapshot.js';

/** The certificate part of a ConnectingProxy. */
export type ProxyCertificate = NonNullable<ConnectingProxy['certificate']>;

/** The part of grpc-js's call auth context we read (the TLS layer verified the chain). */
export interface PeerAuthContext {
  readonly sslPeerCertificate?: PeerCertificate;
}

/** The outcome of reading a peer certificate: the proxy it names, or why it names none. */
export type PeerIdentity = { ok: true; certificate: ProxyCertificate } | { ok: false; error: AdsError };

/**
 * Reads the proxy certificate from a call's auth context: CN `<uuid>.sidecar.<sa>.<ns>.<td>`,
 * checked against `trustDomain` when given. A missing certificate or a CN of another shape
 * (a workload certificate, say) is refused with E7111/E7112.
 */
export function proxyCertificateOf(auth: PeerAuthContext | null, trustDomain?: string): PeerIdentity {
  const peer = auth?.sslPeerCertificate;
  if (peer === undefined) return { ok: false, error: new AdsError('E7111') };
  const serial = peer.serialNumber.toLowerCase();
  const cn = commonNameOf(peer.subject?.CN);
  if (cn === undefined) return { ok: false, error: new AdsError('E7112', { cn: '(none)', serial, reason: 'the subject has no single common name' }) };
  try {
    const parsed = parseProxyCommonName(cn, trustDomain);
    return { ok: true, certificate: { uuid: parsed.uuid, namespace: parsed.namespace, serviceAccount: parsed.serviceAccount, serialNumber: serial } };
  } catch (error) {
    return { ok: false, error: new AdsError('E7112', { cn: JSON.stringify(cn), serial, reason: error instanceof Error ? error.message : String(error) }, { cause: error }) };
  }
}

function commonNameOf(cn: string | string[] | undefined): string | undefined {
  if (typeof cn === 'string') return cn;
  return cn?.length === 1 ? cn[0] : undefined;
}

/**
 * The client flavour from `node.user_agent_name`: proxyless gRPC libraries call themselves
 * `gRPC <language>` (reference/xds.md 1.1); Envoy says `envoy`, our sidecar `osm-ts`. Anything
 * else gets Envoy's resources, the full set, since that is what an xDS client most likely is.
 */
export function flavourOf(userAgentName: string): ClientFlavour {
  return userAgentName.startsWith('gRPC') ? 'grpc' : 'envoy';
}

/** The ConnectingProxy the provider is asked to admit. */
export function connectingProxyOf(node: Node, certificate: ProxyCertificate | undefined, peer: string): ConnectingProxy {
  return {
    ...(certificate !== undefined ? { certificate } : {}),
    node: { id: node.id, cluster: node.cluster, userAgentName: node.userAgentName, metadata: Object.freeze({ ...(node.metadata ?? {}) }) },
    flavour: flavourOf(node.userAgentName),
    peer,
  };
}
