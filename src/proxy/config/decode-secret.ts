/**
 * Secret -> SecretConfig.
 *
 * Supported: `tls_certificate` with an inline PEM chain and key, and `validation_context` with an
 * inline trusted CA and typed SAN matchers (DNS, URI, EMAIL, IP_ADDRESS; exact, prefix,
 * suffix, contains or RE2 regex). Rejected: files and environment variables (config is pure),
 * PKCS#12, key providers, SPKI/hash pinning, CRLs, the deprecated untyped SAN list, session
 * ticket keys, generic secrets, and anything else set.
 */
import {
  CertificateValidationContextSchema,
  SecretSchema,
  SubjectAltNameMatcher_SanType,
  SubjectAltNameMatcherSchema,
  TlsCertificateSchema,
  type Secret,
} from '../../xds/proto.js';
import { at, decodeDataSource, decodeStringMatcher, Issues, item, rejectUnsupported, snake } from './decode-common.js';
import type { Decoded, SanMatcherConfig, SecretConfig } from './model.js';

const SAN_TYPE: Partial<Record<SubjectAltNameMatcher_SanType, SanMatcherConfig['type']>> = {
  [SubjectAltNameMatcher_SanType.DNS]: 'dns',
  [SubjectAltNameMatcher_SanType.URI]: 'uri',
  [SubjectAltNameMatcher_SanType.EMAIL]: 'email',
  [SubjectAltNameMatcher_SanType.IP_ADDRESS]: 'ip',
};

/** Decodes an SDS resource. */
export function decodeSecret(msg: Secret): Decoded<SecretConfig> {
  const issues = new Issues();
  rejectUnsupported(SecretSchema, msg, '', ['name', 'tls_certificate', 'validation_context'], issues);
  if (msg.name === '') issues.add('name', 'required');
  const t = msg.type;
  if (t.case === 'tlsCertificate') {
    const c = t.value;
    rejectUnsupported(TlsCertificateSchema, c, 'tls_certificate', ['certificate_chain', 'private_key'], issues);
    const certificateChainPem = decodeDataSource(c.certificateChain, 'tls_certificate.certificate_chain', issues);
    const privateKeyPem = decodeDataSource(c.privateKey, 'tls_certificate.private_key', issues);
    if (certificateChainPem === undefined || privateKeyPem === undefined) return issues.result<SecretConfig>(undefined);
    return issues.result<SecretConfig>({ name: msg.name, kind: 'certificate', certificateChainPem, privateKeyPem });
  }
  if (t.case === 'validationContext') {
    const v = t.value;
    const p = 'validation_context';
    rejectUnsupported(CertificateValidationContextSchema, v, p, ['trusted_ca', 'match_typed_subject_alt_names'], issues);
    const trustedCaPem = decodeDataSource(v.trustedCa, at(p, 'trusted_ca'), issues);
    const sanMatchers = v.matchTypedSubjectAltNames.flatMap((m, i): SanMatcherConfig[] => {
      const mp = item(at(p, 'match_typed_subject_alt_names'), i);
      rejectUnsupported(SubjectAltNameMatcherSchema, m, mp, ['san_type', 'matcher'], issues);
      const type = SAN_TYPE[m.sanType];
      if (!type) issues.add(at(mp, 'san_type'), `${SubjectAltNameMatcher_SanType[m.sanType] ?? m.sanType} is not supported by the sidecar (DNS, URI, EMAIL, IP_ADDRESS)`);
      if (!m.matcher) issues.add(at(mp, 'matcher'), 'required');
      const match = m.matcher ? decodeStringMatcher(m.matcher, at(mp, 'matcher'), issues) : undefined;
      return type && match ? [{ type, match }] : [];
    });
    if (trustedCaPem === undefined) return issues.result<SecretConfig>(undefined);
    return issues.result<SecretConfig>({ name: msg.name, kind: 'validation', trustedCaPem, sanMatchers });
  }
  if (t.case === undefined) issues.add('', 'a secret needs tls_certificate or validation_context');
  else if (!issues.list.some((x) => x.path === snake(t.case))) issues.add(snake(t.case), 'not supported by the sidecar');
  return issues.result<SecretConfig>(undefined);
}
