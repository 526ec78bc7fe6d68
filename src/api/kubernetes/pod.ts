/**
 * Pod (core/v1) and the PodSpec and PodTemplateSpec that workloads embed. osm-ts reads the
 * service account (the pod's identity), container ports (what a Service's named targetPort
 * resolves to), probes (rewritten when a sidecar is injected) and the pod's IPs; every other
 * field Kubernetes defines is accepted without being interpreted.
 */
import { defineVersion, type KindDefinition, type ObjectReporter } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer } from '../../lib/schema.js';
import { checkPortNumberOrName, portNumberSchema, protocolSchema } from './ports.js';

/**
 * ObjectMeta as written inside a template: the same fields, but `name` is optional because
 * the controller names the objects it makes from the template.
 */
const templateMetaSchema = s.object({ ...objectMetaSchema.properties, name: s.optional(s.string()) });

// Defaults are Kubernetes' (SetDefaults_Probe, SetDefaults_HTTPGetAction), so a probe rewritten
// for a sidecar keeps the path, scheme and timing the kubelet would have used for the original.
const httpGetSchema = s.object({
  path: s.string({ default: '/' }),
  port: s.intOrString(),
  host: s.optional(s.string()),
  scheme: s.enumOf(['HTTP', 'HTTPS'], { default: 'HTTP' }),
  httpHeaders: s.optional(s.array(s.object({ name: s.string(), value: s.string() }))),
});

const probeSchema = s.object({
  exec: s.optional(s.any()),
  httpGet: s.optional(httpGetSchema),
  tcpSocket: s.optional(s.object({ port: s.intOrString(), host: s.optional(s.string()) })),
  grpc: s.optional(s.object({ port: portNumberSchema, service: s.optional(s.string()) })),
  initialDelaySeconds: s.optional(s.integer({ minimum: 0 })),
  timeoutSeconds: s.integer({ minimum: 0, default: 1 }),
  periodSeconds: s.integer({ minimum: 0, default: 10 }),
  successThreshold: s.integer({ minimum: 0, default: 1 }),
  failureThreshold: s.integer({ minimum: 0, default: 3 }),
  terminationGracePeriodSeconds: s.optional(s.integer({ minimum: 1 })),
});

/** A liveness, readiness or startup probe. */
export type Probe = Infer<typeof probeSchema>;

const containerPortSchema = s.object({
  name: s.optional(s.string()),
  containerPort: portNumberSchema,
  protocol: protocolSchema,
  // 0 means the port is not exposed on the host.
  hostPort: s.optional(s.integer({ minimum: 0, maximum: 65535 })),
  hostIP: s.optional(s.string()),
});

const containerSchema = s.object({
  name: s.string({ minLength: 1 }),
  // Optional: the local runtime ignores images, and Kubernetes' own check is at admission.
  image: s.optional(s.string()),
  command: s.optional(s.array(s.string())),
  args: s.optional(s.array(s.string())),
  workingDir: s.optional(s.string()),
  ports: s.optional(s.array(containerPortSchema)),
  env: s.optional(s.array(s.object({ name: s.string({ minLength: 1 }), value: s.optional(s.string()), valueFrom: s.optional(s.any()) }))),
  envFrom: s.optional(s.any()),
  resources: s.optional(s.any()),
  resizePolicy: s.optional(s.any()),
  restartPolicy: s.optional(s.string()),
  restartPolicyRules: s.optional(s.any()),
  volumeMounts: s.optional(s.any()),
  volumeDevices: s.optional(s.any()),
  livenessProbe: s.optional(probeSchema),
  readinessProbe: s.optional(probeSchema),
  startupProbe: s.optional(probeSchema),
  lifecycle: s.optional(s.any()),
  terminationMessagePath: s.optional(s.string()),
  terminationMessagePolicy: s.optional(s.any()),
  imagePullPolicy: s.optional(s.enumOf(['Always', 'IfNotPresent', 'Never'])),
  securityContext: s.optional(s.any()),
  stdin: s.optional(s.boolean()),
  stdinOnce: s.optional(s.boolean()),
  tty: s.optional(s.boolean()),
});

/** A container of a pod (also the shape of init containers). */
export type Container = Infer<typeof containerSchema>;

/** Kubernetes PodSpec: every field the API defines (through 1.34), the ones osm-ts reads typed. */
export const podSpecSchema = s.object({
  containers: s.array(containerSchema, { minItems: 1 }),
  initContainers: s.optional(s.array(containerSchema)),
  ephemeralContainers: s.optional(s.any()),
  serviceAccountName: s.optional(s.string()),
  // Deprecated alias the API server still honours; serviceAccountOf resolves the two.
  serviceAccount: s.optional(s.string()),
  automountServiceAccountToken: s.optional(s.boolean()),
  hostNetwork: s.optional(s.boolean()),
  hostPID: s.optional(s.boolean()),
  hostIPC: s.optional(s.boolean()),
  shareProcessNamespace: s.optional(s.boolean()),
  nodeSelector: s.optional(s.map(s.string())),
  nodeName: s.optional(s.string()),
  hostname: s.optional(s.string()),
  hostnameOverride: s.optional(s.string()),
  subdomain: s.optional(s.string()),
  setHostnameAsFQDN: s.optional(s.boolean()),
  volumes: s.optional(s.any()),
  restartPolicy: s.optional(s.any()),
  terminationGracePeriodSeconds: s.optional(s.any()),
  activeDeadlineSeconds: s.optional(s.any()),
  dnsPolicy: s.optional(s.any()),
  dnsConfig: s.optional(s.any()),
  securityContext: s.optional(s.any()),
  imagePullSecrets: s.optional(s.any()),
  affinity: s.optional(s.any()),
  schedulerName: s.optional(s.any()),
  tolerations: s.optional(s.any()),
  hostAliases: s.optional(s.any()),
  priorityClassName: s.optional(s.any()),
  priority: s.optional(s.any()),
  preemptionPolicy: s.optional(s.any()),
  readinessGates: s.optional(s.any()),
  runtimeClassName: s.optional(s.any()),
  enableServiceLinks: s.optional(s.any()),
  overhead: s.optional(s.any()),
  topologySpreadConstraints: s.optional(s.any()),
  os: s.optional(s.any()),
  hostUsers: s.optional(s.any()),
  schedulingGates: s.optional(s.any()),
  resourceClaims: s.optional(s.any()),
  resources: s.optional(s.any()),
});

/** A decoded PodSpec. */
export type PodSpec = Infer<typeof podSpecSchema>;

/** Kubernetes PodTemplateSpec, as Deployments, StatefulSets, DaemonSets and ReplicaSets embed it. */
export const podTemplateSpecSchema = s.object({
  metadata: s.optional(templateMetaSchema),
  spec: podSpecSchema,
});

/** A decoded PodTemplateSpec. */
export type PodTemplateSpec = Infer<typeof podTemplateSpecSchema>;

const podStatusSchema = s.object({
  phase: s.optional(s.enumOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'])),
  podIP: s.optional(s.string()),
  podIPs: s.optional(s.array(s.object({ ip: s.string() }))),
  observedGeneration: s.optional(s.any()),
  conditions: s.optional(s.any()),
  message: s.optional(s.any()),
  reason: s.optional(s.any()),
  nominatedNodeName: s.optional(s.any()),
  hostIP: s.optional(s.any()),
  hostIPs: s.optional(s.any()),
  startTime: s.optional(s.any()),
  initContainerStatuses: s.optional(s.any()),
  containerStatuses: s.optional(s.any()),
  ephemeralContainerStatuses: s.optional(s.any()),
  qosClass: s.optional(s.any()),
  resize: s.optional(s.any()),
  resourceClaimStatuses: s.optional(s.any()),
  extendedResourceClaimStatus: s.optional(s.any()),
});

const podSchema = s.object({
  apiVersion: s.string(),
  kind: s.string(),
  metadata: objectMetaSchema,
  spec: podSpecSchema,
  status: s.optional(podStatusSchema),
});

/** A Pod in its internal form. */
export type Pod = Infer<typeof podSchema> & { kind: 'Pod' };

/**
 * The pod's service account: `serviceAccountName`, else the deprecated `serviceAccount`, else
 * `default`, as the API server resolves them.
 */
export function serviceAccountOf(spec: PodSpec): string {
  return spec.serviceAccountName || spec.serviceAccount || 'default';
}

/** Checks the ports of every probe in `spec`, which sits at `base` (`spec` or `spec.template.spec`). */
export function validatePodSpec(spec: PodSpec, base: string, reporter: ObjectReporter): void {
  const groups = [
    ['initContainers', spec.initContainers ?? []],
    ['containers', spec.containers],
  ] as const;
  for (const [list, containers] of groups) {
    containers.forEach((c, i) => {
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
        const p = c[probe];
        const at = `${base}.${list}[${i}].${probe}`;
        if (p?.httpGet) checkPortNumberOrName(p.httpGet.port, `${at}.httpGet.port`, reporter);
        if (p?.tcpSocket) checkPortNumberOrName(p.tcpSocket.port, `${at}.tcpSocket.port`, reporter);
      }
    });
  }
}

/** The Pod kind: probe ports are checked as Kubernetes checks them. */
export const podKind: KindDefinition<Pod> = {
  group: '',
  kind: 'Pod',
  plural: 'pods',
  shortNames: ['po'],
  namespaced: true,
  storageVersion: 'v1',
  unknownFields: 'warning',
  versions: { v1: defineVersion(podSchema, (o) => ({ ...o, kind: 'Pod' as const })) },
  validate: (pod, reporter) => validatePodSpec(pod.spec, 'spec', reporter),
};
