/**
 * The Kubernetes kinds osm-ts reads. Each schema knows every field the Kubernetes API defines
 * for the parts osm-ts reads, and accepts the rest without interpreting it.
 */
import type { KindDefinition } from '../kind.js';
import { namespaceKind } from './namespace.js';
import { serviceAccountKind } from './service-account.js';

export type { Namespace } from './namespace.js';
export type { ServiceAccount } from './service-account.js';

export const kubernetesKinds: KindDefinition[] = [namespaceKind, serviceAccountKind] as KindDefinition[];
