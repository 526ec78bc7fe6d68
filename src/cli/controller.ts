/**
 * `osm controller --manifests DIR --state-dir DIR [...]`: runs the control plane until SIGINT
 * or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CATALOG_OPTIONS } from '../catalog/index.js';
import { defaultControllerOptions, startController } from '../controller/controller.js';
import { UsageError, type Command } from './io.js';

export const controllerUsage = [
  'usage: osm controller --manifests DIR --state-dir DIR',
  '  [--ads-address HOST:PORT (0.0.0.0:15128)] [--health-port N (9091)] [--debug-port N (9092, loopback)]',
  '  [--plaintext-ads HOST:PORT [--force-plaintext-ads]]   ADS without TLS for proxyless gRPC: trusted networks only',
  '  [--trust-domain TD (cluster.local)] [--mesh-name NAME (osm)] [--osm-namespace NS (osm-system)]',
].join('\n');

function port(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${flag} must be a port number, got ${JSON.stringify(text)}`);
  return n;
}

export const controller: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      manifests: { type: 'string' },
      'state-dir': { type: 'string' },
      'ads-address': { type: 'string' },
      'health-port': { type: 'string' },
      'debug-port': { type: 'string' },
      'plaintext-ads': { type: 'string' },
      'force-plaintext-ads': { type: 'boolean', default: false },
      'trust-domain': { type: 'string' },
      'mesh-name': { type: 'string' },
      'osm-namespace': { type: 'string' },
    },
  });
  if (!values.manifests || !values['state-dir']) throw new UsageError('--manifests and --state-dir are required');
  const options = defaultControllerOptions(values.manifests, values['state-dir']);
  if (values['ads-address']) options.adsAddress = values['ads-address'];
  options.healthAddress.port = port(values['health-port'], '--health-port', 9091);
  options.debugAddress.port = port(values['debug-port'], '--debug-port', 9092);
  if (values['plaintext-ads']) options.plaintextAds = { address: values['plaintext-ads'], force: values['force-plaintext-ads'] };
  options.catalog = {
    ...DEFAULT_CATALOG_OPTIONS,
    ...(values['trust-domain'] ? { trustDomain: values['trust-domain'] } : {}),
    ...(values['mesh-name'] ? { meshName: values['mesh-name'] } : {}),
    ...(values['osm-namespace'] ? { osmNamespace: values['osm-namespace'] } : {}),
  };
  const running = await startController(options);
  io.stderr(`osm-ts controller: ADS on ${running.adsAddress}${running.plaintextAdsAddress ? ` (plaintext ${running.plaintextAdsAddress})` : ''}, health on :${running.healthPort}, debug on 127.0.0.1:${running.debugPort}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.close();
  return 0;
};
