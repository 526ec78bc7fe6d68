/**
 * The apps/v1 workloads: Deployment, StatefulSet, DaemonSet and ReplicaSet. They share a
 * selector and a pod template and differ only in a few spec fields, so one function builds
 * each kind from its differences. osm-ts reads the template (identity, ports, probes) and the
 * replica count; the rollout fields are accepted without being interpreted.
 */
import { defineVersion, type KindDefinition, type ObjectReporter, type VersionDefinition } from '../kind.js';
import { objectMetaSchema } from '../meta.js';
import { s, type Infer, type Schema } from '../../lib/schema.js';
import { formatSelector, isEmptySelector, labelSelectorSchema, selectorMismatch } from './label-selector.js';
import { podTemplateSpecSchema, validatePodSpec } from './pod.js';

// Kubernetes defaults replicas to 1 for every workload that has the field.
const replicas = s.integer({ minimum: 0, default: 1 });

function workloadSchema<E extends Record<string, Schema>>(extraSpec: E) {
  return s.object({
    apiVersion: s.string(),
    kind: s.string(),
    metadata: objectMetaSchema,
    spec: s.object({
      selector: labelSelectorSchema,
      template: podTemplateSpecSchema,
      minReadySeconds: s.optional(s.any()),
      ...extraSpec,
    }),
    status: s.optional(s.any()),
  });
}

const deploymentSchema = workloadSchema({
  replicas,
  strategy: s.optional(s.any()),
  revisionHistoryLimit: s.optional(s.any()),
  paused: s.optional(s.any()),
  progressDeadlineSeconds: s.optional(s.any()),
});

const volumeClaimTemplateSchema = s.object({
  apiVersion: s.optional(s.string()),
  kind: s.optional(s.string()),
  metadata: objectMetaSchema,
  spec: s.optional(s.any()),
  status: s.optional(s.any()),
});

const statefulSetSchema = workloadSchema({
  replicas,
  // The headless Service that gives each pod its DNS name; Kubernetes does not require one.
  serviceName: s.optional(s.string()),
  volumeClaimTemplates: s.optional(s.array(volumeClaimTemplateSchema)),
  podManagementPolicy: s.optional(s.any()),
  updateStrategy: s.optional(s.any()),
  revisionHistoryLimit: s.optional(s.any()),
  persistentVolumeClaimRetentionPolicy: s.optional(s.any()),
  ordinals: s.optional(s.any()),
});

const daemonSetSchema = workloadSchema({
  updateStrategy: s.optional(s.any()),
  revisionHistoryLimit: s.optional(s.any()),
});

const replicaSetSchema = workloadSchema({ replicas });

/** A Deployment in its internal form; `spec.replicas` defaults to 1. */
export type Deployment = Infer<typeof deploymentSchema> & { kind: 'Deployment' };
/** A StatefulSet in its internal form; `spec.replicas` defaults to 1. */
export type StatefulSet = Infer<typeof statefulSetSchema> & { kind: 'StatefulSet' };
/** A DaemonSet in its internal form: one pod per eligible node, so no replica count. */
export type DaemonSet = Infer<typeof daemonSetSchema> & { kind: 'DaemonSet' };
/** A ReplicaSet in its internal form; `spec.replicas` defaults to 1. */
export type ReplicaSet = Infer<typeof replicaSetSchema> & { kind: 'ReplicaSet' };
/** Any apps/v1 workload. */
export type Workload = Deployment | StatefulSet | DaemonSet | ReplicaSet;

/**
 * Kubernetes' checks on every apps/v1 workload's selector (ValidateDeploymentSpec and its
 * siblings): not empty, and satisfied by the template's own labels, or the controller would
 * make pods it never counts as its own.
 */
function validateWorkload(w: Workload, reporter: ObjectReporter): void {
  const { selector, template } = w.spec;
  if (isEmptySelector(selector)) {
    reporter.report('E2105', 'spec.selector', { kind: w.kind });
  } else {
    const reason = selectorMismatch(selector, template.metadata?.labels ?? {});
    if (reason !== undefined) {
      reporter.report('E2104', 'spec.template.metadata.labels', { selector: formatSelector(selector), reason, kind: w.kind });
    }
  }
  validatePodSpec(template.spec, 'spec.template.spec', reporter);
}

/** The conversion of every workload: the document as decoded, with its kind as a literal. */
function withKind<const K extends Workload['kind']>(kind: K) {
  return <O extends object>(o: O) => ({ ...o, kind });
}

/** A workload kind: the parts all four share, with the version that decodes this one. */
function defineWorkload<T extends Workload>(
  kind: T['kind'],
  v1: VersionDefinition<T>,
  names: { plural: string; shortNames: string[] },
): KindDefinition<T> {
  return {
    group: 'apps',
    kind,
    ...names,
    namespaced: true,
    storageVersion: 'v1',
    unknownFields: 'warning',
    versions: { v1 },
    validate: validateWorkload,
  };
}

/** The Deployment kind. */
export const deploymentKind = defineWorkload('Deployment', defineVersion(deploymentSchema, withKind('Deployment')), {
  plural: 'deployments',
  shortNames: ['deploy'],
});
/** The StatefulSet kind. */
export const statefulSetKind = defineWorkload('StatefulSet', defineVersion(statefulSetSchema, withKind('StatefulSet')), {
  plural: 'statefulsets',
  shortNames: ['sts'],
});
/** The DaemonSet kind. */
export const daemonSetKind = defineWorkload('DaemonSet', defineVersion(daemonSetSchema, withKind('DaemonSet')), {
  plural: 'daemonsets',
  shortNames: ['ds'],
});
/** The ReplicaSet kind. */
export const replicaSetKind = defineWorkload('ReplicaSet', defineVersion(replicaSetSchema, withKind('ReplicaSet')), {
  plural: 'replicasets',
  shortNames: ['rs'],
});
