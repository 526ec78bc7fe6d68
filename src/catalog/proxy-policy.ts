/**
 * Per-proxy policy: what one sidecar may reach (outbound) and who may reach it (inbound).
 *
 * Outbound is shared by every proxy of an identity, inbound by every proxy of an identity that
 * backs the same service ports, and both are memoised on the mesh layers they read.
 */
import { grantCovers, type AccessGrant } from './access.js';
import { resolveTargetPort, type Endpoint } from './endpoints.js';
import type { Identity, ServiceKey } from './identity.js';
import { inboundHttpRoutes, inboundTcpPrincipals } from './inbound-routes.js';
import type { MeshState } from './mesh-state.js';
import { Memo } from './memo.js';
import type {
  InboundPolicy,
  InboundPort,
  OutboundPolicy,
  OutboundRoute,
  OutboundService,
  ProxyPolicy,
  ProxyRef,
  UpstreamCluster,
  WeightedBackend,
} from './model.js';
import { isHttp, type MeshServicePort } from './services.js';
import { liveBackends } from './splits.js';
import { selects, type Workload } from './workloads.js';

/** Whether `client` may reach `destination` on a pod port at all (client-side filtering). */
type Reach = (destination: Identity, port: number, protocol: 'http' | 'tcp') => boolean;

function reachFor(grants: readonly AccessGrant[]): Reach {
  const byDestination = new Map<Identity, AccessGrant[]>();
  for (const g of grants) {
    const list = byDestination.get(g.destination);
    if (list) list.push(g);
    else byDestination.set(g.destination, [g]);
  }
  return (destination, port, protocol) => (byDestination.get(destination) ?? []).some((g) => grantCovers(g, port, protocol));
}

const PERMISSIVE = '*' as Identity;
const NO_GRANTS: readonly AccessGrant[] = [];

/**
 * Meshed pods with the same identity and the same local service ports get the same policy;
 * a class is computed once for all of them.
 */
interface ProxyClass {
  key: string;
  identity: Identity;
  local: ReadonlyArray<{ port: MeshServicePort; podPort: number }>;
  pods: readonly Workload[];
}

/** Builds every proxy's policy from a mesh state, reusing what did not change. */
export class PolicyBuilder {
  private readonly outbound = new Memo<Identity, OutboundPolicy>();
  private readonly clusters = new Memo<string, UpstreamCluster>();
  private readonly inbound = new Memo<string, InboundPolicy>();
  private readonly classes = new Memo<'classes', ReadonlyMap<string, ProxyClass>>();
  private previous = new Map<string, { outbound: OutboundPolicy; inbound: InboundPolicy; pods: readonly Workload[]; policies: ReadonlyArray<[string, ProxyPolicy]> }>();
  private previousResult: Map<string, ProxyPolicy> = new Map();

  /** Every meshed pod's policy, keyed `namespace/pod`, sorted by key. */
  build(state: MeshState): Map<string, ProxyPolicy> {
    const classes = this.classes.get('classes', [state.workloads, state.services, state.namespaces], () => proxyClasses(state));
    const next = new Map<string, { outbound: OutboundPolicy; inbound: InboundPolicy; pods: readonly Workload[]; policies: ReadonlyArray<[string, ProxyPolicy]> }>();
    let changed = classes.size !== this.previous.size;
    for (const c of classes.values()) {
      const outbound = this.outboundFor(state, c.identity);
      const inbound = this.inboundFor(state, c);
      const before = this.previous.get(c.key);
      if (before && before.outbound === outbound && before.inbound === inbound && before.pods === c.pods) {
        next.set(c.key, before);
        continue;
      }
      changed = true;
      const policies = c.pods.map((w): [string, ProxyPolicy] => {
        const proxy: ProxyRef = { namespace: w.namespace, name: w.ref.name, identity: w.identity, metricsScraped: w.annotations['prometheus.io/scrape'] === 'true' };
        if (w.ip) proxy.ip = w.ip;
        return [`${w.namespace}/${w.ref.name}`, { proxy, outbound, inbound }];
      });
      next.set(c.key, { outbound, inbound, pods: c.pods, policies });
    }
    for (const memo of [this.outbound, this.clusters, this.inbound, this.classes]) memo.sweep();
    this.previous = next;
    if (!changed) return this.previousResult;
    const all = [...next.values()].flatMap((c) => c.policies);
    all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.previousResult = new Map(all);
    return this.previousResult;
  }

  /** The outbound policy of an identity (every proxy of the identity shares it). */
  outboundFor(state: MeshState, client: Identity): OutboundPolicy {
    const permissive = state.settings.permissive;
    const grants = permissive ? NO_GRANTS : (state.grantsBySource.get(client) ?? NO_GRANTS);
    const retries = state.policies.retriesFor(client);
    const egress = state.policies.egressFor(client);
    const memoKey = permissive && retries.length === 0 && egress.length === 0 ? PERMISSIVE : client;
    return this.outbound.get(memoKey, [state.servicePorts, state.members, state.splits, state.policies, state.settings, grants], () => {
      const reach: Reach = permissive ? () => true : reachFor(grants);
      const candidates = permissive ? state.servicePorts : this.candidatePorts(state, grants);
      const services: OutboundService[] = [];
      for (const port of candidates) {
        const svc = this.outboundService(state, memoKey, port, reach, grants);
        if (svc) services.push(svc);
      }
      return { services, egressPassthrough: state.settings.spec.traffic.enableEgress, egress };
    });
  }

  /** Service ports some grant lets the client reach, and the split roots over them. */
  private candidatePorts(state: MeshState, grants: readonly AccessGrant[]): MeshServicePort[] {
    const ports = new Map<string, MeshServicePort>();
    for (const g of grants) for (const p of state.portsByIdentity.get(g.destination) ?? []) ports.set(p.id, p);
    const services = new Set<ServiceKey>([...ports.values()].map((p) => p.service));
    for (const split of state.splits.values()) {
      if (![...split.ports.values()].some((bs) => bs.some((b) => services.has(b.service)))) continue;
      for (const p of state.services.get(split.root)?.ports ?? []) ports.set(p.id, p);
    }
    return [...ports.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private outboundService(
    state: MeshState,
    client: Identity,
    port: MeshServicePort,
    reach: Reach,
    grants: readonly AccessGrant[],
  ): OutboundService | undefined {
    const backend = (b: { port: MeshServicePort; weight: number }): WeightedBackend => {
      const cluster = this.cluster(state, client, b.port, reach, grants);
      const allowed = state.settings.permissive || (state.members.get(b.port.id)?.backing ?? []).some((m) => reach(m.identity, m.port, protocolOf(b.port)));
      return { cluster, weight: b.weight, allowed };
    };
    const self = backend({ port, weight: 1 });
    const split = state.splits.get(port.service);
    const splitBackends = split?.ports.get(port.port);
    let routes: OutboundRoute[];
    if (split && splitBackends && splitBackends.length > 0) {
      const weighted = liveBackends(state.members, splitBackends).map(backend);
      // A/B splits apply to HTTP requests that fit; everything else goes to the root itself.
      if (split.matches) routes = isHttp(port.protocol) ? [{ matches: split.matches, backends: weighted }, { backends: [self] }] : [{ backends: [self] }];
      else routes = [{ backends: weighted }];
    } else {
      routes = [{ backends: [self] }];
    }
    if (!routes.some((r) => r.backends.some((b) => b.allowed))) return undefined;
    const svc: OutboundService = { port, routes };
    if (split && splitBackends && splitBackends.length > 0) svc.split = split.split;
    const retry = client === PERMISSIVE ? undefined : state.policies.retryFor(client, port.service);
    if (retry) svc.retry = retry;
    return svc;
  }

  private cluster(state: MeshState, client: Identity, port: MeshServicePort, reach: Reach, grants: readonly AccessGrant[]): UpstreamCluster {
    const members = state.members.get(port.id);
    const connection = state.policies.connectionFor(port.service);
    return this.clusters.get(`${client}|${port.id}`, [port, members, connection, grants, state.settings.permissive], () => {
      const all = members?.endpoints ?? [];
      const protocol = protocolOf(port);
      const endpoints: readonly Endpoint[] = state.settings.permissive
        ? all
        : all.filter((e) => e.identity !== undefined && reach(e.identity, e.port, protocol));
      const identities = [...new Set((members?.backing ?? []).map((b) => b.identity))].sort();
      const cluster: UpstreamCluster = { port, endpoints: endpoints.length === all.length ? all : endpoints, identities };
      if (connection) cluster.connection = connection;
      return cluster;
    });
  }

  /** The inbound policy of a class of pods. */
  private inboundFor(state: MeshState, c: ProxyClass): InboundPolicy {
    const grants = state.grantsByDestination.get(c.identity) ?? NO_GRANTS;
    return this.inbound.get(c.key, [grants, state.splits, state.policies, state.settings, c.local], () => {
      const byPodPort = new Map<number, MeshServicePort[]>();
      for (const l of c.local) byPodPort.set(l.podPort, [...(byPodPort.get(l.podPort) ?? []), l.port]);
      const ports: InboundPort[] = [...byPodPort.entries()]
        .sort(([a], [b]) => a - b)
        .map(([podPort, services]) => this.inboundPort(state, podPort, services, grants));
      return { ports };
    });
  }

  private inboundPort(state: MeshState, podPort: number, services: MeshServicePort[], grants: readonly AccessGrant[]): InboundPort {
    const first = services[0] as MeshServicePort;
    const permissive = state.settings.permissive;
    const localKeys = new Set(services.map((s) => s.service));
    const apex = new Map<string, MeshServicePort>();
    for (const split of state.splits.values()) {
      for (const [rootPort, backends] of split.ports) {
        if (!backends.some((b) => localKeys.has(b.service))) continue;
        const rp = state.services.get(split.root)?.ports.find((p) => p.port === rootPort);
        if (rp && !localKeys.has(rp.service)) apex.set(rp.id, rp);
      }
    }
    const port: InboundPort = {
      port: podPort,
      protocol: first.protocol,
      services,
      apexServices: [...apex.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
      permissive,
      grants: permissive ? [] : grants,
      routes: permissive ? [{ principals: 'any', grantedBy: state.settings.setBy ? [state.settings.setBy] : [] }] : inboundHttpRoutes(grants, podPort),
      tcpPrincipals: permissive ? 'any' : inboundTcpPrincipals(grants, podPort),
      rateLimits: new Map([...services, ...apex.values()].flatMap((s) => {
        const limit = state.policies.rateLimitFor(s.service);
        return limit ? [[s.id, limit] as const] : [];
      })),
      ingress: services.flatMap((s) => state.policies.ingressFor(s.service, podPort)),
    };
    return port;
  }
}

function protocolOf(port: MeshServicePort): 'http' | 'tcp' {
  return isHttp(port.protocol) ? 'http' : 'tcp';
}

/** Groups meshed pods by identity and the local service ports they serve (and on which pod ports). */
function proxyClasses(state: MeshState): Map<string, ProxyClass> {
  const byNamespace = new Map<string, MeshServicePort[]>();
  for (const p of state.servicePorts) {
    const list = byNamespace.get(p.namespace);
    if (list) list.push(p);
    else byNamespace.set(p.namespace, [p]);
  }
  const classes = new Map<string, { identity: Identity; local: Array<{ port: MeshServicePort; podPort: number }>; pods: Workload[] }>();
  for (const w of state.workloads.all) {
    if (!w.isPod || !state.namespaces.injects(w.namespace, w.annotations, w.hostNetwork)) continue;
    const local: Array<{ port: MeshServicePort; podPort: number }> = [];
    for (const p of byNamespace.get(w.namespace) ?? []) {
      const selector = state.services.get(p.service)?.service.spec.selector ?? {};
      if (Object.keys(selector).length === 0 || !selects(selector, w.labels)) continue;
      const podPort = resolveTargetPort(w, p.targetPort);
      if (podPort !== undefined) local.push({ port: p, podPort });
    }
    const key = `${w.identity}|${local.map((l) => `${l.port.id}>${l.podPort}`).join(',')}`;
    const c = classes.get(key);
    if (c) c.pods.push(w);
    else classes.set(key, { identity: w.identity, local, pods: [w] });
  }
  return new Map([...classes].map(([key, c]) => [key, { key, ...c }]));
}
