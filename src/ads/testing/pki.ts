/**
 * Test-only: a mesh CA minted in memory per test file, with the ADS server certificate (valid
 * for 127.0.0.1 and localhost), proxy bootstrap certificates, and grpc-js client credentials.
 */
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { identityOf } from '../../catalog/index.js';
import { CertificateManager, MeshCA, systemClock, type IssuedCertificate } from '../../certs/index.js';
import type { AdsServerOptions } from '../server.js';

/** A mesh CA and what tests need from it. */
export interface TestPki {
  readonly manager: CertificateManager;
  /** The server's TLS option. */
  readonly serverTls: AdsServerOptions['tls'];
  /** A proxy bootstrap certificate for `uuid` as service account `sa` in namespace `ns`. */
  proxyCertificate(uuid: string, ns: string, sa: string): Promise<IssuedCertificate>;
  /** Client credentials that trust this mesh's root and present `cert`. */
  clientCredentials(cert: IssuedCertificate): ChannelCredentials;
  close(): void;
}

/** Creates a mesh CA with trust domain `cluster.local`; real time, since TLS checks validity against it. */
export async function createTestPki(): Promise<TestPki> {
  const ca = await MeshCA.create({ nowMs: systemClock.now() });
  const manager = new CertificateManager({ ca, trustDomain: 'cluster.local', clock: systemClock });
  const serverCert = await manager.issueAdsServerCert({ extraSans: ['localhost', '127.0.0.1'] });
  const root = manager.rootCertificatePem();
  return {
    manager,
    serverTls: { certificateChainPem: serverCert.certChainPem, privateKeyPem: serverCert.privateKeyPem, caPem: root },
    proxyCertificate: (uuid, ns, sa) => manager.issueProxyBootstrap({ uuid, identity: identityOf(ns, sa) }),
    clientCredentials: (cert) => credentials.createSsl(Buffer.from(root), Buffer.from(cert.privateKeyPem), Buffer.from(cert.certChainPem)),
    close: () => manager.close(),
  };
}
