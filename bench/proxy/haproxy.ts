/**
 * HAProxy configurations for the proxy bench, as pure functions of addresses and files, and one
 * function that starts a haproxy in the foreground pinned to a CPU. HAProxy plays two parts:
 * the upstream app (it answers every request itself, which costs less than any app server, so
 * the proxies stay the bottleneck) and the reference sidecar pair.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairPki } from './pki.js';
import { runTool, waitForListening, type Address, type ProcessGroup, type ServerProcess } from './processes.js';

/** How long a haproxy may take to start listening, ms. */
const START_TIMEOUT_MS = 10_000;

/**
 * Settings every haproxy here shares. One thread: a sidecar gets about one core, and the
 * proxies share CPU 1. maxconn 4000 needs about 8,000 descriptors, under the 20,000 this
 * machine allows (haproxy refuses to start when it cannot raise the limit). No `log` line, so
 * no per-request logging cost.
 */
function common(): string {
  return [
    'global',
    '  nbthread 1',
    '  maxconn 4000',
    'defaults',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  option http-keep-alive',
    '',
  ].join('\n');
}

const hostPort = (a: Address): string => `${a.host}:${a.port}`;

/** The upstream app: every request on any of `listens` gets 200 with the body from `bodyFile` (read once at start). */
export function appConfig(listens: readonly Address[], bodyFile: string): string {
  return (
    common() +
    [
      'frontend app',
      '  mode http',
      ...listens.map((a) => `  bind ${hostPort(a)}`),
      `  http-request return status 200 content-type application/octet-stream file ${bodyFile}`,
      '',
    ].join('\n')
  );
}

/** The listen and connect addresses of a haproxy pair, for its HTTP and its TCP path. */
export interface HaproxyPairAddresses {
  /** A's plain listeners: where the client connects. */
  clientHttp: Address;
  clientTcp: Address;
  /** B's TLS listeners: where A connects. */
  serverHttp: Address;
  serverTcp: Address;
  upstream: Address;
  tcpUpstream: Address;
}

/**
 * Side A, the client's sidecar: plain HTTP (and TCP) in; out, TLS 1.3 with its certificate,
 * verifying B against the mesh CA and B's principal as SAN (`verifyhost`). `http-reuse always`
 * keeps a pool of A-to-B connections shared by all client connections, as a sidecar's pool.
 * No `sni`: HAProxy 2.6 checks the certificate against the SNI whenever one is sent, ignoring
 * `verifyhost`, and our sidecars' SNI (`<svc>.<ns>.svc.cluster.local`) is not in B's SANs.
 */
export function clientSideConfig(addr: HaproxyPairAddresses, pki: PairPki): string {
  const tls = `ssl verify required ca-file ${pki.caFile} crt ${pki.client.certAndKeyFile} verifyhost ${pki.server.principal} ssl-min-ver TLSv1.3`;
  return (
    common() +
    [
      'frontend http_in',
      '  mode http',
      `  bind ${hostPort(addr.clientHttp)}`,
      '  default_backend http_out',
      'backend http_out',
      '  mode http',
      '  http-reuse always',
      `  server b ${hostPort(addr.serverHttp)} ${tls}`,
      'frontend tcp_in',
      '  mode tcp',
      `  bind ${hostPort(addr.clientTcp)}`,
      '  default_backend tcp_out',
      'backend tcp_out',
      '  mode tcp',
      `  server b ${hostPort(addr.serverTcp)} ${tls}`,
      '',
    ].join('\n')
  );
}

/**
 * Side B, the server's sidecar: TLS 1.3 in with a client certificate required and verified
 * against the mesh CA, and the peer's identity checked (its CN, which our CA sets to the
 * principal, as our sidecar's RBAC checks the principal); out, plain to the app, pooled.
 */
export function serverSideConfig(addr: HaproxyPairAddresses, pki: PairPki): string {
  const tls = `ssl crt ${pki.server.certAndKeyFile} ca-file ${pki.caFile} verify required ssl-min-ver TLSv1.3`;
  const peer = `{ ssl_c_s_dn(CN) -m str ${pki.client.principal} }`;
  return (
    common() +
    [
      'frontend http_in',
      '  mode http',
      `  bind ${hostPort(addr.serverHttp)} ${tls}`,
      `  http-request deny unless ${peer}`,
      '  default_backend http_app',
      'backend http_app',
      '  mode http',
      '  http-reuse always',
      `  server app ${hostPort(addr.upstream)}`,
      'frontend tcp_in',
      '  mode tcp',
      `  bind ${hostPort(addr.serverTcp)} ${tls}`,
      `  tcp-request content reject unless ${peer}`,
      '  default_backend tcp_app',
      'backend tcp_app',
      '  mode tcp',
      `  server app ${hostPort(addr.tcpUpstream)}`,
      '',
    ].join('\n')
  );
}

/**
 * Writes `config` to `<dir>/<name>.cfg`, checks it (`haproxy -c`, so a bad config fails with
 * haproxy's message rather than a timeout), and runs haproxy in the foreground (`-db`, no
 * master process: the pid is the one that serves) pinned to `cpu`, until it listens on `listens`.
 */
export async function startHaproxy(
  processes: ProcessGroup,
  options: { name: string; cpu: number | undefined; dir: string; config: string; listens: readonly Address[] },
): Promise<ServerProcess> {
  const file = join(options.dir, `${options.name}.cfg`);
  await writeFile(file, options.config);
  const check = await runTool(undefined, 'haproxy', ['-c', '-f', file]);
  if (check.exitCode !== 0) throw new Error(`${options.name}: haproxy rejects ${file}:\n${check.stdout}${check.stderr}`);
  const proc = processes.spawn(options.name, options.cpu, 'haproxy', ['-db', '-f', file]);
  try {
    for (const address of options.listens) await waitForListening(address, proc, START_TIMEOUT_MS);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}
