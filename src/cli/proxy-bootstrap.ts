/**
 * `osm proxy bootstrap --state-dir DIR --namespace NS --service-account SA [--format osm|envoy|grpc]
 * --out DIR`: what a proxy needs to join the mesh by hand, signed by the controller's CA.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { identityOf } from '../catalog/index.js';
import { CA_CERT_FILE, CA_KEY_FILE, CertificateManager, MeshCA, proxyCommonNameOf, systemClock } from '../certs/index.js';
import { envoyBootstrap, grpcBootstrap, osmBootstrap, type BootstrapInput } from '../xds/bootstrap.js';
import { UsageError, type Command } from './io.js';

export const proxyBootstrapUsage =
  'usage: osm proxy bootstrap --state-dir DIR --namespace NS --service-account SA --out DIR [--format osm|envoy|grpc] [--ads-address HOST:PORT] [--uuid UUID] [--trust-domain TD]';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const proxyBootstrap: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      'state-dir': { type: 'string' },
      namespace: { type: 'string' },
      'service-account': { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string', default: 'osm' },
      'ads-address': { type: 'string' },
      uuid: { type: 'string' },
      'trust-domain': { type: 'string', default: 'cluster.local' },
    },
  });
  const stateDir = values['state-dir'];
  const ns = values.namespace;
  const sa = values['service-account'];
  const out = values.out;
  if (!stateDir || !ns || !sa || !out) throw new UsageError('--state-dir, --namespace, --service-account and --out are required');
  if (!NAME.test(ns) || !NAME.test(sa)) throw new UsageError('--namespace and --service-account must be Kubernetes names (lower case, digits, -)');
  const format = values.format;
  if (format !== 'osm' && format !== 'envoy' && format !== 'grpc') throw new UsageError(`--format must be osm, envoy or grpc, got ${format}`);
  const caDir = join(stateDir, 'ca');
  if (!existsSync(join(caDir, CA_CERT_FILE)) || !existsSync(join(caDir, CA_KEY_FILE))) {
    io.stderr(`error: no mesh CA in ${caDir}: start the controller with --state-dir ${stateDir} first`);
    return 1;
  }
  const { ca } = await MeshCA.loadOrCreate(caDir, { nowMs: systemClock.now() });
  const trustDomain = values['trust-domain'];
  const certs = new CertificateManager({ ca, trustDomain, clock: systemClock });
  const uuid = values.uuid ?? randomUUID();
  const identity = identityOf(ns, sa);
  // A sidecar authenticates to the controller with a bootstrap certificate; a proxyless gRPC
  // app reads its workload certificate from files, since gRPC has no SDS.
  const cert = format === 'grpc' ? await certs.issueWorkload(identity) : await certs.issueProxyBootstrap({ uuid, identity });
  certs.close();
  const dir = resolve(out);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = { certificate: join(dir, 'tls.crt'), privateKey: join(dir, 'tls.key'), ca: join(dir, 'ca.crt') };
  await writeFile(files.certificate, cert.certChainPem);
  await writeFile(files.privateKey, cert.privateKeyPem, { mode: 0o600 });
  await chmod(files.privateKey, 0o600);
  await writeFile(files.ca, ca.rootCertificatePem);
  const input: BootstrapInput = {
    nodeId: proxyCommonNameOf(uuid, identity, trustDomain),
    namespace: ns,
    serviceAccount: sa,
    trustDomain,
    adsAddress: values['ads-address'] ?? (format === 'grpc' ? '127.0.0.1:15129' : '127.0.0.1:15128'),
    files,
    adminPort: 15000,
  };
  const document = format === 'osm' ? osmBootstrap(input) : format === 'envoy' ? envoyBootstrap(input) : grpcBootstrap(input);
  const file = join(dir, 'bootstrap.json');
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`);
  io.stdout(`wrote ${file}, ${files.certificate}, ${files.privateKey} and ${files.ca} for ${identity} (proxy ${uuid}, valid until ${new Date(cert.notAfterMs).toISOString()})`);
  return 0;
};
