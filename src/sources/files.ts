/**
 * Reads manifest files and folders: `.yaml`, `.yml` and `.json` files, folders walked
 * recursively in name order, and `-` for standard input.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseManifest, type LoadedObject } from '../api/parse.js';
import type { KubeObject } from '../api/kind.js';
import { problem, type Problem, type SourcePosition } from '../api/problem.js';
import { refKey } from '../api/meta.js';
import { registry } from '../api/registry.js';
import { refOfObject } from '../store/store.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Lists the manifest files under each path (a file is taken as given, whatever its name). */
export async function expandPaths(paths: readonly string[]): Promise<{ files: string[]; problems: Problem[] }> {
  const files: string[] = [];
  const problems: Problem[] = [];
  const walk = async (path: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      problems.push(problem('E1001', { reason: reasonOf(err) }, { source: { file: path } }));
      return;
    }
    if (info.isDirectory()) {
      let names: string[];
      try {
        names = await readdir(path);
      } catch (err) {
        problems.push(problem('E1001', { reason: reasonOf(err) }, { source: { file: path } }));
        return;
      }
      for (const name of names.filter((n) => !n.startsWith('.')).sort()) await walk(join(path, name), false);
    } else if (explicit || MANIFEST_EXTENSIONS.has(extname(path).toLowerCase())) {
      files.push(path);
    }
  };
  for (const p of paths) {
    if (p === '-') files.push(p);
    else await walk(p, true);
  }
  return { files, problems };
}

/** The objects and problems of one file. */
export interface FileContents {
  file: string;
  objects: LoadedObject[];
  problems: Problem[];
  /** True when the file could not be read or is not valid YAML: none of its documents is trusted. */
  unreadable: boolean;
  locate?: (object: KubeObject, field: string) => SourcePosition | undefined;
}

/** Reads and parses one file. */
export async function readManifestFile(file: string, opts: { fieldPositions?: boolean } = {}): Promise<FileContents> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    return { file, objects: [], problems: [problem('E1001', { reason: reasonOf(err) }, { source: { file } })], unreadable: true };
  }
  const parsed = parseManifest(text, file === '-' ? '<stdin>' : file, registry, opts);
  return { file, ...parsed, unreadable: parsed.problems.some((p) => p.code === 'E1002') };
}

/**
 * Keeps the first definition of each object (files in the order given) and reports later ones.
 */
export function withoutDuplicates(files: readonly FileContents[]): { objects: LoadedObject[]; problems: Problem[] } {
  const first = new Map<string, LoadedObject>();
  const problems: Problem[] = [];
  for (const f of files) {
    for (const o of f.objects) {
      const ref = refOfObject(o.object);
      const key = refKey(ref);
      const earlier = first.get(key);
      if (earlier) {
        const at = `${earlier.source.file}${earlier.source.line !== undefined ? `:${earlier.source.line}` : ''}`;
        problems.push(problem('E1008', { first: at }, { object: ref, source: o.source }));
      } else {
        first.set(key, o);
      }
    }
  }
  return { objects: [...first.values()], problems };
}

/** Every manifest under some paths: the objects, the problems in file order, and field positions. */
export interface LoadedManifests {
  objects: LoadedObject[];
  problems: Problem[];
  /** Where a field of a loaded object is written. */
  locate(object: KubeObject, field: string): SourcePosition | undefined;
}

/** Reads every manifest under the paths (for one-shot commands: keeps field positions). */
export async function loadManifests(paths: readonly string[]): Promise<LoadedManifests> {
  const expanded = await expandPaths(paths);
  const contents = await Promise.all(expanded.files.map((f) => readManifestFile(f, { fieldPositions: true })));
  const merged = withoutDuplicates(contents);
  return {
    objects: merged.objects,
    problems: [...expanded.problems, ...contents.flatMap((c) => c.problems), ...merged.problems],
    locate: (object, field) => {
      for (const c of contents) {
        const at = c.locate?.(object, field);
        if (at) return at;
      }
      return undefined;
    },
  };
}

function reasonOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && err.code === 'ENOENT') return 'no such file or directory';
  return err instanceof Error ? err.message : String(err);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
