/**
 * Parses manifest text (multi-document YAML or JSON, and `v1 List` objects) into internal
 * objects, with every problem placed at its file, line, object and field. Pure: text in,
 * objects and problems out.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from 'yaml';
import { describeValue, joinPath } from '../lib/schema.js';
import { apiVersionOf, ObjectReporter, parseApiVersion, type KindDefinition, type KubeObject } from './kind.js';
import { DEFAULT_NAMESPACE, type ObjectRef } from './meta.js';
import { problem, type Problem, type SourcePosition } from './problem.js';

/** An object read from a manifest, in its internal form, with where it was written. */
export interface LoadedObject<T extends KubeObject = KubeObject> {
  object: T;
  /** The apiVersion the object was written in (its internal form may be a later version's). */
  apiVersion: string;
  source: SourcePosition;
}

export interface ParseResult {
  objects: LoadedObject[];
  problems: Problem[];
  /**
   * Where a field of a loaded object is written; only with `{ fieldPositions: true }`, because
   * it keeps the parsed documents alive.
   */
  locate?: (object: KubeObject, field: string) => SourcePosition | undefined;
}

/** Looks kinds up by group and kind name. */
export interface KindRegistry {
  byGroup(group: string): ReadonlyMap<string, KindDefinition> | undefined;
}

/** Parses one file's text. `file` is only used to name positions. */
export function parseManifest(text: string, file: string, registry: KindRegistry, opts: { fieldPositions?: boolean } = {}): ParseResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const out: ParseResult = { objects: [], problems: [] };
  const locators = new WeakMap<KubeObject, (field: string) => SourcePosition>();
  const position = (offset: number | undefined): SourcePosition => {
    if (offset === undefined) return { file };
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        out.problems.push(problem('E1002', { format: 'YAML', reason: firstLine(e.message) }, { source: position(e.pos[0]) }));
      }
      continue;
    }
    if (doc.contents === null) continue;
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const locate = (path: string): SourcePosition => position(nodeAt(doc, path)?.range?.[0]);
    const before = out.objects.length;
    parseValue(value, '', registry, locate, out);
    if (opts.fieldPositions) {
      // Objects of one document (several in a List) are found by where they start.
      for (const o of out.objects.slice(before)) {
        const base = listItemPath(value, o.object);
        locators.set(o.object, (field) => locate(base === '' ? field : joinPath(base, field)));
      }
    }
  }
  if (opts.fieldPositions) out.locate = (object, field) => locators.get(object)?.(field);
  return out;
}

/** The path of an object inside its document: '' for the document itself, `items[i]` in a List. */
function listItemPath(doc: unknown, object: KubeObject): string {
  const items = (doc as { kind?: unknown; items?: unknown }).kind === 'List' ? (doc as { items?: unknown }).items : undefined;
  if (!Array.isArray(items)) return '';
  const i = items.findIndex((item) => {
    const meta = (item as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
    return (item as { kind?: unknown }).kind === object.kind && meta?.name === object.metadata.name;
  });
  return i < 0 ? '' : `items[${i}]`;
}

function parseValue(
  value: unknown,
  basePath: string,
  registry: KindRegistry,
  locate: (path: string) => SourcePosition,
  out: ParseResult,
): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    out.problems.push(problem('E1003', { got: describeValue(value) }, { source: locate(basePath) }));
    return;
  }
  const doc = value as Record<string, unknown>;
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') {
    const what = typeof apiVersion !== 'string' || apiVersion === '' ? 'apiVersion' : 'kind';
    out.problems.push(problem('E1004', { what }, { source: locate(basePath), field: joinPath(basePath, what) }));
    return;
  }
  if (apiVersion === 'v1' && kind === 'List' && Array.isArray(doc.items)) {
    doc.items.forEach((item, i) => parseValue(item, joinPath(joinPath(basePath, 'items'), i), registry, locate, out));
    return;
  }
  const ref = refOf(doc, kind);
  const at = (field: string | undefined): SourcePosition => locate(field === undefined ? basePath : joinPath(basePath, field));
  const { group, version } = parseApiVersion(apiVersion);
  const kinds = registry.byGroup(group);
  const def = kinds?.get(kind);
  if (!kinds || !def) {
    if (kinds) {
      const known = [...kinds.keys()].sort().join(', ');
      out.problems.push(problem('E1007', { kind, group, known }, { object: ref, source: at(undefined), field: 'kind' }));
    } else {
      out.problems.push(problem('E1005', { kind, apiVersion }, { object: ref, source: at(undefined) }));
    }
    return;
  }
  const versionDef = def.versions[version];
  if (!versionDef) {
    const served = Object.keys(def.versions).map((v) => apiVersionOf(group, v)).join(', ');
    out.problems.push(problem('E1006', { apiVersion, kind, served }, { object: ref, source: at('apiVersion'), field: 'apiVersion' }));
    return;
  }
  if (def.namespaced && ref.namespace === undefined) ref.namespace = DEFAULT_NAMESPACE;
  const reporter = new ObjectReporter(ref, versionDef.pathMap);
  if (!def.namespaced && ref.namespace !== undefined) {
    reporter.reportAtSource('E1009', 'metadata.namespace', { kind });
  }
  let object = reporter.hasErrors() ? undefined : versionDef.decode(doc, reporter, def.unknownFields);
  if (object) {
    if (def.namespaced) object.metadata.namespace = ref.namespace;
    def.validate?.(object, reporter);
    if (reporter.hasErrors()) object = undefined;
  }
  for (const p of reporter.problems) {
    p.source = at(p.field);
    out.problems.push(p);
  }
  if (object) out.objects.push({ object, apiVersion, source: at(undefined) });
}

function refOf(doc: Record<string, unknown>, kind: string): ObjectRef {
  const meta = typeof doc.metadata === 'object' && doc.metadata !== null ? (doc.metadata as Record<string, unknown>) : {};
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '<unnamed>';
  const ref: ObjectRef = { kind, name };
  if (typeof meta.namespace === 'string' && meta.namespace !== '') ref.namespace = meta.namespace;
  return ref;
}

/** Splits `spec.backends[1].weight` into `['spec', 'backends', 1, 'weight']`. */
export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The deepest node along `path` that exists: a missing field points at its parent. */
function nodeAt(doc: Document, path: string): Node | undefined {
  let node: unknown = doc.contents;
  let found = node as Node | undefined;
  for (const key of splitPath(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      if (!pair) break;
      // Point at the key: for an unknown or wrong field, the key is what the user looks for.
      found = (pair.key as Node | null) ?? found;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (!node) break;
      found = node as Node;
    } else {
      break;
    }
  }
  return found;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
