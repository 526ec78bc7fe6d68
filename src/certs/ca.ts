/**
 * The "tresor" mesh CA: a root key and self-signed root certificate, created once and kept in
 * a state directory, that signs every leaf certificate and checks peers' certificates. It has
 * no clock: callers pass the time.
 */
import { inspect } from 'node:util';
import { readStoredCa, writeNewCa, type StoredCa } from './ca-store.js';
import { CertError, reasonOf } from './errors.js';
import {
  DEFAULT_KEY_ALGORITHM,
  createIssuer,
  createLeafCertificate,
  createRootCertificatePem,
  describeKeyAlgorithm,
  generateKeyPair,
  importPrivateKeyPem,
  isSignedBy,
  keyAlgorithmProblem,
  parseCertificate,
  privateKeyToPem,
  publicKeyDer,
  type ExtendedKeyUsage,
  type Issuer,
  type KeyAlgorithm,
  type KeyPair,
  type LeafTemplate,
  type ParsedCertificate,
} from './x509.js';

const HOUR_MS = 3_600_000;

/** OSM's root and internal certificates live 87600 h, ten years (reference/osm.md 6.1, 6.2). */
export const TEN_YEARS_MS = 87_600 * HOUR_MS;

/**
 * How far notBefore is set back from the moment of issue, so a peer whose clock is a little
 * behind ours does not reject a fresh certificate; the Kubernetes CSR signer uses the same 5 min.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Options for creating or loading the mesh CA. */
export interface MeshCaOptions {
  /** The time now, epoch ms: a new root starts here; a loaded root must not have expired by then. */
  nowMs: number;
  /** Key type of a new root and of every leaf key. Default ECDSA P-256. A loaded root keeps its own type. */
  keyAlgorithm?: KeyAlgorithm;
  /** Lifetime of a new root in ms. Default ten years, as OSM's tresor. */
  rootValidityMs?: number;
}

/** What an IssuedCertificate is made of. */
interface IssuedCertificateFields {
  commonName: string;
  serialNumber: string;
  notBeforeMs: number;
  notAfterMs: number;
  certChainPem: string;
  issuingCaPem: string;
  privateKeyPem: string;
}

/** A leaf certificate with its key; `privateKeyPem` is left out of JSON and `util.inspect` output. */
export class IssuedCertificate {
  /** The subject common name. */
  readonly commonName: string;
  /** Lower-case hex serial number. */
  readonly serialNumber: string;
  /** Validity start and end, epoch ms (whole seconds). */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** The leaf certificate as PEM; the mesh root signs leaves directly, so there are no intermediates. */
  readonly certChainPem: string;
  /** The root that signed this certificate, as PEM. */
  readonly issuingCaPem: string;
  readonly #privateKeyPem: string;

  constructor(fields: IssuedCertificateFields) {
    this.commonName = fields.commonName;
    this.serialNumber = fields.serialNumber;
    this.notBeforeMs = fields.notBeforeMs;
    this.notAfterMs = fields.notAfterMs;
    this.certChainPem = fields.certChainPem;
    this.issuingCaPem = fields.issuingCaPem;
    this.#privateKeyPem = fields.privateKeyPem;
    Object.freeze(this);
  }

  /** The private key as PKCS#8 PEM. Hand it to TLS or SDS; never log it. */
  get privateKeyPem(): string {
    return this.#privateKeyPem;
  }

  /** What is safe to show: names, serial and validity, no PEM. */
  toJSON(): { commonName: string; serialNumber: string; notBefore: string; notAfter: string } {
    return {
      commonName: this.commonName,
      serialNumber: this.serialNumber,
      notBefore: new Date(this.notBeforeMs).toISOString(),
      notAfter: new Date(this.notAfterMs).toISOString(),
    };
  }

  [inspect.custom](): string {
    return `IssuedCertificate ${JSON.stringify(this.toJSON())}`;
  }
}

/** What `verify` learnt about a peer certificate the mesh CA signed. */
export interface VerifiedCertificate {
  commonName: string | undefined;
  serialNumber: string;
  dnsNames: string[];
  uris: string[];
  ipAddresses: string[];
  extendedKeyUsages: string[];
  notBeforeMs: number;
  notAfterMs: number;
}

/** Options for `MeshCA.verify`. */
export interface VerifyOptions {
  /** The time to check validity at, epoch ms. */
  nowMs: number;
  /** A purpose the certificate must allow, e.g. `clientAuth` for an xDS client. */
  usage?: ExtendedKeyUsage;
}

/** The mesh's certificate authority: signs leaves with its root key, verifies peers against its root. */
export class MeshCA {
  readonly #issuer: Issuer;
  readonly #rootPem: string;
  readonly #leafKeyAlgorithm: KeyAlgorithm;

  private constructor(issuer: Issuer, rootPem: string, leafKeyAlgorithm: KeyAlgorithm) {
    this.#issuer = issuer;
    this.#rootPem = rootPem;
    this.#leafKeyAlgorithm = leafKeyAlgorithm;
  }

  /** Creates a new CA in memory only: for tests and for a second, foreign CA in them. */
  static async create(options: MeshCaOptions): Promise<MeshCA> {
    const { ca } = await MeshCA.#generate(options);
    return ca;
  }

  /**
   * Loads the CA from `stateDir`, or creates one there when the directory holds neither file.
   * An existing CA is never overwritten; an unreadable, mismatched, non-CA or expired one is a
   * CertError naming the file.
   */
  static async loadOrCreate(stateDir: string, options: MeshCaOptions): Promise<{ ca: MeshCA; created: boolean }> {
    const stored = await readStoredCa(stateDir);
    if (stored) return { ca: await MeshCA.#load(stored, options), created: false };
    const { ca, keyPem } = await MeshCA.#generate(options);
    if (await writeNewCa(stateDir, { certPem: ca.#rootPem, keyPem })) return { ca, created: true };
    // Another process created the CA between our read and write: use theirs, as OSM's HA
    // replicas share the one `osm-ca-bundle` Secret.
    const theirs = await readStoredCa(stateDir);
    if (!theirs) throw new CertError('E6006', { file: stateDir, reason: 'the CA files vanished while being created' });
    return { ca: await MeshCA.#load(theirs, options), created: false };
  }

  static async #generate(options: MeshCaOptions): Promise<{ ca: MeshCA; keyPem: string }> {
    const algorithm = checkedKeyAlgorithm(options.keyAlgorithm);
    const validityMs = options.rootValidityMs ?? TEN_YEARS_MS;
    if (!(validityMs > 0)) throw new CertError('E6005', { option: 'rootValidityMs', reason: `must be > 0, got ${validityMs}` });
    const keys = await generateKeyPair(algorithm);
    const start = wholeSecond(options.nowMs);
    const rootPem = await createRootCertificatePem(keys, { notBeforeMs: start - CLOCK_SKEW_MS, notAfterMs: start + validityMs });
    const keyPem = await privateKeyToPem(keys.privateKey);
    const ca = new MeshCA(await createIssuer(keys, parseCertificate(rootPem)), rootPem, algorithm);
    return { ca, keyPem };
  }

  static async #load(stored: StoredCa, options: MeshCaOptions): Promise<MeshCA> {
    const leafAlgorithm = checkedKeyAlgorithm(options.keyAlgorithm);
    let certificate: ParsedCertificate;
    try {
      certificate = parseCertificate(stored.certPem);
    } catch (error) {
      throw new CertError('E6001', { file: stored.certFile, reason: reasonOf(error) }, { cause: error });
    }
    let keys: KeyPair;
    try {
      keys = await importPrivateKeyPem(stored.keyPem);
    } catch (error) {
      throw new CertError('E6001', { file: stored.keyFile, reason: reasonOf(error) }, { cause: error });
    }
    if (!sameBytes(await publicKeyDer(keys.publicKey), certificate.publicKeyDer)) {
      throw new CertError('E6002', { keyFile: stored.keyFile, certFile: stored.certFile });
    }
    const unusable = rootProblem(certificate, options.nowMs);
    if (unusable) throw new CertError('E6004', { file: stored.certFile, reason: unusable });
    return new MeshCA(await createIssuer(keys, certificate), stored.certPem, leafAlgorithm);
  }

  /** The root certificate as PEM: the trust anchor every proxy validates peers with. */
  get rootCertificatePem(): string {
    return this.#rootPem;
  }

  /** The root's serial, validity and key type, for logs and the debug endpoint. */
  get rootSummary(): { serialNumber: string; notBefore: string; notAfter: string; keyAlgorithm: string } {
    const root = this.#issuer.certificate;
    return {
      serialNumber: root.serialNumber,
      notBefore: new Date(root.notBeforeMs).toISOString(),
      notAfter: new Date(root.notAfterMs).toISOString(),
      keyAlgorithm: describeKeyAlgorithm(this.#issuer.keys.algorithm),
    };
  }

  /** Generates a fresh leaf key and signs a certificate for it from `template`. */
  async issue(template: LeafTemplate): Promise<IssuedCertificate> {
    const keys = await generateKeyPair(this.#leafKeyAlgorithm);
    // Serial and validity come back with the PEM: parsing it again cost a sixth of the issuing time.
    const { pem, serialNumber, notBeforeMs, notAfterMs } = await createLeafCertificate(this.#issuer, keys, template);
    return new IssuedCertificate({
      commonName: template.commonName,
      serialNumber,
      notBeforeMs,
      notAfterMs,
      certChainPem: pem,
      issuingCaPem: this.#rootPem,
      privateKeyPem: await privateKeyToPem(keys.privateKey),
    });
  }

  /**
   * Checks that the first certificate of a PEM chain (or one DER certificate, as
   * `TLSSocket.getPeerCertificate().raw` gives) is a leaf signed by this CA's root, valid at
   * `nowMs`, and allows `usage` if given. Throws a CertError (E62xx) saying which check failed.
   */
  async verify(chain: string | Uint8Array, options: VerifyOptions): Promise<VerifiedCertificate> {
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(chain);
    } catch (error) {
      throw new CertError('E6201', { reason: reasonOf(error) }, { cause: error });
    }
    const who = { subject: cert.subject || '(empty subject)', serial: cert.serialNumber };
    if (!(await isSignedBy(cert, this.#issuer.certificate))) {
      throw new CertError('E6202', { ...who, issuer: cert.issuer || '(empty issuer)' });
    }
    if (options.nowMs < cert.notBeforeMs || options.nowMs > cert.notAfterMs) {
      throw new CertError('E6203', {
        ...who,
        at: new Date(options.nowMs).toISOString(),
        notBefore: new Date(cert.notBeforeMs).toISOString(),
        notAfter: new Date(cert.notAfterMs).toISOString(),
      });
    }
    if (cert.isCa) throw new CertError('E6204', { ...who, reason: 'is a CA certificate, not a leaf' });
    if (options.usage && !cert.extendedKeyUsages.includes(options.usage)) {
      throw new CertError('E6204', { ...who, reason: `does not allow ${options.usage} (extended key usage: ${cert.extendedKeyUsages.join(', ') || 'none'})` });
    }
    return {
      commonName: cert.commonName,
      serialNumber: cert.serialNumber,
      dnsNames: cert.dnsNames,
      uris: cert.uris,
      ipAddresses: cert.ipAddresses,
      extendedKeyUsages: cert.extendedKeyUsages,
      notBeforeMs: cert.notBeforeMs,
      notAfterMs: cert.notAfterMs,
    };
  }
}

function checkedKeyAlgorithm(algorithm: KeyAlgorithm | undefined): KeyAlgorithm {
  const chosen = algorithm ?? DEFAULT_KEY_ALGORITHM;
  const problem = keyAlgorithmProblem(chosen);
  if (problem) throw new CertError('E6005', { option: 'keyAlgorithm', reason: problem });
  return chosen;
}

/** Why a loaded certificate cannot be the mesh root, or undefined when it can. */
function rootProblem(cert: ParsedCertificate, nowMs: number): string | undefined {
  if (!cert.isCa) return 'not a CA certificate (basicConstraints cA is not set)';
  if (cert.keyUsages.length > 0 && !cert.keyUsages.includes('keyCertSign')) return 'key usage does not include keyCertSign';
  if (nowMs > cert.notAfterMs) {
    return `expired at ${new Date(cert.notAfterMs).toISOString()}; remove both CA files to create a new CA, then restart every proxy`;
  }
  return undefined;
}

/** Rounds down to a whole second, since X.509 times carry no milliseconds. */
export function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
