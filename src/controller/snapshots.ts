/**
 * The controller's side of the ADS contract: who a connecting proxy is, and its snapshot.
 *
 * A proxy that presents `<uuid>.sidecar.<sa>.<ns>.<td>` is the pod labelled
 * `osm-proxy-uuid=<uuid>` (refused if that pod runs as another ServiceAccount), or, when no pod
 * carries the label, a proxy joined by hand that gets its identity's outbound policy. Snapshots
 * are computed only for connected proxies, shared by proxies whose policy is the same, and a
 * snapshot that fails its checks is not published: the proxy keeps the last good one.
 */
import type { Admission, ConnectingProxy, ProxySnapshot, SnapshotProvider } from '../ads/index.js';
import { identityOf, type Catalog, type Identity, type MeshModel, type ProxyPolicy } from '../catalog/index.js';
import type { CertificateManager } from '../certs/index.js';
import type { Logger } from '../lib/logging.js';
import { Memo } from '../catalog/memo.js';
import type { GeneratorContext } from '../xds/context.js';
import { buildEnvoyResources, InvalidResourcesError, toSnapshot, ValidatedVersions } from '../xds/resources.js';
import { buildGrpcResources } from '../xds/grpc.js';

/** The pod label that ties a pod to the proxy certificate OSM issued for it. */
export const PROXY_UUID_LABEL = 'osm-proxy-uuid';

interface Connected {
  key: string;
  identity: Identity;
  flavour: ConnectingProxy['flavour'];
  /** `namespace/pod` when the proxy is a pod the catalog knows. */
  pod?: string;
  uuid: string;
  streams: number;
}

export interface MeshSnapshotsOptions {
  catalog: Catalog;
  certs: CertificateManager;
  trustDomain: string;
  adminPort: number;
  log: Logger;
  /** Told of every workload certificate the controller starts using (for `osm_cert_issued_count`). */
  onCertificateIssued?: (identity: Identity) => void;
}

export class MeshSnapshots implements SnapshotProvider {
  private model?: MeshModel;
  private readonly connected = new Map<string, Connected>();
  private readonly snapshots = new Map<string, ProxySnapshot>();
  private readonly listeners = new Set<(keys: readonly string[]) => void>();
  private readonly shared = new WeakMap<object, Memo<string, ProxySnapshot>>();
  private building: Promise<void> = Promise.resolve();
  private readonly validated = new ValidatedVersions();
  private readonly serials = new Map<Identity, string>();

  constructor(private readonly options: MeshSnapshotsOptions) {
    options.certs.onRotated((identity) => {
      const keys = [...this.connected.values()].filter((c) => c.identity === identity).map((c) => c.key);
      void this.rebuild(keys);
    });
  }

  /** Takes a new mesh model; rebuilds the snapshots of connected proxies it changed. */
  setModel(model: MeshModel, changedProxies: readonly string[] | 'all'): Promise<void> {
    this.model = model;
    const changed = changedProxies === 'all' ? undefined : new Set(changedProxies);
    // Proxies joined by hand depend on their identity's outbound policy: always recheck them.
    const keys = [...this.connected.values()].filter((c) => !changed || !c.pod || changed.has(c.pod)).map((c) => c.key);
    return this.rebuild(keys);
  }

  admit(proxy: ConnectingProxy): Admission {
    const claimed = proxy.certificate ?? plaintextIdentity(proxy);
    if (!claimed) return { ok: false, reason: 'no client certificate, and the node id is not <uuid>.sidecar.<sa>.<ns>' };
    const identity = identityOf(claimed.namespace, claimed.serviceAccount);
    const pod = this.podWithUuid(claimed.uuid);
    if (pod && pod.identity !== identity) {
      return { ok: false, reason: `the certificate claims ServiceAccount ${identity} but pod ${pod.key} runs as ${pod.identity}` };
    }
    const key = `${proxy.flavour}:${pod?.key ?? `manual/${claimed.uuid}`}`;
    const existing = this.connected.get(key);
    if (existing) existing.streams += 1;
    else {
      const entry: Connected = { key, identity, flavour: proxy.flavour, uuid: claimed.uuid, streams: 1 };
      if (pod) entry.pod = pod.key;
      this.connected.set(key, entry);
      void this.rebuild([key]);
    }
    return { ok: true, key, identity };
  }

  snapshotFor(key: string): ProxySnapshot | undefined {
    return this.snapshots.get(key);
  }

  onChange(listener: (keys: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  release(key: string): void {
    const c = this.connected.get(key);
    if (!c) return;
    c.streams -= 1;
    if (c.streams > 0) return;
    this.connected.delete(key);
    this.snapshots.delete(key);
  }

  /** Resolves when every rebuild started so far has finished (for tests and shutdown). */
  settled(): Promise<void> {
    return this.building;
  }

  /** Pods by their `osm-proxy-uuid` label, indexed once per model. */
  private readonly uuidIndex = new WeakMap<MeshModel, Map<string, { key: string; identity: Identity }>>();

  private podWithUuid(uuid: string): { key: string; identity: Identity } | undefined {
    const model = this.model;
    if (!model) return undefined;
    let index = this.uuidIndex.get(model);
    if (!index) {
      index = new Map();
      for (const w of model.state.workloads.all) {
        const label = w.labels[PROXY_UUID_LABEL];
        if (w.isPod && label !== undefined) index.set(label, { key: `${w.namespace}/${w.ref.name}`, identity: w.identity });
      }
      this.uuidIndex.set(model, index);
    }
    return index.get(uuid);
  }

  private rebuild(keys: readonly string[]): Promise<void> {
    const run = this.building.then(() => this.build(keys));
    this.building = run.catch(() => undefined);
    return run;
  }

  private async build(keys: readonly string[]): Promise<void> {
    const model = this.model;
    if (!model || keys.length === 0) return;
    const changed: string[] = [];
    for (const key of keys) {
      const c = this.connected.get(key);
      if (!c) continue;
      const policy = c.pod ? model.proxies.get(c.pod) : this.options.catalog.identityPolicy(c.identity, c.uuid);
      if (!policy) continue;
      const cert = await this.options.certs.issueWorkload(c.identity);
      if (this.serials.get(c.identity) !== cert.serialNumber) {
        this.serials.set(c.identity, cert.serialNumber);
        this.options.onCertificateIssued?.(c.identity);
      }
      try {
        const snapshot = this.snapshotOf(model, policy, c.flavour, cert.serialNumber, () => ({
          rootCertificatePem: this.options.certs.rootCertificatePem(),
          workload: { certificateChainPem: cert.certChainPem, privateKeyPem: cert.privateKeyPem },
        }));
        if (this.snapshots.get(key) !== snapshot) {
          this.snapshots.set(key, snapshot);
          changed.push(key);
        }
      } catch (err) {
        if (!(err instanceof InvalidResourcesError)) throw err;
        this.options.log.error({ event: 'xds.generate_failed', proxy: key, problems: err.problems }, 'generated configuration failed its checks; the proxy keeps its last good configuration');
      }
    }
    if (changed.length > 0) for (const l of this.listeners) l(changed);
  }

  /** Proxies with the same policy objects and certificate share one snapshot. */
  private snapshotOf(
    model: MeshModel,
    policy: ProxyPolicy,
    flavour: ConnectingProxy['flavour'],
    certSerial: string,
    material: () => Parameters<typeof buildEnvoyResources>[3],
  ): ProxySnapshot {
    const ctx: GeneratorContext = { trustDomain: this.options.trustDomain, mesh: model.state.settings.spec, adminPort: this.options.adminPort };
    let memo = this.shared.get(policy.inbound);
    if (!memo) this.shared.set(policy.inbound, (memo = new Memo()));
    const podIp = ctx.mesh.sidecar.localProxyMode === 'PodIP' ? (policy.proxy.ip ?? '') : '';
    const shareKey = `${flavour}|${policy.proxy.identity}|${podIp}|${policy.proxy.metricsScraped}`;
    return memo.get(shareKey, [policy.outbound, model.state.servicePorts, model.state.settings, certSerial], () => {
      if (flavour === 'grpc') return toSnapshot(buildGrpcResources(policy, ctx, material()), this.validated);
      const reachable = new Set(policy.outbound.services.map((s) => s.port.id));
      const denied = { ports: model.state.servicePorts.filter((p) => !reachable.has(p.id)) };
      return toSnapshot(buildEnvoyResources(policy, ctx, denied, material()), this.validated);
    });
  }
}

/**
 * On the plaintext listener there is no certificate: a proxyless gRPC client names itself by its
 * node id in the proxy certificate's form. Trusted networks only (see `osm controller --plaintext-ads`).
 */
function plaintextIdentity(proxy: ConnectingProxy): { uuid: string; namespace: string; serviceAccount: string } | undefined {
  const parts = proxy.node.id.split('.');
  if (parts.length < 4 || parts[1] !== 'sidecar') return undefined;
  const [uuid = '', , serviceAccount = '', namespace = ''] = parts;
  return { uuid, namespace, serviceAccount };
}
