/**
 * Transport sockets: the TLS a listener's filter chain terminates (DownstreamTlsContext) and
 * the TLS a cluster originates (UpstreamTlsContext).
 *
 * Supported: certificates and validation contexts by SDS name over ADS (one certificate),
 * TLS version bounds, cipher suites, ECDH curves, ALPN, `require_client_certificate`, SNI.
 * Rejected: inline certificates and validation contexts (the sidecar takes secrets only by
 * SDS), certificate providers, session resumption settings, renegotiation, any other socket.
 */
import {
  CommonTlsContextSchema,
  DownstreamTlsContextSchema,
  TlsParameters_TlsProtocol,
  TlsParametersSchema,
  TransportSocketSchema,
  UpstreamTlsContextSchema,
  type CommonTlsContext,
  type TlsParameters,
  type TransportSocket,
} from '../../xds/proto.js';
import { at, checkAdsSource, Issues, item, rejectUnsupported, typedPath, typeNameOf, unpackTyped } from './decode-common.js';
import type { DownstreamTlsConfig, TlsParamsConfig, UpstreamTlsConfig } from './model.js';

const VERSION: Record<TlsParameters_TlsProtocol, TlsParamsConfig['minVersion']> = {
  [TlsParameters_TlsProtocol.TLS_AUTO]: 'auto',
  [TlsParameters_TlsProtocol.TLSv1_0]: 'TLSv1_0',
  [TlsParameters_TlsProtocol.TLSv1_1]: 'TLSv1_1',
  [TlsParameters_TlsProtocol.TLSv1_2]: 'TLSv1_2',
  [TlsParameters_TlsProtocol.TLSv1_3]: 'TLSv1_3',
};

function decodeParams(p: TlsParameters | undefined, path: string, issues: Issues): TlsParamsConfig {
  if (p) rejectUnsupported(TlsParametersSchema, p, path, ['tls_minimum_protocol_version', 'tls_maximum_protocol_version', 'cipher_suites', 'ecdh_curves'], issues);
  return {
    minVersion: VERSION[p?.tlsMinimumProtocolVersion ?? TlsParameters_TlsProtocol.TLS_AUTO] ?? 'auto',
    maxVersion: VERSION[p?.tlsMaximumProtocolVersion ?? TlsParameters_TlsProtocol.TLS_AUTO] ?? 'auto',
    cipherSuites: [...(p?.cipherSuites ?? [])],
    ecdhCurves: [...(p?.ecdhCurves ?? [])],
  };
}

interface CommonTls {
  certificateSecret: string | undefined;
  validationSecret: string | undefined;
  alpn: string[];
  params: TlsParamsConfig;
}

function decodeCommon(c: CommonTlsContext | undefined, path: string, issues: Issues, needsCertificate: boolean): CommonTls {
  const p = at(path, 'common_tls_context');
  if (!c) {
    issues.add(p, 'required');
    return { certificateSecret: undefined, validationSecret: undefined, alpn: [], params: decodeParams(undefined, p, issues) };
  }
  rejectUnsupported(CommonTlsContextSchema, c, p, ['tls_params', 'tls_certificate_sds_secret_configs', 'validation_context_sds_secret_config', 'alpn_protocols'], issues);
  const certs = c.tlsCertificateSdsSecretConfigs;
  const certsPath = at(p, 'tls_certificate_sds_secret_configs');
  if (certs.length > 1) issues.add(certsPath, 'the sidecar serves one certificate per context');
  if (certs.length === 0 && needsCertificate && c.tlsCertificates.length === 0) issues.add(certsPath, 'a TLS context must name one certificate secret');
  certs.forEach((s, i) => {
    if (s.name === '') issues.add(at(item(certsPath, i), 'name'), 'required');
    checkAdsSource(s.sdsConfig, at(item(certsPath, i), 'sds_config'), issues);
  });
  let validationSecret: string | undefined;
  const v = c.validationContextType;
  if (v.case === 'validationContextSdsSecretConfig') {
    const vp = at(p, 'validation_context_sds_secret_config');
    if (v.value.name === '') issues.add(at(vp, 'name'), 'required');
    checkAdsSource(v.value.sdsConfig, at(vp, 'sds_config'), issues);
    validationSecret = v.value.name;
  }
  return { certificateSecret: certs[0]?.name, validationSecret, alpn: [...c.alpnProtocols], params: decodeParams(c.tlsParams, at(p, 'tls_params'), issues) };
}

/** Only TLS sockets are implemented; `path` names the `transport_socket` field. */
function unpackSocket(socket: TransportSocket, path: string, issues: Issues) {
  rejectUnsupported(TransportSocketSchema, socket, path, ['name', 'typed_config'], issues);
  if (socket.configType.case !== 'typedConfig') {
    issues.add(at(path, 'typed_config'), 'required');
    return undefined;
  }
  return socket.configType.value;
}

/** Decodes a filter chain's `transport_socket`, which must hold a DownstreamTlsContext. */
export function decodeDownstreamTls(socket: TransportSocket, path: string, issues: Issues): DownstreamTlsConfig | undefined {
  const any = unpackSocket(socket, path, issues);
  if (!any) return undefined;
  if (typeNameOf(any) !== DownstreamTlsContextSchema.typeName) {
    issues.add(at(path, 'typed_config'), `the transport socket type ${typeNameOf(any) || '(empty type URL)'} is not supported on listeners (only ${DownstreamTlsContextSchema.typeName})`);
    return undefined;
  }
  const ctx = unpackTyped(any, DownstreamTlsContextSchema, path, issues);
  if (!ctx) return undefined;
  const p = typedPath(path, DownstreamTlsContextSchema);
  rejectUnsupported(DownstreamTlsContextSchema, ctx, p, ['common_tls_context', 'require_client_certificate'], issues);
  const common = decodeCommon(ctx.commonTlsContext, p, issues, true);
  const requireClientCertificate = ctx.requireClientCertificate ?? false;
  if (requireClientCertificate && !common.validationSecret) issues.add(at(p, 'require_client_certificate'), 'requires a validation context to check client certificates against');
  return { certificateSecret: common.certificateSecret ?? '', validationSecret: common.validationSecret, requireClientCertificate, alpn: common.alpn, params: common.params };
}

/** Decodes a cluster's `transport_socket`, which must hold an UpstreamTlsContext. */
export function decodeUpstreamTls(socket: TransportSocket, path: string, issues: Issues): UpstreamTlsConfig | undefined {
  const any = unpackSocket(socket, path, issues);
  if (!any) return undefined;
  if (typeNameOf(any) !== UpstreamTlsContextSchema.typeName) {
    issues.add(at(path, 'typed_config'), `the transport socket type ${typeNameOf(any) || '(empty type URL)'} is not supported on clusters (only ${UpstreamTlsContextSchema.typeName})`);
    return undefined;
  }
  const ctx = unpackTyped(any, UpstreamTlsContextSchema, path, issues);
  if (!ctx) return undefined;
  const p = typedPath(path, UpstreamTlsContextSchema);
  rejectUnsupported(UpstreamTlsContextSchema, ctx, p, ['common_tls_context', 'sni'], issues);
  const common = decodeCommon(ctx.commonTlsContext, p, issues, false);
  return { certificateSecret: common.certificateSecret, validationSecret: common.validationSecret, sni: ctx.sni, alpn: common.alpn, params: common.params };
}
