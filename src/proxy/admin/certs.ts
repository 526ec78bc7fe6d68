/**
 * `/certs`: the certificates the sidecar holds, in Envoy's `envoy.admin.v3.Certificates` JSON
 * shape. Envoy lists one entry per TLS context; our contexts are built per connection from SDS
 * secrets, so there is one entry per secret, sorted by name: a certificate secret's leaf under
 * `cert_chain`, a validation secret's trusted CAs under `ca_cert`. SDS delivers the PEM inline,
 * which Envoy reports with the path `<inline>`.
 */
import { X509Certificate } from 'node:crypto';
import type { SecretConfig } from '../config/index.js';
import { parseSubjectAltName } from '../tls/index.js';

/** Envoy's `CertificateDetails` in proto3 JSON. */
export interface CertificateDetails {
  readonly path: string;
  /** Lower-case hex, as Envoy prints it. */
  readonly serial_number: string;
  readonly subject_alt_names: ReadonlyArray<{ readonly uri: string } | { readonly dns: string } | { readonly ip_address: string }>;
  /** A uint64, so a string in proto3 JSON; 0 once expired. */
  readonly days_until_expiration: string;
  readonly valid_from: string;
  readonly expiration_time: string;
}

export interface CertificatesDump {
  readonly certificates: ReadonlyArray<{ readonly ca_cert: readonly CertificateDetails[]; readonly cert_chain: readonly CertificateDetails[] }>;
}

const DAY_MS = 86_400_000;

function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** A Timestamp in proto3 JSON: RFC 3339 in UTC, no fraction when it is zero. */
function timestamp(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

function details(pem: string, nowMs: number): CertificateDetails {
  const cert = new X509Certificate(pem);
  const sans = parseSubjectAltName(cert.subjectAltName);
  const validTo = new Date(cert.validTo);
  return {
    path: '<inline>',
    serial_number: cert.serialNumber.toLowerCase(),
    subject_alt_names: [...sans.uri.map((uri) => ({ uri })), ...sans.dns.map((dns) => ({ dns })), ...sans.ip.map((ip_address) => ({ ip_address }))],
    days_until_expiration: String(Math.max(0, Math.floor((validTo.getTime() - nowMs) / DAY_MS))),
    valid_from: timestamp(new Date(cert.validFrom)),
    expiration_time: timestamp(validTo),
  };
}

/** The `/certs` body for these secrets at `nowMs`. */
export function certificatesDump(secrets: ReadonlyMap<string, SecretConfig>, nowMs: number): CertificatesDump {
  const names = [...secrets.keys()].sort();
  return {
    certificates: names.map((name) => {
      const secret = secrets.get(name) as SecretConfig;
      if (secret.kind === 'certificate') {
        // Envoy describes the leaf of each chain, not its intermediates.
        const leaf = pemBlocks(secret.certificateChainPem).slice(0, 1);
        return { ca_cert: [], cert_chain: leaf.map((pem) => details(pem, nowMs)) };
      }
      return { ca_cert: pemBlocks(secret.trustedCaPem).map((pem) => details(pem, nowMs)), cert_chain: [] };
    }),
  };
}
