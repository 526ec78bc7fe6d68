/**
 * The reference pair: two haproxy processes on the proxy CPU, set up as sidecars would be
 * (see haproxy.ts for the configurations): client -> A (plain) => mTLS 1.3 => B -> app, with
 * an HTTP-mode path and a TCP-mode path in the same two processes.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { clientSideConfig, serverSideConfig, startHaproxy, type HaproxyPairAddresses } from './haproxy.js';
import type { Pair } from './pair.js';
import { writePairPki } from './pki.js';
import { freePort } from './processes.js';

const HOST = '127.0.0.1';

export const haproxyPair: Pair = {
  name: 'haproxy',
  describe: 'client -> haproxy A => mTLS => haproxy B -> app',
  async start(env) {
    const dir = join(env.dir, 'haproxy-pair');
    await mkdir(dir, { recursive: true });
    const pki = await writePairPki(dir);
    const at = async () => ({ host: HOST, port: await freePort(HOST) });
    const addr: HaproxyPairAddresses = {
      clientHttp: await at(),
      clientTcp: await at(),
      serverHttp: await at(),
      serverTcp: await at(),
      upstream: env.upstream,
      tcpUpstream: env.tcpUpstream,
    };
    const b = await startHaproxy(env.processes, {
      name: 'haproxy-b',
      cpu: env.proxyCpu,
      dir,
      config: serverSideConfig(addr, pki),
      listens: [addr.serverHttp, addr.serverTcp],
    });
    try {
      const a = await startHaproxy(env.processes, {
        name: 'haproxy-a',
        cpu: env.proxyCpu,
        dir,
        config: clientSideConfig(addr, pki),
        listens: [addr.clientHttp, addr.clientTcp],
      });
      return {
        httpEntry: addr.clientHttp,
        tcpEntry: addr.clientTcp,
        proxyPids: [a.pid, b.pid],
        helperPids: [],
        stop: async () => {
          await a.stop();
          await b.stop();
        },
      };
    } catch (err) {
      await b.stop();
      throw err;
    }
  },
};
