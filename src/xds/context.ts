/**
 * What every generator needs besides one proxy's policy: mesh-wide settings and names.
 */
import type { MeshConfigSpec } from '../api/osm/index.js';

export interface GeneratorContext {
  /** Suffix of every principal and SPIFFE ID. */
  trustDomain: string;
  /** The MeshConfig in force (complete, defaults filled in). */
  mesh: MeshConfigSpec;
  /** The proxy admin port the metrics listener forwards to (15000). */
  adminPort: number;
}
