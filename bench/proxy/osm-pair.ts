/**
 * Our pair: the loopback mesh (src/testing/loopback-mesh.ts) with two `osm proxy` sidecars in
 * explicit mode, configured over ADS by the controller, which runs in the bench process.
 * client -> sidecar A (explicit outbound listener standing for the service's ClusterIP:port)
 * => mTLS => sidecar B (inbound listener on its pod address) -> the bench's app.
 *
 * The mesh is SMI mode, not permissive, so B's RBAC checks A's identity on every request and
 * connection, as haproxy B checks its peer's CN: an HTTPRouteGroup matching every path and
 * method for the HTTP service, a TCPRoute for the TCP one. Each sidecar logs every request to
 * stdout as OSM's Envoy does; that cost is the sidecar's and stays in the figures.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startLoopbackMesh, type SidecarProcess, type SidecarSpec } from '../../src/testing/loopback-mesh.js';
import { HTTP_AUTHORITY, type Pair, type PairEnv } from './pair.js';
import { freePort } from './processes.js';

// The HTTP service is `app` in `bench`, so the bench's Host header (HTTP_AUTHORITY) matches its routes.
const [HTTP_SERVICE_NAME, NS] = HTTP_AUTHORITY.split('.') as [string, string];
const HTTP_SERVICE = { ip: '10.96.30.10', port: 80 };
const TCP_SERVICE = { ip: '10.96.30.20', port: 9000 };
const CLIENT = { pod: `${NS}/client-1`, sa: 'client', uuid: '30000000-0000-4000-8000-000000000001', ip: '127.0.30.1' };
const SERVER = { pod: `${NS}/server-1`, sa: 'server', uuid: '30000000-0000-4000-8000-000000000002', ip: '127.0.30.2' };

/**
 * The mesh: both pods, the HTTP service to the app's HTTP port and the TCP service
 * (appProtocol tcp) to its TCP port, and the TrafficTarget that lets the client reach both.
 * The server pod's sidecar forwards to the app at the same port on the app's address, so the
 * services' target ports are the app's own ports.
 */
export function benchMeshYaml(httpAppPort: number, tcpAppPort: number): string {
  const pod = (p: typeof CLIENT, labels: string, ports: readonly number[]) => `---
apiVersion: v1
kind: Pod
metadata: {name: ${p.pod.split('/')[1]}, namespace: ${NS}, labels: {${labels}, osm-proxy-uuid: "${p.uuid}"}}
spec: {serviceAccountName: ${p.sa}, containers: [{name: app, image: x${ports.length > 0 ? `, ports: [${ports.map((port) => `{containerPort: ${port}}`).join(', ')}]` : ''}}]}
status: {podIP: ${p.ip}}
`;
  return `apiVersion: config.openservicemesh.io/v1alpha2
kind: MeshConfig
metadata: {name: osm-mesh-config, namespace: osm-system}
spec:
  traffic: {enablePermissiveTrafficPolicyMode: false}
  observability: {osmLogLevel: error}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${NS}, labels: {openservicemesh.io/monitored-by: osm}, annotations: {openservicemesh.io/sidecar-injection: enabled}}
${pod(CLIENT, 'app: client', [])}${pod(SERVER, 'app: server', [httpAppPort, tcpAppPort])}---
apiVersion: v1
kind: Service
metadata: {name: ${HTTP_SERVICE_NAME}, namespace: ${NS}}
spec: {selector: {app: server}, clusterIP: ${HTTP_SERVICE.ip}, ports: [{name: http, port: ${HTTP_SERVICE.port}, targetPort: ${httpAppPort}}]}
---
apiVersion: v1
kind: Service
metadata: {name: app-tcp, namespace: ${NS}}
spec: {selector: {app: server}, clusterIP: ${TCP_SERVICE.ip}, ports: [{name: tcp, port: ${TCP_SERVICE.port}, targetPort: ${tcpAppPort}, appProtocol: tcp}]}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: HTTPRouteGroup
metadata: {name: everything, namespace: ${NS}}
spec:
  matches:
  - {name: all, pathRegex: ".*", methods: ["*"]}
---
apiVersion: specs.smi-spec.io/v1alpha4
kind: TCPRoute
metadata: {name: app-tcp, namespace: ${NS}}
spec: {matches: {ports: [${tcpAppPort}]}}
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-server-http, namespace: ${NS}}
spec:
  destination: {kind: ServiceAccount, name: ${SERVER.sa}, namespace: ${NS}}
  rules: [{kind: HTTPRouteGroup, name: everything, matches: [all]}]
  sources: [{kind: ServiceAccount, name: ${CLIENT.sa}, namespace: ${NS}}]
---
apiVersion: access.smi-spec.io/v1alpha3
kind: TrafficTarget
metadata: {name: client-to-server-tcp, namespace: ${NS}}
spec:
  destination: {kind: ServiceAccount, name: ${SERVER.sa}, namespace: ${NS}}
  rules: [{kind: TCPRoute, name: app-tcp}]
  sources: [{kind: ServiceAccount, name: ${CLIENT.sa}, namespace: ${NS}}]
`;
}

export const osmPair: Pair = {
  name: 'osm',
  describe: 'client -> osm sidecar A => mTLS => osm sidecar B -> app',
  async start(env: PairEnv) {
    const dir = join(env.dir, 'osm-pair');
    await mkdir(dir, { recursive: true });
    if (env.upstream.host !== env.tcpUpstream.host) throw new Error(`osm pair: the app's HTTP (${env.upstream.host}) and TCP (${env.tcpUpstream.host}) ports must share one address, the server pod's app host`);
    const httpBind = await freePort(CLIENT.ip);
    const tcpBind = await freePort(CLIENT.ip);
    const wrapper = env.proxyCpu === undefined ? [] : ['taskset', '-c', String(env.proxyCpu)];
    const sidecars: SidecarSpec[] = [
      {
        pod: CLIENT.pod,
        serviceAccount: CLIENT.sa,
        uuid: CLIENT.uuid,
        podIp: CLIENT.ip,
        // The client pod runs no app; the address only has to differ from the pod's.
        appHost: '127.0.30.101',
        outbound: [
          { bindPort: httpBind, destination: `${HTTP_SERVICE.ip}:${HTTP_SERVICE.port}` },
          { bindPort: tcpBind, destination: `${TCP_SERVICE.ip}:${TCP_SERVICE.port}` },
        ],
        wrapper,
      },
      {
        pod: SERVER.pod,
        serviceAccount: SERVER.sa,
        uuid: SERVER.uuid,
        podIp: SERVER.ip,
        appHost: env.upstream.host,
        inboundPorts: [env.upstream.port, env.tcpUpstream.port],
        wrapper,
      },
    ];
    // Sidecars are started here rather than by startLoopbackMesh, so that a sidecar that fails
    // to start does not leave the controller and the other sidecar running.
    const mesh = await startLoopbackMesh({ dir, manifests: benchMeshYaml(env.upstream.port, env.tcpUpstream.port), sidecars: [], logLevel: 'error' });
    let a: SidecarProcess;
    let b: SidecarProcess;
    try {
      a = await mesh.startSidecar(sidecars[0]!);
      b = await mesh.startSidecar(sidecars[1]!);
      await Promise.all([a.waitReady(), b.waitReady()]);
    } catch (err) {
      await mesh.stop();
      throw new Error('osm pair: the sidecars did not start', { cause: err });
    }
    for (const s of [a, b]) {
      // The loopback mesh parses and keeps every access-log line for tests to read; over a
      // bench that is millions of objects in this process. Drain the pipe instead (the sidecar
      // still writes every line, as it would in a pod).
      s.child.stdout?.removeAllListeners('data');
      s.child.stdout?.resume();
    }
    const pid = (s: SidecarProcess): number => {
      if (s.child.pid === undefined) throw new Error(`osm pair: sidecar ${s.spec.pod} has no pid`);
      return s.child.pid;
    };
    return {
      httpEntry: { host: CLIENT.ip, port: httpBind },
      tcpEntry: { host: CLIENT.ip, port: tcpBind },
      proxyPids: [pid(a), pid(b)],
      helperPids: [],
      stop: () => mesh.stop(),
    };
  },
};
