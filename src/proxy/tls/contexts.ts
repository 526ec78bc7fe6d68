/**
 * TLS contexts from SDS secrets, built once per (certificate, validation) pair and reused while
 * the secrets are unchanged, so a config push that does not touch a secret keeps the context
 * (and the session cache that goes with it). A rotated secret gives a new context for new
 * connections; connections already open keep theirs.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SecretConfig, TlsParamsConfig } from '../config/index.js';

type CertificateSecret = Extract<SecretConfig, { kind: 'certificate' }>;
type ValidationSecret = Extract<SecretConfig, { kind: 'validation' }>;

const VERSION: Record<TlsParamsConfig['minVersion'], 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' | undefined> = {
  auto: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

/** Envoy's defaults when the params leave a bound on auto: TLS 1.2 to 1.3. */
function versions(params: TlsParamsConfig | undefined): { minVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'; maxVersion: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' } {
  return { minVersion: VERSION[params?.minVersion ?? 'auto'] ?? 'TLSv1.2', maxVersion: VERSION[params?.maxVersion ?? 'auto'] ?? 'TLSv1.3' };
}

const SESSION_ID_CONTEXT = 'osm-ts-sidecar';

/** Caches contexts by the identity of the frozen secret objects they were built from. */
export class TlsContextCache {
  private readonly byCert = new WeakMap<CertificateSecret, Map<ValidationSecret | undefined, Map<string, SecureContext>>>();

  /** A context holding `certificate`, trusting `validation`'s CA (if any), with the given bounds and ciphers. */
  context(certificate: CertificateSecret | undefined, validation: ValidationSecret | undefined, params: TlsParamsConfig | undefined): SecureContext {
    const key = params ? `${params.minVersion}|${params.maxVersion}|${params.cipherSuites.join(':')}|${params.ecdhCurves.join(':')}` : '';
    if (!certificate) return this.build(undefined, validation, params);
    let byValidation = this.byCert.get(certificate);
    if (!byValidation) this.byCert.set(certificate, (byValidation = new Map()));
    let byParams = byValidation.get(validation);
    if (!byParams) byValidation.set(validation, (byParams = new Map()));
    let ctx = byParams.get(key);
    if (!ctx) byParams.set(key, (ctx = this.build(certificate, validation, params)));
    return ctx;
  }

  private build(certificate: CertificateSecret | undefined, validation: ValidationSecret | undefined, params: TlsParamsConfig | undefined): SecureContext {
    const { minVersion, maxVersion } = versions(params);
    const tls12Ciphers = params?.cipherSuites.filter((c) => !c.startsWith('TLS_')) ?? [];
    const tls13Ciphers = params?.cipherSuites.filter((c) => c.startsWith('TLS_')) ?? [];
    return createSecureContext({
      ...(certificate ? { cert: certificate.certificateChainPem, key: certificate.privateKeyPem } : {}),
      ...(validation ? { ca: validation.trustedCaPem } : {}),
      minVersion,
      maxVersion,
      // Sidecars resume TLS sessions; OpenSSL refuses to resume on a server socket whose context
      // has no session id context (tls.Server sets one, a bare server TLSSocket does not).
      sessionIdContext: SESSION_ID_CONTEXT,
      ...(tls12Ciphers.length ? { ciphers: tls12Ciphers.join(':') } : {}),
      ...(tls13Ciphers.length ? { ciphersuites: tls13Ciphers.join(':') } : {}),
      ...(params?.ecdhCurves.length ? { ecdhCurve: params.ecdhCurves.join(':') } : {}),
    });
  }
}

/** The certificate secret named, or an error naming what refers to it. */
export function certificateSecret(secrets: ReadonlyMap<string, SecretConfig>, name: string, referrer: string): CertificateSecret {
  const s = secrets.get(name);
  if (!s || s.kind !== 'certificate') throw new Error(`${referrer}: secret ${name} is ${s ? 'a validation context, not a certificate' : 'missing'}`);
  return s;
}

/** The validation secret named, or an error naming what refers to it. */
export function validationSecret(secrets: ReadonlyMap<string, SecretConfig>, name: string, referrer: string): ValidationSecret {
  const s = secrets.get(name);
  if (!s || s.kind !== 'validation') throw new Error(`${referrer}: secret ${name} is ${s ? 'a certificate, not a validation context' : 'missing'}`);
  return s;
}

export type { CertificateSecret, ValidationSecret };
