/**
 * Peer certificate identities: the SANs Node reports (`X509Certificate.subjectAltName`, a
 * comma-separated list whose values Node JSON-quotes when they contain separators), checked
 * against `match_subject_alt_names` and fed to RBAC's `authenticated` principals.
 */
import type { X509Certificate } from 'node:crypto';
import type { SanMatcherConfig } from '../config/index.js';
import { matchesString } from '../config/index.js';

export interface PeerSans {
  readonly uri: readonly string[];
  readonly dns: readonly string[];
  readonly email: readonly string[];
  readonly ip: readonly string[];
  /** The subject, for RBAC when the certificate has no URI or DNS SAN. */
  readonly subject: string;
}

const NO_SANS: PeerSans = Object.freeze({ uri: [], dns: [], email: [], ip: [], subject: '' });

/** Splits Node's `subjectAltName` string into typed entries. */
export function parseSubjectAltName(text: string | undefined, subject = ''): PeerSans {
  if (!text) return subject ? { ...NO_SANS, subject } : NO_SANS;
  const out = { uri: [] as string[], dns: [] as string[], email: [] as string[], ip: [] as string[], subject };
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      // Quoted by Node: a JSON string, escapes included.
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      next = text.indexOf(', ', end);
    } else {
      next = text.indexOf(', ', colon);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    if (type === 'URI') out.uri.push(value);
    else if (type === 'DNS') out.dns.push(value);
    else if (type === 'email') out.email.push(value);
    else if (type === 'IP Address') out.ip.push(value);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

/** The SANs of a peer certificate (an empty set when there is none). */
export function peerSans(cert: X509Certificate | undefined): PeerSans {
  if (!cert) return NO_SANS;
  return parseSubjectAltName(cert.subjectAltName, cert.subject);
}

/** Whether any SAN satisfies any matcher (Envoy: an empty matcher list accepts every certificate). */
export function sansMatch(sans: PeerSans, matchers: readonly SanMatcherConfig[]): boolean {
  if (matchers.length === 0) return true;
  for (const m of matchers) {
    for (const value of sans[m.type]) if (matchesString(m.match, value)) return true;
  }
  return false;
}

/** How a peer's certificate reads in errors: its URI and DNS SANs. */
export function describeSans(sans: PeerSans): string {
  const all = [...sans.uri.map((v) => `URI:${v}`), ...sans.dns.map((v) => `DNS:${v}`)];
  return all.length ? all.join(', ') : `subject ${sans.subject || '(empty)'}`;
}
