/**
 * Certificates for the haproxy pair, issued by our own mesh CA (src/certs) exactly as the
 * control plane issues workload certificates: ECDSA P-256, CN and DNS SAN the principal
 * `<sa>.<ns>.cluster.local`, SPIFFE URI SAN, usable as TLS client and server. Written as PEM
 * files into a directory for haproxy (`crt` takes the certificate and key in one file).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { identityOf, principalOf } from '../../src/catalog/index.js';
import { CertificateManager, MeshCA, systemClock, type IssuedCertificate } from '../../src/certs/index.js';

const TRUST_DOMAIN = 'cluster.local';

/** One side's certificate on disk. */
export interface PairIdentity {
  /** `<sa>.<ns>.cluster.local`: the certificate's CN and DNS SAN, which the peer checks. */
  principal: string;
  /** Certificate followed by its private key, PEM. */
  certAndKeyFile: string;
}

/** The CA and both sides of a pair: A (the client's sidecar) and B (the server's). */
export interface PairPki {
  caFile: string;
  client: PairIdentity;
  server: PairIdentity;
}

/** Issues a new mesh CA and the two workload certificates into `dir`. */
export async function writePairPki(dir: string): Promise<PairPki> {
  const ca = await MeshCA.create({ nowMs: systemClock.now() });
  const manager = new CertificateManager({ ca, trustDomain: TRUST_DOMAIN, clock: systemClock });
  try {
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, manager.rootCertificatePem());
    const side = async (name: string, ns: string, sa: string): Promise<PairIdentity> => {
      const identity = identityOf(ns, sa);
      const cert: IssuedCertificate = await manager.issueWorkload(identity);
      const certAndKeyFile = join(dir, `${name}.pem`);
      await writeFile(certAndKeyFile, `${cert.certChainPem.trimEnd()}\n${cert.privateKeyPem.trimEnd()}\n`, { mode: 0o600 });
      return { principal: principalOf(identity, TRUST_DOMAIN), certAndKeyFile };
    };
    // The identities of the osm pair's pods (osm-pair.ts), so both pairs check the same names.
    return { caFile, client: await side('client', 'bench', 'client'), server: await side('server', 'bench', 'server') };
  } finally {
    // The manager schedules renewals; the bench never needs one.
    manager.close();
  }
}
