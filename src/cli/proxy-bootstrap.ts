/**
 * `osm proxy bootstrap --state-dir DIR --namespace NS --service-account SA [--format osm|envoy|grpc]
 * --out DIR`: what a proxy needs to join the mesh by hand, signed by the controller's CA.
 */
import { parseArgs } from 'node:util';
import { NoMeshCaError, writeProxyBootstrap } from '../controller/proxy-bootstrap.js';
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
  let written;
  try {
    written = await writeProxyBootstrap({
      stateDir,
      namespace: ns,
      serviceAccount: sa,
      out,
      format,
      trustDomain: values['trust-domain'],
      ...(values['ads-address'] ? { adsAddress: values['ads-address'] } : {}),
      ...(values.uuid ? { uuid: values.uuid } : {}),
    });
  } catch (e) {
    if (!(e instanceof NoMeshCaError)) throw e;
    io.stderr(`error: ${e.message}`);
    return 1;
  }
  const { files } = written;
  io.stdout(`wrote ${written.file}, ${files.certificate}, ${files.privateKey} and ${files.ca} for ${written.identity} (proxy ${written.uuid}, valid until ${new Date(written.notAfterMs).toISOString()})`);
  return 0;
};
