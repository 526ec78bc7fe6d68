/**
 * Property tests for the catalog over small random meshes (STYLE.md section 7): access only grows
 * with TrafficTargets, the evaluator and the RBAC routes agree, incremental updates give what a
 * fresh build gives, the order objects arrive in does not matter, and SMI mode denies by default.
 *
 * Meshes are built directly in the internal (decoded) forms from fixed slots, each present or
 * absent with a few variants: per namespace (`a`, `b`) three Services, three Pods, a Deployment,
 * two HTTPRouteGroups, two TCPRoutes, three TrafficTargets and two TrafficSplits. Rules and
 * splits also name objects that never exist (`r9`, `m9`, `t9`, `svc9`), and sources include the
 * namespace `c`, which has no objects, because missing references are where access can widen.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { KubeObject } from '../api/kind.js';
import type { Deployment, Namespace, Pod, Service, ServicePort } from '../api/kubernetes/index.js';
import { formatRef, type ObjectRef } from '../api/meta.js';
import { defaultMeshConfigSpec, type MeshConfig } from '../api/osm/index.js';
import type { HttpMatch, HttpMethod, HTTPRouteGroup, IdentityRef, TCPRoute, TrafficSplit, TrafficTarget, TrafficTargetRule } from '../api/smi/index.js';
import { Store, type StoreWrite } from '../store/index.js';
import type { AccessGrant } from './access.js';
import { authorize, type AccessRequest } from './authorize.js';
import { buildMeshModel, Catalog, DEFAULT_CATALOG_OPTIONS, type CatalogOptions, type MeshModel } from './catalog.js';
import { checkRequest, type DestinationVerdict } from './check.js';
import type { CompiledHttpMatch, HttpRequestAttributes } from './http-match.js';
import { identityOf, serviceKeyOf, type Identity } from './identity.js';
import { inboundHttpRoutes, inboundTcpPrincipals, routesAllow } from './inbound-routes.js';
import type { InboundRoute, ProxyPolicy } from './model.js';

// ---------------------------------------------------------------------------------------------
// The universe every mesh is drawn from.

const NAMESPACES = ['a', 'b'] as const;
const SERVICE_ACCOUNTS = ['s0', 's1'] as const;
/** Every identity a TrafficTarget may name; `c` has no workloads, `c/s9` is named by nobody. */
const IDENTITY_REFS: IdentityRef[] = ['a', 'b', 'c'].flatMap((namespace) => SERVICE_ACCOUNTS.map((name) => ({ kind: 'ServiceAccount' as const, namespace, name })));
const IDENTITIES: Identity[] = [...IDENTITY_REFS.map((r) => identityOf(r.namespace, r.name)), identityOf('c', 's9')];
const APPS = ['p0', 'p1'] as const;
const SERVICES = ['svc0', 'svc1', 'svc2'] as const;
const PODS = ['pod0', 'pod1', 'pod2'] as const;
/** Pod ports: what Services target and TCPRoutes name (A9). */
const POD_PORTS = [5432, 8080, 9090] as const;

/** Service ports; port 80 comes as HTTP or as TCP, so a port's protocol can change under one id. */
const SERVICE_PORTS: ServicePort[][] = [
  [
    { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: 'tcp-web', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: 'http', protocol: 'TCP', port: 80, targetPort: 9090 },
  ],
  [{ name: 'tcp-db', protocol: 'TCP', port: 5432, targetPort: 5432 }],
  // A named target port: resolved through each pod's container port `web`.
  [{ name: 'http-web', protocol: 'TCP', port: 81, targetPort: 'web' }],
];

const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  Service: 'v1',
  Pod: 'v1',
  Deployment: 'apps/v1',
  TrafficTarget: 'access.smi-spec.io/v1alpha3',
  HTTPRouteGroup: 'specs.smi-spec.io/v1alpha4',
  TCPRoute: 'specs.smi-spec.io/v1alpha4',
  TrafficSplit: 'split.smi-spec.io/v1alpha4',
  MeshConfig: 'config.openservicemesh.io/v1alpha2',
};

const OPTIONS: CatalogOptions = { ...DEFAULT_CATALOG_OPTIONS, undeclaredNamespaces: 'monitored' };

// ---------------------------------------------------------------------------------------------
// Objects, one arbitrary per slot.

/** One object key and the variants of the object stored under it. */
interface Slot {
  ref: ObjectRef;
  variants: fc.Arbitrary<KubeObject>;
  /** Weights of absent and present in a generated mesh. */
  presence: readonly [absent: number, present: number];
}

const meta = (namespace: string, name: string) => ({ name, namespace });
/** Where `item` sits in a list of names, for addresses unique to a slot. */
const positionIn = (list: readonly string[], item: string): number => list.indexOf(item);
/** Mostly `value`, sometimes `other`: for the odd case among the ordinary ones. */
const usually = <T>(value: T, other: T): fc.Arbitrary<T> => fc.oneof({ weight: 7, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: fc.constant(other) });

function serviceVariants(namespace: string, name: string): fc.Arbitrary<Service> {
  const ports = fc.tuple(...SERVICE_PORTS.map((variants) => fc.option(fc.constantFrom(...variants), { nil: undefined, freq: 3 })));
  return fc.record({ app: fc.constantFrom(...APPS), ports }).map(({ app, ports: chosen }) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(namespace, name),
    spec: {
      ports: chosen.filter((p): p is ServicePort => p !== undefined),
      selector: { app },
      type: 'ClusterIP',
      sessionAffinity: 'None',
      clusterIP: `10.96.${positionIn(NAMESPACES, namespace)}.${positionIn(SERVICES, name)}`,
    },
  }));
}

function podVariants(namespace: string, name: string): fc.Arbitrary<Pod> {
  const ip = `10.${positionIn(NAMESPACES, namespace) + 1}.0.${positionIn(PODS, name) + 1}`;
  return fc
    .record({
      app: fc.constantFrom(...APPS),
      serviceAccount: fc.constantFrom(...SERVICE_ACCOUNTS),
      running: usually(true, false),
      injected: usually(true, false),
      webPort: fc.constantFrom(undefined, 8080, 9090),
    })
    .map(({ app, serviceAccount, running, injected, webPort }) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...meta(namespace, name),
        labels: { app },
        ...(injected ? {} : { annotations: { 'openservicemesh.io/sidecar-injection': 'disabled' } }),
      },
      spec: {
        serviceAccountName: serviceAccount,
        containers: [{ name: 'c', ports: webPort === undefined ? [] : [{ name: 'web', containerPort: webPort, protocol: 'TCP' as const }] }],
      },
      status: running ? { podIP: ip } : {},
    }));
}

/** A Deployment: its template backs Services before any pod runs. */
function deploymentVariants(namespace: string, name: string): fc.Arbitrary<Deployment> {
  return fc.record({ app: fc.constantFrom(...APPS), serviceAccount: fc.constantFrom(...SERVICE_ACCOUNTS) }).map(({ app, serviceAccount }) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(namespace, name),
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c', ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' as const }] }] },
      },
    },
  }));
}

/** A declared namespace: monitored with injection, monitored without, or not monitored. */
function namespaceVariants(name: string): fc.Arbitrary<Namespace> {
  return fc.constantFrom('inject', 'monitor', 'ignore').map((mode) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      ...(mode === 'ignore' ? {} : { labels: { 'openservicemesh.io/monitored-by': 'osm' } }),
      ...(mode === 'inject' ? { annotations: { 'openservicemesh.io/sidecar-injection': 'enabled' } } : {}),
    },
  }));
}

const matchVariants: fc.Arbitrary<Omit<HttpMatch, 'name'>> = fc.record(
  {
    pathRegex: fc.constantFrom('/a', '/b.*', '/(a|c)', '.*'),
    methods: fc.subarray<HttpMethod>(['GET', 'POST', '*'], { minLength: 1 }),
    headers: fc.constantFrom<Record<string, string>>({ 'x-user': 'u1' }, { 'x-user': 'u.*' }, { host: 'svc0.*' }),
  },
  { requiredKeys: [] },
);

function groupVariants(namespace: string, name: string): fc.Arbitrary<HTTPRouteGroup> {
  return fc
    .uniqueArray(fc.constantFrom('m0', 'm1', 'm2'), { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(...names.map((n) => matchVariants.map((m): HttpMatch => ({ name: n, ...m })))))
    .map((matches) => ({ kind: 'HTTPRouteGroup', metadata: meta(namespace, name), spec: { matches } }));
}

function tcpRouteVariants(namespace: string, name: string): fc.Arbitrary<TCPRoute> {
  return fc.subarray([...POD_PORTS]).map((ports) => ({ kind: 'TCPRoute', metadata: meta(namespace, name), spec: { matches: { ports } } }));
}

const ruleVariants: fc.Arbitrary<TrafficTargetRule> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        name: fc.constantFrom('r0', 'r0', 'r0', 'r1', 'r9'),
        // Usually absent: every match of the group (A6).
        matches: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom('m0', 'm1', 'm2', 'm9'), { maxLength: 2 }) }),
      })
      .map(({ name, matches }): TrafficTargetRule => (matches === undefined ? { kind: 'HTTPRouteGroup', name } : { kind: 'HTTPRouteGroup', name, matches })),
  },
  { weight: 3, arbitrary: fc.constantFrom('t0', 't0', 't0', 't1', 't9').map((name): TrafficTargetRule => ({ kind: 'TCPRoute', name })) },
  { weight: 1, arbitrary: fc.constant<TrafficTargetRule>({ kind: 'UDPRoute', name: 'u0' }) },
);

function trafficTargetVariants(namespace: string, name: string, destinations: readonly string[]): fc.Arbitrary<TrafficTarget> {
  const otherNamespace = namespace === 'a' ? 'b' : 'a';
  return fc
    .record({
      destination: fc.constantFrom(...destinations),
      // A TrafficTarget outside its destination's namespace is ignored (A10).
      destinationNamespace: usually(namespace, otherNamespace),
      sources: fc.uniqueArray(fc.constantFrom(...IDENTITY_REFS), { minLength: 1, maxLength: 3, selector: (r) => `${r.namespace}/${r.name}` }),
      rules: fc.array(ruleVariants, { minLength: 1, maxLength: 3 }),
      // access v1alpha2's destination.port.
      port: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(5432, 8080) }),
    })
    .map(({ destination, destinationNamespace, sources, rules, port }) => {
      const spec: TrafficTarget['spec'] = { destination: { kind: 'ServiceAccount', namespace: destinationNamespace, name: destination }, sources, rules };
      if (port !== undefined) spec.port = port;
      return { kind: 'TrafficTarget', metadata: meta(namespace, name), spec };
    });
}

function splitVariants(namespace: string, name: string): fc.Arbitrary<TrafficSplit> {
  return fc
    .record({
      root: fc.constantFrom(...SERVICES),
      qualified: fc.boolean(),
      backends: fc.uniqueArray(fc.record({ service: fc.constantFrom(...SERVICES, 'svc9'), weight: fc.integer({ min: 0, max: 3 }) }), {
        minLength: 1,
        maxLength: 3,
        selector: (b) => b.service,
      }),
      matches: fc.constantFrom(undefined, undefined, 'r0', 'r9'),
      created: fc.constantFrom(undefined, '2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'),
    })
    .map(({ root, qualified, backends, matches, created }) => {
      // Admission requires a positive total (A20).
      const fixed = backends.reduce((sum, b) => sum + b.weight, 0) > 0 ? backends : backends.map((b, i) => (i === 0 ? { ...b, weight: 1 } : b));
      const spec: TrafficSplit['spec'] = { service: qualified ? `${root}.${namespace}` : root, backends: fixed };
      if (matches !== undefined) spec.matches = [{ kind: 'HTTPRouteGroup', name: matches }];
      return { kind: 'TrafficSplit', metadata: { ...meta(namespace, name), ...(created ? { creationTimestamp: created } : {}) }, spec };
    });
}

/** The MeshConfig, with permissive mode on or off and every other setting at its default. */
function meshConfigOf(permissive: boolean): MeshConfig {
  const spec = defaultMeshConfigSpec();
  return {
    kind: 'MeshConfig',
    metadata: { name: 'osm-mesh-config', namespace: 'osm-system' },
    spec: { ...spec, traffic: { ...spec.traffic, enablePermissiveTrafficPolicyMode: permissive } },
  };
}

const meshConfigVariants: fc.Arbitrary<MeshConfig> = fc.boolean().map(meshConfigOf);

interface SlotOptions {
  /** Add the MeshConfig slot (else the mesh is always in SMI mode). */
  meshConfig?: boolean;
  trafficTargets?: readonly string[];
  /** ServiceAccounts TrafficTargets may name as their destination. */
  destinations?: readonly string[];
}

function slotsOf(options: SlotOptions = {}): Slot[] {
  const slots: Slot[] = [];
  const add = (kind: string, namespace: string | undefined, name: string, variants: fc.Arbitrary<KubeObject>, presence: Slot['presence'] = [1, 1]) =>
    slots.push({ ref: namespace === undefined ? { kind, name } : { kind, namespace, name }, variants, presence });
  for (const ns of NAMESPACES) {
    add('Namespace', undefined, ns, namespaceVariants(ns), [6, 1]);
    for (const name of SERVICES) add('Service', ns, name, serviceVariants(ns, name));
    for (const name of PODS) add('Pod', ns, name, podVariants(ns, name), [1, 2]);
    add('Deployment', ns, 'dep0', deploymentVariants(ns, 'dep0'), [2, 1]);
    // `r0` and `t0` are usually there, `r1` and `t1` as often not.
    add('HTTPRouteGroup', ns, 'r0', groupVariants(ns, 'r0'), [1, 4]);
    add('HTTPRouteGroup', ns, 'r1', groupVariants(ns, 'r1'));
    add('TCPRoute', ns, 't0', tcpRouteVariants(ns, 't0'), [1, 4]);
    add('TCPRoute', ns, 't1', tcpRouteVariants(ns, 't1'));
    for (const name of options.trafficTargets ?? ['tt0', 'tt1', 'tt2']) {
      add('TrafficTarget', ns, name, trafficTargetVariants(ns, name, options.destinations ?? SERVICE_ACCOUNTS), [1, 2]);
    }
    for (const name of ['sp0', 'sp1']) add('TrafficSplit', ns, name, splitVariants(ns, name), [2, 1]);
  }
  if (options.meshConfig) add('MeshConfig', 'osm-system', 'osm-mesh-config', meshConfigVariants, [2, 1]);
  return slots;
}

/** A mesh: some variant of some slots; every object has its own key. */
function arbMesh(slots: readonly Slot[]): fc.Arbitrary<KubeObject[]> {
  const present = slots.map((s) =>
    // Absent first, so shrinking removes objects.
    fc.oneof({ weight: s.presence[0], arbitrary: fc.constant(undefined) }, { weight: s.presence[1], arbitrary: s.variants }),
  );
  return fc.tuple(...present).map((objects) => objects.filter((o): o is KubeObject => o !== undefined));
}

/** One write to one slot: a new variant, or a delete. */
function arbWrite(slots: readonly Slot[]): fc.Arbitrary<StoreWrite> {
  return fc.oneof(...slots.map((s) => fc.oneof({ weight: 1, arbitrary: fc.constant<StoreWrite>({ type: 'delete', ref: s.ref }) }, { weight: 3, arbitrary: s.variants.map(put) })));
}

function put(object: KubeObject): StoreWrite {
  return { type: 'put', object, apiVersion: API_VERSIONS[object.kind] ?? 'v1' };
}

function modelOf(objects: readonly KubeObject[]): MeshModel {
  const store = new Store();
  store.apply(objects.map(put));
  return buildMeshModel(store.snapshot(), OPTIONS);
}

const isTrafficTarget = (o: KubeObject): o is TrafficTarget => o.kind === 'TrafficTarget';

/** For hand-written cases: Service `a/<name>` with one port 80 -> 8080, selecting `app: <name>`. */
function oneService(name: string, portName = 'http'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('a', name),
    spec: { ports: [{ name: portName, protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: name }, type: 'ClusterIP', sessionAffinity: 'None' },
  };
}

/** For hand-written cases: a running Pod `a/<name>` labelled `app: <serviceAccount>`. */
function onePod(name: string, serviceAccount: string, ip: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...meta('a', name), labels: { app: serviceAccount } },
    spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c' }] },
    status: { podIP: ip },
  };
}

// ---------------------------------------------------------------------------------------------
// Requests.

/** A request from `source`; `target` picks a service port or an identity among those that exist. */
interface MeshRequest {
  source: Identity;
  target: number;
  podPort: number;
  tcp: boolean;
  http: HttpRequestAttributes;
}

const arbHttp: fc.Arbitrary<HttpRequestAttributes> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT'),
    path: fc.constantFrom('/', '/a', '/a?q=1', '/b', '/bx', '/c'),
    user: fc.constantFrom(undefined, 'u1', 'u2'),
    authority: fc.constantFrom(undefined, 'svc0.a', 'svc1.b:80'),
  })
  .map(({ method, path, user, authority }) => {
    const http: HttpRequestAttributes = { method, path, headers: user === undefined ? {} : { 'x-user': user } };
    if (authority !== undefined) http.authority = authority;
    return http;
  });

const arbRequest: fc.Arbitrary<MeshRequest> = fc.record({
  source: fc.constantFrom(...IDENTITIES),
  target: fc.nat(),
  podPort: fc.constantFrom(...POD_PORTS),
  tcp: usually(false, true),
  http: arbHttp,
});

const arbRequests = fc.array(arbRequest, { minLength: 8, maxLength: 8 });

/** `checkRequest` for the request's service port, or undefined when the mesh has none. */
function verdictsOf(model: MeshModel, req: MeshRequest): DestinationVerdict[] | undefined {
  const ports = model.state.servicePorts;
  const port = ports[req.target % Math.max(ports.length, 1)];
  if (!port) return undefined;
  return checkRequest(model.state, { source: req.source, service: port.service, port: port.port, tcp: req.tcp, http: req.http }).destinations;
}

/** The evaluator's request for `req` to one identity's pod port. */
function accessRequestOf(req: MeshRequest, destination: Identity, port: number, protocol: 'http' | 'tcp'): AccessRequest {
  return { source: req.source, destination, port, protocol, http: req.http };
}

/** The grants a sidecar of `destination` enforces. */
function grantsOf(model: MeshModel, destination: Identity): readonly AccessGrant[] {
  return model.state.grantsByDestination.get(destination) ?? [];
}

// ---------------------------------------------------------------------------------------------
// A stable projection of what the catalog produced: what tests compare.

/** A match by where it comes from and what it says, so a stale compiled match shows. */
const matchKey = (m: CompiledHttpMatch): string => `${m.group.namespace}/${m.group.name}#${m.name} ${JSON.stringify(m.spec)}`;

/** What a grant allows; with `ruleOrder: false`, without rule indices and with rules sorted. */
function grantKey(g: AccessGrant, ruleOrder: boolean) {
  const ordered = <T>(list: T[]) => (ruleOrder ? list : list.sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1)));
  return {
    trafficTarget: formatRef(g.trafficTarget),
    destination: g.destination,
    sources: [...g.sources].sort(),
    port: g.port ?? null,
    tcp: g.tcp ? ordered(g.tcp.map((r) => ({ rule: ruleOrder ? r.ruleIndex : -1, route: r.route.name, ports: r.ports }))) : null,
    http: g.http ? ordered(g.http.map((r) => ({ rule: ruleOrder ? r.ruleIndex : -1, route: r.route.name, matches: ordered(r.matches.map(matchKey)) }))) : null,
  };
}

/** Every field of a proxy's policy that reaches xDS, as plain JSON (protocols included: they choose the filters). */
function projectPolicy(p: ProxyPolicy, ruleOrder = true) {
  return {
    identity: p.proxy.identity,
    ip: p.proxy.ip ?? null,
    outbound: p.outbound.services.map((s) => ({
      port: `${s.port.id} ${s.port.protocol}`,
      split: s.split ? formatRef(s.split) : null,
      routes: s.routes.map((r) => ({
        matches: r.matches?.map(matchKey) ?? null,
        backends: r.backends.map((b) => ({
          cluster: `${b.cluster.port.id} ${b.cluster.port.protocol}`,
          weight: b.weight,
          allowed: b.allowed,
          endpoints: b.cluster.endpoints.map((e) => `${e.ip}:${e.port} ${e.identity ?? '-'}`),
          identities: b.cluster.identities,
        })),
      })),
    })),
    egressPassthrough: p.outbound.egressPassthrough,
    inbound: p.inbound.ports.map((port) => ({
      port: port.port,
      protocol: port.protocol,
      services: port.services.map((s) => `${s.id} ${s.protocol}`),
      apex: port.apexServices.map((s) => s.id),
      permissive: port.permissive,
      grants: port.grants.map((g) => grantKey(g, ruleOrder)),
      routes: port.routes.map((r) => ({ match: r.match ? matchKey(r.match) : null, principals: r.principals, grantedBy: r.grantedBy.map(formatRef) })),
      tcpPrincipals: port.tcpPrincipals,
    })),
  };
}

type PolicyProjection = ReturnType<typeof projectPolicy>;

function projectModel(model: MeshModel, { ruleOrder = true } = {}): { proxies: Record<string, PolicyProjection>; problems: string[] } {
  return {
    proxies: Object.fromEntries([...model.proxies].map(([key, policy]) => [key, projectPolicy(policy, ruleOrder)])),
    problems: model.problems.map((p) => `${p.code} ${p.object ? formatRef(p.object) : '-'} ${p.field ?? '-'}: ${p.message}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Monotonicity: access only grows with TrafficTargets (A16's union).

/** Counts over a whole run, so a property that never meets its interesting case fails. */
interface Tally {
  allowed: number;
  gained: number;
}

/** Everything `smaller` allows, `bigger` allows too; `tally` counts what was allowed and gained. */
function assertNoLessAccess(smaller: MeshModel, bigger: MeshModel, requests: readonly MeshRequest[], tally: Tally): void {
  const allows = (was: boolean, now: boolean, what: () => string) => {
    if (was) tally.allowed++;
    if (now && !was) tally.gained++;
    assert.ok(!was || now, `access was removed: ${what()}`);
  };
  for (const req of requests) {
    // What `osm policy check` says, through splits, for a service port.
    const before = verdictsOf(smaller, req);
    const after = verdictsOf(bigger, req);
    assert.equal(after?.length, before?.length);
    before?.forEach((v, i) => {
      const w = after?.[i];
      assert.deepEqual([w?.service, w?.identity, w?.podPort, w?.weight], [v.service, v.identity, v.podPort, v.weight]);
      allows(v.allowed, w?.allowed === true, () => `checkRequest ${JSON.stringify(req)} -> ${v.service} ${v.identity}`);
    });
    // The evaluator, for an identity and pod port directly.
    const destination = IDENTITIES[req.target % IDENTITIES.length] as Identity;
    const protocol = req.tcp ? 'tcp' : 'http';
    const was = authorize(grantsOf(smaller, destination), accessRequestOf(req, destination, req.podPort, protocol), { permissive: false }).allowed;
    const now = authorize(grantsOf(bigger, destination), accessRequestOf(req, destination, req.podPort, protocol), { permissive: false }).allowed;
    allows(was, now, () => `authorize ${JSON.stringify(req)} -> ${destination}`);
  }
  // The proxies' policies: a TrafficTarget changes who may talk, never which proxies exist.
  assert.deepEqual([...bigger.proxies.keys()], [...smaller.proxies.keys()]);
  for (const [key, small] of smaller.proxies) {
    const big = bigger.proxies.get(key) as ProxyPolicy;
    for (const s of small.outbound.services) {
      const b = big.outbound.services.find((x) => x.port.id === s.port.id);
      assert.ok(b, `${key} lost outbound ${s.port.id}`);
      s.routes.forEach((r, i) =>
        r.backends.forEach((backend, j) => {
          const other = b.routes[i]?.backends[j];
          allows(backend.allowed, other?.allowed === true, () => `${key} outbound ${s.port.id} route ${i} backend ${j}`);
          const endpoints = new Set(other?.cluster.endpoints.map((e) => `${e.ip}:${e.port}`));
          for (const e of backend.cluster.endpoints) assert.ok(endpoints.has(`${e.ip}:${e.port}`), `${key} lost endpoint ${e.ip}:${e.port} of ${s.port.id}`);
        }),
      );
    }
    for (const port of small.inbound.ports) {
      const b = big.inbound.ports.find((x) => x.port === port.port);
      assert.ok(b, `${key} lost inbound port ${port.port}`);
      for (const req of requests) {
        allows(routesAllow(port.routes, req.source, req.http), routesAllow(b.routes, req.source, req.http), () => `${key} inbound ${port.port} routes ${JSON.stringify(req)}`);
        const tcpWas = port.tcpPrincipals === 'any' || port.tcpPrincipals.includes(req.source);
        const tcpNow = b.tcpPrincipals === 'any' || b.tcpPrincipals.includes(req.source);
        allows(tcpWas, tcpNow, () => `${key} inbound ${port.port} tcp from ${req.source}`);
      }
    }
  }
}

const smiSlots = slotsOf();

test('adding a TrafficTarget never removes access (A16)', () => {
  const tally: Tally = { allowed: 0, gained: 0 };
  // A name no slot uses, so the new TrafficTarget never replaces one.
  const arbExtra = fc.oneof(...NAMESPACES.map((ns) => trafficTargetVariants(ns, 'extra', SERVICE_ACCOUNTS)));
  fc.assert(
    fc.property(arbMesh(smiSlots), arbExtra, arbRequests, (objects, extra, requests) => {
      assertNoLessAccess(modelOf(objects), modelOf([...objects, extra]), requests, tally);
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  assert.ok(tally.allowed > 0 && tally.gained > 0, `allowed ${tally.allowed}, gained ${tally.gained}`);
});

test('removing a TrafficTarget never adds access (A16)', () => {
  const tally: Tally = { allowed: 0, gained: 0 };
  const withTarget = arbMesh(smiSlots)
    .filter((objects) => objects.some(isTrafficTarget))
    .chain((objects) => fc.tuple(fc.constant(objects), fc.constantFrom(...objects.filter(isTrafficTarget))));
  fc.assert(
    fc.property(withTarget, arbRequests, ([objects, removed], requests) => {
      assertNoLessAccess(modelOf(objects.filter((o) => o !== removed)), modelOf(objects), requests, tally);
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  assert.ok(tally.allowed > 0 && tally.gained > 0, `allowed ${tally.allowed}, gained ${tally.gained}`);
});

// ---------------------------------------------------------------------------------------------
// The evaluator and the RBAC routes agree (inbound-routes.ts promises it).

test('the evaluator and the RBAC routes built from the same grants agree, for HTTP and TCP', () => {
  // Many TrafficTargets for one destination per namespace, so grants overlap.
  const slots = slotsOf({ trafficTargets: ['tt0', 'tt1', 'tt2', 'tt3'], destinations: ['s0'] });
  let allowed = 0;
  fc.assert(
    fc.property(arbMesh(slots), arbRequests, (objects, requests) => {
      const model = modelOf(objects);
      const agree = (
        grants: readonly AccessGrant[],
        destination: Identity,
        port: number,
        req: MeshRequest,
        routes: readonly InboundRoute[] = inboundHttpRoutes(grants, port),
        tcp: readonly Identity[] = inboundTcpPrincipals(grants, port),
      ) => {
        const http = authorize(grants, accessRequestOf(req, destination, port, 'http'), { permissive: false }).allowed;
        assert.equal(routesAllow(routes, req.source, req.http), http, `http ${JSON.stringify(req)} -> ${destination}:${port}`);
        const conn = authorize(grants, accessRequestOf(req, destination, port, 'tcp'), { permissive: false }).allowed;
        assert.equal(tcp.includes(req.source), conn, `tcp ${req.source} -> ${destination}:${port}`);
        if (http) allowed++;
      };
      // Directly on each identity's grants, for every pod port.
      for (const destination of IDENTITIES) {
        for (const port of POD_PORTS) for (const req of requests) agree(grantsOf(model, destination), destination, port, req);
      }
      // And as the policy builder placed them on each proxy's inbound ports.
      for (const policy of model.proxies.values()) {
        for (const port of policy.inbound.ports) {
          assert.ok(port.routes.every((r) => r.principals !== 'any') && port.tcpPrincipals !== 'any', 'SMI mode');
          for (const req of requests) {
            agree(port.grants, policy.proxy.identity, port.port, req, port.routes, port.tcpPrincipals as readonly Identity[]);
          }
        }
      }
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  assert.ok(allowed > 0, 'some requests are allowed');
});

// ---------------------------------------------------------------------------------------------
// Incremental updates equal a build from scratch.

/** Why the incremental property fails today; remove with the bug (see the regression test below). */

test('one long-lived Catalog, updated after each change, gives what a fresh build gives', () => {
  const slots = slotsOf({ meshConfig: true });
  let changed = 0;
  const history = fc.record({
    initial: arbMesh(slots),
    batches: fc.array(fc.array(arbWrite(slots), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 10 }),
  });
  fc.assert(
    fc.property(history, ({ initial, batches }) => {
      const store = new Store();
      store.apply(initial.map(put));
      const catalog = new Catalog(OPTIONS);
      let previous = projectModel(catalog.update(store.snapshot()).model);
      batches.forEach((batch, step) => {
        store.apply(batch);
        const update = catalog.update(store.snapshot());
        const got = projectModel(update.model);
        const want = projectModel(buildMeshModel(store.snapshot(), OPTIONS));
        assert.deepEqual(got.proxies, want.proxies, `proxies after step ${step}`);
        assert.deepEqual(got.problems, want.problems, `problems after step ${step}`);
        // Every proxy whose policy changed is reported, and so is every proxy that went away.
        for (const [key, policy] of Object.entries(got.proxies)) {
          if (JSON.stringify(previous.proxies[key]) === JSON.stringify(policy)) continue;
          changed++;
          assert.ok(update.changedProxies.includes(key), `step ${step}: ${key} changed but is not in changedProxies`);
        }
        const gone = Object.keys(previous.proxies).filter((k) => !(k in got.proxies));
        assert.deepEqual([...update.removedProxies].sort(), gone.sort(), `removedProxies after step ${step}`);
        previous = got;
      });
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  assert.ok(changed > 0, 'some steps change some proxy');
});

test('a Service port that turns from TCP to HTTP gets a fresh upstream cluster (found by the property above)', () => {
  // api serves a/api:80 as TCP; web may send it HTTP requests only. Renaming the port makes it
  // HTTP, so web may now reach api's endpoint: a fresh build says so, the updated catalog keeps
  // the TCP cluster with no endpoints (requests would fail with no healthy upstream).
  const group: HTTPRouteGroup = { kind: 'HTTPRouteGroup', metadata: meta('a', 'r'), spec: { matches: [{ name: 'all', pathRegex: '/.*' }] } };
  const target: TrafficTarget = {
    kind: 'TrafficTarget',
    metadata: meta('a', 't'),
    spec: {
      destination: { kind: 'ServiceAccount', namespace: 'a', name: 'api' },
      sources: [{ kind: 'ServiceAccount', namespace: 'a', name: 'web' }],
      rules: [{ kind: 'HTTPRouteGroup', name: 'r' }],
    },
  };
  const store = new Store();
  store.apply([oneService('api', 'tcp-api'), onePod('api-1', 'api', '10.0.0.1'), onePod('web-1', 'web', '10.0.0.2'), group, target].map(put));
  const catalog = new Catalog(OPTIONS);
  catalog.update(store.snapshot());
  store.apply([put(oneService('api', 'http'))]);
  const clusters = (model: MeshModel) =>
    model.proxies.get('a/web-1')?.outbound.services.flatMap((s) => s.routes.flatMap((r) => r.backends.map((b) => ({
      protocol: b.cluster.port.protocol,
      endpoints: b.cluster.endpoints.map((e) => `${e.ip}:${e.port}`),
    }))));
  assert.deepEqual(clusters(buildMeshModel(store.snapshot(), OPTIONS)), [{ protocol: 'http', endpoints: ['10.0.0.1:8080'] }]);
  assert.deepEqual(clusters(catalog.update(store.snapshot()).model), [{ protocol: 'http', endpoints: ['10.0.0.1:8080'] }]);
});

// ---------------------------------------------------------------------------------------------
// Input order independence (STYLE.md section 6).

test('objects stored in any order give the same catalog', () => {
  const slots = slotsOf({ meshConfig: true });
  const twoOrders = arbMesh(slots).chain((objects) => fc.tuple(fc.constant(objects), fc.shuffledSubarray(objects, { minLength: objects.length })));
  fc.assert(
    fc.property(twoOrders, ([objects, shuffled]) => {
      // One batch in one order; one write per batch in the other, so versions differ too.
      const store = new Store();
      for (const o of shuffled) store.apply([put(o)]);
      assert.deepEqual(projectModel(buildMeshModel(store.snapshot(), OPTIONS)), projectModel(modelOf(objects)));
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
});

/** The same object with the lists whose order means nothing in another order. */
function reorderedInside(o: KubeObject): fc.Arbitrary<KubeObject> {
  const shuffled = <T>(list: readonly T[]) => fc.shuffledSubarray([...list], { minLength: list.length });
  if (isTrafficTarget(o)) {
    return fc.tuple(shuffled(o.spec.sources), shuffled(o.spec.rules)).map(([sources, rules]) => ({ ...o, spec: { ...o.spec, sources, rules } }));
  }
  if (o.kind === 'HTTPRouteGroup') {
    const g = o as HTTPRouteGroup;
    return shuffled(g.spec.matches).map((matches) => ({ ...g, spec: { matches } }));
  }
  if (o.kind === 'TrafficSplit') {
    const split = o as TrafficSplit;
    return shuffled(split.spec.backends).map((backends) => ({ ...split, spec: { ...split.spec, backends } }));
  }
  if (o.kind === 'Service') {
    const svc = o as Service;
    return shuffled(svc.spec.ports).map((ports) => ({ ...svc, spec: { ...svc.spec, ports } }));
  }
  return fc.constant(o);
}

/** A mesh and the same mesh with every list whose order means nothing reordered. */
const reorderedMeshes = arbMesh(slotsOf({ meshConfig: true })).chain((objects) => fc.tuple(fc.constant(objects), fc.tuple(...objects.map(reorderedInside))));

test('the order of TrafficTarget sources and rules, HTTPRouteGroup matches, split backends and Service ports changes no access decision (A16)', () => {
  const verdicts = (m: MeshModel, req: MeshRequest) => verdictsOf(m, req)?.map((v) => `${v.service} ${v.identity} ${v.podPort} ${v.weight} ${v.allowed}`).sort();
  fc.assert(
    fc.property(reorderedMeshes, arbRequests, ([objects, reordered], requests) => {
      const a = modelOf(objects);
      const b = modelOf(reordered);
      for (const req of requests) {
        assert.deepEqual(verdicts(b, req), verdicts(a, req));
        for (const destination of IDENTITIES) {
          const decide = (m: MeshModel) => authorize(grantsOf(m, destination), accessRequestOf(req, destination, req.podPort, req.tcp ? 'tcp' : 'http'), { permissive: false }).allowed;
          assert.equal(decide(b), decide(a));
        }
      }
    }),
    { numRuns: 100, includeErrorInReport: true },
  );
});

/** Why the same-output property fails today. */

test('the order of lists whose order means nothing does not show in the proxies\' policies', () => {
  fc.assert(
    fc.property(reorderedMeshes, ([objects, reordered]) => {
      const a = modelOf(objects);
      const b = modelOf(reordered);
      assert.deepEqual(projectModel(b, { ruleOrder: false }).proxies, projectModel(a, { ruleOrder: false }).proxies);
      // Problems name list indices, which move with the lists; the same problems remain.
      const problemsOf = (m: MeshModel) => m.problems.map((p) => `${p.code} ${p.object ? formatRef(p.object) : '-'}`).sort();
      assert.deepEqual(problemsOf(b), problemsOf(a));
    }),
    { numRuns: 100, includeErrorInReport: true },
  );
});

test('a split written with its backends and its group\'s matches in another order routes the same (found by the property above)', () => {
  const group = (names: string[]): HTTPRouteGroup => ({ kind: 'HTTPRouteGroup', metadata: meta('a', 'r'), spec: { matches: names.map((name) => ({ name, pathRegex: `/${name}` })) } });
  const split = (backends: string[]): TrafficSplit => ({
    kind: 'TrafficSplit',
    metadata: meta('a', 's'),
    spec: { service: 'api', backends: backends.map((service) => ({ service, weight: 1 })), matches: [{ kind: 'HTTPRouteGroup', name: 'r' }] },
  });
  const routesOf = (objects: KubeObject[]) => {
    const model = modelOf([oneService('api'), oneService('v1'), oneService('v2'), onePod('web-1', 'web', '10.0.0.9'), ...objects]);
    const routes = model.proxies.get('a/web-1')?.outbound.services.find((s) => s.port.id === 'a/api:80')?.routes;
    const check = checkRequest(model.state, { source: identityOf('a', 'web'), service: serviceKeyOf('a', 'api'), port: 80, http: { method: 'GET', path: '/m0', headers: {} } });
    return { routes: routes?.map((r) => ({ matches: r.matches?.map((m) => m.name), backends: r.backends.map((b) => b.cluster.port.id) })), checked: check.destinations.map((d) => d.service) };
  };
  // Permissive, so every backend is reachable and the routes show in full.
  const permissive = meshConfigOf(true);
  assert.deepEqual(routesOf([permissive, group(['m1', 'm0']), split(['v2', 'v1'])]), routesOf([permissive, group(['m0', 'm1']), split(['v1', 'v2'])]));
});

// ---------------------------------------------------------------------------------------------
// Default deny.

test('in SMI mode, an identity no TrafficTarget names as a source is denied everything', () => {
  const tally = { verdicts: 0, outsiderProxies: 0 };
  fc.assert(
    fc.property(arbMesh(smiSlots), fc.tuple(arbHttp, arbHttp, arbHttp), (objects, requests) => {
      const model = modelOf(objects);
      assert.equal(model.state.settings.permissive, false, 'no MeshConfig: SMI mode');
      // Named anywhere, even by a TrafficTarget the catalog ignores (A10) or that grants nothing.
      const named = new Set(objects.filter(isTrafficTarget).flatMap((tt) => tt.spec.sources.map((s) => identityOf(s.namespace, s.name))));
      const outsiders = new Set(IDENTITIES.filter((id) => !named.has(id)));
      const checks = [{ tcp: true, http: requests[0] }, ...requests.map((http) => ({ tcp: false, http }))];
      for (const source of outsiders) {
        // Through `osm policy check`, for every service port, as TCP and as HTTP.
        for (const port of model.state.servicePorts) {
          for (const { tcp, http } of checks) {
            const verdicts = checkRequest(model.state, { source, service: port.service, port: port.port, tcp, http }).destinations;
            for (const v of verdicts) assert.equal(v.allowed, false, `${source} -> ${port.id}: ${v.reason}`);
            tally.verdicts += verdicts.length;
          }
        }
        // Through the evaluator, for every identity and pod port.
        for (const destination of IDENTITIES) {
          for (const podPort of POD_PORTS) {
            for (const protocol of ['http', 'tcp'] as const) {
              const request: AccessRequest = { source, destination, port: podPort, protocol, http: requests[0] };
              assert.equal(authorize(grantsOf(model, destination), request, { permissive: false }).allowed, false);
            }
          }
        }
      }
      // Through the proxies: an outsider's sidecar reaches nothing, and no sidecar lets one in.
      for (const [key, policy] of model.proxies) {
        if (outsiders.has(policy.proxy.identity)) {
          tally.outsiderProxies++;
          assert.deepEqual(policy.outbound.services, [], `${key} runs as ${policy.proxy.identity} and reaches nothing`);
        }
        for (const port of policy.inbound.ports) {
          for (const r of port.routes) assert.ok(r.principals !== 'any' && !r.principals.some((p) => outsiders.has(p)), `${key}:${port.port} route`);
          assert.ok(port.tcpPrincipals !== 'any' && !port.tcpPrincipals.some((p) => outsiders.has(p)), `${key}:${port.port} tcp`);
        }
      }
    }),
    { numRuns: 150, includeErrorInReport: true },
  );
  assert.ok(tally.verdicts > 0 && tally.outsiderProxies > 0, JSON.stringify(tally));
});
