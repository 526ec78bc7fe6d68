/**
 * Mesh services: one per Service port in a monitored namespace, with its protocol chosen as OSM
 * does (osm.md 2.11): `appProtocol`, else the port name's prefix, else http.
 */
import type { Service } from '../api/kubernetes/index.js';
import { problem, type Problem } from '../api/problem.js';
import { serviceKeyOf, type ServiceKey } from './identity.js';

/** The protocols a mesh port can carry. `grpc` is HTTP/2. */
export type AppProtocol = 'http' | 'grpc' | 'tcp' | 'tcp-server-first';

/** One port of one Service. */
export interface MeshServicePort {
  /** `ns/name:port`: unique and stable. */
  id: string;
  service: ServiceKey;
  namespace: string;
  name: string;
  port: number;
  portName?: string;
  /** As written: a pod port number or a container port name; defaults to `port`. */
  targetPort: number | string;
  protocol: AppProtocol;
  /** Empty for headless Services. */
  clusterIPs: readonly string[];
  headless: boolean;
}

const known: readonly AppProtocol[] = ['http', 'grpc', 'tcp', 'tcp-server-first'];

/** `appProtocol` values from Kubernetes' own registry that mean one of ours. */
const aliases: Record<string, AppProtocol> = { 'kubernetes.io/h2c': 'grpc', http2: 'grpc', h2c: 'grpc' };

/** Picks the protocol of a port; unknown appProtocols are proxied as tcp (with a warning). */
export function protocolOf(
  port: { name?: string; appProtocol?: string },
  report: (code: 'E5020', params: Record<string, string>) => void,
): AppProtocol {
  if (port.appProtocol !== undefined) {
    const written = port.appProtocol.toLowerCase();
    if ((known as readonly string[]).includes(written)) return written as AppProtocol;
    const alias = aliases[written];
    if (alias) return alias;
    report('E5020', { appProtocol: port.appProtocol });
    return 'tcp';
  }
  const name = port.name ?? '';
  // Longest prefix first: `tcp-server-first-db` must not read as `tcp`.
  for (const p of ['tcp-server-first', 'http', 'grpc', 'tcp'] as const) {
    if (name === p || name.startsWith(`${p}-`)) return p;
  }
  return 'http';
}

/** The mesh ports of one Service (UDP and SCTP ports are left out, with a warning). */
export function meshPortsOf(service: Service, problems: Problem[]): MeshServicePort[] {
  const namespace = service.metadata.namespace ?? 'default';
  const name = service.metadata.name;
  const object = { kind: 'Service', namespace, name };
  const headless = service.spec?.clusterIP === 'None';
  const clusterIPs = headless ? [] : (service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : []));
  const out: MeshServicePort[] = [];
  (service.spec?.ports ?? []).forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    if (p.protocol !== undefined && p.protocol !== 'TCP') {
      problems.push(problem('E5023', { protocol: p.protocol }, { object, field: `${field}.protocol` }));
      return;
    }
    const protocol = protocolOf(p, (code, params) => problems.push(problem(code, params, { object, field: `${field}.appProtocol` })));
    const mp: MeshServicePort = {
      id: `${namespace}/${name}:${p.port}`,
      service: serviceKeyOf(namespace, name),
      namespace,
      name,
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol,
      clusterIPs,
      headless,
    };
    if (p.name !== undefined) mp.portName = p.name;
    out.push(mp);
  });
  return out;
}

/** Whether a protocol is evaluated per HTTP request (else per TCP connection). */
export function isHttp(protocol: AppProtocol): boolean {
  return protocol === 'http' || protocol === 'grpc';
}

/** Every name a client may use for a Service (OSM's host forms), without and with the port. */
export function hostnamesOf(port: MeshServicePort): string[] {
  const { name, namespace } = port;
  const bases = [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster`, `${name}.${namespace}.svc.cluster.local`];
  return bases.flatMap((h) => [h, `${h}:${port.port}`]);
}
