/**
 * The mesh-wide layers the per-proxy policy is built from: mesh settings, namespaces,
 * workloads, services with their endpoints, compiled access grants and resolved splits.
 *
 * Each layer is recomputed only when the object lists it reads change (the store keeps
 * unchanged lists as the same arrays), and access grants are compiled per destination identity.
 */
import type { KubeObject } from '../api/kind.js';
import type { Endpoints, EndpointSlice, Namespace, Pod, Service, Workload as WorkloadObject } from '../api/kubernetes/index.js';
import { serviceNameOf } from '../api/kubernetes/index.js';
import { problem, type Problem } from '../api/problem.js';
import type { HTTPRouteGroup, TCPRoute, TrafficSplit, TrafficTarget } from '../api/smi/index.js';
import { compileGroup, compileTrafficTarget, destinationOf, type AccessGrant, type SpecLookup } from './access.js';
import { membersOf, type ServicePortMembers } from './endpoints.js';
import type { CompiledHttpMatch } from './http-match.js';
import { serviceKeyOf, type Identity, type ServiceKey } from './identity.js';
import { internArray, Memo } from './memo.js';
import { resolveMeshSettings, type MeshSettings } from './mesh-settings.js';
import { NamespaceIndex, type NamespaceOptions } from './namespaces.js';
import { resolvePolicySettings, type PolicySettings } from './policy-settings.js';
import { meshPortsOf, type MeshServicePort } from './services.js';
import { liveBackends, resolveSplits, type ResolvedSplit } from './splits.js';
import { podWorkload, templateWorkload, WorkloadIndex } from './workloads.js';

/** What the catalog reads: object lists by kind, sorted by namespace and name. */
export interface CatalogInput {
  list<T extends KubeObject = KubeObject>(kind: string): readonly T[];
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const;

/** A Service in the mesh and its ports. */
export interface MeshService {
  key: ServiceKey;
  service: Service;
  ports: readonly MeshServicePort[];
}

/** The mesh-wide layers at one snapshot. */
export interface MeshState {
  settings: MeshSettings;
  namespaces: NamespaceIndex;
  workloads: WorkloadIndex;
  services: ReadonlyMap<ServiceKey, MeshService>;
  /** Every mesh service port, sorted by id. */
  servicePorts: readonly MeshServicePort[];
  members: ReadonlyMap<string, ServicePortMembers>;
  /** Service ports each identity serves. */
  portsByIdentity: ReadonlyMap<Identity, readonly MeshServicePort[]>;
  specs: SpecLookup;
  /** Grants by destination identity, and (the same grants) by source identity. */
  grantsByDestination: ReadonlyMap<Identity, readonly AccessGrant[]>;
  grantsBySource: ReadonlyMap<Identity, readonly AccessGrant[]>;
  splits: ReadonlyMap<ServiceKey, ResolvedSplit>;
  policies: PolicySettings;
  problems: readonly Problem[];
}

/** Builds `MeshState`s, reusing every layer whose inputs did not change since the last build. */
export class MeshStateBuilder {
  private readonly layers = new Memo<string, unknown>();
  private readonly grants = new Memo<Identity, { grants: readonly AccessGrant[]; problems: Problem[] }>();
  private readonly compiledGroups = new WeakMap<HTTPRouteGroup, ReadonlyMap<string, CompiledHttpMatch>>();
  private previousMembers = new Map<string, ServicePortMembers>();
  private previousBySource = new Map<Identity, readonly AccessGrant[]>();

  constructor(private readonly options: NamespaceOptions) {}

  build(input: CatalogInput): MeshState {
    const layer = <V>(name: string, inputs: readonly unknown[], compute: () => V): V => this.layers.get(name, inputs, compute) as V;

    const settings = layer('settings', [input.list('MeshConfig')], () => resolveMeshSettings(input.list('MeshConfig'), this.options.osmNamespace));
    const namespaces = layer('namespaces', [input.list('Namespace')], () => new NamespaceIndex(input.list<Namespace>('Namespace'), this.options));
    const workloadLists = [input.list<Pod>('Pod'), ...WORKLOAD_KINDS.map((k) => input.list<WorkloadObject>(k))];
    const workloads = layer('workloads', workloadLists, () => {
      const [pods = [], ...owners] = workloadLists as [readonly Pod[], ...Array<readonly WorkloadObject[]>];
      return new WorkloadIndex([...pods.map(podWorkload), ...owners.flat().map(templateWorkload)]);
    });
    const serviceLayer = layer('services', [input.list('Service'), namespaces], () => this.buildServices(input.list<Service>('Service'), namespaces));
    const memberLayer = layer('members', [serviceLayer, workloads, input.list('Endpoints'), input.list('EndpointSlice')], () =>
      this.buildMembers(serviceLayer.services, workloads, input.list<Endpoints>('Endpoints'), input.list<EndpointSlice>('EndpointSlice')),
    );
    const specs = layer('specs', [input.list('HTTPRouteGroup'), input.list('TCPRoute')], () =>
      this.buildSpecs(input.list<HTTPRouteGroup>('HTTPRouteGroup'), input.list<TCPRoute>('TCPRoute')),
    );
    const access = this.buildAccess(input.list<TrafficTarget>('TrafficTarget'), specs, namespaces);
    const splitLayer = layer('splits', [input.list('TrafficSplit'), serviceLayer, memberLayer, specs], () => {
      const problems: Problem[] = [];
      const lookup = {
        servicePorts: (key: ServiceKey) => serviceLayer.services.get(key)?.ports,
        httpRouteGroup: specs.httpRouteGroup,
        compiledMatches: specs.compiledMatches,
      };
      const splits = input.list<TrafficSplit>('TrafficSplit').filter((s) => namespaces.isMonitored(s.metadata.namespace ?? ''));
      const resolved = resolveSplits(splits, lookup, problems);
      for (const split of resolved.values()) {
        for (const backends of split.ports.values()) {
          const live = liveBackends(memberLayer.members, backends);
          if (live === backends) continue;
          for (const b of backends) {
            if (live.includes(b)) continue;
            problems.push(problem('E5014', { service: b.service, port: String(b.port.port) }, { object: split.split, field: 'spec.backends' }));
          }
        }
      }
      return { splits: resolved, problems };
    });
    const policyKinds = ['UpstreamTrafficSetting', 'Retry', 'Egress', 'IngressBackend'].map((k) => input.list(k));
    const policies = layer('policies', [...policyKinds, serviceLayer, memberLayer, specs, settings, namespaces], () =>
      resolvePolicySettings(input, { settings, namespaces, services: serviceLayer.services, members: memberLayer.members, specs }),
    );
    this.layers.sweep();

    return {
      settings,
      namespaces,
      workloads,
      services: serviceLayer.services,
      servicePorts: serviceLayer.ports,
      members: memberLayer.members,
      portsByIdentity: memberLayer.portsByIdentity,
      specs,
      grantsByDestination: access.byDestination,
      grantsBySource: access.bySource,
      splits: splitLayer.splits,
      policies,
      problems: [
        ...settings.problems,
        ...serviceLayer.problems,
        ...memberLayer.problems,
        ...access.problems,
        ...splitLayer.problems,
        ...policies.problems,
      ],
    };
  }

  private buildServices(services: readonly Service[], namespaces: NamespaceIndex) {
    const problems: Problem[] = [];
    const out = new Map<ServiceKey, MeshService>();
    const ports: MeshServicePort[] = [];
    for (const service of services) {
      if (!namespaces.isMonitored(service.metadata.namespace ?? '')) continue;
      const meshPorts = meshPortsOf(service, problems);
      const key = serviceKeyOf(service.metadata.namespace ?? '', service.metadata.name);
      out.set(key, { key, service, ports: meshPorts });
      ports.push(...meshPorts);
    }
    ports.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { services: out as ReadonlyMap<ServiceKey, MeshService>, ports: ports as readonly MeshServicePort[], problems };
  }

  private buildMembers(
    services: ReadonlyMap<ServiceKey, MeshService>,
    workloads: WorkloadIndex,
    endpoints: readonly Endpoints[],
    slices: readonly EndpointSlice[],
  ) {
    const problems: Problem[] = [];
    const endpointsByService = new Map(endpoints.map((e) => [`${e.metadata.namespace}/${e.metadata.name}`, e]));
    const slicesByService = new Map<string, EndpointSlice[]>();
    for (const slice of slices) {
      const name = serviceNameOf(slice);
      if (name === undefined) continue;
      const key = `${slice.metadata.namespace}/${name}`;
      slicesByService.set(key, [...(slicesByService.get(key) ?? []), slice]);
    }
    const members = new Map<string, ServicePortMembers>();
    const portsByIdentity = new Map<Identity, MeshServicePort[]>();
    for (const svc of services.values()) {
      const selector = svc.service.spec.selector ?? {};
      const selected = workloads.select(svc.service.metadata.namespace ?? '', selector);
      const written = { slices: slicesByService.get(svc.key) ?? [], endpoints: endpointsByService.get(svc.key) };
      for (const port of svc.ports) {
        const fresh = membersOf(port, selected, written, workloads, problems);
        // Keep the previous object when nothing changed, so per-proxy memos stay valid.
        const before = this.previousMembers.get(port.id);
        const m = before && JSON.stringify(before) === JSON.stringify(fresh) ? before : fresh;
        members.set(port.id, m);
        for (const identity of new Set(m.backing.map((b) => b.identity))) {
          const list = portsByIdentity.get(identity);
          if (list) list.push(port);
          else portsByIdentity.set(identity, [port]);
        }
      }
    }
    this.previousMembers = members;
    return { members: members as ReadonlyMap<string, ServicePortMembers>, portsByIdentity: portsByIdentity as ReadonlyMap<Identity, readonly MeshServicePort[]>, problems };
  }

  private buildSpecs(groups: readonly HTTPRouteGroup[], tcpRoutes: readonly TCPRoute[]): SpecLookup {
    const groupByKey = new Map(groups.map((g) => [`${g.metadata.namespace}/${g.metadata.name}`, g]));
    const tcpByKey = new Map(tcpRoutes.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]));
    return {
      httpRouteGroup: (ns, name) => groupByKey.get(`${ns}/${name}`),
      tcpRoute: (ns, name) => tcpByKey.get(`${ns}/${name}`),
      compiledMatches: (group) => {
        let compiled = this.compiledGroups.get(group);
        if (!compiled) this.compiledGroups.set(group, (compiled = compileGroup(group)));
        return compiled;
      },
    };
  }

  /** Grants per destination, recompiled only for destinations whose TrafficTargets or specs changed. */
  private buildAccess(tts: readonly TrafficTarget[], specs: SpecLookup, namespaces: NamespaceIndex) {
    const byDestinationInput = new Map<Identity, TrafficTarget[]>();
    for (const tt of tts) {
      if (!namespaces.isMonitored(tt.metadata.namespace ?? '')) continue;
      const d = destinationOf(tt);
      const list = byDestinationInput.get(d);
      if (list) list.push(tt);
      else byDestinationInput.set(d, [tt]);
    }
    const byDestination = new Map<Identity, readonly AccessGrant[]>();
    const problems: Problem[] = [];
    for (const [destination, targets] of byDestinationInput) {
      // The inputs: the TrafficTargets and every spec they name (present or missing).
      const inputs: unknown[] = [];
      for (const tt of targets) {
        inputs.push(tt);
        for (const rule of tt.spec.rules) {
          const ns = tt.metadata.namespace ?? '';
          inputs.push(rule.kind === 'HTTPRouteGroup' ? specs.httpRouteGroup(ns, rule.name) : rule.kind === 'TCPRoute' ? specs.tcpRoute(ns, rule.name) : rule.name);
        }
      }
      const compiled = this.grants.get(destination, inputs, () => {
        const p: Problem[] = [];
        const grants = targets.map((tt) => compileTrafficTarget(tt, specs, p)).filter((g): g is AccessGrant => g !== undefined);
        return { grants, problems: p };
      });
      if (compiled.grants.length > 0) byDestination.set(destination, compiled.grants);
      problems.push(...compiled.problems);
    }
    this.grants.sweep();
    const bySourceFresh = new Map<Identity, AccessGrant[]>();
    for (const grants of byDestination.values()) {
      for (const g of grants) {
        for (const s of g.sources) {
          const list = bySourceFresh.get(s);
          if (list) list.push(g);
          else bySourceFresh.set(s, [g]);
        }
      }
    }
    const bySource = new Map<Identity, readonly AccessGrant[]>();
    for (const [s, list] of bySourceFresh) bySource.set(s, internArray(this.previousBySource.get(s), list));
    this.previousBySource = bySource;
    return { byDestination: byDestination as ReadonlyMap<Identity, readonly AccessGrant[]>, bySource: bySource as ReadonlyMap<Identity, readonly AccessGrant[]>, problems };
  }
}
