/**
 * `osm proxy status [--debug-address HOST:PORT] [-o json]`: every proxy connected to the
 * controller, with what it was sent and what it acknowledged per resource type, and its NACKs.
 */
import { parseArgs } from 'node:util';
import type { ProxyStatus } from '../ads/index.js';
import { UsageError, type Command } from './io.js';

export const proxyStatusUsage = 'usage: osm proxy status [--debug-address HOST:PORT (127.0.0.1:9092)] [-o text|json]';

export const proxyStatus: Command = async (args, io) => {
  const { values } = parseArgs({ args, options: { 'debug-address': { type: 'string', default: '127.0.0.1:9092' }, output: { type: 'string', short: 'o', default: 'text' } } });
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o must be text or json, got ${values.output}`);
  let proxies: ProxyStatus[];
  try {
    const res = await fetch(`http://${values['debug-address']}/debug/proxy`);
    proxies = (await res.json()) as ProxyStatus[];
  } catch (err) {
    io.stderr(`error: cannot reach the controller's debug server at ${values['debug-address']}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  if (values.output === 'json') {
    io.stdout(JSON.stringify(proxies, null, 2));
    return 0;
  }
  const rows = [['IDENTITY', 'PROXY', 'FLAVOUR', 'PROTOCOL', 'CONNECTED', 'TYPE', 'SENT', 'ACKED', 'LAST NACK']];
  for (const p of [...proxies].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    for (const t of p.types) {
      rows.push([
        p.identity,
        p.key,
        p.flavour,
        p.protocol,
        p.connectedAt,
        t.type,
        t.sent ? t.sent.version : '-',
        t.acked ? t.acked.version : '-',
        t.lastNack ? `${t.lastNack.version}: ${t.lastNack.message}` : '-',
      ]);
    }
  }
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) io.stdout(r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  if (proxies.length === 0) io.stdout('(no proxies connected)');
  return 0;
};
