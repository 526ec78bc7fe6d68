/**
 * The mesh the sidecar integration tests run: namespace `shop` in SMI mode with a client, a
 * thief (no TrafficTarget), a server with two versions behind a 50/50 TrafficSplit, a
 * server-first TCP database, a rate-limited service and a circuit-broken one. Every pod has
 * its own loopback address; apps listen on a second one.
 */
import type { SidecarSpec } from '../../../src/testing/loopback-mesh.js';

export const UUID = {
  client: '10000000-0000-4000-8000-000000000001',
  thief: '10000000-0000-4000-8000-000000000002',
  v1: '10000000-0000-4000-8000-000000000003',
  v2: '10000000-0000-4000-8000-000000000004',
  db: '10000000-0000-4000-8000-000000000005',
};

/** Pod and app addresses; test files that run at the same time use different `base` octets. */
export function addressPlan(base: number) {
  const at = (offset: number, host: number) => `127.0.${base + offset}.${host}`;
  return {
    ip: { client: at(0, 1), thief: at(0, 2), v1: at(0, 3), v2: at(0, 4), db: at(0, 5) },
    app: { client: at(1, 1), thief: at(1, 2), v1: at(1, 3), v2: at(1, 4), db: at(1, 5) },
  };
}
export type AddressPlan = ReturnType<typeof addressPlan>;

/** The plan of `sidecar.test.ts`. */
const DEFAULT_PLAN = addressPlan(10);
export const IP = DEFAULT_PLAN.ip;
export const APP = DEFAULT_PLAN.app;

/** Explicit outbound entries on the client and thief pods: the port on the pod's address, and what it stands for. */
export const OUT = {
  server: { bindPort: 18080, destination: '10.96.0.10:80' },
  db: { bindPort: 13306, destination: '10.96.0.20:3306' },
  quota: { bindPort: 18081, destination: '10.96.0.30:80' },
  cb: { bindPort: 18082, destination: '10.96.0.40:80' },
};

export interface MeshKnobs {
  /** Weights of server-v1 and server-v2 in the split. */
  readonly split?: readonly [number, number];
  readonly allowThief?: boolean;
  readonly permissive?: boolean;
  readonly certValidity?: string;
}

const pod = (name: string, sa: string, labels: string, uuid: string, ip: string, port?: number) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: shop, labels: {${labels}, osm-proxy-uuid: "${uuid}"}}
spec: {serviceAccountName: ${sa}, containers: [{name: app, image: x${port ? `, ports: [{containerPort: ${port}}]` : ''}}]}
status: {podIP: ${ip}}
`;

const service = (name: string, ip: string, selector: string, port: number, target: number, appProtocol?: string) => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec: {selector: {${selector}}, clusterIP: ${ip}, ports: [{name: ${appProtocol ? 'tcp' : 'http'}, port: ${port}, targetPort: ${target}${appProtocol ? `, appProtocol: ${appProtocol}` : ''}}]}
`;

export function meshYaml(k: MeshKnobs = {}, plan: AddressPlan = DEFAULT_PLAN): string {
  const IP = plan.ip;
  const [w1, w2] = k.split ?? [50, 50];
  return `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec:
  traffic: {enablePermissiveTrafficPolicyMode: ${k.permissive ?? false}}
  featureFlags: {enableRetryPolicy: true}
  observability: {osmLogLevel: error}
${k.certValidity ? `  certificate: {serviceCertValidityDuration: ${k.certValidity}}\n` : ''}---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
${pod('client-1', 'client', 'app: client', UUID.client, IP.client)}${pod('thief-1', 'thief', 'app: thief', UUID.thief, IP.thief)}${pod('server-v1-1', 'server', 'app: server, version: v1', UUID.v1, IP.v1, 8080)}${pod('server-v2-1', 'server', 'app: server, version: v2', UUID.v2, IP.v2, 8080)}${pod('db-1', 'db', 'app: db', UUID.db, IP.db, 3306)}${service('server', '10.96.0.10', 'app: server', 80, 8080)}${service('server-v1', '10.96.0.11', 'app: server, version: v1', 80, 8080)}${service('server-v2', '10.96.0.12', 'app: server, version: v2', 80, 8080)}${service('db', '10.96.0.20', 'app: db', 3306, 3306, 'tcp')}${service('quota', '10.96.0.30', 'app: server, version: v1', 80, 8080)}${service('cb', '10.96.0.40', 'app: server, version: v2', 80, 8080)}---
apiVersion: split.smi-spec.io/v1alpha4
kind: TrafficSplit
metadata: {name: server-split, namespace: shop}
spec:
  service: server
  backends: [{service: server-v1, weight: ${w1}}, {service: server-v2, weight: ${w2}}]
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: api, namespace: shop}
spec:
  matches:
  - {name: api, pathRegex: "/api/.*", methods: [GET, POST]}
  - {name: status, pathRegex: "/status/.*", methods: [GET]}
  - {name: slow, pathRegex: "/slow.*", methods: [GET]}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: db, namespace: shop}
spec: {matches: {ports: [3306]}}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-server, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: server, namespace: shop}
  rules: [{kind: HTTPRouteGroup, name: api, matches: [api, status, slow]}]
  sources: [{kind: ServiceAccount, name: client, namespace: shop}${k.allowThief ? ', {kind: ServiceAccount, name: thief, namespace: shop}' : ''}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-db, namespace: shop}
spec:
  destination: {kind: ServiceAccount, name: db, namespace: shop}
  rules: [{kind: TCPRoute, name: db}]
  sources: [{kind: ServiceAccount, name: client, namespace: shop}]
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: Retry
metadata: {name: client-retry, namespace: shop}
spec:
  source: {kind: ServiceAccount, name: client, namespace: shop}
  destinations: [{kind: Service, name: server, namespace: shop}]
  retryPolicy: {retryOn: 5xx, perTryTimeout: 1s, numRetries: 5, retryBackoffBaseInterval: 5ms}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: quota, namespace: shop}
spec:
  host: quota.shop.svc.cluster.local
  rateLimit: {local: {http: {requests: 3, unit: minute}}}
---
apiVersion: policy.openservicemesh.io/v1alpha1
kind: UpstreamTrafficSetting
metadata: {name: cb, namespace: shop}
spec:
  host: cb.shop.svc.cluster.local
  connectionSettings: {tcp: {maxConnections: 1}, http: {maxPendingRequests: 1, maxRequestsPerConnection: 1}}
`;
}

export function sidecarSpecs(plan: AddressPlan = DEFAULT_PLAN): SidecarSpec[] {
  const { ip: IP, app: APP } = plan;
  const out = (...names: Array<keyof typeof OUT>) => names.map((n) => OUT[n]);
  return [
    { pod: 'shop/client-1', serviceAccount: 'client', uuid: UUID.client, podIp: IP.client, appHost: APP.client, outbound: out('server', 'db', 'quota', 'cb') },
    { pod: 'shop/thief-1', serviceAccount: 'thief', uuid: UUID.thief, podIp: IP.thief, appHost: APP.thief, outbound: out('server', 'db') },
    { pod: 'shop/server-v1-1', serviceAccount: 'server', uuid: UUID.v1, podIp: IP.v1, appHost: APP.v1, inboundPorts: [8080], workload: { kind: 'Deployment', name: 'server-v1' } },
    { pod: 'shop/server-v2-1', serviceAccount: 'server', uuid: UUID.v2, podIp: IP.v2, appHost: APP.v2, inboundPorts: [8080], workload: { kind: 'Deployment', name: 'server-v2' } },
    { pod: 'shop/db-1', serviceAccount: 'db', uuid: UUID.db, podIp: IP.db, appHost: APP.db, inboundPorts: [3306] },
  ];
}
