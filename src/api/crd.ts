/**
 * CustomResourceDefinitions generated from the same schemas that decode objects, so what the
 * API server admits and what osm-ts reads cannot drift apart.
 */
import { toOpenApi, type OpenApiSchema } from '../lib/schema.js';
import type { KindDefinition } from './kind.js';

/** Groups Kubernetes serves itself: no CRD for them. */
const BUILT_IN_GROUPS = new Set(['', 'apps', 'discovery.k8s.io']);

export function isCustomResource(def: KindDefinition): boolean {
  return !BUILT_IN_GROUPS.has(def.group);
}

/** Where the API server sends conversion reviews when a kind serves several versions. */
export interface ConversionWebhook {
  service: { namespace: string; name: string; path: string; port: number };
  caBundle: string;
}

/**
 * The CRD of a kind. Without a conversion webhook only the storage version is served (as OSM
 * did), because the API server cannot convert between differently shaped versions itself.
 */
export function crdFor(def: KindDefinition, conversion?: ConversionWebhook): Record<string, unknown> {
  const versions = Object.entries(def.versions).map(([name, v]) => ({
    name,
    served: conversion !== undefined || name === def.storageVersion,
    storage: name === def.storageVersion,
    schema: { openAPIV3Schema: documentSchema(toOpenApi(v.schema)) },
  }));
  const names: Record<string, unknown> = {
    kind: def.kind,
    listKind: `${def.kind}List`,
    plural: def.plural,
    singular: def.kind.toLowerCase(),
  };
  if (def.shortNames) names.shortNames = def.shortNames;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${def.group}`, labels: { 'app.kubernetes.io/name': 'openservicemesh.io' } },
    spec: {
      group: def.group,
      scope: def.namespaced ? 'Namespaced' : 'Cluster',
      names,
      conversion: conversion
        ? {
            strategy: 'Webhook',
            webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: conversion.service, caBundle: conversion.caBundle } },
          }
        : { strategy: 'None' },
      versions,
    },
  };
}

/** The API server owns `metadata`'s schema; a CRD may only say it is an object. */
function documentSchema(schema: OpenApiSchema): OpenApiSchema {
  const properties = { ...(schema.properties as Record<string, OpenApiSchema>) };
  properties.metadata = { type: 'object' };
  return { ...schema, properties };
}
