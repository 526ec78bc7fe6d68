/** TLS for the sidecar: contexts from SDS secrets, and peer identities from certificates. */
export { certificateSecret, TlsContextCache, validationSecret, type CertificateSecret, type ValidationSecret } from './contexts.js';
export { describeSans, parseSubjectAltName, peerSans, sansMatch, type PeerSans } from './sans.js';
