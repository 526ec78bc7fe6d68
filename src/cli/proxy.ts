/**
 * `osm proxy --bootstrap FILE [...]`: runs the sidecar until SIGINT or SIGTERM, then drains.
 */
import { parseArgs } from 'node:util';
import { BootstrapError, readBootstrap } from '../proxy/bootstrap-file.js';
import type { ExplicitBinding } from '../proxy/listeners/index.js';
import { startSidecar } from '../proxy/sidecar.js';
import { createLogger, parseLogLevel } from '../lib/logging.js';
import { UsageError, type Command } from './io.js';

export const proxyUsage = [
  'usage: osm proxy --bootstrap FILE',
  '  [--listen NAME=HOST:PORT[/DEST_HOST:DEST_PORT] ...]   explicit mode: bind listener NAME there, standing for DEST',
  '                                                        (default: the bound address) instead of using SO_ORIGINAL_DST',
  '  [--bind-host IP]      bind wildcard listener addresses (0.0.0.0) to IP instead',
  '  [--app-host IP]       the local app listens on IP rather than 127.0.0.1',
  '  [--admin HOST:PORT]   admin address (loopback only; default from the bootstrap, 127.0.0.1:15000)',
  '  [--delta]             use incremental (delta) ADS',
  '  [--log-level LEVEL]   trace, debug, info (default), warn, error',
  '  [--drain-ms N]        on SIGTERM, let open connections finish for up to N ms (default 5000)',
].join('\n');

function hostPort(text: string, flag: string): { address: string; port: number } {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  const address = text.slice(0, i).replace(/^\[|\]$/g, '');
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`${flag}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return { address, port };
}

/** Parses `NAME=HOST:PORT[/DEST_HOST:DEST_PORT]` values into bindings per listener. */
export function parseListen(values: readonly string[]): Map<string, ExplicitBinding[]> {
  const out = new Map<string, ExplicitBinding[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--listen: expected NAME=HOST:PORT[/DEST_HOST:DEST_PORT], got ${JSON.stringify(v)}`);
    const [bind, dest] = v.slice(eq + 1).split('/');
    const binding: ExplicitBinding = { bind: hostPort(bind!, '--listen'), ...(dest ? { destination: hostPort(dest, '--listen') } : {}) };
    const name = v.slice(0, eq);
    out.set(name, [...(out.get(name) ?? []), binding]);
  }
  return out;
}

export const proxy: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      bootstrap: { type: 'string' },
      listen: { type: 'string', multiple: true, default: [] },
      'bind-host': { type: 'string' },
      'app-host': { type: 'string' },
      admin: { type: 'string' },
      delta: { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'info' },
      'drain-ms': { type: 'string', default: '5000' },
    },
  });
  if (!values.bootstrap) throw new UsageError('--bootstrap is required');
  const level = parseLogLevel(values['log-level']);
  if (!level) throw new UsageError(`--log-level: unknown level ${JSON.stringify(values['log-level'])}`);
  const drainMs = Number(values['drain-ms']);
  if (!Number.isInteger(drainMs) || drainMs < 0) throw new UsageError('--drain-ms must be a whole number of milliseconds');
  let bootstrap;
  try {
    bootstrap = await readBootstrap(values.bootstrap);
  } catch (e) {
    if (!(e instanceof BootstrapError)) throw e;
    io.stderr(`error: ${e.message}`);
    return 1;
  }
  const logger = createLogger('proxy', { level });
  let quit: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    quit = resolve;
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const sidecar = await startSidecar({
    onQuit: () => quit(),
    bootstrap,
    logger,
    explicit: parseListen(values.listen),
    ...(values['bind-host'] ? { bindHost: values['bind-host'] } : {}),
    ...(values['app-host'] ? { appHost: values['app-host'] } : {}),
    ...(values.admin ? { admin: hostPort(values.admin, '--admin') } : {}),
    protocol: values.delta ? 'delta' : 'sotw',
  });
  logger.info({ event: 'started', node: bootstrap.node.id, admin: `${sidecar.adminAddress.address}:${sidecar.adminAddress.port}` }, 'sidecar started; waiting for config');
  await stopped;
  await sidecar.close(drainMs);
  return 0;
};
