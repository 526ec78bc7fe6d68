/**
 * The `osm` command: dispatches to the subcommands.
 */
import { processIO, UsageError, type Command, type CommandIO } from './io.js';
import { policyCheck, policyCheckUsage } from './policy-check.js';
import { validate, validateUsage } from './validate.js';

interface Entry {
  path: string[];
  run: Command;
  usage: string | (() => Promise<string>);
  summary: string;
}

function lazy(path: string[], summary: string, load: () => Promise<[Command, string]>): Entry {
  return { path, summary, run: async (args, io) => (await load())[0](args, io), usage: async () => (await load())[1] };
}

const commands: Entry[] = [
  { path: ['validate'], run: validate, usage: validateUsage, summary: 'check manifests and policies offline' },
  { path: ['policy', 'check'], run: policyCheck, usage: policyCheckUsage, summary: 'evaluate one request against manifests' },
  // Commands that need Envoy's protobuf types load them only when run: they take most of a second.
  lazy(['controller'], 'run the control plane on a manifest directory', () => import('./controller.js').then((m) => [m.controller, m.controllerUsage])),
  lazy(['proxy', 'bootstrap'], 'write what a proxy needs to join the mesh', () => import('./proxy-bootstrap.js').then((m) => [m.proxyBootstrap, m.proxyBootstrapUsage])),
  lazy(['proxy', 'status'], 'list connected proxies and their config versions', () => import('./proxy-status.js').then((m) => [m.proxyStatus, m.proxyStatusUsage])),
  // After the `proxy ...` subcommands: the first entry whose words match wins.
  lazy(['proxy'], 'run the sidecar proxy from a bootstrap file', () => import('./proxy.js').then((m) => [m.proxy, m.proxyUsage])),
];

function help(): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length));
  return ['usage: osm COMMAND [ARGS]', '', 'commands:', ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`)].join('\n');
}

/** Runs the CLI with `argv` (without node and script); returns the exit status. */
export async function main(argv: string[], io: CommandIO = processIO): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    io.stdout(help());
    return argv.length === 0 ? 2 : 0;
  }
  const entry = commands.find((c) => c.path.every((word, i) => argv[i] === word));
  if (!entry) {
    io.stderr(`osm: unknown command ${JSON.stringify(argv.join(' '))}\n${help()}`);
    return 2;
  }
  const args = argv.slice(entry.path.length);
  const usage = async () => (typeof entry.usage === 'string' ? entry.usage : await entry.usage());
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(await usage());
    return 0;
  }
  try {
    return await entry.run(args, io);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr(`osm ${entry.path.join(' ')}: ${err.message}\n${await usage()}`);
      return 2;
    }
    throw err;
  }
}
