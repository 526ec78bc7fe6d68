/**
 * The control-plane process: directory source -> store -> catalog -> snapshots -> ADS, with the
 * mesh CA in the state directory and OSM's HTTP endpoints (9091 health/metrics/versions, 9092
 * debug on loopback).
 */
import { join } from 'node:path';
import { startAdsServer, type AdsServer } from '../ads/index.js';
import { smiKinds } from '../api/smi/index.js';
import { parseGoDuration } from '../api/osm/index.js';
import { Catalog, DEFAULT_CATALOG_OPTIONS, type CatalogOptions, type MeshModel } from '../catalog/index.js';
import { CertificateManager, MeshCA, systemClock } from '../certs/index.js';
import { createLogger, parseLogLevel, type Logger } from '../lib/logging.js';
import { DirectorySource } from '../sources/index.js';
import { Store } from '../store/index.js';
import { startHttpServer } from './http.js';
import { createControllerMetrics } from './metrics.js';
import { MeshSnapshots } from './snapshots.js';
import type { Problem } from '../api/problem.js';

/** The version `osm version` and `/version` report. */
export const OSM_TS_VERSION = '0.1.0';

export interface ControllerOptions {
  manifests: string;
  stateDir: string;
  /** `host:port` of the mTLS ADS listener (OSM: 15128). */
  adsAddress: string;
  /** Optional plaintext ADS for proxyless gRPC: loopback only unless forced. */
  plaintextAds?: { address: string; force: boolean };
  healthAddress: { host: string; port: number };
  debugAddress: { host: string; port: number };
  catalog: CatalogOptions;
  adminPort: number;
  log?: Logger;
}

/** OSM's addresses: ADS 15128, health 9091 on every interface; debug 9092, here on loopback only. */
export function defaultControllerOptions(manifests: string, stateDir: string): ControllerOptions {
  return {
    manifests,
    stateDir,
    adsAddress: '0.0.0.0:15128',
    healthAddress: { host: '0.0.0.0', port: 9091 },
    debugAddress: { host: '127.0.0.1', port: 9092 },
    catalog: DEFAULT_CATALOG_OPTIONS,
    adminPort: 15000,
  };
}

export interface Controller {
  /** The bound mTLS ADS address, `host:port`. */
  readonly adsAddress: string;
  readonly plaintextAdsAddress?: string;
  readonly healthPort: number;
  readonly debugPort: number;
  readonly ads: AdsServer;
  readonly certs: CertificateManager;
  /** The latest mesh model. */
  model(): MeshModel | undefined;
  close(): Promise<void>;
}

export async function startController(options: ControllerOptions): Promise<Controller> {
  const log = options.log ?? createLogger('osm-controller');
  const { ca, created } = await MeshCA.loadOrCreate(join(options.stateDir, 'ca'), { nowMs: systemClock.now() });
  log.info({ event: created ? 'cert.ca_created' : 'cert.ca_loaded', stateDir: options.stateDir }, created ? 'created the mesh CA' : 'loaded the mesh CA');
  const certs = new CertificateManager({ ca, trustDomain: options.catalog.trustDomain, clock: systemClock, onError: (err) => log.warn({ event: 'cert.error', code: err.code, error: err }, 'certificate manager') });
  const store = new Store();
  const catalog = new Catalog(options.catalog);
  let model: MeshModel | undefined;
  let sourceProblems: readonly Problem[] = [];
  // The metrics exist before the server they observe; the gauge reads it once it runs.
  const running: { ads?: AdsServer } = {};
  const metrics = createControllerMetrics({
    connectedProxies: () => running.ads?.registry.list().length ?? 0,
    version: OSM_TS_VERSION,
    problems: () => [...sourceProblems, ...(model?.problems ?? [])],
  });
  const snapshots = new MeshSnapshots({
    catalog,
    certs,
    trustDomain: options.catalog.trustDomain,
    adminPort: options.adminPort,
    log: log.child({ component: 'snapshots' }),
    onCertificateIssued: () => metrics.certificatesIssued.inc(),
  });

  const recompute = () => {
    const update = catalog.update(store.snapshot());
    model = update.model;
    applyMeshSettings(update.model, certs, log);
    metrics.monitoredNamespaces.set(new Set(update.model.state.servicePorts.map((p) => p.namespace)).size);
    for (const p of update.model.problems) log.debug({ event: 'mesh.problem', code: p.code, object: p.object, field: p.field }, p.message);
    void snapshots.setModel(update.model, update.changedProxies);
  };
  const source = new DirectorySource(options.manifests);
  await source.start({
    write: (writes) => {
      store.apply(writes);
      recompute();
    },
    problems: (problems) => {
      sourceProblems = problems;
      for (const p of problems) log.warn({ event: 'store.rejected', code: p.code, source: p.source, object: p.object, field: p.field }, p.message);
    },
  });
  if (!model) recompute();

  const serverCert = await certs.issueAdsServerCert({ extraSans: ['localhost', '127.0.0.1'] });
  const ads = await startAdsServer({
    provider: snapshots,
    address: options.adsAddress,
    tls: { certificateChainPem: serverCert.certChainPem, privateKeyPem: serverCert.privateKeyPem, caPem: certs.rootCertificatePem() },
    trustDomain: options.catalog.trustDomain,
    ...(options.plaintextAds ? { plaintext: options.plaintextAds } : {}),
    hooks: metrics.hooks,
    logger: log.child({ component: 'ads' }),
  });
  running.ads = ads;
  const liveAds = ads;
  const smiVersions = Object.fromEntries(smiKinds.map((k) => [k.kind, Object.keys(k.versions).map((v) => `${k.group}/${v}`)]));
  const health = await startHttpServer(options.healthAddress.host, options.healthAddress.port, {
    '/health/ready': { handle: () => ({ status: model ? 200 : 503, body: { ready: Boolean(model) } }) },
    '/health/alive': { handle: () => ({ status: 200, body: { alive: true } }) },
    '/metrics': { handle: () => ({ status: 200, body: metrics.registry.render() }) },
    '/version': { handle: () => ({ status: 200, body: { version: OSM_TS_VERSION, gitCommit: 'unknown', buildDate: 'unknown' } }) },
    '/smi/version': { handle: () => ({ status: 200, body: smiVersions }) },
  });
  const debug = await startHttpServer(options.debugAddress.host, options.debugAddress.port, {
    '/debug/proxy': { handle: () => ({ status: 200, body: liveAds.registry.list() }) },
    '/debug/xds': { handle: () => ({ status: 200, body: liveAds.registry.list().map((p) => ({ key: p.key, types: p.types })) }) },
    '/debug/certs': { handle: () => ({ status: 200, body: certs.inventory() }) },
    '/debug/policies': { handle: () => ({ status: 200, body: policiesView(model) }) },
    '/debug/config': { handle: () => ({ status: 200, body: { meshConfig: model?.state.settings.spec, setBy: model?.state.settings.setBy ?? null, problems: [...sourceProblems, ...(model?.problems ?? [])] } }) },
  });
  log.info({ event: 'controller.started', ads: liveAds.address, plaintextAds: liveAds.plaintextAddress ?? null, health: health.port, debug: debug.port }, 'osm-ts controller started');
  let closing: Promise<void> | undefined;
  return {
    adsAddress: liveAds.address,
    ...(liveAds.plaintextAddress !== undefined ? { plaintextAdsAddress: liveAds.plaintextAddress } : {}),
    healthPort: health.port,
    debugPort: debug.port,
    ads: liveAds,
    certs,
    model: () => model,
    close: () =>
      (closing ??= (async () => {
        await source.stop();
        await liveAds.close();
        await Promise.all([health.close(), debug.close()]);
        await snapshots.settled();
        certs.close();
      })()),
  };
}

/** MeshConfig settings that apply at run time: the control plane's log level and certificate lifetime. */
function applyMeshSettings(model: MeshModel, certs: CertificateManager, log: Logger): void {
  const spec = model.state.settings.spec;
  const level = parseLogLevel(spec.observability.osmLogLevel);
  if (level && level !== log.level()) log.setLevel(level);
  const validity = parseGoDuration(spec.certificate.serviceCertValidityDuration);
  if (validity !== undefined && validity > 0) certs.setServiceCertValidity(validity);
}

/** Each proxy's policy in brief, for `/debug/policies`. */
function policiesView(model: MeshModel | undefined) {
  if (!model) return [];
  return [...model.proxies.entries()].map(([key, p]) => ({
    proxy: key,
    identity: p.proxy.identity,
    outbound: p.outbound.services.map((s) => ({ service: s.port.id, split: s.split ?? null, backends: s.routes.flatMap((r) => r.backends.map((b) => ({ cluster: b.cluster.port.id, weight: b.weight, allowed: b.allowed, endpoints: b.cluster.endpoints.length }))) })),
    inbound: p.inbound.ports.map((port) => ({ port: port.port, protocol: port.protocol, services: port.services.map((s) => s.id), routes: port.routes.map((r) => ({ match: r.match ? `${r.match.group.namespace}/${r.match.group.name}#${r.match.name}` : 'any', principals: r.principals })) })),
  }));
}
