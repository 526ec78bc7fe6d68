/**
 * The certificate manager: issues certificates from the mesh CA, caches one workload
 * certificate per identity, renews it before it expires and tells subscribers (the ADS server,
 * which pushes SDS) when it did. Time comes from an injected Clock.
 */
import type { Identity } from '../catalog/index.js';
import { TEN_YEARS_MS, type IssuedCertificate, type VerifiedCertificate, type VerifyOptions } from './ca.js';
import type { Clock } from './clock.js';
import { CertError } from './errors.js';
import { adsServerTemplate, proxyBootstrapTemplate, workloadTemplate } from './profiles.js';
import type { ExtendedKeyUsage, LeafTemplate } from './x509.js';

/** MeshConfig `spec.certificate.serviceCertValidityDuration` default, 24 h, in ms. */
export const DEFAULT_SERVICE_CERT_VALIDITY_MS = 24 * 3_600_000;

// Node clamps longer setTimeout delays to 1 ms (TimeoutOverflowWarning), so a long wait is
// taken in steps of at most this many ms.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * What the manager needs from a CA: MeshCA ("tresor") is one; a Vault or cert-manager provider
 * would be another. The manager decides what goes into a certificate, the provider signs it.
 */
export interface CertificateAuthority {
  /** The trust anchor, PEM. */
  readonly rootCertificatePem: string;
  /** Generates a key and signs a certificate for it from `template`. */
  issue(template: LeafTemplate): Promise<IssuedCertificate>;
  /** Checks a peer certificate against this CA; throws a CertError (E62xx) when it fails. */
  verify(chain: string | Uint8Array, options: VerifyOptions): Promise<VerifiedCertificate>;
}

/** Options for a CertificateManager; only `ca`, `trustDomain` and `clock` are required. */
export interface CertificateManagerOptions {
  ca: CertificateAuthority;
  /** The mesh trust domain, e.g. `cluster.local`. */
  trustDomain: string;
  clock: Clock;
  /** Lifetime of workload certificates in ms (MeshConfig `serviceCertValidityDuration`). Default 24 h. */
  serviceCertValidityMs?: number;
  /** Lifetime of the xDS server and proxy bootstrap certificates in ms. Default ten years, as OSM's internal certificates. */
  internalCertValidityMs?: number;
  /** Renew a workload certificate once less than this fraction of its lifetime remains. Default 0.3. */
  renewBeforeFraction?: number;
  /**
   * Renew up to this further fraction of the lifetime earlier, at random, so certificates
   * issued together (every identity at start-up) do not all renew, and push SDS, together.
   * Default 0.05.
   */
  renewJitterFraction?: number;
  /** A number in [0, 1) for the jitter. Default Math.random. */
  random?: () => number;
  /** Wait before retrying a failed renewal, in ms. Default 10 s. */
  retryDelayMs?: number;
  /** Told of failures the manager handles itself: a renewal it will retry (E6301), a subscriber that threw (E6302). */
  onError?: (error: CertError) => void;
}

/** Called after an identity's workload certificate was replaced by a new one. */
export type RotationListener = (identity: Identity, cert: IssuedCertificate) => void;

/** One cached workload certificate as the debug endpoint shows it: no PEM, no key. */
export interface InventoryEntry {
  identity: Identity;
  commonName: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  /** When the manager will renew it (ISO 8601). */
  renewAt: string;
}

interface Entry {
  cert: IssuedCertificate;
  renewAtMs: number;
  cancelTimer: () => void;
}

const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Issues, caches and renews mesh certificates; see the file comment. `close()` stops its timers. */
export class CertificateManager {
  readonly #ca: CertificateAuthority;
  readonly #trustDomain: string;
  readonly #clock: Clock;
  readonly #internalValidityMs: number;
  readonly #renewBefore: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #retryDelayMs: number;
  readonly #onError: (error: CertError) => void;
  #serviceValidityMs: number;
  readonly #entries = new Map<Identity, Entry>();
  // One issuance per identity at a time; `token` tells a flight apart from a later one.
  readonly #inflight = new Map<Identity, { token: object; promise: Promise<IssuedCertificate> }>();
  readonly #listeners = new Set<RotationListener>();
  #closed = false;

  constructor(options: CertificateManagerOptions) {
    this.#ca = options.ca;
    this.#clock = options.clock;
    if (!TRUST_DOMAIN.test(options.trustDomain)) {
      throw new CertError('E6005', { option: 'trustDomain', reason: `expected a lower-case DNS name such as cluster.local, got ${JSON.stringify(options.trustDomain)}` });
    }
    this.#trustDomain = options.trustDomain;
    this.#serviceValidityMs = positive('serviceCertValidityMs', options.serviceCertValidityMs ?? DEFAULT_SERVICE_CERT_VALIDITY_MS);
    this.#internalValidityMs = positive('internalCertValidityMs', options.internalCertValidityMs ?? TEN_YEARS_MS);
    this.#retryDelayMs = positive('retryDelayMs', options.retryDelayMs ?? 10_000);
    this.#renewBefore = options.renewBeforeFraction ?? 0.3;
    this.#jitter = options.renewJitterFraction ?? 0.05;
    if (!(this.#renewBefore > 0 && this.#jitter >= 0 && this.#renewBefore + this.#jitter < 1)) {
      throw new CertError('E6005', {
        option: 'renewBeforeFraction',
        reason: `expected renewBeforeFraction > 0, renewJitterFraction >= 0 and their sum < 1, got ${this.#renewBefore} and ${this.#jitter}`,
      });
    }
    this.#random = options.random ?? Math.random;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** The mesh root certificate as PEM, for validation contexts and bootstrap configs. */
  rootCertificatePem(): string {
    return this.#ca.rootCertificatePem;
  }

  /**
   * The identity's workload certificate: the cached one while it is not yet due for renewal,
   * otherwise a newly issued one, which is cached and scheduled for renewal. Concurrent calls
   * for one identity share one issuance.
   */
  async issueWorkload(identity: Identity): Promise<IssuedCertificate> {
    this.#assertOpen();
    const entry = this.#entries.get(identity);
    if (entry && this.#clock.now() < entry.renewAtMs) return entry.cert;
    return this.#reissue(identity);
  }

  /** The cached workload certificate of an identity, if any; never issues. */
  getWorkload(identity: Identity): IssuedCertificate | undefined {
    return this.#entries.get(identity)?.cert;
  }

  /** Drops an identity's cached certificate and its renewal, e.g. when its last proxy left. */
  releaseWorkload(identity: Identity): void {
    this.#entries.get(identity)?.cancelTimer();
    this.#entries.delete(identity);
    // An issuance still in flight completes for its caller but is not cached.
    this.#inflight.delete(identity);
  }

  /** Sets the lifetime of workload certificates issued from now on (a MeshConfig change); cached ones renew on their schedule. */
  setServiceCertValidity(validityMs: number): void {
    this.#serviceValidityMs = positive('serviceCertValidityMs', validityMs);
  }

  /**
   * A new xDS server certificate, `ads.<td>`, plus `extraSans` (e.g. `localhost`, `127.0.0.1`).
   * Not cached: the caller serves it.
   */
  async issueAdsServerCert(options: { extraSans?: readonly string[] } = {}): Promise<IssuedCertificate> {
    this.#assertOpen();
    const lifetime = { nowMs: this.#clock.now(), validityMs: this.#internalValidityMs };
    return this.#ca.issue(adsServerTemplate(this.#trustDomain, lifetime, options.extraSans));
  }

  /** A new bootstrap (xDS client) certificate for the proxy with this `osm-proxy-uuid` and identity. Not cached. */
  async issueProxyBootstrap(request: { uuid: string; identity: Identity }): Promise<IssuedCertificate> {
    this.#assertOpen();
    const lifetime = { nowMs: this.#clock.now(), validityMs: this.#internalValidityMs };
    return this.#ca.issue(proxyBootstrapTemplate(request.uuid, request.identity, this.#trustDomain, lifetime));
  }

  /**
   * Checks a peer's certificate (PEM chain or DER) was signed by the mesh CA, is valid now and,
   * given `usage`, allows it. Throws a CertError (E62xx) otherwise.
   */
  async verify(chain: string | Uint8Array, options: { usage?: ExtendedKeyUsage } = {}): Promise<VerifiedCertificate> {
    return this.#ca.verify(chain, { nowMs: this.#clock.now(), ...options });
  }

  /** Subscribes to workload certificate rotations; returns the unsubscribe function. */
  onRotated(listener: RotationListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** The cached workload certificates by identity, sorted, without keys or PEM. */
  inventory(): InventoryEntry[] {
    return [...this.#entries]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([identity, { cert, renewAtMs }]) => ({
        identity,
        commonName: cert.commonName,
        serialNumber: cert.serialNumber,
        notBefore: new Date(cert.notBeforeMs).toISOString(),
        notAfter: new Date(cert.notAfterMs).toISOString(),
        renewAt: new Date(renewAtMs).toISOString(),
      }));
  }

  /** Cancels every renewal and drops subscribers; later issue calls throw E6303. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of this.#entries.values()) entry.cancelTimer();
    this.#entries.clear();
    this.#inflight.clear();
    this.#listeners.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw new CertError('E6303', {});
  }

  #reissue(identity: Identity): Promise<IssuedCertificate> {
    const pending = this.#inflight.get(identity);
    if (pending) return pending.promise;
    const token = {};
    const promise = this.#issueAndCache(identity, token).finally(() => {
      if (this.#inflight.get(identity)?.token === token) this.#inflight.delete(identity);
    });
    this.#inflight.set(identity, { token, promise });
    return promise;
  }

  async #issueAndCache(identity: Identity, token: object): Promise<IssuedCertificate> {
    const nowMs = this.#clock.now();
    const validityMs = this.#serviceValidityMs;
    const cert = await this.#ca.issue(workloadTemplate(identity, this.#trustDomain, { nowMs, validityMs }));
    // Released or closed while issuing: the caller still gets the certificate, the cache does not.
    if (this.#closed || this.#inflight.get(identity)?.token !== token) return cert;
    const previous = this.#entries.get(identity);
    previous?.cancelTimer();
    const renewAheadMs = validityMs * (this.#renewBefore + this.#random() * this.#jitter);
    const entry: Entry = { cert, renewAtMs: nowMs + validityMs - renewAheadMs, cancelTimer: () => undefined };
    this.#entries.set(identity, entry);
    this.#schedule(identity, entry);
    if (previous) this.#notify(identity, cert);
    return cert;
  }

  #schedule(identity: Identity, entry: Entry): void {
    entry.cancelTimer();
    const delayMs = Math.max(0, entry.renewAtMs - this.#clock.now());
    entry.cancelTimer = this.#clock.setTimer(() => {
      if (this.#closed || this.#entries.get(identity) !== entry) return;
      // A long wait is taken in capped steps; wake up and wait again until it is due.
      if (this.#clock.now() < entry.renewAtMs) this.#schedule(identity, entry);
      else this.#renew(identity, entry);
    }, Math.min(delayMs, MAX_TIMER_DELAY_MS));
  }

  #renew(identity: Identity, entry: Entry): void {
    this.#reissue(identity).catch((error: unknown) => {
      if (this.#closed || this.#entries.get(identity) !== entry) return;
      this.#onError(new CertError('E6301', { identity, retryMs: String(this.#retryDelayMs) }, { cause: error }));
      // The old certificate keeps serving until a retry succeeds.
      entry.renewAtMs = this.#clock.now() + this.#retryDelayMs;
      this.#schedule(identity, entry);
    });
  }

  #notify(identity: Identity, cert: IssuedCertificate): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(identity, cert);
      } catch (error) {
        this.#onError(new CertError('E6302', { identity }, { cause: error }));
      }
    }
  }
}

function positive(option: string, value: number): number {
  if (!(value > 0 && Number.isFinite(value))) throw new CertError('E6005', { option, reason: `expected a duration > 0 ms, got ${value}` });
  return value;
}
