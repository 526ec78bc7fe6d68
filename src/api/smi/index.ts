/**
 * SMI kinds in every served version, converted to one internal form (smi-decisions.md).
 */
import type { KindDefinition } from '../kind.js';

export const smiKinds: KindDefinition[] = [];
