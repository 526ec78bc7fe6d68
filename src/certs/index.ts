/**
 * Mesh certificates, provider "tresor": the mesh CA (a root key and self-signed root kept in a
 * state directory), issuance of workload, xDS server and proxy bootstrap certificates, and the
 * CertificateManager that caches and renews workload certificates and announces rotations.
 * It must not log (errors go to the caller or the `onError` hook), read the wall clock outside
 * `systemClock`, or let a private key reach a log, an error message or the inventory.
 */
export { MeshCA, IssuedCertificate, CLOCK_SKEW_MS, TEN_YEARS_MS, type MeshCaOptions, type VerifiedCertificate, type VerifyOptions } from './ca.js';
export { CA_CERT_FILE, CA_KEY_FILE } from './ca-store.js';
export { systemClock, type Clock } from './clock.js';
export { CertError, type CertErrorCode } from './errors.js';
export {
  CertificateManager,
  type CertificateAuthority,
  DEFAULT_SERVICE_CERT_VALIDITY_MS,
  type CertificateManagerOptions,
  type InventoryEntry,
  type RotationListener,
} from './manager.js';
export { adsServerName, parseProxyCommonName, proxyCommonNameOf, type ProxyCommonName, type ProxyKind } from './profiles.js';
export { DEFAULT_KEY_ALGORITHM, describeCertificate, type CertificateFacts, type ExtendedKeyUsage, type KeyAlgorithm, type LeafTemplate } from './x509.js';
