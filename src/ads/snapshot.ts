/**
 * The contract between the ADS server and whoever computes configuration (the controller).
 * The server knows no SMI and no Kubernetes: it serves per-proxy snapshots of encoded
 * resources and asks the provider who a connecting proxy is.
 */
import type { Any, TypeUrl } from '../xds/proto.js';

/** One resource of a proxy's configuration, encoded once. */
export interface VersionedResource {
  readonly name: string;
  readonly typeUrl: TypeUrl;
  /** A hash of the encoded bytes: the same resource always has the same version. */
  readonly version: string;
  readonly resource: Any;
}

/** Everything one proxy should have, by type URL then name. Immutable once published. */
export interface ProxySnapshot {
  readonly resources: ReadonlyMap<TypeUrl, ReadonlyMap<string, VersionedResource>>;
  /** Per type: a hash over every (name, version) of that type, used as the SotW version_info. */
  readonly typeVersions: ReadonlyMap<TypeUrl, string>;
}

/** Which resources a client can take: Envoy's full set, or the narrower proxyless gRPC set. */
export type ClientFlavour = 'envoy' | 'grpc';

/** A proxy as it connects: what its certificate says and what its node says. */
export interface ConnectingProxy {
  /** From the client certificate's CN `<uuid>.sidecar.<sa>.<ns>.<trust-domain>`; absent on the plaintext port. */
  certificate?: { uuid: string; namespace: string; serviceAccount: string; serialNumber: string };
  node: { id: string; cluster: string; userAgentName: string; metadata: Readonly<Record<string, unknown>> };
  flavour: ClientFlavour;
  /** The peer address, for logs. */
  peer: string;
}

/** The provider's answer for a connecting proxy. */
export type Admission = { ok: true; key: string; identity: string } | { ok: false; reason: string };

/** What the ADS server depends on (as go-control-plane's server depends on its ConfigWatcher). */
export interface SnapshotProvider {
  /** Decides whether a proxy may connect, and under which key its snapshot is found. */
  admit(proxy: ConnectingProxy): Admission;
  /** The current snapshot for an admitted proxy key; undefined while none is computed. */
  snapshotFor(key: string): ProxySnapshot | undefined;
  /** Called with the keys whose snapshots changed since the last call; returns the unsubscribe function. */
  onChange(listener: (keys: readonly string[]) => void): () => void;
  /** The proxy's stream ended (for bookkeeping such as per-proxy certificates). */
  release(key: string): void;
}
