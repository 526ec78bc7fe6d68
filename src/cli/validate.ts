/**
 * `osm validate -f PATH... [-o json] [--strict]`: checks manifests as osm-ts (and OSM's
 * validating webhook) would, and reports problems across objects as warnings. Exit 0 when
 * nothing is invalid, 1 otherwise; warnings do not fail unless --strict.
 */
import { parseArgs } from 'node:util';
import { formatProblem, problemToJson, type Problem } from '../api/problem.js';
import { refKey } from '../api/meta.js';
import { buildMeshModel, DEFAULT_CATALOG_OPTIONS } from '../catalog/index.js';
import { loadManifests } from '../sources/index.js';
import { refOfObject } from '../store/index.js';
import { objectsInput } from './objects-input.js';
import { UsageError, type Command } from './io.js';

export const validateUsage = 'usage: osm validate -f PATH [-f PATH ...] [-o text|json] [--strict]';

export const validate: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o', default: 'text' },
      strict: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const files = values.file ?? [];
  if (files.length === 0) throw new UsageError('at least one -f PATH is required');
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o must be text or json, got ${values.output}`);
  const loaded = await loadManifests(files);
  const model = buildMeshModel(objectsInput(loaded.objects), { ...DEFAULT_CATALOG_OPTIONS, undeclaredNamespaces: 'monitored' });
  const objects = new Map(loaded.objects.map((o) => [refKey(refOfObject(o.object)), o]));
  // Problems across objects are warnings here: the objects they refer to may be applied from
  // other files. --strict makes every warning an error.
  const meshProblems = model.problems.map((p): Problem => {
    const loadedObject = p.object ? objects.get(refKey(p.object)) : undefined;
    const source = loadedObject && ((p.field ? loaded.locate(loadedObject.object, p.field) : undefined) ?? loadedObject.source);
    return { ...p, severity: 'warning', ...(source && !p.source ? { source } : {}) };
  });
  const problems = [...loaded.problems, ...meshProblems].map((p) => (values.strict && p.severity === 'warning' ? { ...p, severity: 'error' as const } : p));
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (values.output === 'json') {
    io.stdout(JSON.stringify(problems.map(problemToJson), null, 2));
  } else {
    for (const p of problems) io.stdout(formatProblem(p));
    const warnings = problems.length - errors;
    io.stderr(`${loaded.objects.length} object${loaded.objects.length === 1 ? '' : 's'} read: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  }
  return errors > 0 ? 1 : 0;
};
