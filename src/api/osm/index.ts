/**
 * OSM's own kinds: MeshConfig (config.openservicemesh.io) and the policy.openservicemesh.io
 * policies, with OSM's defaults and validation rules.
 */
import type { KindDefinition } from '../kind.js';

export const osmKinds: KindDefinition[] = [];
