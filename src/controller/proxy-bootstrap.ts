/**
 * Writes what a proxy needs to join the mesh: a certificate signed by the controller's CA (a
 * bootstrap certificate for sidecars, a workload certificate for proxyless gRPC, which has no
 * SDS), the CA, and the bootstrap document naming them. Used by `osm proxy bootstrap`, the
 * local runtime and the loopback test mesh.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { identityOf } from '../catalog/index.js';
import { CA_CERT_FILE, CA_KEY_FILE, CertificateManager, MeshCA, proxyCommonNameOf, systemClock } from '../certs/index.js';
import { envoyBootstrap, grpcBootstrap, osmBootstrap, type BootstrapInput } from '../xds/bootstrap.js';

export interface ProxyBootstrapRequest {
  /** The controller's state directory (its CA is in `ca/`). */
  readonly stateDir: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly out: string;
  readonly format: 'osm' | 'envoy' | 'grpc';
  readonly adsAddress?: string;
  readonly uuid?: string;
  readonly trustDomain: string;
  readonly adminPort?: number;
  /** Who the workload is, for OSM's request metrics (osm sidecar only). */
  readonly workload?: { readonly pod: string; readonly kind: string; readonly name: string };
}

export interface WrittenBootstrap {
  readonly file: string;
  readonly files: BootstrapInput['files'];
  readonly identity: string;
  readonly uuid: string;
  readonly notAfterMs: number;
}

export class NoMeshCaError extends Error {}

export async function writeProxyBootstrap(req: ProxyBootstrapRequest): Promise<WrittenBootstrap> {
  const caDir = join(req.stateDir, 'ca');
  if (!existsSync(join(caDir, CA_CERT_FILE)) || !existsSync(join(caDir, CA_KEY_FILE))) {
    throw new NoMeshCaError(`no mesh CA in ${caDir}: start the controller with --state-dir ${req.stateDir} first`);
  }
  const { ca } = await MeshCA.loadOrCreate(caDir, { nowMs: systemClock.now() });
  const certs = new CertificateManager({ ca, trustDomain: req.trustDomain, clock: systemClock });
  const uuid = req.uuid ?? randomUUID();
  const identity = identityOf(req.namespace, req.serviceAccount);
  const cert = req.format === 'grpc' ? await certs.issueWorkload(identity) : await certs.issueProxyBootstrap({ uuid, identity });
  certs.close();
  const dir = resolve(req.out);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = { certificate: join(dir, 'tls.crt'), privateKey: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
  await writeFile(files.certificate, cert.certChainPem);
  await writeFile(files.privateKey, cert.privateKeyPem, { mode: 0o600 });
  await chmod(files.privateKey, 0o600);
  await writeFile(files.ca, ca.rootCertificatePem);
  const input: BootstrapInput = {
    nodeId: proxyCommonNameOf(uuid, identity, req.trustDomain),
    namespace: req.namespace,
    serviceAccount: req.serviceAccount,
    trustDomain: req.trustDomain,
    adsAddress: req.adsAddress ?? (req.format === 'grpc' ? '127.0.0.1:15129' : '127.0.0.1:15128'),
    files,
    adminPort: req.adminPort ?? 15000,
    ...(req.workload ? { workload: req.workload } : {}),
  };
  const document = req.format === 'osm' ? osmBootstrap(input) : req.format === 'envoy' ? envoyBootstrap(input) : grpcBootstrap(input);
  const file = join(dir, 'bootstrap.json');
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  return { file, files, identity, uuid, notAfterMs: cert.notAfterMs };
}
