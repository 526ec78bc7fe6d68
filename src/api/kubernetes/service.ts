/**
 * Service (core/v1): the names clients call. osm-ts reads its ports, selector, type and
 * cluster IP; every other ServiceSpec field is accepted without being interpreted.
 */
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';
import { checkPortNumberOrName, portNumberSchema, protocolSchema } from './ports.js';

const servicePortSchema = s.object({
  name: s.optional(s.string()),
  protocol: protocolSchema,
  appProtocol: s.optional(s.string()),
  port: portNumberSchema,
  targetPort: s.optional(s.intOrString()),
  // 0 asks Kubernetes to allocate one.
  nodePort: s.optional(s.integer({ minimum: 0, maximum: 65535 })),
});

const serviceSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  spec: s.object({
    // Absent for ExternalName and some headless Services.
    ports: s.array(servicePortSchema, { default: [] }),
    selector: s.optional(s.map(s.string())),
    type: s.enumOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], { default: 'ClusterIP' }),
    clusterIP: s.optional(s.string()),
    clusterIPs: s.optional(s.array(s.string())),
    externalName: s.optional(s.string()),
    sessionAffinity: s.enumOf(['None', 'ClientIP'], { default: 'None' }),
    sessionAffinityConfig: s.optional(s.any()),
    externalIPs: s.optional(s.any()),
    loadBalancerIP: s.optional(s.any()),
    loadBalancerSourceRanges: s.optional(s.any()),
    loadBalancerClass: s.optional(s.any()),
    allocateLoadBalancerNodePorts: s.optional(s.any()),
    externalTrafficPolicy: s.optional(s.any()),
    internalTrafficPolicy: s.optional(s.any()),
    healthCheckNodePort: s.optional(s.any()),
    publishNotReadyAddresses: s.optional(s.any()),
    ipFamilies: s.optional(s.any()),
    ipFamilyPolicy: s.optional(s.any()),
    trafficDistribution: s.optional(s.any()),
  }),
  status: s.optional(s.any()),
});

type ServiceDocument = Infer<typeof serviceSchema>;

/** A Service port; `targetPort` is always set (Kubernetes defaults it to `port`). */
export type ServicePort = Omit<ServiceDocument['spec']['ports'][number], 'targetPort'> & {
  /** A pod port number, or the name of a container port. */
  targetPort: number | string;
};

/** A Service in its internal form. */
export type Service = Omit<ServiceDocument, 'kind' | 'spec'> & {
  kind: 'Service';
  spec: Omit<ServiceDocument['spec'], 'ports'> & { ports: ServicePort[] };
};

/** Whether the Service is headless (`clusterIP: None`): clients resolve its pods directly. */
export function isHeadlessService(service: Service): boolean {
  return service.spec.clusterIP === 'None';
}

function fromV1(o: ServiceDocument): Service {
  // Kubernetes replaces an absent, 0 or "" targetPort with the port (SetDefaults_Service).
  const ports = o.spec.ports.map((p) => ({
    ...p,
    targetPort: p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort,
  }));
  return { ...o, kind: 'Service', spec: { ...o.spec, ports } };
}

function validateService(service: Service, reporter: ObjectReporter): void {
  const { ports } = service.spec;
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const field = `spec.ports[${i}]`;
    // Endpoints and Envoy clusters tell a multi-port Service's ports apart by name.
    if (p.name === undefined || p.name === '') {
      if (ports.length > 1) reporter.report('E2101', `${field}.name`);
    } else {
      if (seen.has(p.name)) reporter.report('E2102', `${field}.name`, { name: p.name });
      seen.add(p.name);
    }
    checkPortNumberOrName(p.targetPort, `${field}.targetPort`, reporter);
  });
}

/** The Service kind: names unique ports and well-formed targetPorts, as Kubernetes requires. */
export const serviceKind: KindDefinition<Service> = {
  group: '',
  kind: 'Service',
  plural: 'services',
  shortNames: ['svc'],
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(serviceSchema, fromV1) },
  validate: validateService,
};
