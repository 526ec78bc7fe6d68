/**
 * Test helpers: parse manifest text in place of files, and build a mesh model from it.
 * Used only by tests.
 */
import { fileURLToPath } from 'node:url';
import { parseManifest, type ParseResult } from '../api/parse.js';
import { formatProblem, type Problem } from '../api/problem.js';
import { registry } from '../api/registry.js';
import { buildMeshModel, DEFAULT_CATALOG_OPTIONS, type CatalogOptions, type MeshModel } from '../catalog/index.js';
import { objectsInput } from '../cli/objects-input.js';

/** Parses YAML text as the file `test.yaml`. */
export function parse(text: string): ParseResult {
  return parseManifest(text, 'test.yaml', registry);
}

/** Parses YAML text that must be valid; throws with the problems otherwise. */
export function parseValid(text: string): ParseResult {
  const result = parse(text);
  const errors = result.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new Error(`unexpected problems:\n${errors.map(formatProblem).join('\n')}`);
  return result;
}

/** Builds the mesh model of valid YAML text (namespaces not declared count as monitored). */
export function modelOf(text: string, options: Partial<CatalogOptions> = {}): MeshModel {
  return buildMeshModel(objectsInput(parseValid(text).objects), { ...DEFAULT_CATALOG_OPTIONS, undeclaredNamespaces: 'monitored', ...options });
}

/** Problems reduced to what tests compare: code, field, line and message. */
export function summary(p: Problem): { code: string; field?: string; line?: number; message: string } {
  const out: { code: string; field?: string; line?: number; message: string } = { code: p.code, message: p.message };
  if (p.field !== undefined) out.field = p.field;
  if (p.source?.line !== undefined) out.line = p.source.line;
  return out;
}

/** The repository's root (tests run from dist/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** OSM's published manifests, read in place from the shared folder beside the checkout. */
export const osmManifests = fileURLToPath(new URL('../../../../shared/data/osm/manifests/', import.meta.url));
