// Tests for the SO_ORIGINAL_DST addon. The redirect test needs root, iptables and `ip netns`: it
// builds a throwaway network namespace, so nothing touches the machine's own tables.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { originalDestination, socketFd, type OriginalDestination } from './original-dst.js';

const run = promisify(execFile);

/** One accepted loopback connection (no iptables) and its client, closed by `close`. */
async function loopbackPair(): Promise<{ accepted: net.Socket; close: () => void }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const client = net.connect(port, '127.0.0.1');
  const [accepted] = (await once(server, 'connection')) as [net.Socket];
  return {
    accepted,
    close: () => {
      client.destroy();
      accepted.destroy();
      server.close();
    },
  };
}

function isSystemError(e: unknown): e is Error & { code: string; errno: number; syscall: string } {
  return e instanceof Error && typeof Reflect.get(e, 'code') === 'string' && typeof Reflect.get(e, 'errno') === 'number';
}

describe('originalDestination without a redirect', () => {
  test('a plain loopback connection has no original destination, and the error names the errno', async () => {
    const pair = await loopbackPair();
    try {
      assert.throws(
        () => originalDestination(socketFd(pair.accepted)),
        (e: unknown) => {
          // ENOENT: conntrack has no entry for this flow (no NAT in this namespace); ENOPROTOOPT:
          // the kernel has no conntrack at all, so SO_ORIGINAL_DST is not even registered.
          assert.ok(isSystemError(e), `expected a system error, got ${String(e)}`);
          assert.ok(['ENOENT', 'ENOPROTOOPT'].includes(e.code), `unexpected code ${e.code}`);
          assert.match(e.message, new RegExp(`^${e.code}: .*getsockopt SO_ORIGINAL_DST$`));
          assert.equal(e.syscall, 'getsockopt');
          return true;
        },
      );
    } finally {
      pair.close();
    }
  });

  // Each row opens its fd and returns a closer; /dev/null is a file, so getsockname fails first.
  const badFds: { name: string; open: () => { fd: number; close: () => void }; code: string }[] = [
    { name: 'a negative fd', open: () => ({ fd: -1, close: () => {} }), code: 'ERR_INVALID_ARG_TYPE' },
    { name: 'a fractional fd', open: () => ({ fd: 3.5, close: () => {} }), code: 'ERR_INVALID_ARG_TYPE' },
    {
      name: 'an fd that is not a socket',
      open: () => {
        const fd = openSync('/dev/null', 'r');
        return { fd, close: () => closeSync(fd) };
      },
      code: 'ENOTSOCK',
    },
  ];
  for (const c of badFds) {
    test(`rejects ${c.name}`, () => {
      const { fd, close } = c.open();
      try {
        assert.throws(() => originalDestination(fd), { code: c.code });
      } finally {
        close();
      }
    });
  }
});

describe('socketFd', () => {
  test('returns the descriptor of an open socket and refuses a destroyed one', async () => {
    const pair = await loopbackPair();
    const fd = socketFd(pair.accepted);
    assert.ok(Number.isInteger(fd) && fd > 2, `fd ${fd}`);
    pair.close();
    assert.throws(() => socketFd(pair.accepted), /socket has no file descriptor/);
  });
});

/** Why the redirect test cannot run here, or undefined when it can. */
function redirectSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'SO_ORIGINAL_DST is Linux only';
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace and iptables rules';
  for (const tool of ['iptables', 'ip6tables', 'ip']) {
    const probe = spawnSync(tool, tool === 'ip' ? ['-V'] : ['--version'], { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `needs ${tool} (Debian: iptables, iproute2; ./scripts/setup.sh installs them as root)`;
  }
  return undefined;
}

// Runs inside the namespace: listens where the redirect lands (the sidecar's outbound port),
// dials the application's destination, and prints what originalDestination says about the
// accepted socket. It listens on '::' so the IPv4 case also covers a dual-stack listener's
// IPv4-mapped sockets, as the sidecar's listener would see them.
const childScript = `
import net from 'node:net';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
const [modulePath, host, dialPort, listenPort] = process.argv.slice(1);
const { originalDestination, socketFd } = await import(modulePath);
const server = net.createServer().listen(Number(listenPort), '::');
await once(server, 'listening');
const client = net.connect(Number(dialPort), host);
const [accepted] = await once(server, 'connection');
let report;
try { report = originalDestination(socketFd(accepted)); } catch (e) { report = { error: String(e) }; }
process.stdout.write(JSON.stringify(report));
client.destroy(); accepted.destroy(); server.close();
`;

describe('originalDestination behind iptables REDIRECT', { skip: redirectSkipReason() }, () => {
  // One namespace per test process: its iptables rules live and die with it.
  const netns = `osm-ts-original-dst-${process.pid}`;
  const appPort = 8080; // what the application dials
  const outboundPort = 15001; // OSM's outbound listener, where REDIRECT sends it

  const inNetns = (...argv: string[]) => run('ip', ['netns', 'exec', netns, ...argv], { timeout: 10_000 });

  before(async () => {
    await run('ip', ['netns', 'add', netns]);
    await inNetns('ip', 'link', 'set', 'lo', 'up');
    for (const [tool, host] of [['iptables', '127.0.0.1'], ['ip6tables', '::1']] as const) {
      await inNetns(tool, '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', host, '--dport', String(appPort),
        '-j', 'REDIRECT', '--to-ports', String(outboundPort));
    }
  });

  // Runs even when `before` or a test fails; deleting the namespace removes its rules with it.
  after(() => {
    spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  });

  const cases: { name: string; host: string; want: OriginalDestination }[] = [
    { name: 'IPv4, via SO_ORIGINAL_DST', host: '127.0.0.1', want: { address: '127.0.0.1', port: appPort, family: 4 } },
    { name: 'IPv6, via IP6T_SO_ORIGINAL_DST', host: '::1', want: { address: '::1', port: appPort, family: 6 } },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const modulePath = new URL('./original-dst.js', import.meta.url).href;
      const { stdout } = await inNetns(process.execPath, '--input-type=module', '-e', childScript,
        modulePath, c.host, String(appPort), String(outboundPort));
      assert.deepEqual(JSON.parse(stdout), c.want);
    });
  }
});
