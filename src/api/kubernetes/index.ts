/**
 * The Kubernetes kinds osm-ts reads. Each schema knows every field the Kubernetes API defines
 * for the parts osm-ts reads, and accepts the rest without interpreting it.
 */
import type { KindDefinition } from '../kind.js';
import { configMapKind } from './config-map.js';
import { endpointSliceKind } from './endpoint-slice.js';
import { endpointsKind } from './endpoints.js';
import { namespaceKind } from './namespace.js';
import { podKind } from './pod.js';
import { secretKind } from './secret.js';
import { serviceAccountKind } from './service-account.js';
import { serviceKind } from './service.js';
import { daemonSetKind, deploymentKind, replicaSetKind, statefulSetKind } from './workloads.js';

export type { ConfigMap } from './config-map.js';
export type { EndpointSlice } from './endpoint-slice.js';
export type { Endpoints } from './endpoints.js';
export type { LabelSelector } from './label-selector.js';
export type { Namespace } from './namespace.js';
export type { Container, Pod, PodSpec, PodTemplateSpec, Probe } from './pod.js';
export type { Protocol } from './ports.js';
export type { Secret } from './secret.js';
export type { ServiceAccount } from './service-account.js';
export type { Service, ServicePort } from './service.js';
export type { DaemonSet, Deployment, ReplicaSet, StatefulSet, Workload } from './workloads.js';
export { SERVICE_NAME_LABEL, serviceNameOf } from './endpoint-slice.js';
export { matchesLabelSelector } from './label-selector.js';
export { podSpecSchema, podTemplateSpecSchema, serviceAccountOf } from './pod.js';
export { isPortName } from './ports.js';
export { isHeadlessService } from './service.js';

/** Every Kubernetes kind osm-ts reads, in a stable order. */
export const kubernetesKinds: KindDefinition[] = [
  namespaceKind,
  serviceAccountKind,
  serviceKind,
  endpointsKind,
  endpointSliceKind,
  podKind,
  deploymentKind,
  statefulSetKind,
  daemonSetKind,
  replicaSetKind,
  secretKind,
  configMapKind,
] as KindDefinition[];
