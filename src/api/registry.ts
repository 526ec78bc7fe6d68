/**
 * Every kind osm-ts reads, looked up by API group and kind.
 */
import type { KindDefinition } from './kind.js';
import { kubernetesKinds } from './kubernetes/index.js';
import { osmKinds } from './osm/index.js';
import type { KindRegistry } from './parse.js';
import { smiKinds } from './smi/index.js';

/** All kind definitions, in a stable order. */
export const allKinds: readonly KindDefinition[] = [...kubernetesKinds, ...smiKinds, ...osmKinds];

const groups = new Map<string, Map<string, KindDefinition>>();
for (const def of allKinds) {
  let kinds = groups.get(def.group);
  if (!kinds) groups.set(def.group, (kinds = new Map()));
  kinds.set(def.kind, def);
}

/** The registry of all kinds osm-ts reads. */
export const registry: KindRegistry = { byGroup: (group) => groups.get(group) };

/** The definition of an internal kind name (`TrafficTarget`), if osm-ts reads it. */
export function kindDefinition(kind: string): KindDefinition | undefined {
  return allKinds.find((d) => d.kind === kind);
}
