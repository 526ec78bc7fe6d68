/**
 * OSM's policy.openservicemesh.io objects resolved for the per-proxy policy:
 * UpstreamTrafficSetting (client circuit breakers, server rate limits), Retry (client routes),
 * Egress (client egress rules) and IngressBackend (server ingress rules). Each applies only when
 * its MeshConfig feature flag is on, as in OSM (osm.md 2.3-2.7).
 */
import type { ObjectRef } from '../api/meta.js';
import { parseGoDuration, type Egress, type IngressBackend, type Retry, type UpstreamTrafficSetting } from '../api/osm/index.js';
import { problem, type Problem } from '../api/problem.js';
import type { ServicePortMembers } from './endpoints.js';
import type { CompiledHttpMatch } from './http-match.js';
import { identityOf, serviceKeyOf, type Identity, type ServiceKey } from './identity.js';
import type { SpecLookup } from './access.js';
import type { CatalogInput, MeshService } from './mesh-state.js';
import type { MeshSettings } from './mesh-settings.js';
import type { ConnectionSettings, EgressRule, IngressRule, LocalRateLimit, RetryPolicy, TokenBucket } from './model.js';
import type { NamespaceIndex } from './namespaces.js';

/** Lookups of the resolved policies; every list is sorted and stable. */
export interface PolicySettings {
  connectionFor(service: ServiceKey): ConnectionSettings | undefined;
  rateLimitFor(service: ServiceKey): LocalRateLimit | undefined;
  retriesFor(source: Identity): readonly RetryPolicyFor[];
  retryFor(source: Identity, service: ServiceKey): RetryPolicy | undefined;
  egressFor(source: Identity): readonly EgressRule[];
  ingressFor(service: ServiceKey, podPort: number): readonly IngressRule[];
  problems: readonly Problem[];
}

/** A Retry policy with the services it applies to. */
export interface RetryPolicyFor {
  services: ReadonlySet<ServiceKey>;
  policy: RetryPolicy;
}

export interface PolicyContext {
  settings: MeshSettings;
  namespaces: NamespaceIndex;
  services: ReadonlyMap<ServiceKey, MeshService>;
  members: ReadonlyMap<string, ServicePortMembers>;
  specs: SpecLookup;
}

const UNIT_MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

function refOf(kind: string, o: { metadata: { name: string; namespace?: string } }): ObjectRef {
  return { kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
}

/** Oldest first: creation time, then namespace and name. */
function olderFirst(a: { metadata: { name: string; namespace?: string; creationTimestamp?: string } }, b: typeof a): number {
  const ka = `${a.metadata.creationTimestamp ?? '\uffff'}|${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.creationTimestamp ?? '\uffff'}|${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function bucket(limit: { unit: keyof typeof UNIT_MS; burst?: number }, tokens: number): TokenBucket {
  return { tokens, fillIntervalMs: UNIT_MS[limit.unit], burst: limit.burst ?? 0 };
}

function durationMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseGoDuration(text);
}

export function resolvePolicySettings(input: CatalogInput, ctx: PolicyContext): PolicySettings {
  const problems: Problem[] = [];
  const flags = ctx.settings.spec.featureFlags;
  const monitored = <T extends { metadata: { namespace?: string } }>(list: readonly T[]) =>
    list.filter((o) => ctx.namespaces.isMonitored(o.metadata.namespace ?? ''));

  const connections = new Map<ServiceKey, ConnectionSettings>();
  const rateLimits = new Map<ServiceKey, LocalRateLimit>();
  const byHost = new Map<string, UpstreamTrafficSetting>();
  for (const uts of [...monitored(input.list<UpstreamTrafficSetting>('UpstreamTrafficSetting'))].sort(olderFirst)) {
    const ref = refOf('UpstreamTrafficSetting', uts);
    const host = uts.spec.host;
    const winner = byHost.get(host);
    if (winner) {
      problems.push(problem('E5040', { winner: `${winner.metadata.namespace}/${winner.metadata.name}`, host }, { object: ref, field: 'spec.host' }));
      continue;
    }
    byHost.set(host, uts);
    const [name = '', namespace = ''] = host.split('.');
    const service = serviceKeyOf(namespace, name);
    if (!ctx.services.has(service)) {
      problems.push(problem('E5041', { host }, { object: ref, field: 'spec.host' }));
      continue;
    }
    const c = uts.spec.connectionSettings;
    if (c) {
      const cs: ConnectionSettings = { setBy: ref };
      if (c.tcp?.maxConnections !== undefined) cs.maxConnections = c.tcp.maxConnections;
      const connectTimeoutMs = durationMs(c.tcp?.connectTimeout);
      if (connectTimeoutMs !== undefined) cs.connectTimeoutMs = connectTimeoutMs;
      if (c.http?.maxRequests !== undefined) cs.maxRequests = c.http.maxRequests;
      if (c.http?.maxRequestsPerConnection !== undefined) cs.maxRequestsPerConnection = c.http.maxRequestsPerConnection;
      if (c.http?.maxPendingRequests !== undefined) cs.maxPendingRequests = c.http.maxPendingRequests;
      if (c.http?.maxRetries !== undefined) cs.maxRetries = c.http.maxRetries;
      connections.set(service, cs);
    }
    const local = uts.spec.rateLimit?.local;
    const routes = (uts.spec.httpRoutes ?? []).filter((r) => r.rateLimit?.local);
    if (local || routes.length > 0) {
      const rl: LocalRateLimit = { setBy: ref, routes: [] };
      if (local?.tcp) rl.tcp = bucket(local.tcp, local.tcp.connections);
      if (local?.http) rl.http = { ...bucket(local.http, local.http.requests), ...httpResponse(local.http) };
      rl.routes = routes.map((r) => {
        const l = r.rateLimit?.local as NonNullable<NonNullable<typeof r.rateLimit>['local']>;
        return { pathRegex: r.path, http: { ...bucket(l, l.requests), ...httpResponse(l) } };
      });
      rateLimits.set(service, rl);
    }
  }

  const retries = new Map<Identity, RetryPolicyFor[]>();
  if (flags.enableRetryPolicy) {
    for (const retry of [...monitored(input.list<Retry>('Retry'))].sort(olderFirst)) {
      const source = identityOf(retry.spec.source.namespace, retry.spec.source.name);
      const p = retry.spec.retryPolicy;
      const policy: RetryPolicy = { setBy: refOf('Retry', retry), retryOn: p.retryOn };
      if (p.numRetries !== undefined) policy.numRetries = p.numRetries;
      const perTry = durationMs(p.perTryTimeout);
      if (perTry !== undefined) policy.perTryTimeoutMs = perTry;
      const backoff = durationMs(p.retryBackoffBaseInterval);
      if (backoff !== undefined) policy.retryBackoffBaseIntervalMs = backoff;
      const services = new Set(retry.spec.destinations.map((d) => serviceKeyOf(d.namespace, d.name)));
      retries.set(source, [...(retries.get(source) ?? []), { services, policy }]);
    }
  }

  const egress = new Map<Identity, EgressRule[]>();
  if (flags.enableEgressPolicy) {
    for (const e of monitored(input.list<Egress>('Egress'))) {
      const ref = refOf('Egress', e);
      const rule: EgressRule = {
        egress: ref,
        hosts: [...(e.spec.hosts ?? [])].sort(),
        ipAddresses: [...(e.spec.ipAddresses ?? [])].sort(),
        ports: [...e.spec.ports].sort((a, b) => a.number - b.number || (a.protocol < b.protocol ? -1 : 1)),
      };
      const matches: CompiledHttpMatch[] = [];
      let restricts = false;
      for (const m of e.spec.matches ?? []) {
        if (m.kind === 'HTTPRouteGroup') {
          restricts = true;
          const group = ctx.specs.httpRouteGroup(e.metadata.namespace ?? '', m.name);
          if (group) matches.push(...ctx.specs.compiledMatches(group).values());
          else problems.push(problem('E5002', { kind: 'HTTPRouteGroup', namespace: e.metadata.namespace ?? '', name: m.name }, { object: ref, field: 'spec.matches' }));
        } else if (m.kind === 'UpstreamTrafficSetting') {
          const uts = input.list<UpstreamTrafficSetting>('UpstreamTrafficSetting').find((u) => u.metadata.namespace === e.metadata.namespace && u.metadata.name === m.name);
          const c = uts?.spec.connectionSettings;
          if (uts && c) {
            const cs: ConnectionSettings = { setBy: refOf('UpstreamTrafficSetting', uts) };
            if (c.tcp?.maxConnections !== undefined) cs.maxConnections = c.tcp.maxConnections;
            if (c.http?.maxRequests !== undefined) cs.maxRequests = c.http.maxRequests;
            if (c.http?.maxPendingRequests !== undefined) cs.maxPendingRequests = c.http.maxPendingRequests;
            rule.connection = cs;
          }
        }
      }
      // A missing HTTPRouteGroup restricts to nothing rather than to everything.
      if (restricts) rule.matches = matches;
      for (const s of e.spec.sources) {
        const id = identityOf(s.namespace, s.name);
        egress.set(id, [...(egress.get(id) ?? []), rule]);
      }
    }
  }

  const ingress = new Map<string, IngressRule[]>();
  if (flags.enableIngressBackendPolicy) {
    const claimed = new Map<string, IngressBackend>();
    for (const ib of [...monitored(input.list<IngressBackend>('IngressBackend'))].sort(olderFirst)) {
      const ref = refOf('IngressBackend', ib);
      const namespace = ib.metadata.namespace ?? '';
      const cidrs: string[] = [];
      const principals: string[] = [];
      for (const s of ib.spec.sources) {
        if (s.kind === 'IPRange') cidrs.push(s.name);
        else if (s.kind === 'AuthenticatedPrincipal') principals.push(s.name);
        else if (s.kind === 'Service') {
          const svc = ctx.services.get(serviceKeyOf(s.namespace ?? '', s.name));
          for (const p of svc?.ports ?? []) for (const e of ctx.members.get(p.id)?.endpoints ?? []) cidrs.push(`${e.ip}/32`);
        }
      }
      for (const b of ib.spec.backends) {
        const claim = `${namespace}/${b.name}:${b.port.number}`;
        const winner = claimed.get(claim);
        if (winner) {
          problems.push(problem('E5042', { winner: `${winner.metadata.namespace}/${winner.metadata.name}`, backend: `${namespace}/${b.name}`, port: String(b.port.number) }, { object: ref, field: 'spec.backends' }));
          continue;
        }
        claimed.set(claim, ib);
        const rule: IngressRule = {
          ingressBackend: ref,
          protocol: b.port.protocol === 'https' ? 'https' : 'http',
          sourceCidrs: [...new Set(cidrs)].sort(),
          principals: [...new Set(principals)].sort(),
          skipClientCertValidation: b.tls?.skipClientCertValidation ?? false,
          sniHosts: [...(b.tls?.sniHosts ?? [])].sort(),
        };
        const key = `${serviceKeyOf(namespace, b.name)}:${b.port.number}`;
        ingress.set(key, [...(ingress.get(key) ?? []), rule]);
      }
    }
  }

  return {
    connectionFor: (service) => connections.get(service),
    rateLimitFor: (service) => rateLimits.get(service),
    retriesFor: (source) => retries.get(source) ?? [],
    retryFor: (source, service) => (retries.get(source) ?? []).find((r) => r.services.has(service))?.policy,
    egressFor: (source) => egress.get(source) ?? [],
    ingressFor: (service, podPort) => ingress.get(`${service}:${podPort}`) ?? [],
    problems,
  };
}

function httpResponse(limit: { responseStatusCode?: number; responseHeadersToAdd?: ReadonlyArray<{ name: string; value: string }> }) {
  return {
    responseStatusCode: limit.responseStatusCode ?? 429,
    responseHeadersToAdd: [...(limit.responseHeadersToAdd ?? [])],
  };
}
