/**
 * The one module that touches the X.509 library (@peculiar/x509 over Node's WebCrypto), as
 * lib/schema.ts is the one that touches TypeBox: keys, certificate building and parsing into
 * plain facts. Everything else in certs/ uses these functions and never the library.
 */
// @peculiar/x509 2.x loads tsyringe, which throws at import unless a Reflect metadata
// polyfill is already installed (the library's README, "Reflect Polyfill Required"). ES
// modules evaluate imports in order, so this line runs first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';

type CryptoKey = webcrypto.CryptoKey;

/** A key type osm-ts generates: ECDSA on P-256 (the default) or RSA with 2048-4096 bits. */
export type KeyAlgorithm = { type: 'ecdsa'; namedCurve: 'P-256' } | { type: 'rsa'; modulusBits: number };

/** ECDSA P-256: as strong as RSA 3072 and about a hundred times faster to generate. */
export const DEFAULT_KEY_ALGORITHM: KeyAlgorithm = { type: 'ecdsa', namedCurve: 'P-256' };

/** RSA sizes we accept: OSM's `certKeyBitSize` range; below 2048 is broken, above 4096 is slow for nothing. */
export const RSA_MIN_BITS = 2048;
/** The largest RSA modulus we generate or load, in bits. */
export const RSA_MAX_BITS = 4096;

/** Why a key algorithm is unusable, or undefined when it is fine. */
export function keyAlgorithmProblem(alg: KeyAlgorithm): string | undefined {
  if (alg.type === 'ecdsa') return alg.namedCurve === 'P-256' ? undefined : `unsupported curve ${String(alg.namedCurve)}; only P-256`;
  const bits = alg.modulusBits;
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || bits % 8 !== 0) {
    return `RSA modulusBits must be a multiple of 8 from ${RSA_MIN_BITS} to ${RSA_MAX_BITS}, got ${bits}`;
  }
  return undefined;
}

/** A short name for logs and errors, e.g. `ECDSA P-256` or `RSA 2048`. */
export function describeKeyAlgorithm(alg: KeyAlgorithm): string {
  return alg.type === 'ecdsa' ? `ECDSA ${alg.namedCurve}` : `RSA ${alg.modulusBits}`;
}

function webCryptoParams(alg: KeyAlgorithm): webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams {
  return alg.type === 'ecdsa'
    ? { name: 'ECDSA', namedCurve: alg.namedCurve }
    : // RSASSA-PKCS1-v1_5, not PSS: every TLS stack accepts it in certificate signatures.
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: alg.modulusBits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

function signingAlgorithm(alg: KeyAlgorithm): webcrypto.EcdsaParams | webcrypto.Algorithm {
  return alg.type === 'ecdsa' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
}

/** A key pair with the algorithm it was made for. */
export interface KeyPair {
  algorithm: KeyAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Generates a key pair; the private key is extractable so it can be written out as PEM. */
export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const pair = await webcrypto.subtle.generateKey(webCryptoParams(algorithm), true, ['sign', 'verify']);
  return { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** The private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/**
 * Reads a PEM private key in PKCS#8, PKCS#1 (`RSA PRIVATE KEY`, as OSM's `osm-ca-bundle`
 * holds it) or SEC1 (`EC PRIVATE KEY`) form. Throws a plain Error whose message says what is
 * wrong without quoting the key.
 */
export async function importPrivateKeyPem(pem: string): Promise<KeyPair> {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error('not a PEM private key (PKCS#8, PKCS#1 or SEC1)');
  }
  const algorithm = keyAlgorithmOf(keyObject);
  const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
  const params = webCryptoParams(algorithm);
  // Not extractable: a loaded CA key is only ever used to sign.
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, params, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, params, true, ['verify']);
  return { algorithm, privateKey, publicKey };
}

function keyAlgorithmOf(key: KeyObject): KeyAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  let algorithm: KeyAlgorithm;
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve !== 'prime256v1') throw new Error(`unsupported EC curve ${details.namedCurve ?? 'unknown'}; only P-256`);
    algorithm = { type: 'ecdsa', namedCurve: 'P-256' };
  } else if (key.asymmetricKeyType === 'rsa') {
    algorithm = { type: 'rsa', modulusBits: details.modulusLength ?? 0 };
  } else {
    throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}; only ECDSA P-256 or RSA`);
  }
  const problem = keyAlgorithmProblem(algorithm);
  if (problem) throw new Error(problem);
  return algorithm;
}

/** A positive 127-bit random serial as lower-case hex: RFC 5280 4.1.2.2 asks for at most 20 octets, positive. */
export function randomSerialHex(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  // The first byte in 1..127 keeps the DER INTEGER positive and exactly 16 octets long.
  bytes[0] = ((bytes[0] ?? 0) % 0x7f) + 1;
  return Buffer.from(bytes).toString('hex');
}

/** The subject of the mesh root, as OSM's tresor provider wrote it (pkg/certificate/providers/tresor). */
const ROOT_SUBJECT: x509.JsonName = [{ C: ['US'] }, { L: ['CA'] }, { O: ['Open Service Mesh'] }, { CN: ['osm-ca.openservicemesh.io'] }];

/** The organisation OSM puts in every leaf certificate's subject. */
export const ORGANIZATION = 'Open Service Mesh';

/** Validity bounds in epoch milliseconds; X.509 keeps whole seconds, so callers round. */
export interface Validity {
  notBeforeMs: number;
  notAfterMs: number;
}

/** Builds a self-signed CA certificate for the key pair and returns it as PEM. */
export async function createRootCertificatePem(keys: KeyPair, validity: Validity): Promise<string> {
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialHex(),
      name: ROOT_SUBJECT,
      notBefore: new Date(validity.notBeforeMs),
      notAfter: new Date(validity.notAfterMs),
      keys: { privateKey: keys.privateKey, publicKey: keys.publicKey },
      signingAlgorithm: signingAlgorithm(keys.algorithm),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return cert.toString('pem');
}

/** The purposes a leaf certificate may be used for (RFC 5280 4.2.1.12). */
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/** What goes into a leaf certificate besides its key and issuer. */
export interface LeafTemplate extends Validity {
  commonName: string;
  dnsNames: readonly string[];
  uris: readonly string[];
  ipAddresses: readonly string[];
  extendedKeyUsages: readonly ExtendedKeyUsage[];
}

/** The issuer side of leaf signing: the CA's key, parsed certificate and authority key identifier. */
export interface Issuer {
  keys: KeyPair;
  certificate: ParsedCertificate;
  /** Computed once: every leaf carries the same one. */
  authorityKeyIdentifier: x509.AuthorityKeyIdentifierExtension;
}

/**
 * Pairs a CA key with its certificate. The authority key identifier repeats the root's own
 * subject key identifier when it has one (RFC 5280 4.2.1.1), since a root made elsewhere may
 * have derived it differently; otherwise it is the SHA-1 of the public key, as the library does.
 */
export async function createIssuer(keys: KeyPair, certificate: ParsedCertificate): Promise<Issuer> {
  const ski = certificate.native.getExtension(x509.SubjectKeyIdentifierExtension);
  const authorityKeyIdentifier = ski
    ? new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)
    : await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey, false, webcrypto);
  return { keys, certificate, authorityKeyIdentifier };
}

/**
 * Signs a leaf certificate for the `subject` key pair's public key. Returns it as PEM with its serial number
 * (lower-case hex) and validity as encoded (rounded down to whole seconds), so callers need
 * not parse it back.
 */
export async function createLeafCertificate(
  issuer: Issuer,
  subject: KeyPair,
  leaf: LeafTemplate,
): Promise<{ pem: string; serialNumber: string } & Validity> {
  const serialNumber = randomSerialHex();
  const notBeforeMs = Math.floor(leaf.notBeforeMs / 1000) * 1000;
  const notAfterMs = Math.floor(leaf.notAfterMs / 1000) * 1000;
  const names: x509.JsonGeneralName[] = [
    ...leaf.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...leaf.uris.map((value) => ({ type: 'url' as const, value })),
    ...leaf.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber,
      subject: [{ O: [ORGANIZATION] }, { CN: [leaf.commonName] }],
      issuer: issuer.certificate.native.subjectName,
      notBefore: new Date(notBeforeMs),
      notAfter: new Date(notAfterMs),
      publicKey: subject.publicKey,
      signingKey: issuer.keys.privateKey,
      signingAlgorithm: signingAlgorithm(issuer.keys.algorithm),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(leafKeyUsages(subject.algorithm), true),
        new x509.ExtendedKeyUsageExtension(leaf.extendedKeyUsages.map((u) => x509.ExtendedKeyUsage[u]), false),
        new x509.SubjectAlternativeNameExtension(names, false),
        issuer.authorityKeyIdentifier,
        await x509.SubjectKeyIdentifierExtension.create(subject.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { pem: cert.toString('pem'), serialNumber, notBeforeMs, notAfterMs };
}

/**
 * OSM's leaf key usage is digitalSignature + keyEncipherment, right for its RSA keys. An
 * ECDSA key cannot encipher, and RFC 8813 section 3 says keyEncipherment MUST NOT be set for
 * one, so ECDSA leaves get digitalSignature alone (all that TLS with ECDHE needs).
 */
function leafKeyUsages(algorithm: KeyAlgorithm): x509.KeyUsageFlags {
  return algorithm.type === 'rsa' ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature;
}

/** Key usage bits we report, by their RFC 5280 names. */
export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign' | 'other';

/** What a certificate says, as plain data, for tests, diagnostics and the xDS server. */
export interface CertificateFacts {
  /** Lower-case hex. */
  serialNumber: string;
  commonName: string | undefined;
  organization: string | undefined;
  /** The subject and issuer as RFC 4514 strings, for messages. */
  subject: string;
  issuer: string;
  notBeforeMs: number;
  notAfterMs: number;
  isCa: boolean;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  keyUsages: KeyUsage[];
  /** Extended key usages by name when known (`serverAuth`, `clientAuth`), else by OID. */
  extendedKeyUsages: string[];
}

/** CertificateFacts plus what this folder needs to sign and verify; never leaves certs/. */
export interface ParsedCertificate extends CertificateFacts {
  /** DER of the SubjectPublicKeyInfo, to match a certificate with its private key. */
  publicKeyDer: Uint8Array;
  readonly native: x509.X509Certificate;
}

const KEY_USAGE_NAMES: ReadonlyArray<[x509.KeyUsageFlags, KeyUsage]> = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
];

const EKU_NAMES: ReadonlyMap<string, string> = new Map([
  [x509.ExtendedKeyUsage.serverAuth, 'serverAuth'],
  [x509.ExtendedKeyUsage.clientAuth, 'clientAuth'],
]);

/**
 * Splits PEM text into the DER of each CERTIFICATE block, in order. Throws a plain Error
 * when there is none.
 */
export function certificateBlocks(pem: string): Uint8Array[] {
  const blocks = x509.PemConverter.decodeWithHeaders(pem).filter((b) => b.type === 'CERTIFICATE');
  if (blocks.length === 0) throw new Error('no PEM CERTIFICATE block');
  return blocks.map((b) => new Uint8Array(b.rawData));
}

/** Parses one DER or PEM certificate (the first block of a PEM chain). Throws a plain Error. */
export function parseCertificate(input: string | Uint8Array): ParsedCertificate {
  const der = typeof input === 'string' ? certificateBlocks(input)[0] : input;
  if (der === undefined) throw new Error('no PEM CERTIFICATE block');
  const cert = new x509.X509Certificate(der);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = san?.names.items ?? [];
  const keyUsages: KeyUsage[] = [];
  if (ku) {
    let rest: number = ku.usages;
    for (const [flag, name] of KEY_USAGE_NAMES) {
      if (rest & flag) keyUsages.push(name);
      rest &= ~flag;
    }
    if (rest !== 0) keyUsages.push('other');
  }
  return {
    serialNumber: cert.serialNumber.toLowerCase(),
    commonName: cert.subjectName.getField('CN')[0],
    organization: cert.subjectName.getField('O')[0],
    subject: cert.subject,
    issuer: cert.issuer,
    notBeforeMs: cert.notBefore.getTime(),
    notAfterMs: cert.notAfter.getTime(),
    isCa: basic?.ca ?? false,
    dnsNames: namesOfType(sans, 'dns'),
    uris: namesOfType(sans, 'url'),
    ipAddresses: namesOfType(sans, 'ip'),
    keyUsages,
    // Array.from: the library's list is an Array subclass, which map() would copy.
    extendedKeyUsages: Array.from(eku?.usages ?? [], (u) => {
      const oid = String(u);
      return EKU_NAMES.get(oid) ?? oid;
    }),
    publicKeyDer: new Uint8Array(cert.publicKey.rawData),
    native: cert,
  };
}

function namesOfType(names: readonly x509.GeneralName[], type: x509.GeneralNameType): string[] {
  return Array.from(names.filter((n) => n.type === type), (n) => n.value);
}

/** The facts of one DER or PEM certificate (the first of a PEM chain). Throws a plain Error if it cannot be parsed. */
export function describeCertificate(input: string | Uint8Array): CertificateFacts {
  const c = parseCertificate(input);
  return {
    serialNumber: c.serialNumber,
    commonName: c.commonName,
    organization: c.organization,
    subject: c.subject,
    issuer: c.issuer,
    notBeforeMs: c.notBeforeMs,
    notAfterMs: c.notAfterMs,
    isCa: c.isCa,
    dnsNames: c.dnsNames,
    uris: c.uris,
    ipAddresses: c.ipAddresses,
    keyUsages: c.keyUsages,
    extendedKeyUsages: c.extendedKeyUsages,
  };
}

/** Whether `cert`'s signature verifies with `issuer`'s public key and its issuer name is `issuer`'s subject. */
export async function isSignedBy(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
  if (cert.native.issuerName.toString() !== issuer.native.subjectName.toString()) return false;
  try {
    return await cert.native.verify({ publicKey: issuer.native.publicKey, signatureOnly: true }, webcrypto);
  } catch {
    // The library throws, rather than returning false, when the key and signature algorithms differ.
    return false;
  }
}

/** The DER SubjectPublicKeyInfo of a public key, to compare with a certificate's. */
export async function publicKeyDer(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.exportKey('spki', key));
}

/** Whether a string is an IPv4 or IPv6 literal, which goes into an IP SAN rather than a DNS SAN. */
export function isIpLiteral(value: string): boolean {
  return isIP(value) !== 0;
}
