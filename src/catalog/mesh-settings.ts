/**
 * The mesh-wide settings in force: the MeshConfig `osm-mesh-config` in the control plane's
 * namespace, else osm-ts's defaults (SMI mode: see `defaultMeshConfigSpec`).
 */
import type { ObjectRef } from '../api/meta.js';
import { defaultMeshConfigSpec, type MeshConfig } from '../api/osm/index.js';
import { problem, type Problem } from '../api/problem.js';

export const MESH_CONFIG_NAME = 'osm-mesh-config';

export interface MeshSettings {
  spec: MeshConfig['spec'];
  /** The MeshConfig in force, absent when the defaults apply. */
  setBy?: ObjectRef;
  permissive: boolean;
  problems: Problem[];
}

export function resolveMeshSettings(configs: readonly unknown[], osmNamespace: string): MeshSettings {
  const problems: Problem[] = [];
  let chosen: MeshConfig | undefined;
  for (const c of configs as readonly MeshConfig[]) {
    const ref: ObjectRef = { kind: 'MeshConfig', namespace: c.metadata.namespace ?? '', name: c.metadata.name };
    if (c.metadata.name === MESH_CONFIG_NAME && c.metadata.namespace === osmNamespace) chosen = c;
    else problems.push(problem('E5030', { expected: `${osmNamespace}/${MESH_CONFIG_NAME}` }, { object: ref }));
  }
  const spec = chosen?.spec ?? defaultMeshConfigSpec();
  const settings: MeshSettings = { spec, permissive: spec.traffic.enablePermissiveTrafficPolicyMode, problems };
  if (chosen) settings.setBy = { kind: 'MeshConfig', namespace: osmNamespace, name: MESH_CONFIG_NAME };
  return settings;
}
