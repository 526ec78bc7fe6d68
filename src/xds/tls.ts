/**
 * Mesh TLS as Envoy configures it: the upstream context a client originates with (its own
 * certificate, the server's CA and SAN list, SNI, ALPN `osm`) and the downstream context a
 * server terminates with (client certificate required). Certificates come by SDS names.
 */
import type { Identity, MeshServicePort } from '../catalog/index.js';
import type { MeshConfigSpec } from '../api/osm/index.js';
import { adsConfigSource, typedConfig } from './common.js';
import { inboundRootSecretName, MESH_ALPN, outboundRootSecretName, serviceCertSecretName, serviceSni } from './names.js';
import {
  create,
  DownstreamTlsContextSchema,
  TlsParameters_TlsProtocol,
  TlsParametersSchema,
  TransportSocketSchema,
  UpstreamTlsContextSchema,
  type TlsParameters,
  type TransportSocket,
} from './proto.js';

const TLS_VERSION: Record<MeshConfigSpec['sidecar']['tlsMinProtocolVersion'], TlsParameters_TlsProtocol> = {
  TLS_AUTO: TlsParameters_TlsProtocol.TLS_AUTO,
  TLSv1_0: TlsParameters_TlsProtocol.TLSv1_0,
  TLSv1_1: TlsParameters_TlsProtocol.TLSv1_1,
  TLSv1_2: TlsParameters_TlsProtocol.TLSv1_2,
  TLSv1_3: TlsParameters_TlsProtocol.TLSv1_3,
};

/** TLS versions, ciphers and curves from MeshConfig `spec.sidecar`. */
export function tlsParameters(sidecar: MeshConfigSpec['sidecar']): TlsParameters {
  return create(TlsParametersSchema, {
    tlsMinimumProtocolVersion: TLS_VERSION[sidecar.tlsMinProtocolVersion],
    tlsMaximumProtocolVersion: TLS_VERSION[sidecar.tlsMaxProtocolVersion],
    cipherSuites: [...(sidecar.cipherSuites ?? [])],
    ecdhCurves: [...(sidecar.ecdhCurves ?? [])],
  });
}

const TLS_SOCKET = 'envoy.transport_sockets.tls';

/** Both ends: the proxy's own certificate, the named validation context, TLS parameters, ALPN `osm`. */
function meshTlsContext(own: Identity, validationSecret: string, sidecar: MeshConfigSpec['sidecar']) {
  return {
    tlsParams: tlsParameters(sidecar),
    tlsCertificateSdsSecretConfigs: [{ name: serviceCertSecretName(own), sdsConfig: adsConfigSource() }],
    validationContextType: { case: 'validationContextSdsSecretConfig' as const, value: { name: validationSecret, sdsConfig: adsConfigSource() } },
    alpnProtocols: [MESH_ALPN],
  };
}

/** What a client presents and checks when it connects to `upstream`. */
export function upstreamTls(client: Identity, upstream: MeshServicePort, sidecar: MeshConfigSpec['sidecar']): TransportSocket {
  const context = create(UpstreamTlsContextSchema, { commonTlsContext: meshTlsContext(client, outboundRootSecretName(upstream), sidecar), sni: serviceSni(upstream) });
  return create(TransportSocketSchema, typedConfig(TLS_SOCKET, UpstreamTlsContextSchema, context));
}

/** What a server presents and requires on its inbound mesh chains. */
export function downstreamTls(server: Identity, sidecar: MeshConfigSpec['sidecar']): TransportSocket {
  const context = create(DownstreamTlsContextSchema, { commonTlsContext: meshTlsContext(server, inboundRootSecretName(server), sidecar), requireClientCertificate: true });
  return create(TransportSocketSchema, typedConfig(TLS_SOCKET, DownstreamTlsContextSchema, context));
}
