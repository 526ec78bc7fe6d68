/**
 * Test-only: an ADS server on 127.0.0.1:0 with real mTLS, a fake provider, a manual clock for
 * push scheduling, recorded hooks and captured log lines, plus scripted clients that connect
 * with proxy certificates minted for them. A test reads as a story: publish, connect, talk.
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { createLogger, type LogFields } from '../../lib/logging.js';
import { startAdsServer, type AdsServer, type AdsServerOptions } from '../server.js';
import type { ProxySnapshot } from '../snapshot.js';
import { DeltaClient } from './delta-client.js';
import { FakeProvider } from './fake-provider.js';
import { HookRecorder } from './hook-recorder.js';
import { ManualClock } from './manual-clock.js';
import type { TestPki } from './pki.js';
import { SotwClient, type TestNode } from './sotw-client.js';

/** A running server and its doubles. */
export interface Harness {
  readonly server: AdsServer;
  readonly provider: FakeProvider;
  readonly clock: ManualClock;
  readonly hooks: HookRecorder;
  /** Parsed log lines, in order. */
  readonly logs: LogFields[];
  /** Publishes a snapshot for a proxy key (announcing the change; nothing is pushed until `push`). */
  publish(key: string, snapshot: ProxySnapshot): void;
  /** Closes the debounce window: runs every armed timer, so pending changes are pushed. */
  push(): void;
  /** Connects a SotW client with a proxy certificate for `uuid` (service account `sa` in `ns`). */
  sotw(uuid: string, node?: Partial<TestNode>, identity?: { ns: string; sa: string }): Promise<SotwClient>;
  /** Connects a SotW client with any credentials (another CA's, a workload's, insecure) to `target` (default the mTLS listener). */
  sotwWith(credentials: ChannelCredentials, node: TestNode, target?: string): SotwClient;
  /** Connects a delta client likewise. */
  delta(uuid: string, node?: Partial<TestNode>, identity?: { ns: string; sa: string }): Promise<DeltaClient>;
  /** Closes every client and the server. */
  close(): Promise<void>;
}

/** Starts a harness on a test PKI; `options` override the server's. */
export async function startHarness(pki: TestPki, options: Partial<AdsServerOptions> = {}): Promise<Harness> {
  const provider = new FakeProvider();
  const clock = new ManualClock();
  const hooks = new HookRecorder();
  const logs: LogFields[] = [];
  const logger = createLogger('ads', { level: 'debug', sink: { write: (line) => logs.push(JSON.parse(line) as LogFields), now: () => new Date(clock.nowMs()) } });
  const server = await startAdsServer({ provider, address: '127.0.0.1:0', tls: pki.serverTls, trustDomain: 'cluster.local', hooks, logger, clock, ...options });
  const clients: { close(): void }[] = [];
  const connect = async <C extends { close(): void }>(make: (credentials: ReturnType<TestPki['clientCredentials']>) => C, uuid: string, identity: { ns: string; sa: string }) => {
    const cert = await pki.proxyCertificate(uuid, identity.ns, identity.sa);
    const client = make(pki.clientCredentials(cert));
    clients.push(client);
    return client;
  };
  // Dial 127.0.0.1 but check the certificate's DNS name, as proxies do (an IP as TLS server name is not allowed).
  const channelOptions = { 'grpc.ssl_target_name_override': 'ads.cluster.local' };
  const nodeOf = (uuid: string, node: Partial<TestNode>): TestNode => ({ id: node.id ?? `sidecar~${uuid}`, ...node });
  return {
    server,
    provider,
    clock,
    hooks,
    logs,
    publish: (key, snapshot) => provider.set(key, snapshot),
    push: () => clock.runAll(),
    sotw: (uuid, node = {}, identity = { ns: 'bookstore', sa: 'bookstore' }) =>
      connect((credentials) => new SotwClient({ target: server.address, credentials, channelOptions }, nodeOf(uuid, node)), uuid, identity),
    sotwWith: (credentials, node, target = server.address) => {
      const client = new SotwClient({ target, credentials, channelOptions }, node);
      clients.push(client);
      return client;
    },
    delta: (uuid, node = {}, identity = { ns: 'bookstore', sa: 'bookstore' }) =>
      connect((credentials) => new DeltaClient({ target: server.address, credentials, channelOptions }, nodeOf(uuid, node)), uuid, identity),
    close: async () => {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}
