/**
 * The sidecar process: joins the mesh over ADS with its bootstrap certificate, and applies
 * each complete config in one step (clusters first, so new chains find their upstreams, then
 * the config the listeners read at accept time, then the listener set). It is ready once the
 * first config is applied; while the controller is away the last config keeps serving.
 */
import { originalDestination, socketFd } from './original-dst.js';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/logging.js';
import type { EndpointConfig, EndpointsConfig, ProxyConfig } from './config/index.js';
import type { Destination } from './clusters/types.js';
import { createClusterManager } from './clusters/index.js';
import { ListenerManager, type ExplicitBinding, type ProxyRuntime, type WorkloadIdentity } from './listeners/index.js';
import { StatsStore } from './stats/index.js';
import { startAdminServer, type AdminServer } from './admin/index.js';
import { TlsContextCache } from './tls/index.js';
import { AccessLogWriter } from './access-log-writer.js';
import { XdsClient } from './xds-client/index.js';
import type { SidecarBootstrap } from './bootstrap-file.js';

export interface SidecarOptions {
  readonly bootstrap: SidecarBootstrap;
  readonly logger: Logger;
  /** Explicit mode: listeners bound to these addresses instead of LDS's. */
  readonly explicit?: ReadonlyMap<string, readonly ExplicitBinding[]>;
  /** Replaces wildcard listener addresses. */
  readonly bindHost?: string;
  /** Where the local app listens when it is not on 127.0.0.1 (several pods on one host). */
  readonly appHost?: string;
  /** Overrides the bootstrap's admin address. */
  readonly admin?: { readonly address: string; readonly port: number };
  readonly protocol?: 'sotw' | 'delta';
  /** Admin's POST /quitquitquit: the process owner shuts the sidecar down. */
  readonly onQuit?: () => void;
  /** Where access-log text goes, whole lines at a time (default stdout). */
  readonly accessLog?: (text: string) => void;
}

export interface Sidecar {
  /** Resolves when the first config is applied. */
  readonly ready: Promise<void>;
  readonly adminAddress: { readonly address: string; readonly port: number };
  /** Stops accepting, lets open connections finish for up to `drainMs`, then closes everything. */
  close(drainMs?: number): Promise<void>;
}

const EMPTY_CONFIG: ProxyConfig = Object.freeze({ listeners: new Map(), routeConfigs: new Map(), clusters: new Map(), endpoints: new Map(), secrets: new Map() });

/** A connection's original destination; `undefined` (use the local address) when it was not redirected. */
function readOriginalDestination(socket: Socket): Destination | undefined {
  try {
    const d = originalDestination(socketFd(socket));
    return { address: d.address, port: d.port };
  } catch {
    return undefined;
  }
}

function workloadOf(b: SidecarBootstrap): WorkloadIdentity {
  const md = b.node.metadata;
  const unknown = 'unknown';
  return {
    namespace: md.namespace ?? unknown,
    kind: md.workloadKind ?? unknown,
    name: md.workloadName ?? unknown,
    pod: md.podName ?? process.env.POD_NAME ?? unknown,
  };
}

/**
 * Explicit mode on a shared host: static clusters that point at 127.0.0.1 mean this pod's own
 * processes. The admin port (the Prometheus listener's upstream) goes to where admin really
 * listens, and any other port to the app's address.
 */
export function rewriteLocalEndpoints(config: ProxyConfig, appHost: string | undefined, admin: { readonly bootstrapPort: number; readonly address: string; readonly port: number }): ProxyConfig {
  const moved = (ep: EndpointConfig): EndpointConfig => {
    if (ep.address !== '127.0.0.1') return ep;
    if (ep.port === admin.bootstrapPort) return ep.port === admin.port && admin.address === ep.address ? ep : { ...ep, address: admin.address, port: admin.port };
    return appHost ? { ...ep, address: appHost } : ep;
  };
  const rewrite = (e: EndpointsConfig): EndpointsConfig => ({ ...e, localities: e.localities.map((l) => ({ ...l, endpoints: l.endpoints.map(moved) })) });
  const clusters = new Map(config.clusters);
  const endpoints = new Map(config.endpoints);
  let changed = false;
  for (const [name, c] of config.clusters) {
    if (c.discovery.kind !== 'static') continue;
    const e = rewrite(c.discovery.endpoints);
    if (JSON.stringify(e) === JSON.stringify(c.discovery.endpoints)) continue;
    changed = true;
    clusters.set(name, { ...c, discovery: { kind: 'static', endpoints: e } });
    const held = config.endpoints.get(name);
    if (held) endpoints.set(name, rewrite(held));
  }
  return changed ? { ...config, clusters, endpoints } : config;
}

export async function startSidecar(options: SidecarOptions): Promise<Sidecar> {
  const { bootstrap, logger } = options;
  const stats = new StatsStore();
  // Envoy's stats flush period: histogram intervals (the quantiles `/stats` shows) close every 5 s.
  const flush = setInterval(() => stats.flushInterval(), 5_000);
  flush.unref();
  const tls = new TlsContextCache();
  let current: ProxyConfig = EMPTY_CONFIG;
  const clusters = createClusterManager({ stats, tls, logger: logger.child({ component: 'clusters' }) });
  const accessLog = new AccessLogWriter(options.accessLog ?? ((text: string) => process.stdout.write(text)));
  const runtime: ProxyRuntime = {
    config: () => current,
    clusters,
    stats,
    workload: workloadOf(bootstrap),
    accessLog: (entry) => accessLog.write(JSON.stringify(entry)),
    now: () => performance.now(),
  };
  const listeners = new ListenerManager({
    runtime,
    tls,
    logger: logger.child({ component: 'listeners' }),
    originalDestination: readOriginalDestination,
    ...(options.explicit ? { explicit: options.explicit } : {}),
    ...(options.bindHost ? { bindHost: options.bindHost } : {}),
  });
  const adminAddress = options.admin ?? bootstrap.admin;
  // Known once admin is bound (the address may ask for port 0); configs arrive only after that.
  let adminPort = adminAddress.port;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let isReady = false;
  const xds = new XdsClient({
    address: bootstrap.ads.address,
    serverName: bootstrap.ads.serverName,
    tls: { certificateChainPem: bootstrap.ads.certificateChainPem, privateKeyPem: bootstrap.ads.privateKeyPem, caPem: bootstrap.ads.caPem },
    node: { id: bootstrap.node.id, cluster: bootstrap.node.cluster, metadata: bootstrap.node.metadata },
    protocol: options.protocol ?? 'sotw',
  });
  // Configs apply one at a time, in order; a newer one waiting replaces an older one waiting.
  let applying: Promise<void> = Promise.resolve();
  let pending: ProxyConfig | undefined;
  const apply = async (config: ProxyConfig) => {
    clusters.update(config);
    current = config;
    const problems = await listeners.update(config);
    for (const p of problems) logger.error({ event: 'listener_bind_failed', listener: p.listener }, p.message);
    logger.info({ event: 'config_applied', listeners: config.listeners.size, clusters: config.clusters.size }, 'config applied');
    if (!isReady) {
      isReady = true;
      markReady();
    }
  };
  xds.onConfig((config) => {
    const first = pending === undefined;
    pending = rewriteLocalEndpoints(config, options.appHost, { bootstrapPort: bootstrap.admin.port, address: adminAddress.address, port: adminPort });
    if (!first) return;
    applying = applying.then(async () => {
      const next = pending!;
      pending = undefined;
      await apply(next);
    });
  });
  xds.onEvent((e) => {
    if (e.kind === 'nack') logger.warn({ event: 'xds_nack', typeUrl: e.typeUrl }, e.message);
    else if (e.kind === 'disconnected') logger.warn({ event: 'xds_disconnected', code: e.code, retryInMs: e.retryInMs }, e.details);
  });
  let admin: AdminServer;
  try {
    admin = await startAdminServer({
      address: adminAddress.address,
      port: adminAddress.port,
      source: {
        ready: () => isReady,
        stats,
        clusters: () => clusters.describe(),
        listeners: () => listeners.describe(),
        secrets: () => current.secrets,
        xdsResources: () => xds.acceptedResources(),
        logger,
        quit: () => options.onQuit?.(),
      },
    });
  } catch (e) {
    xds.close();
    clusters.close();
    throw e;
  }
  adminPort = admin.port;
  xds.connect();
  return {
    ready,
    adminAddress: { address: adminAddress.address, port: admin.port },
    async close(drainMs = 0) {
      clearInterval(flush);
      xds.close();
      listeners.close(false);
      const deadline = Date.now() + drainMs;
      while (listeners.openConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      listeners.close(true);
      accessLog.flush();
      await applying;
      clusters.close();
      await admin.close();
    },
  };
}
